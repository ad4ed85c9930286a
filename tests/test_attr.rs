//! `#[cancelsim::test]`: an async test swept at every await point. Each
//! buggy body has a `should_panic` twin of a clean one; the failure names
//! the violation and the test, and `CANCELSIM_REPLAY` is scoped to the test
//! its line names (checked in a child process, so no other test sees it).

use std::process::Command;
use std::time::Duration;

use cancelsim::time::sleep;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

#[cancelsim::test]
async fn raii_cleanup_is_clean_under_the_default_sweep() {
    let conn = cancelsim::resource::acquire("db");
    let child = cancelsim::spawn(async { sleep(ms(3)).await }).abort_on_drop();
    sleep(ms(5)).await;
    let _ = child.await;
    drop(conn);
}

#[cancelsim::test(seeds = 2, cancel = "drop", explore = 0)]
#[should_panic(expected = "leaked-resource")]
async fn a_guard_forgotten_after_an_await_fails_the_test() {
    let conn = cancelsim::resource::acquire("db");
    sleep(ms(5)).await;
    std::mem::forget(conn);
}

/// The repro lines of a failing test name it, and the message says how to
/// replay one with `cargo test`.
#[cancelsim::test(explore = 0)]
#[should_panic(expected = "test=test_attr::repro_lines_name_the_test")]
async fn repro_lines_name_the_test() {
    std::mem::forget(cancelsim::resource::acquire("db"));
}

#[cancelsim::test(explore = 0)]
#[should_panic(
    expected = "cargo test -p cancelsim --test test_attr -- --exact the_replay_hint_names_the_cargo_filter"
)]
async fn the_replay_hint_names_the_cargo_filter() {
    std::mem::forget(cancelsim::resource::acquire("db"));
}

/// One bug (one failure group): the footer's command is ready to paste.
#[cancelsim::test(explore = 0)]
#[should_panic(
    expected = "\nreplay this run: CANCELSIM_REPLAY='cancelsim:v1 seed=0 scheduler=fifo \
                test=test_attr::one_group_gets_a_ready_replay_command' \
                RUST_BACKTRACE=0 cargo test -p cancelsim --test test_attr -- --exact one_group_gets_a_ready_replay_command --nocapture"
)]
async fn one_group_gets_a_ready_replay_command() {
    std::mem::forget(cancelsim::resource::acquire("db"));
}

/// What the test prints, every run prints: the failure says so, with
/// the number of runs.
#[cancelsim::test(explore = 0)]
#[should_panic(
    expected = "--nocapture\n(any output of the test shown above this report comes from every \
                run of the sweep, its 2 runs and the re-runs that trace a failure; the replay \
                prints only its run's, with its trace)"
)]
async fn the_failure_says_whose_output_the_harness_shows() {
    println!("a line every run prints");
    std::mem::forget(cancelsim::resource::acquire("db"));
}

/// Two bugs: the user picks the group whose run to replay.
#[cancelsim::test(explore = 0)]
#[should_panic(
    expected = "\nreplay one of these runs: CANCELSIM_REPLAY='<the repro of its group's `replay:` line>' \
                RUST_BACKTRACE=0 cargo test -p cancelsim --test test_attr -- --exact several_groups_name_the_groups_replay_line --nocapture"
)]
async fn several_groups_name_the_groups_replay_line() {
    std::mem::forget(cancelsim::resource::acquire("db"));
    std::mem::forget(cancelsim::spawn(async { sleep(ms(5)).await }));
    sleep(ms(1)).await;
}

#[cancelsim::test(explore = 0)]
async fn an_ok_result_passes() -> Result<(), String> {
    sleep(ms(1)).await;
    Ok(())
}

#[cancelsim::test(explore = 0)]
#[should_panic(expected = "the test returned Err(\"broken\")")]
async fn an_err_result_fails_the_test() -> Result<(), String> {
    sleep(ms(1)).await;
    Err("broken".to_string())
}

#[cancelsim::test(explore = 0)]
#[should_panic(expected = "the test returned Err(\"broken\") at tests/test_attr.rs:")]
async fn an_err_result_names_the_test_not_the_harness() -> Result<(), String> {
    sleep(ms(1)).await;
    Err("broken".to_string())
}

/// A background task the test never joins: a leak under cancelsim's own
/// sweep, dropped by the runtime's shutdown under the tokio preset.
async fn background_task() {
    let worker = cancelsim::spawn(async {
        loop {
            sleep(ms(10)).await;
        }
    });
    sleep(ms(25)).await;
    drop(worker);
}

#[cancelsim::test(preset = "tokio")]
async fn the_tokio_preset_drops_live_tasks_at_shutdown() {
    background_task().await;
}

#[cancelsim::test(explore = 0)]
#[should_panic(expected = "leaked-task")]
async fn the_default_sweep_reports_the_same_task_as_leaked() {
    background_task().await;
}

/// A cooperative cancel request (a cancelsim-only injection) is swallowed:
/// found by `cancel = "coop"`, never injected by the tokio preset.
async fn swallows_a_cancel() {
    let _ = cancelsim::cancel::checkpoint().await;
    sleep(ms(5)).await;
    let _ = cancelsim::cancel::checkpoint().await;
}

#[cancelsim::test(cancel = "coop", explore = 0)]
#[should_panic(expected = "cancel-swallowed")]
async fn cooperative_injection_finds_a_swallowed_cancel() {
    swallows_a_cancel().await;
}

#[cancelsim::test(preset = "tokio", explore = 0)]
async fn the_tokio_preset_injects_no_cooperative_request() {
    swallows_a_cancel().await;
}

#[cancelsim::test(cancel = "none", timeouts = false, explore = 0)]
async fn cancel_none_sweeps_nothing_but_the_baseline() {
    swallows_a_cancel().await;
}

#[cancelsim::test(scheduler = "pct:2", seeds = 3, max_runs = 4, explore = 2)]
async fn scheduler_seeds_and_budgets_are_accepted() {
    let a = cancelsim::spawn(async { cancelsim::yield_now().await }).abort_on_drop();
    let b = cancelsim::spawn(async { cancelsim::yield_now().await }).abort_on_drop();
    let _ = a.await;
    let _ = b.await;
}

// ----- CANCELSIM_REPLAY, in a child process -------------------------------------

/// The test a child process replays. Without the variable it is a plain
/// clean sweep.
#[cancelsim::test(cancel = "drop", explore = 0)]
async fn replay_target() {
    println!("REPLAY_TARGET_RAN");
    sleep(ms(1)).await;
}

/// A failing test a child process replays; a fixture, not a plain test.
#[cancelsim::test(cancel = "drop", explore = 0)]
#[ignore = "run by the test below, in a child process"]
async fn failing_replay_target() {
    sleep(ms(1)).await;
    panic!("FIXTURE_BOOM");
}

/// A replay prints the run's trace and its violations once: the failing
/// test's panic says where they are instead of repeating them, and offers
/// no replay command for the run it is replaying.
#[test]
fn a_failing_replay_prints_its_violation_once() {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "failing_replay_target",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            "CANCELSIM_REPLAY",
            "cancelsim:v1 seed=0 scheduler=fifo test=test_attr::failing_replay_target",
        )
        .output()
        .expect("the child runs");
    assert!(!out.status.success(), "{out:?}");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("cancelsim: replaying cancelsim:v1 seed=0"),
        "{all}"
    );
    assert_eq!(
        all.matches("the root panicked: FIXTURE_BOOM").count(),
        1,
        "{all}"
    );
    assert!(all.contains("printed above"), "{all}");
    assert!(!all.contains("replay this run:"), "{all}");
}

fn child(replay: &str) -> (String, String) {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "replay_target",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CANCELSIM_REPLAY", replay)
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_replay_line_for_this_test_replays_one_run_of_it() {
    let (stdout, stderr) = child(
        "cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@0:1 test=test_attr::replay_target",
    );
    assert!(
        stdout.contains(
            "cancelsim: replaying cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@0:1"
        ),
        "{stdout}\n{stderr}"
    );
    assert_eq!(stdout.matches("REPLAY_TARGET_RAN").count(), 1, "{stdout}");
}

/// A replay whose run is clean says so on stderr, past the harness's
/// capture: the failure it was asked for did not come back.
#[test]
fn a_clean_replay_says_its_failure_does_not_reproduce() {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "replay_target", "--test-threads=1"])
        .env(
            "CANCELSIM_REPLAY",
            "cancelsim:v1 seed=0 scheduler=fifo test=test_attr::replay_target",
        )
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cancelsim: test_attr::replay_target: replayed cancelsim:v1 seed=0")
            && stderr.contains("the replayed run is clean: if a report gave it as a failure, that failure does not reproduce"),
        "{stderr}"
    );
}

#[test]
fn a_replay_line_for_another_test_is_ignored_and_the_sweep_runs() {
    let (stdout, stderr) = child("cancelsim:v1 seed=0 scheduler=fifo test=other::test");
    assert!(
        stderr.contains("CANCELSIM_REPLAY is for other::test, not test_attr::replay_target")
            || stdout.contains("CANCELSIM_REPLAY is for other::test, not test_attr::replay_target"),
        "{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("cancelsim: replaying"), "{stdout}");
    // The baseline twice, then one run per injection.
    assert!(stdout.matches("REPLAY_TARGET_RAN").count() > 2, "{stdout}");
}

/// A worker that drains for 3 s after the cancel: past the default grace
/// time, within the test's own.
async fn drains_for_3s() {
    let worker = cancelsim::spawn(async {
        sleep(ms(5)).await;
        if let Err(cancelled) = cancelsim::cancel::checkpoint().await {
            // Draining in three steps: each wakes the task past the request,
            // so the grace budget is checked at every step.
            for _ in 0..3 {
                sleep(ms(1_000)).await;
            }
            return Err(cancelled);
        }
        Ok(())
    });
    sleep(ms(1)).await;
    worker.cancel();
    let _ = worker.await;
}

#[cancelsim::test(explore = 0, cancel = "none", grace = "5s")]
async fn a_test_sets_its_grace_time() {
    drains_for_3s().await;
}

#[cancelsim::test(explore = 0, cancel = "none")]
#[should_panic(expected = "cancel-ignored")]
async fn the_default_grace_time_is_one_second() {
    drains_for_3s().await;
}

/// Code under test beside its test: it unwraps its own timeout (a bug).
async fn fetch_or_panic(rx: futures::channel::oneshot::Receiver<u32>) -> u32 {
    cancelsim::time::timeout(ms(50), rx)
        .await
        .expect("fetch timed out")
        .unwrap_or(0)
}

/// The macro passes the test function's lines: the `timeout` above is the
/// code's, not the test's own, and its `expect` is found.
#[cancelsim::test(preset = "tokio", explore = 0)]
#[should_panic(expected = "fetch timed out")]
async fn code_beside_its_test_is_still_code_under_test() {
    let (tx, rx) = futures::channel::oneshot::channel();
    let sender = cancelsim::spawn(async move {
        sleep(ms(10)).await;
        let _ = tx.send(1);
    });
    assert_eq!(fetch_or_panic(rx).await, 1);
    sender.await.unwrap();
}

/// Three tasks logging their number; the body breaks when task 1 runs
/// last (orders 2-3-1 and 3-2-1: 2 of the 6).
async fn three_tasks_fail_when_task_1_runs_last(bug: bool) {
    let last = std::rc::Rc::new(std::cell::Cell::new(0));
    let (done, all_ran) = futures::channel::oneshot::channel::<()>();
    let done = std::rc::Rc::new(std::cell::RefCell::new(Some(done)));
    let ran = std::rc::Rc::new(std::cell::Cell::new(0));
    for n in 1..=3 {
        let (last, done, ran) = (last.clone(), done.clone(), ran.clone());
        cancelsim::spawn(async move {
            last.set(n);
            ran.set(ran.get() + 1);
            if ran.get() == 3 {
                let _ = done.borrow_mut().take().unwrap().send(());
            }
        })
        .detach();
    }
    all_ran.await.unwrap();
    assert!(!bug || last.get() != 1, "task 1 ran last");
}

/// `exhaustive = 2` runs every order of the three tasks (2 deviations
/// reach them all) in place of random schedules, and finds the bad ones.
#[cancelsim::test(exhaustive = 2, cancel = "none", timeouts = false)]
#[should_panic(expected = "scheduler=dfs:")]
async fn exhaustive_finds_the_order_that_breaks() {
    three_tasks_fail_when_task_1_runs_last(true).await;
}

#[cancelsim::test(exhaustive = 2, cancel = "none", timeouts = false)]
async fn exhaustive_passes_the_fixed_twin() {
    three_tasks_fail_when_task_1_runs_last(false).await;
}

/// A lookup that falls back to 0 when its 5 ms backend misses the 50 ms
/// deadline.
async fn lookup_with_fallback() -> u32 {
    cancelsim::time::timeout(ms(50), async {
        sleep(ms(5)).await;
        7
    })
    .await
    .unwrap_or(0)
}

/// The test checks the result the timeout decides: its expiries fail it
/// the same way when the lookup never started, and are excused.
#[cancelsim::test(cancel = "none", explore = 0)]
async fn an_expiry_the_test_fails_the_same_way_without_is_excused() {
    assert_eq!(lookup_with_fallback().await, 7);
}

/// ... unless `excuse_timeouts = false` makes it a failure again.
#[cancelsim::test(cancel = "none", explore = 0, excuse_timeouts = false)]
#[should_panic(expected = "the test assumes the timeout never fires")]
async fn excuse_timeouts_false_makes_it_a_failure() {
    assert_eq!(lookup_with_fallback().await, 7);
}

/// A clean sweep prints its report on stdout (the harness shows it with
/// `--nocapture`): what ran, and what was excused or not swept.
#[test]
fn a_clean_sweep_prints_its_report() {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "raii_cleanup_is_clean_under_the_default_sweep",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("CANCELSIM_REPLAY")
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "cancelsim check test_attr::raii_cleanup_is_clean_under_the_default_sweep: clean ("
        ),
        "{stdout}"
    );
}

/// A clean test whose sweep excused timeout expiries says so on stderr
/// even when the harness captures its output (a plain `cargo test`).
#[test]
fn excused_expiries_are_named_without_nocapture() {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "an_expiry_the_test_fails_the_same_way_without_is_excused",
            "--test-threads=1",
        ])
        .env_remove("CANCELSIM_REPLAY")
        .env_remove("CANCELSIM_TIMEOUT_RESULTS")
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "cancelsim: test_attr::an_expiry_the_test_fails_the_same_way_without_is_excused: "
        ) && stderr.contains(
            "excused: the test failed the same way when the timeout expired before its operation \
             started, e.g. "
        ) && stderr.contains("or the code mishandles the expiry (keeps a leader's role"),
        "{stderr}"
    );
}

/// A test that asserts on its own timeout: the sweep's expiries there are
/// its assertion, not failures ...
#[cancelsim::test(cancel = "none", explore = 0)]
async fn a_test_asserting_its_own_timeout() {
    cancelsim::time::timeout(Duration::from_secs(1), sleep(Duration::from_millis(5)))
        .await
        .expect("the work hung");
}

/// ... and a plain `cargo test` is told so on stderr: the assertions after
/// it did not run in those runs (trial 7 missed a bug behind one).
#[test]
fn expiries_the_test_asserts_on_are_named_without_nocapture() {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "a_test_asserting_its_own_timeout",
            "--test-threads=1",
        ])
        .env_remove("CANCELSIM_REPLAY")
        .env_remove("CANCELSIM_TIMEOUT_RESULTS")
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cancelsim: test_attr::a_test_asserting_its_own_timeout: ")
            && stderr.contains("expired a timeout the test asserts on itself")
            && stderr.contains("the assertions after it did not run"),
        "{stderr}"
    );
}

/// A failing sweep, run only by the test below (it fails on purpose).
#[cancelsim::test(explore = 0)]
#[ignore = "fails on purpose: run by a_failing_test_panics_at_its_own_attribute"]
async fn a_failing_sweep_for_its_panic_location() {
    std::mem::forget(cancelsim::resource::acquire("db"));
}

/// The failure's panic is located at the test (its attribute), not in the
/// harness: `thread '…' panicked at tests/test_attr.rs:…`.
#[test]
fn a_failing_test_panics_at_its_own_attribute() {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "a_failing_sweep_for_its_panic_location",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env_remove("CANCELSIM_REPLAY")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the child runs");
    assert!(!out.status.success(), "{out:?}");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        output.contains("panicked at tests/test_attr.rs:"),
        "{output}"
    );
    assert!(!output.contains("panicked at src/test_attr.rs"), "{output}");
}

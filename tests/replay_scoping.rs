//! `CANCELSIM_REPLAY` is for one run of one check: a named check ignores a
//! line that names another, a sweep of many (the CLI's `run`) never reads
//! it, and a replayed injection that never fires is an error, not a pass.
//! Each case re-runs this test binary as a child with the variable set, so
//! no other test sees it.

use std::process::Command;
use std::time::Duration;

use cancelsim::{Check, ViolationCode};

async fn leaky() {
    let conn = cancelsim::resource::acquire("db");
    cancelsim::time::sleep(Duration::from_millis(1)).await;
    drop(conn);
    cancelsim::time::sleep(Duration::from_millis(1)).await;
}

/// Runs `test` of this binary in a child process with `CANCELSIM_REPLAY`.
fn child(test: &str, replay: &str) -> std::process::Output {
    Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", test, "--nocapture", "--include-ignored"])
        .env("CANCELSIM_REPLAY", replay)
        .env("REPLAY_SCOPING_CHILD", "1")
        .output()
        .expect("the child runs")
}

fn in_child() -> bool {
    std::env::var_os("REPLAY_SCOPING_CHILD").is_some()
}

#[test]
#[ignore = "run by the tests below, in a child process"]
fn child_named_check() {
    if !in_child() {
        return;
    }
    let report = Check::new(leaky)
        .name("replay_scoping::child_named_check")
        .cancel_at_every_await(cancelsim::CancelMode::Drop)
        .run();
    println!("RUNS={}", report.counts().runs);
    for failure in report.failures() {
        for violation in failure.violations() {
            println!("CODE={}", violation.kind());
            println!("MESSAGE={}", violation.message());
        }
    }
}

#[test]
#[ignore = "run by the tests below, in a child process"]
fn child_sweep_of_many() {
    if !in_child() {
        return;
    }
    let report = Check::new(leaky)
        .replay_from_env(false)
        .cancel_at_every_await(cancelsim::CancelMode::Drop)
        .run();
    println!("RUNS={}", report.counts().runs);
}

#[test]
fn a_line_for_another_test_is_ignored_and_the_sweep_runs() {
    let out = child(
        "child_named_check",
        "cancelsim:v1 seed=0 scheduler=fifo test=some::other_test",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let runs: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RUNS="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no RUNS line: {stdout}\n{stderr}"));
    assert!(runs > 1, "the sweep ran, not one replay: {stdout}");
    assert!(
        stdout.contains("is for some::other_test, not replay_scoping::child_named_check")
            || stderr.contains("is for some::other_test, not replay_scoping::child_named_check"),
        "it says the variable was ignored: {stdout}\n{stderr}"
    );
}

#[test]
fn a_line_for_this_test_replays_one_run() {
    let out = child(
        "child_named_check",
        "cancelsim:v1 seed=0 scheduler=fifo test=replay_scoping::child_named_check",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("RUNS=1"), "{stdout}");
    assert!(stdout.contains("cancelsim: replaying"), "{stdout}");
}

#[test]
fn a_replayed_injection_that_never_fires_is_an_error() {
    let out = child(
        "child_named_check",
        "cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@7:7 test=replay_scoping::child_named_check",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("RUNS=1"), "{stdout}");
    assert!(
        stdout.contains(&format!("CODE={}", ViolationCode::Nondeterminism)),
        "{stdout}"
    );
    assert!(
        stdout.contains("injection never fired — the code differs from the recording"),
        "{stdout}"
    );
}

#[test]
fn a_sweep_of_many_never_reads_the_variable() {
    let out = child("child_sweep_of_many", "cancelsim:v1 seed=0 scheduler=fifo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let runs: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RUNS="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no RUNS line: {stdout}"));
    assert!(runs > 1, "{stdout}");
}

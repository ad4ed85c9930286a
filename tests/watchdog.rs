//! The watchdog: a poll that runs longer than its wall-clock limit is a
//! stuck poll. A sweep reports it as a `stuck-poll` failure naming the task
//! and the await point it resumed from, and returns instead of hanging; a
//! plain `Sim::block_on` (whose thread cannot be handed back) ends the
//! process with the report on stderr. No timing is asserted: the loops
//! below never end by themselves.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cancelsim::{spawn_named, yield_now, Check, Config, Sim, ViolationCode};

/// Lets the spinning loops of this file end once their test has its
/// report, so abandoned worker threads do not spin on for the rest of the
/// test binary.
static RELEASE: AtomicBool = AtomicBool::new(false);

/// A loop without an await: it ends only when the test releases it.
fn spin() {
    while !RELEASE.load(Ordering::Relaxed) {
        std::hint::spin_loop();
    }
}

fn limit() -> Config {
    Config::default().watchdog(Some(Duration::from_millis(200)))
}

async fn spins_after_one_yield() {
    let spinner = spawn_named("spinner", async {
        yield_now().await;
        spin();
    });
    let _ = spinner.await;
}

#[test]
fn a_stuck_poll_in_a_sweep_is_a_stuck_poll_failure_not_a_hang() {
    let report = Check::new(spins_after_one_yield)
        .config(limit())
        .threads(1)
        .run();
    RELEASE.store(true, Ordering::Relaxed);
    assert!(!report.is_clean());
    let failure = &report.failures()[0];
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::StuckPoll, "{report}");
    assert_eq!(violation.task_name(), Some("spinner"), "{report}");
    assert_eq!(violation.await_point(), Some(1), "{report}");
    assert!(
        violation
            .message()
            .contains("a poll of task spinner#1, resumed from await point 1"),
        "{violation}"
    );
    // The trace is the same run stopped right before the stuck poll.
    let trace = failure.trace().to_string();
    assert!(trace.contains("spinner#1"), "{trace}");
    assert!(
        trace.contains("suspend at await point 1 on yield"),
        "{trace}"
    );
    assert_eq!(report.counts().stopped, Some("a poll got stuck"));
    let text = report.to_string();
    assert!(text.contains("stuck-poll in spinner"), "{text}");
    assert!(text.contains("stopped early: a poll got stuck"), "{text}");
}

#[test]
fn the_twin_that_awaits_is_clean_under_the_same_watchdog() {
    Check::new(|| async {
        let worker = spawn_named("worker", async {
            for _ in 0..100 {
                yield_now().await;
            }
        });
        let _ = worker.await;
    })
    .config(limit())
    .run()
    .assert_clean();
}

/// The target of `a_stuck_block_on_ends_the_process_with_the_report`: a
/// `Sim::block_on` whose root never returns from its first poll.
#[test]
#[ignore = "run by a_stuck_block_on_ends_the_process_with_the_report in a child process"]
fn stuck_block_on_target() {
    let mut sim = Sim::new(limit());
    #[allow(clippy::empty_loop)]
    let _ = sim.block_on(async { loop {} });
}

#[test]
fn a_stuck_block_on_ends_the_process_with_the_report() {
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "stuck_block_on_target",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("the test binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(101), "{stderr}");
    assert!(
        stderr.contains(
            "cancelsim: stuck-poll: a poll of task main#0, resumed from its first poll, has run for"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("the process ends"), "{stderr}");
}

#[test]
fn the_watchdog_can_be_turned_off() {
    // Off, nothing watches: a poll that ends is never reported.
    Check::new(|| async { yield_now().await })
        .config(Config::default().watchdog(None))
        .run()
        .assert_clean();
}

/// The release of the blocking closure below (its own: tests run at once).
static RELEASE_BLOCKING: AtomicBool = AtomicBool::new(false);

/// Blocking work that waits for the async side (a std channel the root
/// would feed after it): stuck on the simulation's one thread, and the
/// hint says why — not "put an await point in long loops" (trial 7:
/// `blocking_send` from `spawn_blocking` into a full channel).
#[test]
fn a_blocking_closure_waiting_for_the_async_side_is_explained() {
    let report = Check::new(|| async {
        let (tx, rx) = std::sync::mpsc::channel::<u32>();
        let work = cancelsim::blocking(Duration::from_millis(1), move || {
            // Waits for a value the root sends only after this returns;
            // released by the test once it has the report.
            while rx.try_recv().is_err() && !RELEASE_BLOCKING.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
        work.await;
        let _ = tx.send(1);
    })
    .config(limit())
    .threads(1)
    .run();
    RELEASE_BLOCKING.store(true, Ordering::Relaxed);
    let violation = &report.failures()[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::StuckPoll, "{report}");
    assert!(
        violation
            .hint()
            .contains("runs on the simulation's one thread")
            && violation.hint().contains("blocking_send"),
        "{report}"
    );
}

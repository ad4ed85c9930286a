//! `panic` and `unobserved-panic`: an injected timeout unwrapped, in the root
//! and in a detached task, a panic behind a dropped handle, and the name of
//! a panicked task kept in a capped trace.

use std::collections::BTreeSet;

use cancelsim::time::{sleep, timeout};
use cancelsim::{spawn_named, yield_now, Check, ViolationCode};

use crate::common::{location_in, ms, sweep};
use crate::{codes, failing_injections, found, set};

/// `tests/oracles/panics.rs:LINE:COLUMN` of `token` on the first line of
/// this file that contains `marker` (source locations without hard-coded
/// numbers).
fn location_of(marker: &str, token: &str) -> String {
    location_in(
        "tests/oracles/panics.rs",
        include_str!("panics.rs"),
        marker,
        token,
    )
}

// ----- 8. unwrap() on a timeout ---------------------------------------------

/// Bug: the root unwraps its timeout.
async fn unwrap_timeout_in_root() -> u32 {
    timeout(ms(100), async {
        sleep(ms(10)).await;
        7
    })
    .await
    .unwrap() // unwrap in root
}

/// Fixed: `Err(Elapsed)` is a normal outcome.
async fn handle_timeout_in_root() -> u32 {
    timeout(ms(100), async {
        sleep(ms(10)).await;
        7
    })
    .await
    .unwrap_or(0)
}

/// Bug: a detached task unwraps its timeout; nobody sees it panic.
async fn unwrap_timeout_in_detached_task() {
    spawn_named("refresher", async {
        timeout(ms(100), sleep(ms(10))).await.unwrap(); // unwrap in child
    })
    .detach();
    sleep(ms(50)).await;
}

/// Fixed: the detached task handles its timeout.
async fn handle_timeout_in_detached_task() {
    spawn_named("refresher", async {
        if timeout(ms(100), sleep(ms(10))).await.is_err() {
            // Stale until the next refresh: fine.
        }
    })
    .detach();
    sleep(ms(50)).await;
}

#[test]
fn unwrap_of_an_injected_timeout_in_the_root_is_a_panic() {
    let report = sweep(unwrap_timeout_in_root).run();
    assert_eq!(codes(&report), BTreeSet::from(["panic"]));
    assert_eq!(failing_injections(&report), set(&["main timeout@1"]));
    for (_, violation) in found(&report, "panic") {
        assert_eq!(violation.task_name(), Some("main"), "{violation}");
        assert!(violation.message().contains("Elapsed"), "{violation}");
        assert!(
            violation
                .message()
                .contains(&location_of("// unwrap in root", "unwrap")),
            "{violation}"
        );
    }
}

#[test]
fn handled_timeout_in_the_root_is_clean() {
    sweep(handle_timeout_in_root).run().assert_clean();
}

#[test]
fn unwrap_of_an_injected_timeout_in_a_detached_task_is_an_unobserved_panic() {
    let report = sweep(unwrap_timeout_in_detached_task).run();
    assert_eq!(codes(&report), BTreeSet::from(["unobserved-panic"]));
    assert_eq!(failing_injections(&report), set(&["refresher timeout@1"]));
    for (_, violation) in found(&report, "unobserved-panic") {
        assert_eq!(violation.task_name(), Some("refresher"), "{violation}");
        // Expired at await point 1, it waits for the deadline at point 2
        // (its inner sleep no longer polled) and panics there.
        assert_eq!(violation.await_point(), Some(2), "{violation}");
        assert!(violation.message().contains("Elapsed"), "{violation}");
    }
}

#[test]
fn handled_timeout_in_a_detached_task_is_clean() {
    sweep(handle_timeout_in_detached_task).run().assert_clean();
}

// ----- a panic nobody observes ----------------------------------------------

fn parse(text: &str) -> u32 {
    text.parse().expect("a number")
}

/// Bug: the worker's handle is dropped; its panic goes unseen.
async fn panic_nobody_observes() {
    let worker = spawn_named("worker", async {
        yield_now().await;
        parse("forty-two")
    });
    drop(worker);
    sleep(ms(10)).await;
}

/// Fixed: the handle is awaited and the panic handled.
async fn panic_observed_and_handled() -> u32 {
    let worker = spawn_named("worker", async {
        yield_now().await;
        parse("forty-two")
    })
    .abort_on_drop();
    sleep(ms(10)).await;
    match worker.await {
        Ok(value) => value,
        Err(error) if error.is_panic() => 0,
        Err(_) => 0,
    }
}

#[test]
fn panic_with_the_handle_dropped_is_an_unobserved_panic() {
    // The baseline shows it. (The full sweep also drops the root before the
    // worker has run, which leaves it alive: see the leaked-task note.)
    let report = Check::new(panic_nobody_observes).run();
    assert_eq!(codes(&report), BTreeSet::from(["unobserved-panic"]));
    assert!(report.failures()[0].repro().injections.is_empty());
    for (_, violation) in found(&report, "unobserved-panic") {
        assert_eq!(violation.task_name(), Some("worker"), "{violation}");
        assert_eq!(violation.await_point(), Some(1), "{violation}");
        assert!(violation.message().contains("a number"), "{violation}");
    }
}

#[test]
fn panic_observed_through_the_handle_is_clean() {
    // Baseline only: in an injected run the `panic` oracle flags any panic of
    // an awaited task, even one the baseline has too and handles.
    Check::new(panic_observed_and_handled).run().assert_clean();
}

/// Runs that drop the root before the worker ran leave it alive at the end
/// of the run (the end-of-run checks must cope with live tasks).
#[test]
fn panic_with_the_handle_dropped_full_sweep() {
    let report = sweep(panic_nobody_observes).run();
    for (_, violation) in found(&report, "unobserved-panic") {
        assert_eq!(violation.task_name(), Some("worker"), "{violation}");
    }
}

/// A panic the baseline has too (and handles) is the baseline's to judge:
/// injected runs do not report it again.
#[test]
fn panic_observed_and_handled_full_sweep() {
    sweep(panic_observed_and_handled).run().assert_clean();
}

// ----- names in a capped trace ----------------------------------------------

/// A task panics early, unobserved, then two thousand named tasks come and
/// go before the root ends.
async fn early_unobserved_panic_then_many_tasks() {
    drop(cancelsim::spawn_named("crasher", async { panic!("boom") }));
    cancelsim::yield_now().await;
    for _ in 0..2_000 {
        cancelsim::spawn_named("worker", async {}).await.unwrap();
    }
}

/// A capped trace forgets the names of long-ended tasks; a violation found
/// at the end of the run about one of them still names it, as in a full
/// trace.
#[test]
fn a_capped_trace_names_the_task_of_a_late_violation() {
    for mode in [cancelsim::TraceMode::Full, cancelsim::TraceMode::Last(100)] {
        let outcome = cancelsim::check::run_repro(
            &early_unobserved_panic_then_many_tasks,
            &cancelsim::Config::default().trace(mode),
            &cancelsim::Repro::baseline(0, cancelsim::SchedulerKind::Fifo),
        );
        assert!(
            outcome.has(ViolationCode::UnobservedPanic),
            "{:?}",
            outcome.violations
        );
        let text = outcome.trace.to_string();
        assert!(
            text.lines()
                .any(|line| line.contains("crasher#1")
                    && line.contains("violation unobserved-panic")),
            "{mode:?}:\n{text}"
        );
    }
}

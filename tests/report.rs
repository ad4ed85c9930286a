//! The text of a report: a bounded trace however long the failing run, the
//! hints it gives, and a header whose counts add up.

use std::cell::Cell;
use std::rc::Rc;

use cancelsim::time::sleep;
use cancelsim::{spawn_named, CancelMode, Check, Config, Report};

mod common;
use common::ms;

/// Bug: polls a flag the worker sets, until it is set. When the worker is
/// aborted before it sets the flag, the loop never ends.
async fn polls_a_flag_the_worker_sets() {
    let done = Rc::new(Cell::new(false));
    let worker = spawn_named("worker", {
        let done = Rc::clone(&done);
        async move {
            sleep(ms(1)).await;
            done.set(true);
        }
    })
    .abort_on_drop();
    while !done.get() {
        sleep(ms(1)).await;
    }
    let _ = worker.await;
}

/// Fixed: stops waiting when the worker ended, whether or not it set it.
async fn polls_the_flag_until_the_worker_ended() {
    let done = Rc::new(Cell::new(false));
    let worker = spawn_named("worker", {
        let done = Rc::clone(&done);
        async move {
            sleep(ms(1)).await;
            done.set(true);
        }
    })
    .abort_on_drop();
    while !done.get() && !worker.is_finished() {
        sleep(ms(1)).await;
    }
    let _ = worker.await;
}

fn drop_sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future,
{
    Check::new(body)
        .cancel_at_every_await(CancelMode::Drop)
        .config(Config::default().max_steps(5_000))
        .run()
}

#[test]
fn a_step_limit_report_prints_the_ends_of_its_trace_and_names_the_cancelled_task() {
    let report = drop_sweep(polls_a_flag_the_worker_sets);
    let failure = report
        .failures()
        .iter()
        .find(|failure| failure.has("step-limit"))
        .expect("a step-limit failure");
    let violation = &failure.violations()[0];
    let injected = violation.injection().expect("an injected run");
    assert_eq!(injected.to_string(), "cancel-drop@1:1", "{violation}");
    assert!(
        violation
            .hint()
            .contains("waiting on the task the injection cancelled"),
        "{violation}"
    );

    let text = report.to_string();
    let (_, trace) = text
        .split_once("\ntrace of the first failing run")
        .expect("a trace");
    let first = &report.failures()[report.failure_groups()[0].first];
    assert_eq!(first.repro(), failure.repro(), "{text}");
    let events = first.trace().len();
    assert!(events > 5_000, "{events}");
    // Its first line, the trace's header (3 lines), 200 events, the line
    // that counts the rest, 200 events.
    assert_eq!(trace.lines().count(), 1 + 3 + 200 + 1 + 200, "{trace}");
    let omitted = format!(
        "… {} events omitted (the full trace: CANCELSIM_ARTIFACTS=<dir> writes it to a file, \
         or replay the run with CANCELSIM_REPLAY='{}')",
        events - 400,
        first.repro()
    );
    assert!(trace.contains(&omitted), "{trace}");
    let last = first.trace().events().last().expect("events");
    assert!(
        trace.trim_end().ends_with(&first.trace().line(&last)),
        "{trace}"
    );
    // Nor do the JSON and JUnit forms carry the trace.
    assert!(report.to_json().len() < 20_000, "{}", report.to_json());
    assert!(report.to_junit().len() < 20_000, "{}", report.to_junit());
    // Same seed, same report.
    assert_eq!(drop_sweep(polls_a_flag_the_worker_sets).to_string(), text);
}

#[test]
fn a_loop_that_stops_when_the_worker_ended_is_clean() {
    drop_sweep(polls_the_flag_until_the_worker_ended).assert_clean();
}

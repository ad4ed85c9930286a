//! Which tasks a drop is injected into: every task under cancelsim's own
//! sweep; under `drop_only_abortable` (the tokio preset) only the root and
//! the tasks the program itself can abort — a task spawned and merely
//! awaited is dropped by nothing but the end of the runtime, so aborting it
//! would only fail the test's own `handle.await`.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use cancelsim::check::await_points;
use cancelsim::time::sleep;
use cancelsim::{CancelMode, Check, Config, SchedulerKind, TaskGroup, ViolationCode};
use common::ms;

/// One task of each kind, each waiting once.
async fn one_of_each() {
    let plain = cancelsim::spawn_named("plain", sleep(ms(5)));
    let with_abort_handle = cancelsim::spawn_named("handle", sleep(ms(5)));
    let _abort = with_abort_handle.abort_handle();
    let on_drop = cancelsim::spawn_named("on_drop", sleep(ms(5))).abort_on_drop();
    let aborted = cancelsim::spawn_named("aborted", sleep(ms(50)));
    let dropped = cancelsim::spawn_named("dropped", sleep(ms(50))).abort_on_drop();
    let cancelled = cancelsim::spawn_named("cancelled", async {
        let _ = cancelsim::cancel::checkpoint().await;
        sleep(ms(50)).await;
    });
    let mut group = TaskGroup::new();
    group.spawn_named("grouped", async {
        sleep(ms(5)).await;
        Ok::<(), String>(())
    });
    let at_the_end = cancelsim::spawn_named("at_the_end", sleep(ms(500))).abort_on_drop();
    sleep(ms(1)).await;
    aborted.abort();
    drop(dropped);
    cancelled.cancel();
    let _ = plain.await;
    let _ = with_abort_handle.await;
    let _ = on_drop.await;
    let _ = aborted.await;
    let _ = cancelled.await;
    let _ = group.join().await;
    drop(at_the_end); // stopped as the test ends
}

/// Per task: (name, abortable, aborted at a deadline) at its await points.
fn abortable_by_task() -> Vec<(String, bool, bool)> {
    let points = await_points(&one_of_each, &Config::default(), 0, SchedulerKind::Fifo);
    let mut seen: Vec<(String, bool, bool)> = points
        .iter()
        .map(|point| {
            (
                point
                    .task_name
                    .clone()
                    .unwrap_or_else(|| point.task.to_string()),
                point.abortable,
                point.aborted_at_deadline,
            )
        })
        .collect();
    seen.dedup();
    seen
}

#[test]
fn the_root_and_tasks_the_program_aborts_while_they_run_are_abortable() {
    let seen = abortable_by_task();
    let marks = |name: &str| {
        let (_, abortable, at_deadline) = seen
            .iter()
            .find(|(task, ..)| task == name)
            .unwrap_or_else(|| panic!("{name} has an await point: {seen:?}"));
        (*abortable, *at_deadline)
    };
    let abortable = |name: &str| {
        let (abortable, at_deadline) = marks(name);
        abortable || at_deadline
    };
    assert!(abortable("main"), "{seen:?}");
    for name in ["aborted", "dropped"] {
        assert!(abortable(name), "{name}, aborted while it ran: {seen:?}");
        // The body aborts them after its `sleep`: a timer decides when,
        // so the sweep stalls them there rather than dropping them early.
        assert_eq!(marks(name), (false, true), "{name}: {seen:?}");
    }
    // Never aborted (a handle that could is not an abort), cancelled
    // cooperatively, finished before its handle went, or stopped only as
    // the test ended.
    for name in [
        "plain",
        "handle",
        "on_drop",
        "cancelled",
        "grouped",
        "at_the_end",
    ] {
        assert!(!abortable(name), "{name}: {seen:?}");
    }
}

#[test]
fn the_abortable_marks_are_the_same_on_every_run() {
    assert_eq!(abortable_by_task(), abortable_by_task());
}

/// A test asserting on the value of a task it spawned and awaits: correct
/// tokio code (nothing can abort the task).
async fn asserts_on_the_joined_value() {
    let work = cancelsim::spawn(async {
        sleep(ms(5)).await;
        7
    });
    assert_eq!(work.await.ok(), Some(7), "the work's value");
}

#[test]
fn a_plain_task_is_not_dropped_under_drop_only_abortable() {
    let report = Check::new(asserts_on_the_joined_value)
        .config(Config::default().runtime_shutdown(true))
        .cancel_at_every_await(CancelMode::Drop)
        .drop_only_abortable(true)
        .run();
    report.assert_clean();
    // Only the root's await point was a drop target (at suspension and on
    // wake: two runs).
    assert_eq!(report.counts().per_kind["cancel-drop"], 2, "{report}");
}

#[test]
fn cancelsims_own_sweep_drops_every_task() {
    let report = Check::new(asserts_on_the_joined_value)
        .config(Config::default().runtime_shutdown(true))
        .cancel_at_every_await(CancelMode::Drop)
        .run();
    // Both await points, at suspension and on wake.
    assert_eq!(report.counts().per_kind["cancel-drop"], 4, "{report}");
    let violation = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .find(|v| v.kind() == ViolationCode::Panic)
        .unwrap_or_else(|| panic!("the plain task is dropped too: {report}"));
    assert!(
        violation.message().contains("the work's value"),
        "{violation}"
    );
}

/// A request counter a handler task forgets to decrement when it is
/// dropped mid-request. The owner aborts the handler after 10 ms (a client
/// that went away): in the baseline the request is done by then, so only a
/// drop at the handler's first await point shows the bug.
async fn counted_handler(fixed: bool) {
    let in_flight = Rc::new(Cell::new(0));
    let handler = {
        let in_flight = Rc::clone(&in_flight);
        cancelsim::spawn_named("handler", async move {
            in_flight.set(in_flight.get() + 1);
            struct Done(Rc<Cell<i32>>);
            impl Drop for Done {
                fn drop(&mut self) {
                    self.0.set(self.0.get() - 1);
                }
            }
            if fixed {
                let _done = Done(Rc::clone(&in_flight));
                sleep(ms(5)).await;
            } else {
                sleep(ms(5)).await;
                in_flight.set(in_flight.get() - 1);
            }
            sleep(ms(50)).await; // keeps the connection open
        })
    };
    sleep(ms(10)).await;
    handler.abort(); // the client went away
    let _ = handler.await;
    assert_eq!(in_flight.get(), 0, "a request is still counted in flight");
}

#[test]
fn an_abortable_handler_is_dropped_and_its_broken_counter_found() {
    let report = Check::new(|| counted_handler(false)).tokio_preset().run();
    let violation = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .find(|v| v.kind() == ViolationCode::Panic)
        .unwrap_or_else(|| panic!("{report}"));
    assert!(violation.message().contains("still counted in flight"));
    assert_eq!(report.counts().abort_consequences, 0, "{report}");
}

#[test]
fn the_fixed_handler_is_clean() {
    let report = Check::new(|| counted_handler(true)).tokio_preset().run();
    report.assert_clean();
    assert!(report.counts().per_kind["cancel-drop"] >= 2, "{report}");
}

#[test]
fn the_drop_targets_are_the_same_on_every_run() {
    let targets = |_: ()| {
        let report = Check::new(|| counted_handler(true)).tokio_preset().run();
        (report.counts().per_kind.clone(), report.to_string())
    };
    assert_eq!(targets(()), targets(()));
}

/// A heartbeat the test stops after its first beat: the abort follows the
/// beat (the test waited for it), so it can come at the heartbeat's later
/// await points only — never before the first beat — and before the one
/// the abort found it at (point 3: a drop there is the abort itself).
async fn stopped_after_its_first_beat() {
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<u32>();
    let heartbeat = cancelsim::spawn_named("heartbeat", async move {
        for beat in 1.. {
            sleep(ms(10)).await;
            if tx.unbounded_send(beat).is_err() {
                return;
            }
            cancelsim::yield_now().await;
        }
    });
    use futures::StreamExt;
    let first = rx.next().await;
    assert_eq!(first, Some(1), "the first beat comes before the stop");
    // The heartbeat goes on to its next sleep (point 3).
    cancelsim::yield_now().await;
    cancelsim::yield_now().await;
    heartbeat.abort();
    let _ = heartbeat.await;
}

#[test]
fn an_abort_that_follows_from_the_tasks_own_output_comes_after_it() {
    let points = await_points(
        &stopped_after_its_first_beat,
        &Config::default(),
        0,
        SchedulerKind::Fifo,
    );
    let heartbeat: Vec<(u32, bool)> = points
        .iter()
        .filter(|p| p.task_name.as_deref() == Some("heartbeat"))
        .map(|p| (p.ordinal, p.abortable))
        .collect();
    assert_eq!(
        heartbeat,
        [(1, false), (2, true), (3, false)],
        "{points:#?}"
    );
    Check::new(stopped_after_its_first_beat)
        .tokio_preset()
        .run()
        .assert_clean();
}

/// A timer-decided abort is swept as a stall: the handler waits where the
/// injection holds it until its owner's abort, at 10 ms, drops it there;
/// the repro replays it, the same trace each time.
#[test]
fn a_stall_replays_identically() {
    let report = Check::new(|| counted_handler(false)).tokio_preset().run();
    let failure = report
        .failures()
        .iter()
        .find(|failure| {
            failure
                .repro()
                .injections
                .iter()
                .any(|injection| injection.kind.name() == "stall")
        })
        .unwrap_or_else(|| panic!("a stall finds the counter: {report}"));
    let trace = failure.trace().to_string();
    assert!(trace.contains("injected stall at await point 1"), "{trace}");
    let hint = failure.violations()[0].hint();
    assert!(
        hint.contains("held this task's wait here until your own deadline aborted it"),
        "{hint}"
    );
    // What a stall is, not the generic "the cancel (or expiry) at this
    // await point".
    assert!(
        hint.contains(
            "a stall: the sweep made the operation at this await point much slower than usual"
        ),
        "{hint}"
    );
    assert!(!hint.contains("the cancel (or expiry)"), "{hint}");
    let replay = || {
        cancelsim::check::run_repro(
            &|| counted_handler(false),
            &Config::default(),
            failure.repro(),
        )
        .trace
        .to_string()
    };
    let first = replay();
    assert!(first.contains("still counted in flight"), "{first}");
    assert_eq!(replay(), first);
}

/// The aborter polls a flag the task sets (trial c7), under a step budget
/// smaller than the stall's minute of virtual time: the stalled task never
/// sets it in time, the loop hits the budget, and the hint says the loop
/// waits on the stalled task's progress (not the generic loop advice).
async fn aborts_after_polling_a_flag() {
    let done = Rc::new(Cell::new(false));
    let flag = Rc::clone(&done);
    let worker = cancelsim::spawn(async move {
        sleep(ms(1)).await;
        flag.set(true);
        std::future::pending::<()>().await;
    });
    while !done.get() {
        sleep(ms(1)).await;
    }
    worker.abort();
    let _ = worker.await;
}

#[test]
fn a_loop_waiting_on_a_stalled_task_is_told_so() {
    let report = Check::new(aborts_after_polling_a_flag)
        .config(Config::default().max_steps(5_000))
        .tokio_preset()
        .run();
    let failure = report
        .failures()
        .iter()
        .find(|failure| failure.has(ViolationCode::StepLimit))
        .unwrap_or_else(|| panic!("the stall outlasts the step budget: {report}"));
    assert_eq!(
        failure.repro().injections[0].kind.name(),
        "stall",
        "{report}"
    );
    let violation = failure
        .violations()
        .iter()
        .find(|v| v.kind() == ViolationCode::StepLimit)
        .unwrap();
    let hint = violation.hint();
    assert!(
        hint.contains("a loop that never finishes while a task's wait was stalled"),
        "{hint}"
    );
    assert!(
        hint.contains("waits for what the stalled task would do"),
        "{hint}"
    );
}

/// A handler aborted at its owner's deadline that yields between its two
/// sleeps: a stall at the yield would hold nothing (the task woke itself:
/// its wait ends at once), so none is planned there — only at its sleeps.
async fn yielding_handler_aborted_at_a_deadline() {
    let handler = cancelsim::spawn_named("handler", async {
        sleep(ms(5)).await;
        cancelsim::yield_now().await;
        sleep(ms(50)).await;
    });
    sleep(ms(10)).await;
    handler.abort();
    let _ = handler.await;
}

#[test]
fn no_stall_is_planned_where_the_task_woke_itself() {
    let points = await_points(
        &yielding_handler_aborted_at_a_deadline,
        &Config::default(),
        0,
        SchedulerKind::Fifo,
    );
    let handler: Vec<(u32, bool, bool)> = points
        .iter()
        .filter(|p| p.task_name.as_deref() == Some("handler"))
        .map(|p| (p.ordinal, p.self_woken, p.aborted_at_deadline))
        .collect();
    assert_eq!(
        handler,
        [(1, false, true), (2, true, true), (3, false, true)],
        "{points:#?}"
    );
    let report = Check::new(yielding_handler_aborted_at_a_deadline)
        .tokio_preset()
        .run();
    report.assert_clean();
    // Stalls at the two sleeps, none at the yield.
    assert_eq!(report.counts().per_kind.get("stall"), Some(&2), "{report}");
}

#[test]
fn no_stall_is_planned_where_the_task_yielded_to_the_next_turn() {
    // The current-thread runtime's order (`#[tokio::test]`'s): a yield is
    // deferred to the next turn, the task not queued meanwhile.
    let config = Config::default().root_first(true);
    let points = await_points(
        &yielding_handler_aborted_at_a_deadline,
        &config,
        0,
        SchedulerKind::Fifo,
    );
    let handler: Vec<(u32, bool)> = points
        .iter()
        .filter(|p| p.task_name.as_deref() == Some("handler"))
        .map(|p| (p.ordinal, p.self_woken))
        .collect();
    assert_eq!(handler, [(1, false), (2, true), (3, false)], "{points:#?}");
    let report = Check::new(yielding_handler_aborted_at_a_deadline)
        .tokio_preset()
        .root_first(true)
        .run();
    report.assert_clean();
    assert_eq!(report.counts().per_kind.get("stall"), Some(&2), "{report}");
}

//! A join names the task it waits on in reports, as in traces: the group's
//! `first found at main#0 await point 1 on join worker#1`, a violation's
//! `task:` line and a deadlock's blocked tasks; an unnamed task keeps its
//! id (`join #1`). A leaked task names its spawner even in a run whose
//! root was dropped and whose trace is off (`spawned by main#0`).

use std::mem::ManuallyDrop;
use std::time::Duration;

use cancelsim::{spawn, spawn_named, CancelMode, Check, Report};

/// A connection handed back only on the success path, in a named task the
/// root joins.
async fn query() {
    let conn = ManuallyDrop::new(cancelsim::resource::acquire("db connection"));
    cancelsim::time::sleep(Duration::from_millis(10)).await;
    ManuallyDrop::into_inner(conn).release();
}

fn leaky(named: bool) -> Report {
    Check::new(move || async move {
        let worker = if named {
            spawn_named("worker", query())
        } else {
            spawn(query())
        };
        let _ = worker.await;
    })
    .cancel_at_every_await(CancelMode::Drop)
    .run()
}

#[test]
fn a_group_found_at_a_join_names_the_joined_task() {
    let report = leaky(true).to_string();
    assert!(
        report.contains("first found at main#0 await point 1 on join worker#1 ("),
        "{report}"
    );
    // The root was dropped at its join: the leaked worker still names it.
    assert!(
        report
            .contains("task worker#1 is still alive when the root finished (spawned by main#0 at "),
        "{report}"
    );
    assert!(!report.contains("join #1"), "{report}");
}

#[test]
fn a_join_on_an_unnamed_task_keeps_its_id() {
    let report = leaky(false).to_string();
    assert!(
        report.contains("first found at main#0 await point 1 on join #1 ("),
        "{report}"
    );
}

/// The root joins a task that waits forever: no task can run.
fn stuck() -> Report {
    Check::new(|| async {
        let stuck = spawn_named("stuck", std::future::pending::<()>());
        let _ = stuck.await;
    })
    .without_cancellation()
    .run()
}

#[test]
fn a_deadlock_names_the_task_its_root_joins() {
    let report = stuck();
    let violations: Vec<String> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .filter(|violation| violation.code() == "deadlock")
        .map(ToString::to_string)
        .collect();
    assert!(!violations.is_empty(), "{report}");
    for violation in &violations {
        assert!(
            violation.contains("main#0 at await point 1 waiting on join stuck#1 ("),
            "the blocked tasks: {violation}"
        );
        assert!(
            violation.contains("task: main#0, await point 1 on join stuck#1 ("),
            "the violation's task line: {violation}"
        );
    }
}

#[test]
fn the_same_check_reports_the_same_names_twice() {
    assert_eq!(leaky(true).to_string(), leaky(true).to_string());
    assert_eq!(stuck().to_string(), stuck().to_string());
}

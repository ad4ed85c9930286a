//! The tokio preset drops the futures the program itself could drop: the
//! test body, tasks in a `JoinSet`, tasks with an `AbortHandle`; a task
//! spawned and merely awaited only ends with the runtime.
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::check::await_points;
use cancelsim::{Config, SchedulerKind};

async fn body() {
    let ms = Duration::from_millis;
    let plain = cancelsim_tokio::spawn(cancelsim_tokio::time::sleep(ms(5))); // marker: plain
    let mut set = cancelsim_tokio::task::JoinSet::new();
    set.spawn(cancelsim_tokio::time::sleep(ms(5))); // marker: set
    let handled = cancelsim_tokio::spawn(cancelsim_tokio::time::sleep(ms(5))); // marker: handled
    let _abort = handled.abort_handle();
    plain.await.unwrap();
    while set.join_next().await.is_some() {}
    handled.await.unwrap();
}

#[test]
fn join_set_and_abort_handle_tasks_are_drop_targets_a_plain_spawn_is_not() {
    let points = await_points(&body, &Config::default(), 0, SchedulerKind::Fifo);
    // A task is named by its spawn site: `drop_targets.rs:LINE`.
    let site = |marker: &str| {
        let line = include_str!("drop_targets.rs")
            .lines()
            .position(|l| l.ends_with(&format!("// marker: {marker}")))
            .expect("marked line");
        format!("drop_targets.rs:{}", line + 1)
    };
    let abortable = |name: &str| {
        points
            .iter()
            .find(|p| p.task_name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name}: {points:#?}"))
            .abortable
    };
    assert!(!abortable(&site("plain")), "the plain spawn");
    assert!(abortable(&site("set")), "the JoinSet's task");
    assert!(abortable(&site("handled")), "the task with an AbortHandle");
    assert!(points[0].abortable, "the root");
}

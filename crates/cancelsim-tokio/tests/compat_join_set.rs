//! `JoinSet` against real tokio: `try_join_next`, `len`, ids, `detach_all`,
//! `shutdown`, `spawn_blocking`, and what dropping one aborts.
//! The same program runs, written once as a macro over the crate it runs
//! on, on tokio's paused current-thread runtime and on the facade (see
//! `compat.rs`); the logs must agree, or differ exactly as documented.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::*;

#[test]
fn join_set_try_join_next_len_and_ids_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let mut set = rt::task::JoinSet::new();
        note!(
            log,
            start,
            "new: len {} empty {}",
            set.len(),
            set.is_empty()
        );
        note!(
            log,
            start,
            "try on empty: {:?}",
            set.try_join_next().map(Result::unwrap)
        );
        let mut ids = Vec::new();
        for ms in [10u64, 30] {
            let handle = set.spawn(async move {
                rt::time::sleep(Duration::from_millis(ms)).await;
                ms
            });
            ids.push((ms, handle.id()));
        }
        note!(
            log,
            start,
            "spawned: len {} empty {}",
            set.len(),
            set.is_empty()
        );
        note!(
            log,
            start,
            "try at once: {:?}",
            set.try_join_next().map(Result::unwrap)
        );
        rt::time::sleep(Duration::from_millis(15)).await;
        note!(
            log,
            start,
            "try after 15: {:?}",
            set.try_join_next().map(Result::unwrap)
        );
        note!(
            log,
            start,
            "try again: {:?} len {}",
            set.try_join_next().map(Result::unwrap),
            set.len()
        );
        let handle = set.spawn(async {
            rt::time::sleep(Duration::from_millis(40)).await;
            40
        });
        ids.push((40, handle.id()));
        while let Some(joined) = set.join_next_with_id().await {
            let (id, ms) = joined.unwrap();
            let expected = ids.iter().find(|(m, _)| *m == ms).map(|(_, id)| *id);
            note!(
                log,
                start,
                "joined {ms} with its id: {} len {}",
                expected == Some(id),
                set.len()
            );
        }
        note!(
            log,
            start,
            "drained: len {} empty {}",
            set.len(),
            set.is_empty()
        );
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 9, "{sim:?}");
}

#[test]
fn join_set_detach_all_and_shutdown_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let mut set = rt::task::JoinSet::new();
        for ms in [10u64, 20] {
            let log = Arc::clone(&log);
            set.spawn(async move {
                rt::time::sleep(Duration::from_millis(ms)).await;
                note!(log, start, "detached task {ms} ran");
            });
        }
        set.detach_all();
        note!(
            log,
            start,
            "detached: len {} empty {}",
            set.len(),
            set.is_empty()
        );
        drop(set); // no longer aborts them
        rt::time::sleep(Duration::from_millis(25)).await;

        let mut set = rt::task::JoinSet::new();
        let (tx, rx) = rt::sync::oneshot::channel::<()>();
        set.spawn(async move {
            let _tx = tx;
            rt::time::sleep(Duration::from_secs(3600)).await;
        });
        set.spawn(async {});
        rt::time::sleep(Duration::from_millis(5)).await;
        note!(log, start, "before shutdown: len {}", set.len());
        set.shutdown().await;
        let received = rx.await;
        note!(
            log,
            start,
            "after shutdown: len {} empty {} sender dropped {}",
            set.len(),
            set.is_empty(),
            received.is_err()
        );
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        [0, 10, 20, 30, 30]
    );
}

#[test]
fn join_set_spawn_blocking_agrees_with_tokio_at_zero_blocking_cost() {
    let (real, sim) = with_blocking_cost(Duration::ZERO, || {
        both!(|rt, log, start| async move {
            let mut set = rt::task::JoinSet::new();
            set.spawn_blocking(|| 6 * 7);
            note!(log, start, "len {}", set.len());
            let value = set.join_next().await.unwrap().unwrap();
            note!(
                log,
                start,
                "blocking gave {value}, empty {}",
                set.is_empty()
            );
        })
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[(0, "len 1"), (0, "blocking gave 42, empty true")])
    );
}

#[test]
fn dropping_a_join_set_aborts_its_tasks_as_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let (tx, rx) = rt::sync::oneshot::channel::<()>();
        let mut set = rt::task::JoinSet::new();
        set.spawn(async move {
            let _tx = tx; // dropped with the task's future
            rt::time::sleep(Duration::from_secs(3600)).await;
        });
        rt::time::sleep(Duration::from_millis(10)).await;
        drop(set);
        note!(log, start, "set dropped");
        let received = rx.await;
        note!(log, start, "receiver: {:?}", received);
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[(10, "set dropped"), (10, "receiver: Err(RecvError(()))")])
    );
}

//! `tokio_util::task`, simulated, against real tokio-util on real tokio's
//! paused runtime: the same program, written once over the crates it runs
//! on; the logs (virtual ms, event) must agree.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::Log;

#[test]
fn abort_on_drop_handle_agrees_with_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        let task = |ms: u64, what: &'static str| {
            let log = Arc::clone(&log);
            rt::spawn(async move {
                rt::time::sleep(Duration::from_millis(ms)).await;
                note!(log, start, "{what} ran to its end");
                ms
            })
        };
        let dropped = util::task::AbortOnDropHandle::new(task(10, "dropped"));
        let kept = util::task::AbortOnDropHandle::new(task(5, "kept"));
        let abort = dropped.abort_handle();
        note!(log, start, "kept gave {}", kept.await.unwrap());
        drop(dropped);
        rt::time::sleep(Duration::from_millis(1)).await;
        note!(log, start, "dropped finished: {}", abort.is_finished());
        let detached = util::task::AbortOnDropHandle::new(task(10, "detached")).detach();
        rt::time::sleep(Duration::from_millis(20)).await;
        note!(log, start, "detached gave {}", detached.await.unwrap());
        let on_drop =
            util::task::AbortOnDrop::new(task(3, "aborted by AbortOnDrop").abort_handle());
        note!(
            log,
            start,
            "finished before drop: {}",
            on_drop.is_finished()
        );
        drop(on_drop);
        let handle = util::task::AbortOnDropHandle::new(task(2, "aborted explicitly"));
        handle.abort();
        let error = handle.await.unwrap_err();
        note!(
            log,
            start,
            "explicit abort: cancelled {}",
            error.is_cancelled()
        );
        rt::time::sleep(Duration::from_millis(10)).await;
        note!(log, start, "end");
    });
    assert_eq!(real, sim);
    assert!(!sim.iter().any(|(_, text)| text.starts_with("dropped ran")));
    assert!(!sim.iter().any(|(_, text)| text.starts_with("aborted")));
}

#[test]
fn task_tracker_agrees_with_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        let tracker = util::task::TaskTracker::new();
        for ms in [30u64, 10, 20] {
            let log = Arc::clone(&log);
            tracker.spawn(async move {
                rt::time::sleep(Duration::from_millis(ms)).await;
                note!(log, start, "task {ms} done");
            });
        }
        let local = rt::task::LocalSet::new();
        local
            .run_until(async {
                tracker.spawn_local(async {});
                tracker.spawn_local_on(async {}, &local);
                tracker.spawn_on(async {}, &rt::runtime::Handle::current());
                rt::task::yield_now().await;
            })
            .await;
        let token = tracker.token();
        let same = util::task::TaskTracker::ptr_eq(&tracker, token.task_tracker());
        note!(
            log,
            start,
            "len {} (token same tracker: {same})",
            tracker.len()
        );
        token
            .task_tracker()
            .spawn(async { rt::time::sleep(Duration::from_millis(40)).await });
        let tracked = tracker.track_future(rt::time::sleep(Duration::from_millis(50)));
        note!(log, start, "closed now: {}", tracker.close());
        note!(
            log,
            start,
            "closed: {}, empty: {}",
            tracker.is_closed(),
            tracker.is_empty()
        );
        let waiter = {
            let tracker = tracker.clone();
            let log = Arc::clone(&log);
            rt::spawn(async move {
                tracker.wait().await;
                note!(log, start, "tracker empty");
            })
        };
        rt::time::sleep(Duration::from_millis(45)).await;
        drop(token);
        note!(
            log,
            start,
            "len {} with a tracked future left",
            tracker.len()
        );
        tracked.await;
        waiter.await.unwrap();
        note!(log, start, "reopened: {}", tracker.reopen());
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim.iter()
            .find(|(_, text)| text == "tracker empty")
            .map(|(ms, _)| *ms),
        Some(50)
    );
}

#[test]
fn task_tracker_spawn_blocking_agrees_with_tokio_util_at_zero_cost() {
    cancelsim_tokio::cancelsim::set_blocking_cost(Duration::ZERO);
    let (real, sim) = both!(|rt, util, log, start| async move {
        let tracker = util::task::TaskTracker::new();
        let six = tracker.spawn_blocking(|| 6);
        let seven = tracker.spawn_blocking_on(|| 7, &rt::runtime::Handle::current());
        tracker.close();
        tracker.wait().await;
        note!(
            log,
            start,
            "blocking gave {}",
            six.await.unwrap() * seven.await.unwrap()
        );
    });
    cancelsim_tokio::cancelsim::set_blocking_cost(Duration::from_millis(1));
    assert_eq!(real, sim);
    assert_eq!(sim, [(0, "blocking gave 42".to_string())]);
}

#[test]
fn join_queue_agrees_with_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        let mut queue = util::task::JoinQueue::new();
        for ms in [30u64, 10, 20] {
            queue.spawn(async move {
                rt::time::sleep(Duration::from_millis(ms)).await;
                ms
            });
        }
        note!(log, start, "len {}", queue.len());
        note!(
            log,
            start,
            "nothing finished: {}",
            queue.try_join_next().is_none()
        );
        while let Some(next) = queue.join_next().await {
            note!(log, start, "joined {}", next.unwrap());
        }
        let forever = queue.spawn(async {
            rt::time::sleep(Duration::from_secs(3600)).await;
            0
        });
        queue.spawn(async { 1 });
        queue.abort_all();
        let first = queue.join_next_with_id().await.unwrap().unwrap_err();
        note!(
            log,
            start,
            "aborted first: {} same id {}",
            first.is_cancelled(),
            first.id() == forever.id()
        );
        let second = queue.join_next().await.unwrap();
        note!(
            log,
            start,
            "second: {:?}",
            second.map_err(|e| e.is_cancelled())
        );
        let gone = queue.spawn(async {
            rt::time::sleep(Duration::from_secs(3600)).await;
            2
        });
        drop(queue);
        rt::task::yield_now().await;
        note!(
            log,
            start,
            "dropping the queue aborted: {}",
            gone.is_finished()
        );
        let collected: util::task::JoinQueue<u64> = [5u64, 1]
            .into_iter()
            .map(|ms| async move {
                rt::time::sleep(Duration::from_millis(ms)).await;
                ms
            })
            .collect();
        note!(log, start, "join_all {:?}", collected.join_all().await);
    });
    assert_eq!(real, sim);
    let joined: Vec<_> = sim
        .iter()
        .filter(|(_, t)| t.starts_with("joined"))
        .collect();
    assert_eq!(
        joined,
        [
            &(30, "joined 30".to_string()),
            &(30, "joined 10".to_string()),
            &(30, "joined 20".to_string())
        ],
        "spawn order, not finish order"
    );
}

#[test]
fn local_pool_handle_agrees_with_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        let pool = util::task::LocalPoolHandle::new(2);
        let value = pool
            .spawn_pinned(|| async {
                let shared = std::rc::Rc::new(20); // not Send
                *shared + 1
            })
            .await
            .unwrap();
        let by_idx = pool.spawn_pinned_by_idx(|| async { 2 }, 1).await.unwrap();
        note!(
            log,
            start,
            "{} threads, gave {}, loads {:?}",
            pool.num_threads(),
            value * by_idx,
            pool.get_task_loads_for_each_worker()
        );
        let _ = rt::time::Instant::now();
    });
    assert_eq!(real, sim);
    assert_eq!(sim, [(0, "2 threads, gave 42, loads [0, 0]".to_string())]);
}

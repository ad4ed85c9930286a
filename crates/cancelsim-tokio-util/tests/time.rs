//! `tokio_util::time` (`DelayQueue`, `FutureExt`) and `context`, simulated,
//! against real tokio-util on real tokio's paused runtime: the same
//! program over the crates it runs on; the logs must agree.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

#[macro_use]
mod common;
use common::Log;

#[test]
fn delay_queue_yields_in_deadline_order_at_each_deadline_as_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        let mut queue = util::time::DelayQueue::new();
        // Several per millisecond, some far enough to sit in the wheel's
        // higher levels, some with fractions of a millisecond.
        for (value, ms) in [
            (1, 30u64),
            (2, 10),
            (3, 10),
            (4, 5_000),
            (5, 10),
            (6, 70),
            (7, 70),
            (8, 300_000),
        ] {
            queue.insert(value, Duration::from_millis(ms));
        }
        queue.insert(9, Duration::from_micros(10_400));
        queue.insert_at(10, rt::time::Instant::now() + Duration::from_millis(70));
        note!(log, start, "len {}", queue.len());
        while let Some(expired) = queue.next().await {
            let deadline = expired.deadline() - start;
            note!(
                log,
                start,
                "{} (deadline {deadline:?})",
                expired.into_inner()
            );
        }
        note!(log, start, "empty {}", queue.is_empty());
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 12);
    assert_eq!(sim.last().unwrap().0, 300_000);
}

#[test]
fn delay_queue_items_added_while_it_runs_cascade_as_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        let mut queue = util::time::DelayQueue::new();
        queue.insert(0u32, Duration::from_millis(65));
        let mut next = 1;
        // Insert more at several instants, some due with earlier ones.
        while let Some(expired) = queue.next().await {
            note!(log, start, "{}", expired.into_inner());
            if next < 12 {
                for ms in [1u64, 64, 65, 4_100, 64] {
                    queue.insert(next, Duration::from_millis(ms));
                    next += 1;
                }
            }
        }
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 16);
}

#[test]
fn delay_queue_remove_reset_peek_and_keys_agree_with_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        let mut queue = util::time::DelayQueue::with_capacity(4);
        let a = queue.insert("a", Duration::from_millis(10));
        let b = queue.insert("b", Duration::from_millis(20));
        let c = queue.insert("c", Duration::from_millis(30));
        note!(log, start, "peek is a: {}", queue.peek() == Some(a));
        note!(log, start, "b due at {:?}", queue.deadline(&b) - start);
        queue.reset(&c, Duration::from_millis(5));
        queue.reset_at(&a, rt::time::Instant::now() + Duration::from_millis(25));
        let removed = queue.remove(&b);
        note!(
            log,
            start,
            "removed {} (key b: {})",
            removed.get_ref(),
            removed.key() == b
        );
        note!(log, start, "gone: {}", queue.try_remove(&b).is_none());
        while let Some(mut expired) = queue.next().await {
            *expired.get_mut() = "x";
            note!(
                log,
                start,
                "expired key c {} a {}",
                expired.key() == c,
                expired.key() == a
            );
        }
        let d = queue.insert("d", Duration::ZERO);
        note!(
            log,
            start,
            "zero delay yields at once: {}",
            queue.next().await.unwrap().key() == d
        );
        queue.insert("e", Duration::from_millis(10));
        queue.clear();
        note!(
            log,
            start,
            "cleared: {:?}",
            queue.next().await.map(|e| e.into_inner())
        );
        queue.compact();
        queue.shrink_to_fit();
        queue.reserve(8);
        note!(log, start, "capacity at least 8: {}", queue.capacity() >= 8);
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 9);
}

/// An item due before the one a task waits for wakes it (the queue's
/// timer is moved earlier).
#[test]
fn an_earlier_insert_wakes_a_waiting_task_as_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        let queue = Arc::new(std::sync::Mutex::new(util::time::DelayQueue::new()));
        queue.lock().unwrap().insert(1, Duration::from_millis(50));
        let waiter = {
            let queue = Arc::clone(&queue);
            let log = Arc::clone(&log);
            rt::spawn(async move {
                let first = std::future::poll_fn(|cx| queue.lock().unwrap().poll_expired(cx)).await;
                note!(log, start, "got {:?}", first.map(|e| e.into_inner()));
            })
        };
        rt::time::sleep(Duration::from_millis(1)).await;
        queue.lock().unwrap().insert(2, Duration::from_millis(10));
        waiter.await.unwrap();
    });
    assert_eq!(real, sim);
    assert_eq!(sim, [(11, "got Some(2)".to_string())]);
}

#[test]
fn future_ext_timeouts_and_cancellation_agree_with_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        use util::time::FutureExt;
        let slow = rt::time::sleep(Duration::from_millis(20))
            .timeout(Duration::from_millis(5))
            .await;
        note!(log, start, "timeout: {:?}", slow.map_err(|e| e.to_string()));
        let deadline = rt::time::Instant::now() + Duration::from_millis(10);
        let fast = async { 3 }.timeout_at(deadline).await;
        note!(log, start, "timeout_at: {fast:?}");
        let token = util::sync::CancellationToken::new();
        let canceller = {
            let token = token.clone();
            rt::spawn(async move {
                rt::time::sleep(Duration::from_millis(7)).await;
                token.cancel();
            })
        };
        let cut = rt::time::sleep(Duration::from_secs(1))
            .with_cancellation_token(&token)
            .await;
        note!(log, start, "cut short: {}", cut.is_none());
        canceller.await.unwrap();
        let owned = async { 4 }.with_cancellation_token_owned(token).await;
        note!(log, start, "already cancelled: {owned:?}");
        let fresh = util::sync::CancellationToken::new();
        let done = async { 5 }.with_cancellation_token(&fresh).await;
        note!(log, start, "not cancelled: {done:?}");
    });
    assert_eq!(real, sim);
    assert_eq!(sim[0].0, 5);
}

#[test]
fn tokio_context_agrees_with_tokio_util() {
    let (real, sim) = both!(|rt, util, log, start| async move {
        let handle = rt::runtime::Handle::current();
        let wrapped = util::context::TokioContext::new(
            async {
                rt::time::sleep(Duration::from_millis(3)).await;
                6
            },
            handle,
        );
        let _ = wrapped.handle();
        let six = wrapped.await;
        note!(log, start, "in context: {six}");
    });
    assert_eq!(real, sim);
    assert_eq!(sim, [(3, "in context: 6".to_string())]);
    use cancelsim_tokio_util::context::RuntimeExt;
    let runtime = cancelsim_tokio::runtime::Runtime::new().unwrap();
    let wrapped = runtime.wrap(async { 7 });
    assert_eq!(runtime.block_on(wrapped), 7);
}

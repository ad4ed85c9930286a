//! tokio-stream's time adapters (`timeout`, `timeout_repeating`,
//! `throttle`, `chunks_timeout`), simulated, against real tokio-stream on
//! real tokio's paused runtime: the same program over the crates it runs
//! on; the logs must agree.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::Log;

/// A producer task sending `items` (each at its millisecond since the
/// start) into a channel, as a stream; dropped after the last.
macro_rules! produced {
    ($rt:ident, $stream:ident, $items:expr) => {{
        let (tx, rx) = $rt::sync::mpsc::channel::<u32>(16);
        $rt::spawn(async move {
            let start = $rt::time::Instant::now();
            for (value, ms) in $items {
                $rt::time::sleep_until(start + Duration::from_millis(ms)).await;
                if tx.send(value).await.is_err() {
                    break;
                }
            }
        });
        $stream::wrappers::ReceiverStream::new(rx)
    }};
}

#[test]
fn timeout_yields_an_error_per_gap_and_keeps_the_stream_as_tokio_stream() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::{Stream, StreamExt};
        let items = produced!(
            rt,
            stream,
            [(1, 5u64), (2, 30), (3, 32), (4, 100), (5, 101)]
        );
        let mut timed = std::pin::pin!(items.timeout(Duration::from_millis(20)));
        note!(log, start, "size_hint {:?}", timed.size_hint());
        while let Some(item) = timed.next().await {
            match item {
                Ok(value) => note!(log, start, "item {value}"),
                Err(elapsed) => note!(log, start, "elapsed: {elapsed}"),
            }
        }
        note!(log, start, "end");
    });
    assert_eq!(real, sim);
    // 5: item; 25: elapsed; 30, 32: items; 52: elapsed; 100, 101: items;
    // the end.
    assert_eq!(
        sim.iter().filter(|(_, e)| e.starts_with("elapsed")).count(),
        2,
        "{sim:?}"
    );
}

#[test]
fn timeout_repeating_yields_an_error_at_each_tick_while_none_comes_as_tokio_stream() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::StreamExt;
        let items = produced!(rt, stream, [(1, 5u64), (2, 70), (3, 71)]);
        let interval = rt::time::interval_at(
            rt::time::Instant::now() + Duration::from_millis(15),
            Duration::from_millis(15),
        );
        let mut timed = std::pin::pin!(items.timeout_repeating(interval));
        while let Some(item) = timed.next().await {
            match item {
                Ok(value) => note!(log, start, "item {value}"),
                Err(_) => note!(log, start, "elapsed"),
            }
        }
        note!(log, start, "end");
    });
    assert_eq!(real, sim);
    assert!(
        sim.iter().filter(|(_, e)| e == "elapsed").count() >= 4,
        "{sim:?}"
    );
}

#[test]
fn throttle_spaces_items_as_tokio_stream() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::StreamExt;
        // A burst, then a slow item, then another burst.
        let items = produced!(
            rt,
            stream,
            [(1, 0u64), (2, 0), (3, 0), (4, 50), (5, 51), (6, 52)]
        );
        let mut throttled = std::pin::pin!(items.throttle(Duration::from_millis(10)));
        note!(
            log,
            start,
            "inner ref ok {}",
            throttled.get_ref().as_ref().capacity() > 0
        );
        while let Some(value) = throttled.next().await {
            note!(log, start, "item {value}");
        }
        let mut zero = std::pin::pin!(stream::iter(0..3).throttle(Duration::ZERO));
        while let Some(value) = zero.next().await {
            note!(log, start, "unthrottled {value}");
        }
    });
    assert_eq!(real, sim);
    assert_eq!(sim[3], (20, "item 3".to_string()), "{sim:?}");
}

#[test]
fn chunks_timeout_fills_or_ends_a_chunk_at_its_deadline_as_tokio_stream() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::{Stream, StreamExt};
        let items = produced!(
            rt,
            stream,
            [
                (1, 0u64),
                (2, 1),
                (3, 2),
                (4, 10),
                (5, 35),
                (6, 36),
                (7, 80)
            ]
        );
        let mut chunks = std::pin::pin!(items.chunks_timeout(3, Duration::from_millis(20)));
        note!(log, start, "size_hint {:?}", chunks.size_hint());
        while let Some(chunk) = chunks.next().await {
            note!(log, start, "chunk {chunk:?}");
        }
        note!(log, start, "end");
        let mut rest = std::pin::pin!(stream::iter(0..5).chunks_timeout(2, Duration::from_secs(1)));
        note!(log, start, "first {:?}", rest.next().await);
        note!(log, start, "remainder {:?}", rest.as_mut().into_remainder());
    });
    assert_eq!(real, sim);
    assert!(
        sim.contains(&(30, "chunk [4]".to_string())),
        "a chunk ended by its deadline: {sim:?}"
    );
}

#[test]
fn chunks_timeout_with_a_zero_size_panics_as_tokio_stream() {
    let sim = std::panic::catch_unwind(|| {
        use cancelsim_tokio_stream::StreamExt as _;
        let _ = cancelsim_tokio_stream::iter(0..1).chunks_timeout(0, Duration::from_secs(1));
    })
    .unwrap_err();
    let real = std::panic::catch_unwind(|| {
        use tokio_stream::StreamExt as _;
        let _ = tokio_stream::iter(0..1).chunks_timeout(0, Duration::from_secs(1));
    })
    .unwrap_err();
    assert_eq!(
        common::payload_text(&*sim),
        common::payload_text(&*real),
        "same message"
    );
}

#[test]
fn the_other_adapters_are_tokio_streams_own() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::StreamExt;
        let items = produced!(rt, stream, [(1, 1u64), (2, 2), (3, 3), (4, 4)]);
        let total: Vec<u32> = items
            .map(|v| v * 10)
            .filter(|v| *v != 20)
            .chain(stream::iter([7, 8]))
            .skip(1)
            .take(3)
            .collect()
            .await;
        note!(log, start, "collected {total:?}");
        let mut numbers = stream::iter(1..=4u32);
        note!(log, start, "any {}", numbers.any(|v| v == 2).await);
        note!(log, start, "all {}", numbers.all(|v| v > 2).await);
        let sum = stream::iter(1..=4u32).fold(0, |a, v| a + v).await;
        note!(log, start, "sum {sum}");
        let mut results = stream::iter([Ok::<u32, String>(1), Err("bad".to_string())]);
        note!(log, start, "try_next {:?}", results.try_next().await);
        note!(log, start, "try_next {:?}", results.try_next().await);
        let mut peek = stream::iter([1u32, 2]).peekable();
        note!(log, start, "peeked {:?}", peek.peek().await);
    });
    assert_eq!(real, sim);
    assert_eq!(sim[0], (4, "collected [30, 40, 7]".to_string()));
}

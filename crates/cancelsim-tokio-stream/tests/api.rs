//! The crate as its users name it, in both builds: a plain `#[tokio::test]`
//! over `tokio` and `tokio-stream` (the drop-ins under their usual names)
//! that passes on real tokio and, unchanged, as a sweep; and the futures
//! and streams keep tokio-stream's auto traits, so code that spawns them on
//! real tokio's multi-thread runtime compiles in the simulation build too.

use std::time::Duration;

use cancelsim_tokio as tokio;
use cancelsim_tokio_stream as tokio_stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::{IntervalStream, ReceiverStream, UnboundedReceiverStream};
use tokio_stream::{Stream, StreamExt};

fn assert_send<T: Send>(_: &T) {}

#[tokio::test(crate = "cancelsim_tokio")]
async fn batches_of_a_channel_arrive_whole_or_at_their_deadline() {
    let (tx, rx) = mpsc::unbounded_channel();
    let producer = tokio::spawn(async move {
        for n in 0..5u32 {
            tx.send(n).unwrap();
            if n == 2 {
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }
    });
    let chunks = UnboundedReceiverStream::new(rx).chunks_timeout(3, Duration::from_millis(10));
    let batches: Vec<Vec<u32>> = chunks.collect().await;
    producer.await.unwrap();
    let items: Vec<u32> = batches.iter().flatten().copied().collect();
    assert_eq!(items, vec![0, 1, 2, 3, 4]);
    assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 3));
}

#[tokio::test(crate = "cancelsim_tokio")]
async fn futures_and_adapters_are_send_as_tokio_streams() {
    let (_tx, rx) = mpsc::channel::<u32>(1);
    let timed = ReceiverStream::new(rx)
        .timeout(Duration::from_secs(1))
        .throttle(Duration::from_millis(1));
    assert_send(&timed);
    let mut timed = std::pin::pin!(timed);
    assert_send(&timed.next());
    let ticks = IntervalStream::new(tokio::time::interval(Duration::from_millis(5)))
        .timeout_repeating(tokio::time::interval(Duration::from_secs(1)))
        .chunks_timeout(2, Duration::from_millis(1));
    assert_send(&ticks);
    let mut numbers = tokio_stream::iter(0..3u32);
    assert_send(&numbers.next());
    assert_send(&numbers.any(|n| n == 1));
    assert_send(&tokio_stream::iter(0..3u32).collect::<Vec<_>>());
    assert_eq!(ticks.size_hint().0, usize::MAX / 2);
    let first: Vec<_> = ticks.take(1).collect().await;
    assert_eq!(first.len(), 1);
}

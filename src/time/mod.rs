//! Virtual time: [`Instant`], [`sleep`], [`sleep_until`], [`timeout`], and
//! [`work`](crate::work).
//!
//! Invariants: time starts at zero and moves only forward, in two ways: when
//! no task is ready the clock jumps to the earliest timer deadline; and
//! `work(cost)` spends `cost` inside a poll. Sleeping a simulated day takes
//! microseconds of real time.

pub(crate) mod instant;
mod sleep;
mod timeout;

mod work;

pub use instant::Instant;
pub use sleep::{sleep, sleep_until, sleep_until_located, Sleep};
pub use timeout::{timeout, Elapsed, Timeout};
pub use work::work;

/// Says that this test's assertions must hold whatever a timeout decides,
/// for this test only: a failing injected timeout expiry is a failure even
/// when the test fails the same way with the timed-out operation never
/// started (which the sweep otherwise excuses as a test checking the
/// timeout's result, see
/// [`Check::excuse_timeout_results`](crate::Check::excuse_timeout_results)).
/// Call it in the body, before the code under test; outside a simulation
/// it does nothing.
///
/// ```
/// use std::time::Duration;
/// use cancelsim::{time, Check};
///
/// // A collector that loses what it gathered when its timeout expires,
/// // and a test whose assertion is an invariant, not a happy path.
/// let report = Check::new(|| async {
///     time::strict_timeout_results();
///     let (tx, mut rx) = futures::channel::mpsc::unbounded::<u32>();
///     let sent = std::rc::Rc::new(std::cell::Cell::new(0));
///     let producer = cancelsim::spawn({
///         let sent = std::rc::Rc::clone(&sent);
///         async move {
///             for item in 0..3 {
///                 time::sleep(Duration::from_millis(5)).await;
///                 tx.unbounded_send(item).unwrap();
///                 sent.set(sent.get() + 1);
///             }
///         }
///     });
///     let got = time::timeout(Duration::from_secs(1), async {
///         use futures::StreamExt;
///         let mut got = Vec::new();
///         while let Some(item) = rx.next().await {
///             got.push(item);
///         }
///         got
///     })
///     .await
///     .unwrap_or_default(); // loses `got` on expiry: the bug
///     producer.await.unwrap();
///     assert_eq!(got.len(), sent.get(), "every item sent was collected");
/// })
/// .without_cancellation()
/// .timeout_at_every_await(true)
/// .run();
/// assert!(!report.is_clean());
/// ```
pub fn strict_timeout_results() {
    crate::world::try_with(|world| world.set_strict_timeout_results());
}

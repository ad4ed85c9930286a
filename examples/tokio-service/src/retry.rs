//! Calls retried on `timeout` + `sleep`, with an in-flight gauge.

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Counts calls in flight.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// Calls in flight now.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Decrements the gauge however the call ends.
struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    fn enter(gauge: &'a Gauge) -> Self {
        gauge.0.fetch_add(1, Ordering::Relaxed);
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Tries `op` up to `attempts` times, each for at most `per_try`, sleeping
/// `backoff` between tries. The gauge is right however a try ends (an RAII
/// guard), also when the timeout drops the call.
pub async fn with_retry<T, E, F, Fut>(
    attempts: u32,
    per_try: Duration,
    backoff: Duration,
    gauge: &Gauge,
    mut op: F,
) -> Option<Result<T, E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut last = None;
    for attempt in 0..attempts {
        let call = async {
            let _in_flight = InFlight::enter(gauge);
            op().await
        };
        match tokio::time::timeout(per_try, call).await {
            Ok(Ok(value)) => return Some(Ok(value)),
            Ok(Err(error)) => last = Some(Err(error)),
            Err(_elapsed) => {}
        }
        if attempt + 1 < attempts {
            tokio::time::sleep(backoff).await;
        }
    }
    last
}

/// The mistake: the gauge is decremented after the await, by hand, so a
/// try the timeout drops leaves it counted for ever.
pub async fn with_retry_buggy<T, E, F, Fut>(
    attempts: u32,
    per_try: Duration,
    backoff: Duration,
    gauge: &Gauge,
    mut op: F,
) -> Option<Result<T, E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut last = None;
    for attempt in 0..attempts {
        let call = async {
            gauge.0.fetch_add(1, Ordering::Relaxed);
            let result = op().await;
            gauge.0.fetch_sub(1, Ordering::Relaxed);
            result
        };
        match tokio::time::timeout(per_try, call).await {
            Ok(Ok(value)) => return Some(Ok(value)),
            Ok(Err(error)) => last = Some(Err(error)),
            Err(_elapsed) => {}
        }
        if attempt + 1 < attempts {
            tokio::time::sleep(backoff).await;
        }
    }
    last
}

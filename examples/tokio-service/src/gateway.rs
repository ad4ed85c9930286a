//! A gateway in front of a backend, built with tower as it comes from
//! crates.io: a concurrency limit and a per-call timeout. tower is compiled
//! against real tokio, not the facade: in the simulation build its timers
//! run on a hidden paused tokio runtime that follows the virtual clock
//! (the `#[tokio::test]` sweep bridges it in and says so).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tower::{BoxError, Service, ServiceBuilder, ServiceExt};

/// The backend: answers `n * 2` after `delay` (a network call).
#[derive(Clone, Debug)]
pub struct Backend {
    /// How long each call takes.
    pub delay: Duration,
}

impl Service<u32> for Backend {
    type Response = u32;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<u32, BoxError>>>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, n: u32) -> Self::Future {
        let delay = self.delay;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Ok(n * 2)
        })
    }
}

/// Sends each request through the gateway (at most two calls at once, each
/// given `per_call`): each answer, or the error's text.
pub async fn call_all(
    backend: Backend,
    per_call: Duration,
    requests: &[u32],
) -> Vec<Result<u32, String>> {
    let mut gateway = ServiceBuilder::new()
        .concurrency_limit(2)
        .timeout(per_call)
        .service(backend);
    let mut answers = Vec::new();
    for &request in requests {
        let answer = match gateway.ready().await {
            Ok(ready) => ready.call(request).await,
            Err(error) => Err(error),
        };
        answers.push(answer.map_err(|error| error.to_string()));
    }
    answers
}

//! A stall does not hold back the wake a task gave itself (trial 16,
//! tokio-graceful-shutdown's `cancel_on_shutdown`): its work cancels a
//! token its own future listens to, and on tokio that wake ends the race
//! at once, however slow the rest of the work. (Only with `--cfg
//! cancelsim`.)
#![cfg(cancelsim)]

use std::future::Future;
use std::time::Duration;

use cancelsim::check::run_repro;
use cancelsim::{Check, Config, Repro};
use cancelsim_tokio_util::sync::CancellationToken;

/// A worker whose work cancels the token it races against, half-way:
/// the token's wake ends the race at once (tokio-graceful-shutdown's
/// `cancel_on_shutdown`).
async fn run_job() -> Result<Option<i32>, &'static str> {
    let token = CancellationToken::new();
    let worker = cancelsim_tokio::spawn({
        let token = token.clone();
        async move {
            let work = async {
                cancelsim_tokio::time::sleep(Duration::from_millis(100)).await;
                token.cancel(); // the work asks for the stop itself
                cancelsim_tokio::time::sleep(Duration::from_millis(100)).await;
                42
            };
            let mut work = std::pin::pin!(work);
            let mut cancelled = std::pin::pin!(token.cancelled());
            std::future::poll_fn(|cx| {
                if cancelled.as_mut().poll(cx).is_ready() {
                    return std::task::Poll::Ready(None);
                }
                work.as_mut().poll(cx).map(Some)
            })
            .await
        }
    });
    // The worker is awaited under the shutdown's deadline: the sweep
    // stalls it at its await points.
    match cancelsim_tokio::time::timeout(Duration::from_millis(150), worker).await {
        Ok(result) => Ok(result.unwrap()),
        Err(_) => Err("shutdown timed out"),
    }
}

#[test]
fn a_stall_does_not_hold_the_wake_a_task_gave_itself() {
    let report = Check::new(|| async {
        assert_eq!(run_job().await, Ok(None));
    })
    .tokio_preset()
    .run();
    report.assert_clean();
    assert!(report.counts().per_kind["stall"] > 0, "{report}");
}

/// The stall at the worker's wait after its own `cancel()`: it fires, and
/// the worker returns at once (before, the stall held the wake until the
/// deadline, and the sweep excused the run as a timeout result).
#[test]
fn the_stall_after_the_tasks_own_cancel_holds_nothing() {
    let body = || async {
        assert_eq!(run_job().await, Ok(None));
    };
    let repro: Repro = "cancelsim:v1 seed=0 scheduler=fifo inject=stall@1:2"
        .parse()
        .unwrap();
    let outcome = run_repro(&body, &Config::default(), &repro);
    assert_eq!(outcome.fired.len(), 1, "{}", outcome.trace);
    assert!(outcome.is_clean(), "{}", outcome.trace);
}

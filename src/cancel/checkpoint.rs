//! `checkpoint()` and `cancelled()`.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::trace::{Wait, WaitKind};
use crate::world;
use crate::world::Cancelled;

/// An await point that delivers a pending cancel request: suspends once
/// (letting other tasks run, like `asyncio.sleep(0)` or trio's checkpoint) and
/// returns `Err(Cancelled)` if a request is pending, before or after the
/// suspension; otherwise `Ok(())`.
///
/// ```
/// # let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
/// # sim.block_on(async {
/// use cancelsim::cancel::{checkpoint, Cancelled};
/// let worker = cancelsim::spawn(async {
///     loop {
///         cancelsim::work(std::time::Duration::from_millis(10));
///         checkpoint().await?;
///     }
///     #[allow(unreachable_code)]
///     Ok::<(), Cancelled>(())
/// });
/// cancelsim::yield_now().await;
/// worker.cancel();
/// assert_eq!(worker.await.unwrap(), Err(Cancelled));
/// # }).unwrap();
/// ```
#[track_caller]
pub fn checkpoint() -> Checkpoint {
    Checkpoint {
        yielded: false,
        at: Location::caller(),
    }
}

/// The future of [`checkpoint`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Checkpoint {
    yielded: bool,
    at: &'static Location<'static>,
}

impl Future for Checkpoint {
    type Output = Result<(), Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let at = self.at;
        if let Some(cancelled) = world::with(|world| world.try_deliver_cancel(at)) {
            return Poll::Ready(Err(cancelled));
        }
        if self.yielded {
            return Poll::Ready(Ok(()));
        }
        self.yielded = true;
        world::with(|world| {
            world.note_wait(Wait {
                kind: WaitKind::Checkpoint,
                at: Some(at),
            })
        });
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Resolves once the current task has been asked to cancel (a signal, like
/// tokio-util's `CancellationToken::cancelled`): ready at once if a request was
/// ever made. It does not consume the request.
#[track_caller]
pub fn cancelled() -> CancelledSignal {
    CancelledSignal {
        at: Location::caller(),
    }
}

/// The future of [`cancelled`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct CancelledSignal {
    at: &'static Location<'static>,
}

impl Future for CancelledSignal {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        world::with(|world| {
            if world.is_cancelled() {
                Poll::Ready(())
            } else {
                world.register_cancel_waiter(cx.waker());
                world.note_wait(Wait {
                    kind: WaitKind::CancelSignal,
                    at: Some(self.at),
                });
                Poll::Pending
            }
        })
    }
}

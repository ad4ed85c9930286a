//! The future a spawned task runs: the user's future, then its output
//! handed to the join slot.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::join_slot::JoinSlot;
use super::task_table::TaskRun;
use crate::prefetch::prefetch;
use crate::world;

pin_project_lite::pin_project! {
    /// The user's future polled in place, with where its output goes.
    ///
    /// A struct rather than an `async` block: the block kept the user's
    /// future twice (the captured value and the awaited one), doubling the
    /// task's allocation. `repr(C)`, the writer last: see
    /// docs/performance.md, "Cache lines", and [`TaskRun::prefetch`].
    #[repr(C)]
    pub(crate) struct TaskBody<F: Future> {
        #[pin]
        future: Option<F>,
        writer: Rc<JoinSlot<F::Output>>,
    }
}

impl<F: Future> TaskBody<F> {
    pub fn new(future: F, writer: Rc<JoinSlot<F::Output>>) -> Self {
        TaskBody {
            future: Some(future),
            writer,
        }
    }
}

impl<F: Future> Future for TaskBody<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            // Never polled again once done: the world drops a finished task.
            return Poll::Ready(());
        };
        let Poll::Ready(value) = future.poll(cx) else {
            return Poll::Pending;
        };
        // The future goes first (its `Drop`s run as part of the task, before
        // it counts as returning), then the output is handed over.
        this.future.set(None);
        world::with(|world| world.mark_returning());
        this.writer.complete(Ok(value));
        Poll::Ready(())
    }
}

impl<F: Future> TaskRun for TaskBody<F> {
    #[inline]
    fn prefetch(&self) {
        prefetch(self);
        prefetch(&self.writer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The task's allocation is the user's future plus the writer, not
    /// twice the future (what an `async` wrapper block costs).
    #[test]
    fn a_task_body_holds_its_future_once() {
        fn body_size<F: Future>(_: &F) -> usize {
            std::mem::size_of::<TaskBody<F>>()
        }
        let big = [7u8; 200];
        let future = async move {
            std::future::ready(()).await;
            big.len()
        };
        let user = std::mem::size_of_val(&future);
        assert!(user >= 200);
        assert!(
            body_size(&future) <= user + 16,
            "body {} for a future of {user}",
            body_size(&future)
        );
    }
}

//! `tokio::task::coop`, simulated: tokio's cooperative budget makes a task
//! that does a lot of ready work yield now and then. A simulated task has
//! no budget: the schedule decides which task runs at every await point
//! that suspends, so these items only keep tokio code compiling and
//! behave as on a task whose budget never runs out. (The passed-through
//! `sync` primitives keep tokio's own budget accounting, which does nothing
//! outside tokio's runtime.)

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// `tokio::task::coop::consume_budget`: no budget to consume; returns at
/// once, without yielding.
pub async fn consume_budget() {}

/// `tokio::task::coop::has_budget_remaining`: always `true`.
pub fn has_budget_remaining() -> bool {
    true
}

pin_project_lite::pin_project! {
    /// The future of [`unconstrained`]: polls its inner future unchanged.
    #[must_use = "Unconstrained does nothing unless polled"]
    #[derive(Debug)]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

/// `tokio::task::coop::unconstrained`: opts `inner` out of the budget;
/// there is none, so it runs exactly as without.
pub fn unconstrained<F>(inner: F) -> Unconstrained<F> {
    Unconstrained { inner }
}

pin_project_lite::pin_project! {
    /// The future of [`cooperative`]: polls its inner future unchanged.
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Coop<F: Future> {
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().fut.poll(cx)
    }
}

/// `tokio::task::coop::cooperative`: makes `fut` take part in the budget;
/// there is none, so it runs exactly as without.
pub fn cooperative<F: Future>(fut: F) -> Coop<F> {
    Coop { fut }
}

/// What [`poll_proceed`] returns (tokio's `RestoreOnPending`).
#[derive(Debug)]
#[must_use]
pub struct RestoreOnPending(Cell<()>, PhantomData<*mut ()>);

impl RestoreOnPending {
    /// Tells the budget progress was made: nothing to tell.
    pub fn made_progress(&self) {}
}

/// `tokio::task::coop::poll_proceed`: always ready (the budget never runs
/// out).
pub fn poll_proceed(_cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    Poll::Ready(RestoreOnPending(Cell::new(()), PhantomData))
}

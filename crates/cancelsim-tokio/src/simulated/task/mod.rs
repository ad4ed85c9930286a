//! `tokio::task`, simulated: every task runs on cancelsim's executor, named
//! by its spawn location in traces and reports.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::time::Duration;

pub mod coop;
mod join;
mod join_set;
mod local;

pub use coop::{consume_budget, unconstrained, Unconstrained};
pub use join::{AbortHandle, JoinError, JoinHandle};
pub use join_set::JoinSet;
pub use local::{Builder, LocalEnterGuard, LocalSet};
pub use tokio::task::{futures, LocalKey};

thread_local! {
    /// The virtual cost of one `spawn_blocking` call.
    pub(crate) static BLOCKING_COST: Cell<Duration> = const { Cell::new(Duration::from_millis(1)) };
}

/// A task's id (tokio's `task::Id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(u64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Id {
    pub(crate) fn of(task: ::cancelsim::TaskId) -> Id {
        Id(u64::from(task.as_u32()))
    }
}

/// Spawns a task (`tokio::spawn`). Unnamed tasks are named by where they
/// were spawned (`pool.rs:37#3`). The future need not be `Send` here, but
/// code that compiles against real tokio has one anyway.
///
/// # Panics
///
/// Outside a simulated runtime, with tokio's message.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    require_runtime();
    JoinHandle::new(::cancelsim::task::spawn_named_by_site(future))
}

/// `tokio::task::spawn_local`: every simulated task is local already.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn(future)
}

/// `tokio::task::spawn_blocking`: `f` runs as cancelsim blocking work that
/// takes [`set_blocking_cost`](crate::cancelsim::set_blocking_cost) of
/// virtual time (default 1 ms). Like tokio's, it cannot be aborted once
/// started.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    require_runtime();
    JoinHandle::new(::cancelsim::task::spawn_named_by_site(blocking_work(f)))
}

/// [`spawn_blocking`] at `at`, as a task named `what` (`fs::write`,
/// `File::write`): for the facade's own futures that spawn when first
/// polled (`fs`, `process`), at the call site they captured; traces show
/// `spawn fs::write#3 at src/store.rs:23:5` and a wait `on join
/// fs::write#3`.
pub(crate) fn spawn_blocking_located<F, R>(
    at: &'static std::panic::Location<'static>,
    what: &'static str,
    f: F,
) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    require_runtime();
    let work = ::cancelsim::blocking_located(BLOCKING_COST.with(Cell::get), f, at);
    JoinHandle::new(::cancelsim::task::spawn_named_located(what, work, at))
}

/// Runs `f` as blocking work named `what`, spawned at `at` (the user's
/// call site, which the facade's functions capture with `#[track_caller]`,
/// as tokio's `async fn`s cannot), when first polled; a panic in it is
/// resumed here. For `fs` and `process`, whose futures await their
/// blocking work.
pub(crate) async fn blocking_at<R: Send + 'static>(
    at: &'static std::panic::Location<'static>,
    what: &'static str,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    match spawn_blocking_located(at, what, f).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// `f` as cancelsim blocking work of the configured cost.
#[track_caller]
pub(crate) fn blocking_work<F, R>(f: F) -> ::cancelsim::Blocking<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    ::cancelsim::blocking(BLOCKING_COST.with(Cell::get), f)
}

/// `tokio::task::block_in_place`: runs `f` right here (one simulated thread).
pub fn block_in_place<F: FnOnce() -> R, R>(f: F) -> R {
    f()
}

/// `tokio::task::yield_now`.
#[track_caller]
pub fn yield_now() -> ::cancelsim::YieldNow {
    ::cancelsim::yield_now()
}

/// `tokio::task::id`: the current task's id.
///
/// # Panics
///
/// Outside a task.
pub fn id() -> Id {
    try_id().expect("tokio::task::id() called outside of a task")
}

/// `tokio::task::try_id`.
pub fn try_id() -> Option<Id> {
    ::cancelsim::task::current_id().map(Id::of)
}

#[track_caller]
pub(crate) fn require_runtime() {
    if ::cancelsim::in_simulation() {
        return;
    }
    if crate::runtime::handle_entered_outside() {
        panic!(
            "there is no reactor running, must be called from the context of a Tokio 1.x runtime \
             (cancelsim-tokio: this is the simulation build; `Runtime::enter()` / \
             `Handle::enter()` outside `block_on` enters no simulation: a simulated runtime runs \
             tasks and timers only inside its `block_on`, so move this call into \
             `rt.block_on(async {{ ... }})`)"
        );
    }
    panic!(
        "there is no reactor running, must be called from the context of a Tokio 1.x runtime \
         (cancelsim-tokio: this is the simulation build; run the code inside \
         #[tokio::test], #[tokio::main] or Runtime::block_on)"
    );
}

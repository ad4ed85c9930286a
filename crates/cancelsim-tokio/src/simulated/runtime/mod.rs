//! `tokio::runtime`, simulated: a runtime is a cancelsim world, kept across
//! its `block_on` calls. Every flavor runs on one simulated thread; the
//! flavor is still reported (`Handle::runtime_flavor`) as the program asked
//! for it, since tokio code branches on it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::cancelsim::{Config, Sim};

mod builder;
mod handle;
mod local;
mod real_tokio;

pub use builder::Builder;
pub(crate) use handle::entered_outside as handle_entered_outside;
pub use handle::{EnterGuard, Handle, TryCurrentError};
pub use local::{LocalOptions, LocalRuntime};
pub(crate) use real_tokio::{sweep_bridged_if_needed, Bridged};

/// The flavor of a runtime (tokio's `RuntimeFlavor`). The simulation runs
/// either on one thread; this is what the program asked for.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// tokio's current-thread runtime (`#[tokio::test]`'s default).
    CurrentThread,
    /// tokio's multi-thread runtime (`#[tokio::main]`'s default).
    MultiThread,
}

/// [`RuntimeFlavor`] as a copyable value (tokio's type is not `Copy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Flavor {
    /// The flavor `#[tokio::test(flavor = "...")]` names.
    pub(crate) fn named(name: Option<&str>) -> Flavor {
        match name {
            Some("multi_thread") => Flavor::MultiThread,
            _ => Flavor::CurrentThread,
        }
    }

    fn public(self) -> RuntimeFlavor {
        match self {
            Flavor::CurrentThread => RuntimeFlavor::CurrentThread,
            Flavor::MultiThread => RuntimeFlavor::MultiThread,
        }
    }
}

thread_local! {
    /// The flavor of the runtime running each simulation of this thread
    /// (only the last one is kept: one simulation runs at a time).
    static FLAVOR: Cell<Option<(u64, Flavor)>> = const { Cell::new(None) };
}

/// The flavor of the runtime the caller runs in (current-thread when
/// nobody said).
pub(crate) fn current_flavor() -> Flavor {
    let here = ::cancelsim::simulation_id();
    match FLAVOR.with(Cell::get) {
        Some((id, flavor)) if Some(id) == here => flavor,
        _ => Flavor::CurrentThread,
    }
}

pin_project_lite::pin_project! {
    /// `future`, which first records the flavor of the runtime it runs on
    /// for its simulation.
    pub(crate) struct WithFlavor<F> {
        flavor: Flavor,
        #[pin]
        future: F,
    }
}

impl<F> WithFlavor<F> {
    pub(crate) fn new(flavor: Flavor, future: F) -> Self {
        WithFlavor { flavor, future }
    }
}

impl<F: Future> Future for WithFlavor<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if let Some(id) = ::cancelsim::simulation_id() {
            FLAVOR.with(|current| current.set(Some((id, *this.flavor))));
        }
        this.future.poll(cx)
    }
}

/// A simulated runtime (tokio's `Runtime`): one cancelsim world, kept
/// across `block_on` calls, so tasks spawned in one run on in the next.
#[derive(Debug)]
pub struct Runtime {
    /// `Send + Sync` as tokio's runtime; used on another thread than the
    /// one that built it, it panics (a simulation is one thread).
    sim: send_wrapper::SendWrapper<RefCell<Sim>>,
    handle: Handle,
}

impl Runtime {
    /// A fresh simulated runtime (seed 0, the `Fifo` schedule), of tokio's
    /// multi-thread flavor as `tokio::runtime::Runtime::new`.
    pub fn new() -> std::io::Result<Runtime> {
        Ok(Runtime::of_flavor(Flavor::MultiThread))
    }

    pub(crate) fn of_flavor(flavor: Flavor) -> Runtime {
        Runtime {
            sim: send_wrapper::SendWrapper::new(RefCell::new(Sim::new(
                // tokio's current-thread runtime polls the `block_on`
                // future first.
                Config::default().root_first(flavor == Flavor::CurrentThread),
            ))),
            handle: Handle::of_flavor(flavor),
        }
    }

    /// Runs `future` to completion on the simulated runtime.
    ///
    /// # Panics
    ///
    /// Inside another runtime (as tokio), and when the simulation stops:
    /// a deadlock (every task waits and no timer is pending), a budget, or
    /// the future's own panic, with cancelsim's explanation.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if ::cancelsim::in_simulation() {
            panic!(
                "Cannot start a runtime from within a runtime. This happens because a function \
                 (like `block_on`) attempted to block the current thread while the thread is \
                 being used to drive asynchronous tasks."
            );
        }
        let future = WithFlavor::new(self.handle.flavor, future);
        let result = self.sim.borrow_mut().block_on(future);
        match result {
            Ok(output) => output,
            Err(error) => panic!("cancelsim-tokio: the simulated runtime stopped: {error}"),
        }
    }

    /// A handle to the runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Enters the runtime's context (tokio's `Runtime::enter`); see
    /// [`Handle::enter`].
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Spawns a task. Only inside `block_on` (a simulated task): cancelsim
    /// starts tasks inside a run.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        crate::task::spawn(future)
    }

    /// Spawns blocking work. Only inside `block_on`.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> crate::task::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::task::spawn_blocking(f)
    }

    /// Drops the runtime: its tasks are dropped.
    pub fn shutdown_background(self) {}

    /// Drops the runtime: its tasks are dropped.
    pub fn shutdown_timeout(self, _timeout: std::time::Duration) {}
}

/// `tokio::runtime::worker_index`: `Some(0)` inside a simulated runtime
/// (one thread, which is the worker), `None` outside.
pub fn worker_index() -> Option<usize> {
    ::cancelsim::in_simulation().then_some(0)
}

/// tokio's text for an operation refused because the runtime shuts down.
const RUNTIME_SHUTTING_DOWN_ERROR: &str =
    "A Tokio 1.x context was found, but it is being shutdown.";

/// `tokio::runtime::is_rt_shutdown_err`: is `err` the error of an operation
/// refused because its runtime was shutting down? (The simulation makes
/// none; an error built with tokio's text is recognised.)
pub fn is_rt_shutdown_err(err: &std::io::Error) -> bool {
    err.kind() == std::io::ErrorKind::Other
        && err.get_ref().is_some_and(|inner| {
            inner.source().is_none() && inner.to_string() == RUNTIME_SHUTTING_DOWN_ERROR
        })
}

//! `Handle` and `EnterGuard`: a simulated runtime's handle. There is one
//! runtime per simulation, so a handle only remembers its flavor.

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;

use super::{current_flavor, Flavor, Runtime, RuntimeFlavor};

thread_local! {
    /// The flavors of the runtimes entered with [`Handle::enter`] outside
    /// a simulation, innermost last.
    static ENTERED: RefCell<Vec<Flavor>> = const { RefCell::new(Vec::new()) };
}

/// A handle to the simulated runtime (tokio's `Handle`).
#[derive(Clone, Debug)]
pub struct Handle {
    pub(super) flavor: Flavor,
}

impl Handle {
    pub(super) fn of_flavor(flavor: Flavor) -> Handle {
        Handle { flavor }
    }

    /// The runtime the caller runs in.
    ///
    /// # Panics
    ///
    /// Outside one (and outside [`Handle::enter`]), with tokio's message.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(_) => {
                crate::task::require_runtime();
                unreachable!("require_runtime panics outside a simulation")
            }
        }
    }

    /// The runtime the caller runs in, if any (or the one entered with
    /// [`Handle::enter`]).
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        if ::cancelsim::in_simulation() {
            return Ok(Handle::of_flavor(current_flavor()));
        }
        match ENTERED.with(|entered| entered.borrow().last().copied()) {
            Some(flavor) => Ok(Handle::of_flavor(flavor)),
            None => Err(TryCurrentError(())),
        }
    }

    /// Enters the runtime's context (tokio's `Handle::enter`) until the
    /// guard is dropped. Inside a simulation the caller is in it already:
    /// nothing changes. Outside one, `Handle::current()` then finds this
    /// runtime; but a simulated runtime runs tasks and timers only inside
    /// its `block_on` (its world is one run), so `spawn`, `sleep` and the
    /// like still panic there, with a message saying to move them into
    /// `block_on`.
    pub fn enter(&self) -> EnterGuard<'_> {
        let outside = !::cancelsim::in_simulation();
        if outside {
            ENTERED.with(|entered| entered.borrow_mut().push(self.flavor));
        }
        EnterGuard {
            outside,
            _handle: PhantomData,
            _not_send: PhantomData,
        }
    }

    /// The flavor of the runtime (what the program asked for: the
    /// simulation runs either on one thread).
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        self.flavor.public()
    }

    /// Spawns a task.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        crate::task::spawn(future)
    }

    /// Spawns blocking work.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> crate::task::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::task::spawn_blocking(f)
    }

    /// Blocking on a future from inside the simulation would stop the only
    /// thread: tokio refuses it inside a runtime, and so does this. Outside
    /// one, the future runs on a fresh simulated runtime.
    ///
    /// # Panics
    ///
    /// Always inside a simulation.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        Runtime::of_flavor(self.flavor).block_on(future)
    }
}

/// Is the caller outside a simulation but inside [`Handle::enter`]?
pub(crate) fn entered_outside() -> bool {
    ENTERED.with(|entered| !entered.borrow().is_empty())
}

/// The guard of [`Handle::enter`] / [`Runtime::enter`](super::Runtime::enter)
/// (tokio's `EnterGuard`): leaves the context when dropped. Not `Send`, as
/// tokio's.
#[derive(Debug)]
#[must_use = "dropping the guard leaves the runtime's context at once"]
pub struct EnterGuard<'a> {
    /// Entered outside a simulation (so it is on `ENTERED`).
    outside: bool,
    _handle: PhantomData<&'a Handle>,
    /// `Sync` but not `Send`, as tokio's guard.
    _not_send: PhantomData<std::sync::MutexGuard<'static, ()>>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        if self.outside {
            ENTERED.with(|entered| entered.borrow_mut().pop());
        }
    }
}

/// No runtime is running (tokio's `TryCurrentError`).
#[derive(Debug)]
pub struct TryCurrentError(());

impl TryCurrentError {
    /// No runtime is running on this thread: always, for this error.
    pub fn is_missing_context(&self) -> bool {
        true
    }

    /// The thread-local holding the runtime was destroyed: never here.
    pub fn is_thread_local_destroyed(&self) -> bool {
        false
    }
}

impl std::fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "there is no reactor running, must be called from the context of a Tokio 1.x runtime",
        )
    }
}

impl std::error::Error for TryCurrentError {}

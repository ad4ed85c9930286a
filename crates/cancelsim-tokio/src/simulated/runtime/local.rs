//! tokio's `LocalRuntime`: a current-thread runtime whose tasks need not be
//! `Send`. Every simulated task is local, so it is a [`Runtime`] of the
//! current-thread flavor.

use std::future::Future;
use std::marker::PhantomData;

use super::{EnterGuard, Flavor, Handle, Runtime};

/// Options of a [`LocalRuntime`] (tokio's `LocalOptions`; none yet).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct LocalOptions {
    _not_send: PhantomData<*mut u8>,
}

/// A simulated local runtime (tokio's `LocalRuntime`). Not `Send`, as
/// tokio's.
#[derive(Debug)]
pub struct LocalRuntime {
    runtime: Runtime,
    _not_send: PhantomData<*mut u8>,
}

impl LocalRuntime {
    pub(super) fn of(runtime: Runtime) -> LocalRuntime {
        LocalRuntime {
            runtime,
            _not_send: PhantomData,
        }
    }

    /// A fresh simulated local runtime.
    pub fn new() -> std::io::Result<LocalRuntime> {
        Ok(LocalRuntime::of(Runtime::of_flavor(Flavor::CurrentThread)))
    }

    /// A handle to the runtime.
    pub fn handle(&self) -> &Handle {
        self.runtime.handle()
    }

    /// Spawns a task (only inside `block_on`, as [`Runtime::spawn`]).
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        crate::task::spawn(future)
    }

    /// Spawns blocking work (only inside `block_on`).
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> crate::task::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::task::spawn_blocking(f)
    }

    /// Runs `future` to completion (see [`Runtime::block_on`]).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Enters the runtime's context (see [`Handle::enter`]).
    pub fn enter(&self) -> EnterGuard<'_> {
        self.runtime.enter()
    }

    /// Drops the runtime: its tasks are dropped.
    pub fn shutdown_timeout(self, _timeout: std::time::Duration) {}

    /// Drops the runtime: its tasks are dropped.
    pub fn shutdown_background(self) {}
}

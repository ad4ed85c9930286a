//! `LocalSet` and the task `Builder`: every simulated task is local, so
//! these only name and run tasks.

use std::future::Future;
use std::marker::PhantomData;

use super::{require_runtime, spawn, JoinHandle};

/// tokio's `LocalSet`: every simulated task is local, so this only runs
/// its futures and keeps its tasks.
#[derive(Debug, Default)]
pub struct LocalSet {
    _private: (),
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> Self {
        LocalSet::default()
    }

    /// Spawns a task.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn(future)
    }

    /// Runs `future` to completion.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        future.await
    }

    /// Enters the set's context (every simulated task is local already:
    /// nothing changes while the guard lives).
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard {
            _not_send: PhantomData,
        }
    }

    /// `rt.block_on(local.run_until(future))`.
    pub fn block_on<F: Future>(&self, rt: &crate::runtime::Runtime, future: F) -> F::Output {
        rt.block_on(future)
    }
}

/// The guard of [`LocalSet::enter`] (tokio's `LocalEnterGuard`).
#[derive(Debug)]
pub struct LocalEnterGuard {
    _not_send: PhantomData<*const ()>,
}

/// tokio's task `Builder`: a name for the task.
#[derive(Debug, Default)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder.
    pub fn new() -> Self {
        Builder::default()
    }

    /// The task's name in traces and reports.
    pub fn name(self, name: &'a str) -> Self {
        Builder { name: Some(name) }
    }

    /// Spawns the task.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> std::io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        require_runtime();
        Ok(match self.name {
            Some(name) => JoinHandle::new(::cancelsim::spawn_named(name, future)),
            None => spawn(future),
        })
    }

    /// Spawns the task (every simulated task is local).
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> std::io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn(future)
    }

    /// Spawns the task on the runtime of `handle` (there is one simulated
    /// runtime).
    #[track_caller]
    pub fn spawn_on<F>(
        self,
        future: F,
        handle: &crate::runtime::Handle,
    ) -> std::io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let _ = handle;
        self.spawn(future)
    }

    /// Spawns the task on `local_set` (every simulated task is local).
    #[track_caller]
    pub fn spawn_local_on<F>(
        self,
        future: F,
        local_set: &LocalSet,
    ) -> std::io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let _ = local_set;
        self.spawn(future)
    }

    /// Spawns blocking work on the runtime of `handle`.
    #[track_caller]
    pub fn spawn_blocking_on<F, R>(
        self,
        f: F,
        handle: &crate::runtime::Handle,
    ) -> std::io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let _ = handle;
        self.spawn_blocking(f)
    }

    /// Spawns blocking work.
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> std::io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        require_runtime();
        let work = super::blocking_work(f);
        Ok(match self.name {
            Some(name) => JoinHandle::new(::cancelsim::spawn_named(name, work)),
            None => JoinHandle::new(::cancelsim::task::spawn_named_by_site(work)),
        })
    }
}

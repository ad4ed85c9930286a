//! `tokio::runtime`, simulated: a runtime is a cancelsim world.

use std::cell::RefCell;
use std::future::Future;

use ::cancelsim::{Config, Sim};

/// Builds a simulated runtime (tokio's `runtime::Builder`); every flavor is
/// one simulated thread, and every option is accepted for compatibility.
#[derive(Debug)]
pub struct Builder {
    _flavor: &'static str,
}

impl Builder {
    /// tokio's current-thread runtime.
    pub fn new_current_thread() -> Builder {
        Builder {
            _flavor: "current_thread",
        }
    }

    /// tokio's multi-thread runtime (simulated on one thread).
    pub fn new_multi_thread() -> Builder {
        Builder {
            _flavor: "multi_thread",
        }
    }

    /// Accepted (the simulation has every driver).
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Accepted.
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Accepted.
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Accepted (one simulated thread).
    pub fn worker_threads(&mut self, _threads: usize) -> &mut Self {
        self
    }

    /// Accepted.
    pub fn max_blocking_threads(&mut self, _threads: usize) -> &mut Self {
        self
    }

    /// Accepted.
    pub fn thread_name(&mut self, _name: impl Into<String>) -> &mut Self {
        self
    }

    /// Accepted (the virtual clock is always paused).
    pub fn start_paused(&mut self, _paused: bool) -> &mut Self {
        self
    }

    /// The runtime.
    pub fn build(&mut self) -> std::io::Result<Runtime> {
        Runtime::new()
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
    /// A fresh simulated runtime (seed 0, the `Fifo` schedule).
    pub fn new() -> std::io::Result<Runtime> {
        Ok(Runtime {
            sim: send_wrapper::SendWrapper::new(RefCell::new(Sim::new(Config::default()))),
            handle: Handle { _private: () },
        })
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

    /// Drops the runtime: its tasks are dropped.
    pub fn shutdown_background(self) {}

    /// Drops the runtime: its tasks are dropped.
    pub fn shutdown_timeout(self, _timeout: std::time::Duration) {}
}

/// A handle to the simulated runtime (tokio's `Handle`).
#[derive(Clone, Debug)]
pub struct Handle {
    _private: (),
}

impl Handle {
    /// The runtime the caller runs in.
    ///
    /// # Panics
    ///
    /// Outside one, with tokio's message.
    #[track_caller]
    pub fn current() -> Handle {
        crate::task::require_runtime();
        Handle { _private: () }
    }

    /// The runtime the caller runs in, if any.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        if ::cancelsim::in_simulation() {
            Ok(Handle { _private: () })
        } else {
            Err(TryCurrentError(()))
        }
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
    /// thread: tokio refuses it inside a runtime, and so does this.
    ///
    /// # Panics
    ///
    /// Always inside a simulation.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        Runtime::new()
            .expect("a simulated runtime always builds")
            .block_on(future)
    }
}

/// No runtime is running (tokio's `TryCurrentError`).
#[derive(Debug)]
pub struct TryCurrentError(());

impl std::fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "there is no reactor running, must be called from the context of a Tokio 1.x runtime",
        )
    }
}

impl std::error::Error for TryCurrentError {}

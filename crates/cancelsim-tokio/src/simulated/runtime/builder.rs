//! tokio's runtime `Builder`, simulated. The simulation is one thread with
//! every driver and a virtual clock, so every option that tunes threads,
//! drivers or queues is accepted for compatibility and has no effect; the
//! flavor is kept (`Handle::runtime_flavor` reports it).

use std::time::Duration;

use super::{Flavor, LocalOptions, LocalRuntime, Runtime};

/// Builds a simulated runtime (tokio's `runtime::Builder`).
#[derive(Debug)]
pub struct Builder {
    flavor: Flavor,
}

impl Builder {
    /// tokio's current-thread runtime.
    pub fn new_current_thread() -> Builder {
        Builder {
            flavor: Flavor::CurrentThread,
        }
    }

    /// tokio's multi-thread runtime (simulated on one thread).
    pub fn new_multi_thread() -> Builder {
        Builder {
            flavor: Flavor::MultiThread,
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

    /// Accepted; no effect (one simulated thread).
    pub fn worker_threads(&mut self, _threads: usize) -> &mut Self {
        self
    }

    /// Accepted; no effect (blocking work is cancelsim's, on the virtual
    /// clock).
    pub fn max_blocking_threads(&mut self, _threads: usize) -> &mut Self {
        self
    }

    /// Accepted; no effect (no thread is started).
    pub fn thread_name(&mut self, _name: impl Into<String>) -> &mut Self {
        self
    }

    /// Accepted; no effect (no thread is started).
    pub fn thread_name_fn<F>(&mut self, _name: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self
    }

    /// Accepted; no effect (no thread is started).
    pub fn thread_stack_size(&mut self, _bytes: usize) -> &mut Self {
        self
    }

    /// Accepted; no effect: no worker thread starts, so the callback is
    /// never called.
    pub fn on_thread_start<F>(&mut self, _callback: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// Accepted; no effect: no worker thread stops, so the callback is
    /// never called.
    pub fn on_thread_stop<F>(&mut self, _callback: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// Accepted; no effect: the simulated thread never parks, so the
    /// callback is never called.
    pub fn on_thread_park<F>(&mut self, _callback: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// Accepted; no effect: the simulated thread never parks, so the
    /// callback is never called.
    pub fn on_thread_unpark<F>(&mut self, _callback: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// Accepted; no effect (no blocking thread is kept).
    pub fn thread_keep_alive(&mut self, _duration: Duration) -> &mut Self {
        self
    }

    /// Accepted; no effect (the schedule, not a queue, picks the next task).
    pub fn global_queue_interval(&mut self, _ticks: u32) -> &mut Self {
        self
    }

    /// Accepted; no effect (no I/O driver is polled).
    pub fn event_interval(&mut self, _ticks: u32) -> &mut Self {
        self
    }

    /// Accepted; no effect (no I/O driver is polled).
    pub fn max_io_events_per_tick(&mut self, _capacity: usize) -> &mut Self {
        self
    }

    /// Accepted; no effect (the schedule, not a LIFO slot, picks the next
    /// task).
    pub fn disable_lifo_slot(&mut self) -> &mut Self {
        self
    }

    /// Accepted; no effect (the runtime has no name in traces).
    ///
    /// # Panics
    ///
    /// When `name` is empty or blank, as tokio.
    #[track_caller]
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        assert!(
            !name.into().trim().is_empty(),
            "runtime name shouldn't be empty"
        );
        self
    }

    /// Accepted (the virtual clock is always paused).
    pub fn start_paused(&mut self, _paused: bool) -> &mut Self {
        self
    }

    /// The runtime.
    pub fn build(&mut self) -> std::io::Result<Runtime> {
        Ok(Runtime::of_flavor(self.flavor))
    }

    /// A [`LocalRuntime`] (tokio's: a current-thread runtime whose tasks
    /// need not be `Send`; every simulated task is so).
    ///
    /// # Panics
    ///
    /// On a multi-thread builder, as tokio.
    #[track_caller]
    pub fn build_local(&mut self, _options: LocalOptions) -> std::io::Result<LocalRuntime> {
        match self.flavor {
            Flavor::CurrentThread => Ok(LocalRuntime::of(Runtime::of_flavor(self.flavor))),
            Flavor::MultiThread => panic!("multi_thread is not supported for LocalRuntime"),
        }
    }
}

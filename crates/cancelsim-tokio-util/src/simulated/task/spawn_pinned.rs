//! `LocalPoolHandle`, simulated: tokio-util's pool of single-threaded
//! runtimes, for tasks that are not `Send`. Every simulated task is local
//! already, so a pinned task is a task of the simulation; the pool keeps
//! its workers' loads (tasks alive per worker) for the choice of the least
//! burdened one.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cancelsim_tokio::task::JoinHandle;

/// A pool of (simulated) local workers (tokio-util's `LocalPoolHandle`).
#[derive(Clone)]
pub struct LocalPoolHandle {
    /// Tasks alive on each worker.
    loads: Arc<[AtomicUsize]>,
}

impl LocalPoolHandle {
    /// A pool of `pool_size` workers.
    ///
    /// # Panics
    ///
    /// When `pool_size` is zero, as tokio-util.
    #[track_caller]
    pub fn new(pool_size: usize) -> LocalPoolHandle {
        assert!(pool_size > 0);
        LocalPoolHandle {
            loads: (0..pool_size).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// Workers in the pool.
    pub fn num_threads(&self) -> usize {
        self.loads.len()
    }

    /// Tasks alive on each worker.
    pub fn get_task_loads_for_each_worker(&self) -> Vec<usize> {
        self.loads
            .iter()
            .map(|load| load.load(Ordering::SeqCst))
            .collect()
    }

    /// Runs the future `create_task` makes on the least burdened worker
    /// (the first of the least burdened).
    #[track_caller]
    pub fn spawn_pinned<F, Fut>(&self, create_task: F) -> JoinHandle<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let idx = (0..self.loads.len())
            .min_by_key(|&idx| self.loads[idx].load(Ordering::SeqCst))
            .expect("a pool has a worker");
        self.spawn_pinned_by_idx(create_task, idx)
    }

    /// Runs the future `create_task` makes on worker `idx`.
    ///
    /// # Panics
    ///
    /// When there is no worker `idx`.
    #[track_caller]
    pub fn spawn_pinned_by_idx<F, Fut>(&self, create_task: F, idx: usize) -> JoinHandle<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        self.loads[idx].fetch_add(1, Ordering::SeqCst);
        let job = JobCount {
            loads: Arc::clone(&self.loads),
            idx,
        };
        cancelsim_tokio::spawn(async move {
            let _job = job;
            create_task().await
        })
    }
}

impl fmt::Debug for LocalPoolHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalPoolHandle")
    }
}

/// One task alive on a worker, until dropped.
struct JobCount {
    loads: Arc<[AtomicUsize]>,
    idx: usize,
}

impl Drop for JobCount {
    fn drop(&mut self) {
        self.loads[self.idx].fetch_sub(1, Ordering::SeqCst);
    }
}

//! A worker pool: jobs from a channel, workers in a `JoinSet`, shut down
//! through a `CancellationToken` ("signal, wait a grace period, then
//! abort").

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A running pool.
pub struct Pool {
    workers: JoinSet<()>,
    token: CancellationToken,
    /// Jobs finished.
    pub done: Arc<AtomicU64>,
}

/// Starts `n` workers taking jobs (a duration of work each) from `jobs`.
pub fn start(n: usize, jobs: mpsc::Receiver<Duration>, token: CancellationToken) -> Pool {
    let jobs = Arc::new(Mutex::new(jobs));
    let done = Arc::new(AtomicU64::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..n {
        let (jobs, done, token) = (Arc::clone(&jobs), Arc::clone(&done), token.clone());
        workers.spawn(async move {
            loop {
                let job = tokio::select! {
                    _ = token.cancelled() => return,
                    job = async { jobs.lock().await.recv().await } => job,
                };
                let Some(work) = job else { return };
                // The work itself also stops on shutdown.
                tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tokio::time::sleep(work) => {}
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    Pool {
        workers,
        token,
        done,
    }
}

impl Pool {
    /// Signals shutdown, waits up to `grace` for the workers, then aborts
    /// whatever is left. Returns how many workers had to be aborted.
    pub async fn shutdown(mut self, grace: Duration) -> usize {
        self.token.cancel();
        let drained = tokio::time::timeout(grace, async {
            while self.workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_ok() {
            return 0;
        }
        let left = self.workers.len();
        self.workers.shutdown().await;
        left
    }
}

/// The mistake: the worker checks the token only between jobs, and a job
/// is a loop of steps that never looks at it, so shutdown waits out the
/// grace period and aborts it mid-job.
pub mod buggy {
    use super::*;

    /// Like [`start`](super::start), with a worker deaf to the token mid-job.
    pub fn start(n: usize, jobs: mpsc::Receiver<Duration>, token: CancellationToken) -> Pool {
        let jobs = Arc::new(Mutex::new(jobs));
        let done = Arc::new(AtomicU64::new(0));
        let mut workers = JoinSet::new();
        for _ in 0..n {
            let (jobs, done, token) = (Arc::clone(&jobs), Arc::clone(&done), token.clone());
            workers.spawn(async move {
                loop {
                    let job = tokio::select! {
                        _ = token.cancelled() => return,
                        job = async { jobs.lock().await.recv().await } => job,
                    };
                    let Some(work) = job else { return };
                    // Ten steps, none of which listens for shutdown.
                    for _ in 0..10 {
                        tokio::time::sleep(work / 10).await;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        Pool {
            workers,
            token,
            done,
        }
    }
}

//! Runs a sweep's jobs on worker threads and hands the results back in job
//! order, in bounded memory, under a wall-time budget, watching every poll.
//!
//! Invariants:
//! * jobs are taken lazily from their iterator and handed out in chunks
//!   sized to take about 20 ms each (one job at first), so a thread wakes
//!   per chunk, not per run; at most three chunks per thread are out, so
//!   memory does not grow with the number of jobs;
//! * `fold` sees every dispatched job once, in job order, whatever the
//!   number of threads (what makes a report independent of it);
//! * a worker whose poll runs past the watchdog's limit is abandoned (a
//!   poll cannot be interrupted; its thread spins on until the process
//!   ends), its job is folded as [`Ran::Stuck`] (the rest of its chunk as
//!   skipped), and no further job is dispatched: queued jobs are skipped
//!   and the caller learns how many were left;
//! * past the deadline (the time budget) no further job is dispatched, and
//!   queued ones are skipped likewise.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::watchdog::{self, Heartbeat, Watch};

/// What became of one job.
pub(crate) enum Ran<T> {
    Done(T),
    /// A poll ran past the watchdog's limit: task, the await point it
    /// resumed from, how long it had run.
    Stuck {
        task: u32,
        point: u32,
        /// The run's steps before the stuck poll.
        step: u64,
        running: Duration,
        limit: Duration,
    },
    /// Not run: the sweep stopped (time budget, stuck poll) first.
    Skipped,
}

/// Why dispatching stopped before the jobs ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    TimeBudget,
    Stuck,
}

/// The shape of the pool.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub threads: usize,
    /// The watchdog's limit per poll.
    pub watchdog: Option<Duration>,
    /// No job is dispatched after this instant.
    pub deadline: Option<Instant>,
}

type Work<J, T> = Arc<dyn Fn(&J) -> T + Send + Sync>;
/// A chunk back from a worker: the worker, the chunk's first job, each
/// job's result, and how long the chunk took.
type Done<T> = (usize, usize, Vec<std::thread::Result<Ran<T>>>, Duration);

/// How long a chunk of jobs should take.
const CHUNK_TIME: Duration = Duration::from_millis(20);
/// The most jobs in a chunk.
const CHUNK_MAX: usize = 512;

struct Worker {
    beat: Arc<Heartbeat>,
    /// The job it runs, or `usize::MAX`.
    current: Arc<AtomicUsize>,
    /// The chunk it works on: its first job and the end (exclusive).
    chunk: Arc<(AtomicUsize, AtomicUsize)>,
    watch: Watch,
    abandoned: bool,
}

/// Runs `work` on every job of `jobs` and calls `fold` with each job and
/// its result, in job order. Returns why it stopped early, if it did;
/// undispatched jobs are left in `jobs`.
///
/// # Panics
///
/// Resumes a panic that escaped `work` (a bug of the harness, not of the
/// code under test, whose panics `work` catches).
pub(crate) fn run<J, T>(
    limits: Limits,
    jobs: &mut dyn Iterator<Item = J>,
    work: Work<J, T>,
    mut fold: impl FnMut(&J, Ran<T>),
) -> Option<Stop>
where
    J: Send + Sync + 'static,
    T: Send + 'static,
{
    let threads = limits.threads.max(1);
    let (job_tx, job_rx) = mpsc::channel::<(usize, Vec<Arc<J>>)>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = mpsc::channel::<Done<T>>();
    let skip = Arc::new(AtomicBool::new(false));
    let mut workers: Vec<Worker> = Vec::new();
    let spawn = |workers: &mut Vec<Worker>| {
        let id = workers.len();
        let beat = Heartbeat::new(true);
        let current = Arc::new(AtomicUsize::new(usize::MAX));
        let chunk_range = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        workers.push(Worker {
            beat: Arc::clone(&beat),
            current: Arc::clone(&current),
            chunk: Arc::clone(&chunk_range),
            watch: Watch::new(),
            abandoned: false,
        });
        let (job_rx, done_tx, skip, work) = (
            Arc::clone(&job_rx),
            done_tx.clone(),
            Arc::clone(&skip),
            Arc::clone(&work),
        );
        std::thread::Builder::new()
            .name(format!("cancelsim-worker-{id}"))
            .spawn(move || {
                watchdog::install(beat);
                loop {
                    let next = job_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((first, chunk)) = next else { break };
                    chunk_range.0.store(first, Ordering::Relaxed);
                    chunk_range.1.store(first + chunk.len(), Ordering::Relaxed);
                    let started = Instant::now();
                    let mut results = Vec::with_capacity(chunk.len());
                    for (offset, job) in chunk.iter().enumerate() {
                        current.store(first + offset, Ordering::Relaxed);
                        results.push(if skip.load(Ordering::Relaxed) {
                            Ok(Ran::Skipped)
                        } else {
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                Ran::Done(work(job))
                            }))
                        });
                    }
                    current.store(usize::MAX, Ordering::Relaxed);
                    if done_tx
                        .send((id, first, results, started.elapsed()))
                        .is_err()
                    {
                        break;
                    }
                }
            })
            .expect("cancelsim: cannot start a sweep worker thread");
    };
    for _ in 0..threads {
        spawn(&mut workers);
    }
    // Dispatched, not yet folded: (job, its result once back); `base` is
    // the index of the first.
    let mut pending: VecDeque<(Arc<J>, Option<Ran<T>>)> = VecDeque::new();
    let mut base = 0usize;
    let mut next = 0usize;
    let mut out = 0usize; // chunks out
    let mut chunk = 1usize;
    let mut exhausted = false;
    let mut stop = None;
    let tick = limits
        .watchdog
        .map_or(Duration::from_millis(200), watchdog::tick);
    loop {
        if stop.is_none()
            && limits
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
        {
            stop = Some(Stop::TimeBudget);
            skip.store(true, Ordering::Relaxed);
        }
        while stop.is_none() && !exhausted && out < threads * 3 {
            let batch: Vec<Arc<J>> = jobs.take(chunk).map(Arc::new).collect();
            if batch.len() < chunk {
                exhausted = true;
            }
            if batch.is_empty() {
                break;
            }
            pending.extend(batch.iter().map(|job| (Arc::clone(job), None)));
            let first = next;
            next += batch.len();
            out += 1;
            // The receivers live as long as `job_rx`, held here.
            let _ = job_tx.send((first, batch));
        }
        while pending.front().is_some_and(|(_, result)| result.is_some()) {
            let (job, result) = pending.pop_front().expect("checked");
            base += 1;
            fold(&job, result.expect("checked"));
        }
        if pending.is_empty() && (exhausted || stop.is_some()) {
            break;
        }
        match done_rx.recv_timeout(tick) {
            Ok((worker, first, results, took)) => {
                if !workers[worker].abandoned {
                    out -= 1;
                    // Size the next chunks to take about CHUNK_TIME.
                    let per_job = took / results.len().max(1) as u32;
                    chunk = if per_job.is_zero() {
                        CHUNK_MAX
                    } else {
                        (CHUNK_TIME.as_nanos() / per_job.as_nanos()).clamp(1, CHUNK_MAX as u128)
                            as usize
                    };
                    for (offset, result) in results.into_iter().enumerate() {
                        let result =
                            result.unwrap_or_else(|payload| std::panic::resume_unwind(payload));
                        pending[first + offset - base].1 = Some(result);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("the pool holds a sender"),
        }
        let Some(limit) = limits.watchdog else {
            continue;
        };
        for id in 0..workers.len() {
            let worker = &mut workers[id];
            if worker.abandoned {
                continue;
            }
            let index = worker.current.load(Ordering::Relaxed);
            let Some((task, point, running)) = worker.watch.check(&worker.beat, limit) else {
                continue;
            };
            if index == usize::MAX || index < base {
                continue;
            }
            worker.abandoned = true;
            out -= 1;
            // Its chunk: the jobs before the stuck one ran, but their
            // results went down with the worker; the ones after never will.
            let (start, end) = (
                worker.chunk.0.load(Ordering::Relaxed),
                worker.chunk.1.load(Ordering::Relaxed),
            );
            for at in start.max(base)..end {
                pending[at - base].1 = Some(Ran::Skipped);
            }
            pending[index - base].1 = Some(Ran::Stuck {
                task,
                point,
                step: worker.beat.step(),
                running,
                limit,
            });
            stop = Some(Stop::Stuck);
            skip.store(true, Ordering::Relaxed);
            // The chunks still queued need a worker to be skipped by.
            spawn(&mut workers);
        }
    }
    stop
}

//! The watchdog: a poll that runs longer than a wall-clock limit (a loop
//! without an await, a blocking call) is a *stuck poll*, reported with the
//! task and the await point it resumed from, instead of hanging the test.
//!
//! A poll cannot be interrupted from outside its thread, so what happens
//! next depends on who runs it:
//!
//! * in a sweep ([`Check`](crate::Check)), runs execute on worker threads
//!   and the coordinating thread watches them: a stuck run is reported as a
//!   `stuck-poll` failure, its worker is abandoned (it spins on until the
//!   process ends) and the sweep stops dispatching and returns its report;
//! * a [`Sim::block_on`](crate::Sim::block_on) runs on the caller's thread,
//!   which cannot be handed back: a monitor thread prints the stuck-poll
//!   report to stderr and ends the process with exit code 101 (what a
//!   failed test exits with), so CI fails with the report instead of
//!   hanging.
//!
//! Invariants: the executor writes a thread's [`Heartbeat`] as each poll
//! starts (its world's steps and where the poll resumed; the world's id
//! once per run), with relaxed stores; no lock, no clock read on the hot path)
//! and marks it idle when it stops polling (between two polls the last one
//! stands: the executor's own work counts as part of it); only the
//! watching thread reads the wall clock. Nothing here reaches a run's decisions or its trace.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// `Heartbeat::at` when no poll is running.
const IDLE: u64 = u64::MAX;

/// What the executor of one thread is doing, for a watcher on another.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    /// The world polling (its id): with `step`, what tells one poll from
    /// another (written once per run, not per poll).
    world: AtomicU64,
    /// The task being polled and the await point it resumed from
    /// (`task << 32 | point`), or [`IDLE`].
    at: AtomicU64,
    /// The world's steps (polls and `work` calls) before this poll: a
    /// re-run given this many steps stops right before it.
    step: AtomicU64,
    /// The limit, in milliseconds (for the process-wide monitor).
    limit_ms: AtomicU64,
    /// Watched by a sweep's coordinator, not the process-wide monitor.
    pooled: AtomicBool,
}

impl Heartbeat {
    pub fn new(pooled: bool) -> Arc<Heartbeat> {
        Arc::new(Heartbeat {
            world: AtomicU64::new(0),
            at: AtomicU64::new(IDLE),
            step: AtomicU64::new(0),
            limit_ms: AtomicU64::new(u64::MAX),
            pooled: AtomicBool::new(pooled),
        })
    }

    /// A poll of `task`, resumed from its await point `point`, starts
    /// after `step` steps of its world.
    #[inline(always)]
    pub fn enter(&self, task: u32, point: u32, step: u64) {
        self.step.store(step, Ordering::Relaxed);
        self.at
            .store(u64::from(task) << 32 | u64::from(point), Ordering::Relaxed);
    }

    /// The world `world` polls on this thread from now on.
    pub fn start_world(&self, world: u64) {
        self.world.store(world, Ordering::Relaxed);
    }

    /// No poll is running (the world stopped polling).
    #[inline(always)]
    pub fn leave(&self) {
        self.at.store(IDLE, Ordering::Relaxed);
    }

    /// The world's steps before the poll running now (read once it is
    /// stuck: it no longer changes).
    pub fn step(&self) -> u64 {
        self.step.load(Ordering::Relaxed)
    }

    /// `((world, step), (task, point))` of the poll running now: the
    /// first pair tells one poll from another.
    pub fn sample(&self) -> Option<((u64, u64), (u32, u32))> {
        let at = self.at.load(Ordering::Relaxed);
        let poll = (
            self.world.load(Ordering::Relaxed),
            self.step.load(Ordering::Relaxed),
        );
        (at != IDLE).then_some((poll, ((at >> 32) as u32, at as u32)))
    }
}

/// Watches heartbeats: a poll seen running (the same poll) for at least
/// `limit` is stuck.
#[derive(Debug)]
pub(crate) struct Watch {
    seen: Option<((u64, u64), Instant)>,
}

impl Watch {
    pub fn new() -> Watch {
        Watch { seen: None }
    }

    /// Looks at `beat` now; `Some((task, point, for how long))` when the
    /// poll running has run for `limit` or more.
    pub fn check(&mut self, beat: &Heartbeat, limit: Duration) -> Option<(u32, u32, Duration)> {
        let Some((poll, (task, point))) = beat.sample() else {
            self.seen = None;
            return None;
        };
        let now = Instant::now();
        match self.seen {
            Some((seen, since)) if seen == poll => {
                let running = now - since;
                (running >= limit).then_some((task, point, running))
            }
            _ => {
                self.seen = Some((poll, now));
                None
            }
        }
    }
}

/// How often a watcher looks, for a given limit.
pub(crate) fn tick(limit: Duration) -> Duration {
    (limit / 8).clamp(Duration::from_millis(5), Duration::from_millis(500))
}

/// The text of a stuck-poll report; `task` as `name#id`.
pub(crate) fn stuck_message(task: &str, point: u32, running: Duration, limit: Duration) -> String {
    let from = if point == 0 {
        "its first poll".to_string()
    } else {
        format!("await point {point}")
    };
    format!(
        "a poll of task {task}, resumed from {from}, has run for {:.1}s of wall-clock time without \
         returning (limit {:.1}s): a loop without an await, or a blocking call",
        running.as_secs_f64(),
        limit.as_secs_f64()
    )
}

/// `main#0` or `#3`: what the monitor can say of a task (it has no names).
fn task_label(task: u32) -> String {
    if task == 0 {
        "main#0".to_string()
    } else {
        format!("#{task}")
    }
}

thread_local! {
    /// This thread's heartbeat, once it has one.
    static BEAT: RefCell<Option<Arc<Heartbeat>>> = const { RefCell::new(None) };
}

/// Gives the current thread (a sweep's worker) `beat`.
pub(crate) fn install(beat: Arc<Heartbeat>) {
    BEAT.with(|slot| *slot.borrow_mut() = Some(beat));
}

/// The current thread's heartbeat for a world whose watchdog limit is
/// `limit`: a sweep worker's own, or one the process-wide monitor watches
/// (created and registered on first use).
pub(crate) fn for_this_thread(limit: Duration) -> Option<Arc<Heartbeat>> {
    BEAT.try_with(|slot| {
        let mut slot = slot.try_borrow_mut().ok()?;
        let beat = slot.get_or_insert_with(|| {
            let beat = Heartbeat::new(false);
            monitor().register(&beat);
            beat
        });
        if !beat.pooled.load(Ordering::Relaxed) {
            let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX).max(1);
            beat.limit_ms.store(ms, Ordering::Relaxed);
        }
        Some(Arc::clone(beat))
    })
    .ok()
    .flatten()
}

/// The process-wide monitor of threads that run worlds themselves.
struct Monitor {
    beats: Mutex<Vec<Weak<Heartbeat>>>,
}

fn monitor() -> &'static Monitor {
    static MONITOR: OnceLock<Monitor> = OnceLock::new();
    MONITOR.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("cancelsim-watchdog".to_string())
            .spawn(watch_forever);
        if let Err(error) = spawned {
            eprintln!(
                "cancelsim: the watchdog thread could not start ({error}): stuck polls will hang"
            );
        }
        Monitor {
            beats: Mutex::new(Vec::new()),
        }
    })
}

impl Monitor {
    fn register(&self, beat: &Arc<Heartbeat>) {
        let mut beats = self.beats.lock().unwrap_or_else(|p| p.into_inner());
        beats.retain(|beat| beat.strong_count() > 0);
        beats.push(Arc::downgrade(beat));
    }
}

fn watch_forever() {
    let mut watches: Vec<(Weak<Heartbeat>, Watch)> = Vec::new();
    loop {
        let beats: Vec<Weak<Heartbeat>> = monitor()
            .beats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        watches.retain(|(beat, _)| beat.strong_count() > 0);
        for beat in beats {
            if !watches.iter().any(|(known, _)| known.ptr_eq(&beat)) {
                watches.push((beat, Watch::new()));
            }
        }
        let mut shortest = Duration::from_secs(1);
        for (beat, watch) in &mut watches {
            let Some(beat) = beat.upgrade() else { continue };
            let limit = Duration::from_millis(beat.limit_ms.load(Ordering::Relaxed));
            shortest = shortest.min(limit);
            if let Some((task, point, running)) = watch.check(&beat, limit) {
                eprintln!(
                    "cancelsim: stuck-poll: {}\ncancelsim: a poll cannot be interrupted, so the process ends \
                     (exit code 101); run the code under `Check` to get a report instead, or raise \
                     Config::watchdog / CANCELSIM_WATCHDOG if the poll is meant to take this long",
                    stuck_message(&task_label(task), point, running, limit)
                );
                std::process::exit(101);
            }
        }
        std::thread::sleep(tick(shortest));
    }
}

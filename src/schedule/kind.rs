//! Which scheduler a run uses: the built-in strategies by name, and a
//! user's own ([`SchedulerKind::custom`]); their text form (`fifo`,
//! `pct:3`, `dfs:1.0.2`, `custom:NAME`).

use std::borrow::Cow;
use std::fmt;
use std::panic::RefUnwindSafe;
use std::sync::Arc;

use super::{CurrentThread, Dfs, DfsPath, Fifo, Pct, Random, Replay, Schedule, Scheduler};

/// Which built-in scheduler a run uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchedulerKind {
    /// Tasks run in the order they were woken; timers in registration order
    /// ([`Fifo`]).
    #[default]
    Fifo,
    /// Uniformly random choice among ready tasks and among due timers
    /// ([`Random`]).
    Random,
    /// Tasks in wake order, as tokio's current-thread runtime runs them;
    /// `select!` branches, I/O delays and timer ties random
    /// ([`CurrentThread`]).
    CurrentThread,
    /// Probabilistic concurrency testing with the given bug depth ([`Pct`]).
    Pct {
        /// Bug depth `d`: `d - 1` priority change points per run.
        depth: u32,
    },
    /// Follow a recorded schedule exactly ([`Replay`]).
    Replay(Arc<Schedule>),
    /// Follow a path of choices, then the first option ([`Dfs`]): one run
    /// of a bounded-exhaustive exploration ([`DfsExplorer`](super::DfsExplorer)).
    Dfs(Arc<DfsPath>),
    /// A scheduler of your own ([`SchedulerKind::custom`]).
    Custom(CustomScheduler),
}

/// A user's scheduler: a name (shown in traces and repro lines) and a
/// factory that builds one per run from the run's seed. Two are equal when
/// they are the same factory.
///
/// Read from a repro line (`scheduler=custom:NAME`) it has a name and no
/// factory: a [`Check`](crate::Check) replaying the line puts its own
/// scheduler of that name in; building it anywhere else panics, saying so.
#[derive(Clone)]
pub struct CustomScheduler {
    name: Arc<str>,
    factory: Option<Arc<SchedulerFactory>>,
}

type SchedulerFactory = dyn Fn(u64) -> Box<dyn Scheduler> + Send + Sync + RefUnwindSafe;

impl CustomScheduler {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Read from a repro line: a name without a factory.
    pub fn is_named_only(&self) -> bool {
        self.factory.is_none()
    }

    fn build(&self, seed: u64) -> Box<dyn Scheduler> {
        match &self.factory {
            Some(factory) => factory(seed),
            None => panic!(
                "cancelsim: the custom scheduler `{}` was read from a repro line and has no \
                 factory; replay the line through the Check that defines it \
                 (CANCELSIM_REPLAY with that check's test name)",
                self.name
            ),
        }
    }
}

impl fmt::Debug for CustomScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomScheduler")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for CustomScheduler {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && match (&self.factory, &other.factory) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

impl Eq for CustomScheduler {}

impl SchedulerKind {
    /// Builds the scheduler for one run.
    pub fn build(&self, seed: u64, horizon: u64) -> Box<dyn Scheduler> {
        match self {
            SchedulerKind::Fifo => Box::new(Fifo::new(seed)),
            SchedulerKind::Random => Box::new(Random::new(seed)),
            SchedulerKind::CurrentThread => Box::new(CurrentThread::new(seed)),
            SchedulerKind::Pct { depth } => Box::new(Pct::new(seed, *depth, horizon)),
            SchedulerKind::Replay(schedule) => Box::new(Replay::new(Arc::clone(schedule))),
            SchedulerKind::Dfs(path) => Box::new(Dfs::new(seed, Arc::clone(path))),
            SchedulerKind::Custom(custom) => custom.build(seed),
        }
    }

    /// A scheduler of your own, built for each run by `factory` from the
    /// run's seed, and named `name` in traces and repro lines
    /// (`scheduler=custom:NAME`). It must be a deterministic function of the
    /// seed and the questions asked (no clock, thread or address), as the
    /// built-in ones are: a run is replayed by building it again.
    ///
    /// ```
    /// use cancelsim::schedule::{Divergence, ReadyTasks, Scheduler, SimRng};
    /// use cancelsim::{Config, SchedulerKind, Sim};
    ///
    /// /// Always runs the task woken last.
    /// #[derive(Debug)]
    /// struct Lifo(SimRng);
    ///
    /// impl Scheduler for Lifo {
    ///     fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
    ///         Ok(ready.len().saturating_sub(1))
    ///     }
    ///     fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
    ///         Ok(due - 1)
    ///     }
    ///     fn next_u64(&mut self) -> Result<u64, Divergence> {
    ///         Ok(self.0.next_u64())
    ///     }
    /// }
    ///
    /// let lifo = SchedulerKind::custom("lifo", |seed| Box::new(Lifo(SimRng::new(seed))));
    /// let mut sim = Sim::new(Config::default().scheduler(lifo));
    /// let order = sim.block_on(async {
    ///     let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    ///     let spawn = |n: u32| {
    ///         let log = log.clone();
    ///         cancelsim::spawn(async move { log.borrow_mut().push(n) })
    ///     };
    ///     let (a, b) = (spawn(1), spawn(2));
    ///     let _ = (b.await, a.await);
    ///     log.take()
    /// });
    /// assert_eq!(order.unwrap(), [2, 1], "the task woken last ran first");
    /// assert!(sim.trace().to_string().contains("scheduler custom:lifo"));
    /// ```
    pub fn custom(
        name: &str,
        factory: impl Fn(u64) -> Box<dyn Scheduler> + Send + Sync + RefUnwindSafe + 'static,
    ) -> SchedulerKind {
        SchedulerKind::Custom(CustomScheduler {
            name: Arc::from(name),
            factory: Some(Arc::new(factory)),
        })
    }
}

impl SchedulerKind {
    /// The text form ([`Display`](fmt::Display)), without formatting or
    /// allocating for the schedulers without parameters (every world's
    /// trace is named after its scheduler).
    pub fn name(&self) -> Cow<'static, str> {
        match self {
            SchedulerKind::Fifo => Cow::Borrowed("fifo"),
            SchedulerKind::Random => Cow::Borrowed("random"),
            SchedulerKind::CurrentThread => Cow::Borrowed("current-thread"),
            SchedulerKind::Pct { depth } => Cow::Owned(format!("pct:{depth}")),
            SchedulerKind::Replay(s) => Cow::Owned(format!("replay({} decisions)", s.len())),
            SchedulerKind::Dfs(path) => Cow::Owned(format!("dfs:{path}")),
            SchedulerKind::Custom(custom) => Cow::Owned(format!("custom:{}", custom.name)),
        }
    }
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A scheduler name could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseSchedulerError {
    /// The text given.
    pub text: String,
}

impl fmt::Display for ParseSchedulerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown scheduler `{}`: expected `fifo`, `random`, `current-thread`, `pct:D` with D a bug depth of at least 1 (e.g. `pct:3`), `dfs:PATH` with PATH choice indices separated by dots (e.g. `dfs:1.0.2`), or `custom:NAME`",
            self.text
        )
    }
}

impl std::error::Error for ParseSchedulerError {}

/// Reads the `Display` form: `fifo`, `random`, `current-thread`, `pct:3`, `dfs:1.0.2`,
/// `custom:NAME` (a name only: see [`CustomScheduler`]); not `replay`.
impl std::str::FromStr for SchedulerKind {
    type Err = ParseSchedulerError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseSchedulerError {
            text: text.to_string(),
        };
        match text {
            "fifo" => Ok(SchedulerKind::Fifo),
            "random" => Ok(SchedulerKind::Random),
            "current-thread" => Ok(SchedulerKind::CurrentThread),
            _ if text.starts_with("custom:") && text.len() > "custom:".len() => {
                Ok(SchedulerKind::Custom(CustomScheduler {
                    name: Arc::from(&text["custom:".len()..]),
                    factory: None,
                }))
            }
            _ if text.starts_with("dfs:") => text["dfs:".len()..]
                .parse::<DfsPath>()
                .map(|path| SchedulerKind::Dfs(Arc::new(path)))
                .map_err(|_| error()),
            _ => {
                let depth = text.strip_prefix("pct:").ok_or_else(error)?;
                match depth.parse::<u32>() {
                    Ok(depth) if depth >= 1 => Ok(SchedulerKind::Pct { depth }),
                    _ => Err(error()),
                }
            }
        }
    }
}

//! `Repro`: one line that re-runs exactly one run.
//!
//! `cancelsim:v1 seed=7 scheduler=pct:3 inject=cancel-drop@1:2,timeout@0:4/wake`
//!
//! Versioned, round-trips through `Display`/`FromStr`. Set
//! `CANCELSIM_REPLAY=<repro>` and `Check::run` runs exactly that plan and
//! prints its full trace.

use std::fmt;
use std::str::FromStr;

use crate::inject::{InjectAt, Injection, InjectionKind};
use crate::schedule::SchedulerKind;
use crate::task::TaskId;

/// The version tag at the start of every repro line.
pub const REPRO_VERSION: &str = "cancelsim:v1";

/// Everything that determines one run: seed, scheduler and injections.
///
/// `Debug` prints the one-line form too, so a value shown by a tool
/// (proptest's "minimal failing input", a failed `assert_eq!`) is a line
/// `CANCELSIM_REPLAY` takes as it is.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Repro {
    /// The seed.
    pub seed: u64,
    /// The scheduler.
    pub scheduler: SchedulerKind,
    /// The injections, in the order they were planned.
    pub injections: Vec<Injection>,
    /// The check it belongs to (`Check::name`, a test's path), when named:
    /// `CANCELSIM_REPLAY` with this line replays only that check.
    pub test: Option<String>,
}

impl Repro {
    /// A run under `seed` and `scheduler` with `injections`, of no named
    /// check ([`Repro::test`] names one).
    ///
    /// ```
    /// use cancelsim::{check::await_points, Config, InjectAt, Injection, InjectionKind, Repro, SchedulerKind};
    ///
    /// let body = || async { cancelsim::yield_now().await };
    /// let point = &await_points(&body, &Config::default(), 0, SchedulerKind::Fifo)[0];
    /// let cancel = Injection::new(point.task, point.ordinal, InjectionKind::CancelDrop, InjectAt::Suspend);
    /// let repro = Repro::new(3, SchedulerKind::Random, vec![cancel]).test("tests::fetch");
    /// assert_eq!(
    ///     repro.to_string(),
    ///     "cancelsim:v1 seed=3 scheduler=random inject=cancel-drop@0:1 test=tests::fetch"
    /// );
    /// ```
    pub fn new(seed: u64, scheduler: SchedulerKind, injections: Vec<Injection>) -> Self {
        Repro {
            seed,
            scheduler,
            injections,
            test: None,
        }
    }

    /// The same run, of the check named `name` (`Check::name`, a test's
    /// path): `CANCELSIM_REPLAY` with its line replays only that check.
    pub fn test(mut self, name: impl Into<String>) -> Self {
        self.test = Some(name.into());
        self
    }

    /// A run with no injection.
    pub fn baseline(seed: u64, scheduler: SchedulerKind) -> Self {
        Repro {
            seed,
            scheduler,
            injections: Vec::new(),
            test: None,
        }
    }
}

impl fmt::Debug for Repro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Repro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{REPRO_VERSION} seed={} scheduler={}",
            self.seed, self.scheduler
        )?;
        if !self.injections.is_empty() {
            f.write_str(" inject=")?;
            for (index, injection) in self.injections.iter().enumerate() {
                if index > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{injection}")?;
            }
        }
        if let Some(test) = &self.test {
            write!(f, " test={test}")?;
        }
        Ok(())
    }
}

/// A repro line could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReproParseError {
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ReproParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a cancelsim repro: {}; expected e.g. `{REPRO_VERSION} seed=7 scheduler=fifo \
             inject=cancel-drop@1:2,timeout@0:4/wake` (copy it from a failure report)",
            self.message
        )
    }
}

impl std::error::Error for ReproParseError {}

fn error(message: impl Into<String>) -> ReproParseError {
    ReproParseError {
        message: message.into(),
    }
}

impl FromStr for Repro {
    type Err = ReproParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut words = text.split_whitespace();
        match words.next() {
            Some(REPRO_VERSION) => {}
            Some(other) if other.starts_with("cancelsim:") => {
                return Err(error(format!(
                    "version `{other}` is not supported (this cancelsim reads `{REPRO_VERSION}`)"
                )))
            }
            Some(other) => return Err(error(format!("it starts with `{other}`"))),
            None => return Err(error("it is empty")),
        }
        let (mut seed, mut scheduler, mut injections) = (None, None, Vec::new());
        let mut test = None;
        let mut seen = std::collections::BTreeSet::new();
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| error(format!("`{word}` is not key=value")))?;
            if !seen.insert(key) {
                return Err(error(format!("`{key}=` is given twice")));
            }
            match key {
                "seed" => {
                    seed = Some(
                        value
                            .parse()
                            .map_err(|_| error(format!("seed `{value}` is not a number")))?,
                    )
                }
                "scheduler" => {
                    scheduler = Some(
                        value
                            .parse()
                            .map_err(|e: crate::schedule::ParseSchedulerError| {
                                error(e.to_string())
                            })?,
                    )
                }
                "inject" => {
                    for item in value.split(',').filter(|item| !item.is_empty()) {
                        injections.push(parse_injection(item)?);
                    }
                }
                "test" if !value.is_empty() => test = Some(value.to_string()),
                other => return Err(error(format!("unknown field `{other}`"))),
            }
        }
        Ok(Repro {
            seed: seed.ok_or_else(|| error("`seed=` is missing"))?,
            scheduler: scheduler.ok_or_else(|| error("`scheduler=` is missing"))?,
            injections,
            test,
        })
    }
}

fn parse_injection(item: &str) -> Result<Injection, ReproParseError> {
    let bad = || {
        error(format!(
            "injection `{item}` is not KIND@TASK:POINT[/wake] with KIND one of cancel-drop, cancel-coop, timeout, signal"
        ))
    };
    let (kind, rest) = item.split_once('@').ok_or_else(bad)?;
    let kind = InjectionKind::from_name(kind).ok_or_else(bad)?;
    let (rest, at) = match rest.strip_suffix("/wake") {
        Some(rest) => (rest, InjectAt::Wake),
        None => (rest, InjectAt::Suspend),
    };
    let (task, point) = rest.split_once(':').ok_or_else(bad)?;
    let task: u32 = task.parse().map_err(|_| bad())?;
    let point: u32 = point.parse().map_err(|_| bad())?;
    if point == 0 {
        return Err(bad());
    }
    Ok(Injection {
        task: TaskId(task),
        point,
        kind,
        at,
    })
}

//! The scenario model: what a scenario file says, with the source spans that
//! diagnostics point at.
//!
//! Invariants: blocks are shared (`Arc<[Step]>`) so that the interpreter's
//! futures can hold them without borrowing the model, and the model is
//! immutable once loaded, so one parsed scenario serves every run of a
//! sweep, on every thread.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use miette::SourceSpan;

/// A sequence of steps (a task body, or the body of a `timeout`, `shield`,
/// `try`, `group` or `repeat`).
pub type Block = Arc<[Step]>;

/// A loaded scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The scenario's name: its file name without `.kdl`.
    pub name: String,
    /// The file it came from, as given.
    pub path: String,
    /// The text of the file (for diagnostics).
    pub source: Arc<String>,
    /// What the scenario shows, from its `about` line.
    pub about: Option<String>,
    /// The tasks by name; `main` is the root.
    pub tasks: BTreeMap<String, TaskDef>,
    /// What the sweep must find.
    pub expect: Expect,
}

impl Scenario {
    /// The task called `main`.
    pub fn main(&self) -> &TaskDef {
        self.tasks
            .get("main")
            .expect("a loaded scenario has a main task")
    }
}

/// One task program.
#[derive(Clone, Debug)]
pub struct TaskDef {
    /// Its name (as spawned, joined and cancelled).
    pub name: String,
    /// Where `task NAME` is written.
    pub span: SourceSpan,
    /// Its steps.
    pub body: Block,
}

/// One step of a task, with where it is written.
#[derive(Clone, Debug)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// Where it is written (the whole node).
    pub span: SourceSpan,
}

/// What a step does.
#[derive(Clone, Debug)]
pub enum StepKind {
    /// `sleep "250ms"`: wait (an await point).
    Sleep(Duration),
    /// `yield`: let the others run (an await point).
    Yield,
    /// `work "2s"`: CPU time inside the poll, no await point.
    Work(Duration),
    /// `blocking "3s" ["log line"]`: work on a worker thread, awaited; it runs
    /// on when the awaiter is cancelled, and logs its line when done.
    Blocking {
        /// How long the work takes.
        cost: Duration,
        /// Logged when the work is done.
        log: Option<String>,
    },
    /// `acquire NAME`: take a tracked, exclusive resource (waits while
    /// another task holds it).
    Acquire(String),
    /// `release NAME`.
    Release(String),
    /// `log "text"`: a line in the run's log, with its virtual time.
    Log(String),
    /// `spawn TASK`: start a task (into the innermost `group`, if any).
    Spawn(String),
    /// `join TASK [expect=OUTCOME]`: wait for a task and check its outcome.
    Join {
        /// The task.
        task: String,
        /// The outcome expected; another one raises an error.
        expect: JoinExpect,
    },
    /// `cancel TASK`: one cooperative cancel request.
    Cancel(String),
    /// `timeout "1s" { … }` (asyncio.timeout).
    Timeout {
        /// The deadline, from entering the scope.
        duration: Duration,
        /// The body.
        body: Block,
    },
    /// `shield { … }` (asyncio.shield of the block, run as its own task).
    Shield(Block),
    /// `shield TASK`: `await asyncio.shield(task)`: the awaiter's cancel
    /// does not reach the task.
    ShieldTask(String),
    /// `try { … } on-cancel { … } on-error { … } finally { … }`.
    Try {
        /// The body.
        body: Block,
        /// Runs when a cancellation comes out of the body.
        on_cancel: Option<(Block, Resolution)>,
        /// Runs when an error (or a timeout) comes out of the body.
        on_error: Option<Block>,
        /// Runs however the body ended.
        finally: Option<Block>,
    },
    /// `wait-first A B …`: wait until one of the tasks finishes; the others
    /// keep running.
    WaitFirst(Vec<String>),
    /// `group { … }` (asyncio.TaskGroup).
    Group(Block),
    /// `repeat N { … }`.
    Repeat {
        /// How many times.
        count: u32,
        /// The body.
        body: Block,
    },
    /// `fail "message"`: raise an error.
    Fail(String),
    /// `return VALUE`: end the task with a value.
    Return(String),
}

impl StepKind {
    /// The step's keyword, as written in files.
    pub fn keyword(&self) -> &'static str {
        match self {
            StepKind::Sleep(_) => "sleep",
            StepKind::Yield => "yield",
            StepKind::Work(_) => "work",
            StepKind::Blocking { .. } => "blocking",
            StepKind::Acquire(_) => "acquire",
            StepKind::Release(_) => "release",
            StepKind::Log(_) => "log",
            StepKind::Spawn(_) => "spawn",
            StepKind::Join { .. } => "join",
            StepKind::Cancel(_) => "cancel",
            StepKind::Timeout { .. } => "timeout",
            StepKind::Shield(_) | StepKind::ShieldTask(_) => "shield",
            StepKind::Try { .. } => "try",
            StepKind::WaitFirst(_) => "wait-first",
            StepKind::Group(_) => "group",
            StepKind::Repeat { .. } => "repeat",
            StepKind::Fail(_) => "fail",
            StepKind::Return(_) => "return",
        }
    }

    /// The nested blocks of the step, in order.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            StepKind::Timeout { body, .. }
            | StepKind::Shield(body)
            | StepKind::Group(body)
            | StepKind::Repeat { body, .. } => vec![body],
            StepKind::Try {
                body,
                on_cancel,
                on_error,
                finally,
            } => {
                let mut blocks = vec![body];
                blocks.extend(on_cancel.as_ref().map(|(block, _)| block));
                blocks.extend(on_error.as_ref());
                blocks.extend(finally.as_ref());
                blocks
            }
            _ => Vec::new(),
        }
    }
}

/// How an `on-cancel` handler ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// `reraise`: the cancellation goes on out (the right thing).
    Reraise,
    /// `swallow`: the cancellation is dropped and the task carries on.
    Swallow,
}

/// The outcome a `join` expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinExpect {
    /// The task returned (any value).
    Value,
    /// The task ended cancelled.
    Cancelled,
    /// A timeout error came out of the task.
    Timeout,
    /// An error came out of the task.
    Error,
    /// Whatever the outcome.
    Any,
}

impl JoinExpect {
    /// Parses `value`, `cancelled`, `timeout`, `error`, `any`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "value" => JoinExpect::Value,
            "cancelled" => JoinExpect::Cancelled,
            "timeout" => JoinExpect::Timeout,
            "error" => JoinExpect::Error,
            "any" => JoinExpect::Any,
            _ => return None,
        })
    }

    /// Its name, as written after `expect=`.
    pub fn name(self) -> &'static str {
        match self {
            JoinExpect::Value => "value",
            JoinExpect::Cancelled => "cancelled",
            JoinExpect::Timeout => "timeout",
            JoinExpect::Error => "error",
            JoinExpect::Any => "any",
        }
    }

    /// Does `outcome` satisfy it?
    pub fn accepts(self, outcome: &Outcome) -> bool {
        matches!(
            (self, outcome),
            (JoinExpect::Any, _)
                | (JoinExpect::Value, Outcome::Value(_))
                | (JoinExpect::Cancelled, Outcome::Cancelled)
                | (JoinExpect::Timeout, Outcome::Timeout)
                | (JoinExpect::Error, Outcome::Error(_))
        )
    }
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// It returned this value (`none` without `return`).
    Value(String),
    /// It ended with a cancellation.
    Cancelled,
    /// A timeout error came out of it.
    Timeout,
    /// An error came out of it.
    Error(String),
    /// It had not ended when the run ended.
    Running,
}

impl Outcome {
    /// `value`, `cancelled`, `timeout`, `error`, `running`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Value(_) => "value",
            Outcome::Cancelled => "cancelled",
            Outcome::Timeout => "timeout",
            Outcome::Error(_) => "error",
            Outcome::Running => "running",
        }
    }

    /// The value or the error message.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Outcome::Value(value) => Some(value),
            Outcome::Error(message) => Some(message),
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail() {
            Some(detail) => write!(f, "{} {detail:?}", self.kind()),
            None => f.write_str(self.kind()),
        }
    }
}

/// The `expect` block.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// Outcomes of named tasks in the baseline run.
    pub outcomes: Vec<ExpectedOutcome>,
    /// Violation codes the sweep must report (exactly these).
    pub violations: Vec<String>,
    /// The virtual time at which `main` ends in the baseline run.
    pub time: Option<Duration>,
}

/// `outcome TASK KIND [DETAIL]`.
#[derive(Clone, Debug)]
pub struct ExpectedOutcome {
    /// The task.
    pub task: String,
    /// `value`, `cancelled`, `timeout`, `error`, `running`.
    pub kind: String,
    /// The value or error message, when given.
    pub detail: Option<String>,
    /// Where it is written.
    pub span: SourceSpan,
}

impl ExpectedOutcome {
    /// Does `outcome` match?
    pub fn matches(&self, outcome: &Outcome) -> bool {
        self.kind == outcome.kind()
            && self
                .detail
                .as_deref()
                .is_none_or(|detail| outcome.detail() == Some(detail))
    }
}

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

mod parts;
mod step;

pub use parts::{Cond, Handler, Primitive, PrimitiveKind, ReturnWhen, Text, TextPart};
pub use step::StepKind;

/// A sequence of steps (a task body, or the body of a `timeout`, `shield`,
/// `try`, `if`, `group` or `repeat`).
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
    /// The declared asyncio primitives (queues, events, conditions,
    /// semaphores) by name.
    pub primitives: BTreeMap<String, Primitive>,
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

    /// The names the scenario's task instances go by: `main`, and the name
    /// of each `spawn` (its `as=`, else the task's), sorted.
    pub fn instance_names(&self) -> Vec<String> {
        fn spawns(block: &Block, out: &mut std::collections::BTreeSet<String>) {
            for step in block.iter() {
                if let StepKind::Spawn { task, name, .. } = &step.kind {
                    out.insert(name.clone().unwrap_or_else(|| task.clone()));
                }
                for nested in step.kind.blocks() {
                    spawns(nested, out);
                }
            }
        }
        let mut names = std::collections::BTreeSet::from(["main".to_string()]);
        for task in self.tasks.values() {
            spawns(&task.body, &mut names);
        }
        names.into_iter().collect()
    }
}

/// One task program.
#[derive(Clone, Debug)]
pub struct TaskDef {
    /// Its name (as spawned, joined and cancelled).
    pub name: String,
    /// Where `task NAME` is written.
    pub span: SourceSpan,
    /// Its parameters (`task fetch url { … }`), bound by `spawn`'s
    /// arguments.
    pub params: Vec<String>,
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
    pub fn accepts(self, outcome: &TaskOutcome) -> bool {
        matches!(
            (self, outcome),
            (JoinExpect::Any, _)
                | (JoinExpect::Value, TaskOutcome::Value(_))
                | (JoinExpect::Cancelled, TaskOutcome::Cancelled)
                | (JoinExpect::Timeout, TaskOutcome::Timeout)
                | (JoinExpect::Error, TaskOutcome::Error(_))
        )
    }
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskOutcome {
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

impl TaskOutcome {
    /// `value`, `cancelled`, `timeout`, `error`, `running`.
    pub fn kind(&self) -> &'static str {
        match self {
            TaskOutcome::Value(_) => "value",
            TaskOutcome::Cancelled => "cancelled",
            TaskOutcome::Timeout => "timeout",
            TaskOutcome::Error(_) => "error",
            TaskOutcome::Running => "running",
        }
    }

    /// The value or the error message.
    pub fn detail(&self) -> Option<&str> {
        match self {
            TaskOutcome::Value(value) => Some(value),
            TaskOutcome::Error(message) => Some(message),
            _ => None,
        }
    }
}

impl fmt::Display for TaskOutcome {
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
    pub fn matches(&self, outcome: &TaskOutcome) -> bool {
        self.kind == outcome.kind()
            && self
                .detail
                .as_deref()
                .is_none_or(|detail| outcome.detail() == Some(detail))
    }
}

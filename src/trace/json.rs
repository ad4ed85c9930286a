//! The trace as JSON lines, for tools: one object per line.
//!
//! The first line is a header; every following line is one event, in trace
//! order. The schema is stable: fields are only ever added, and a change to
//! the meaning of a field bumps [`JSON_FORMAT_VERSION`].
//!
//! Header line:
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `format` | string | always `"cancelsim-trace"` |
//! | `version` | integer | [`JSON_FORMAT_VERSION`] |
//! | `seed` | integer | the run's seed |
//! | `scheduler` | string | the run's scheduler (`fifo`, `random`, `pct:3`, ...) |
//! | `events` | integer | number of event lines that follow |
//! | `dropped` | integer | earlier events dropped by a capped trace (`TraceMode::Last`) |
//! | `tasks` | array | `{"task": id, "name": name-or-null}` for every task in the trace, by id |
//!
//! Every event line has:
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `step` | integer | executor step (polls so far) |
//! | `time_ns` | integer | virtual time in nanoseconds since the start of the run |
//! | `task` | integer | the task the event is about |
//! | `task_name` | string or null | its name (`main` for the root) |
//! | `kind` | string | one of the kinds below ([`EventKind::name`]) |
//!
//! and, by `kind` (absent fields are left out, never `null`):
//!
//! | `kind` | extra fields |
//! | --- | --- |
//! | `spawn` | `child` (task id), `child_name`, `at` |
//! | `poll` | — |
//! | `suspend` | `ordinal` (await point, from 1), `wait` (`yield`, `sleep`, `timeout`, `join`, `checkpoint`, `cancelled`, `shield`, `blocking`, `external`, `duplex-read`, `duplex-write`, `simplex-read`, `simplex-write`, `select-branch`), `wait_task` (for `join`, `shield`, `blocking`), `branch` (for `select-branch`), `at` |
//! | `wake` | `by` (`task`, `timer`, `outside`), `by_task` |
//! | `cancel_requested` | `by_task`, `via` (`handle`, `group`, `injection`, `timeout`), `group`, `scope` (the timeout's), `at` (when a call site asked) |
//! | `cancel_delivered` | `at` |
//! | `abort` | `by_task`, `at` (when a call site asked) |
//! | `work` | `cost_ns`, `at` |
//! | `blocking_start` | `cost_ns`, `at` |
//! | `blocking_end` | — |
//! | `held_for_expiry` | `until_ns` (the expired timeout's deadline), `held` (`wake`, `blocking`) |
//! | `grace_run` | `until_ns` (the end of the signal's grace time) |
//! | `timeout_fired` | `scope`, `at` |
//! | `random` | `value`, `at` |
//! | `choice` | `value` (the alternative taken), `options`, `at`, `label` (what it means, when its asker said) |
//! | `select_won` | `branch`, `dropped` (the pending branches dropped), `point` (await point where they waited), `at` |
//! | `signal_fired` | — |
//! | `complete` | `outcome` (`returned`, `aborted`, `panicked`), `message` (panics) |
//! | `deadlock` | — |
//! | `injected` | `injection` (`cancel-drop`, `cancel-coop`, `timeout`, `signal`), `point`, `at_instant` (`suspend`, `wake`) |
//! | `acquire` | `resource`, `at` |
//! | `release` | `resource` |
//! | `violation` | `code` (the stable violation code, e.g. `leaked-resource`) |
//! | `drain` | — |
//!
//! Locations (`at`) are `file:line:column`, repository-relative as in the
//! text form ([`display_location`](super::display_location())); never absolute.

use serde::Serialize;

use super::{
    display_location, CancelVia, Event, EventKind, IoWait, Outcome, Trace, WaitKind, WakeCause,
};
use crate::vocab::InjectAt;
use crate::vocab::TaskId;

/// The version in the header line of [`Trace::to_json_lines`].
/// Version 2: `cancel_requested` can be `via` a `timeout` scope (a scenario's
/// asyncio-style timeout was reported as `handle`), and `cancel_requested`,
/// `abort`, `work`, `random` and `timeout_fired` carry `at` / `scope`.
pub const JSON_FORMAT_VERSION: u32 = 2;

impl EventKind {
    /// The stable name of the kind, as in the JSON lines schema (`poll`,
    /// `suspend`, `cancel_requested`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Spawn { .. } => "spawn",
            EventKind::Poll => "poll",
            EventKind::Suspend { .. } => "suspend",
            EventKind::Wake { .. } => "wake",
            EventKind::CancelRequested { .. } => "cancel_requested",
            EventKind::CancelDelivered { .. } => "cancel_delivered",
            EventKind::Abort { .. } => "abort",
            EventKind::Work { .. } => "work",
            EventKind::BlockingStart { .. } => "blocking_start",
            EventKind::BlockingEnd => "blocking_end",
            EventKind::HeldForExpiry { .. } => "held_for_expiry",
            EventKind::TimeoutFired { .. } => "timeout_fired",
            EventKind::Random { .. } => "random",
            EventKind::Choice { .. } => "choice",
            EventKind::SelectWon { .. } => "select_won",
            EventKind::SignalFired => "signal_fired",
            EventKind::Complete { .. } => "complete",
            EventKind::Deadlock => "deadlock",
            EventKind::Injected { .. } => "injected",
            EventKind::Acquire { .. } => "acquire",
            EventKind::Release { .. } => "release",
            EventKind::Violation { .. } => "violation",
            EventKind::Drain => "drain",
            EventKind::GraceRun { .. } => "grace_run",
        }
    }
}

#[derive(Serialize)]
struct Header<'a> {
    format: &'static str,
    version: u32,
    seed: u64,
    scheduler: &'a str,
    events: usize,
    dropped: u64,
    tasks: Vec<TaskEntry<'a>>,
}

#[derive(Serialize)]
struct TaskEntry<'a> {
    task: u32,
    name: Option<&'a str>,
}

/// One event line; `None` fields are left out.
#[derive(Serialize, Default)]
pub(super) struct Line<'a> {
    step: u32,
    time_ns: u64,
    task: u32,
    task_name: Option<&'a str>,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    child: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    child_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ordinal: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wait: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wait_task: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_task: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<u32>,
    /// The `select!` race whose timer branch won (a `timeout_fired` of a
    /// race).
    #[serde(skip_serializing_if = "Option::is_none")]
    select: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    until_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    held: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<u32>,
    /// What a labelled choice's alternative means.
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dropped: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    injection: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    point: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_instant: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<String>,
}

/// The stable name of what a task waits on, and the task it names if any.
pub(crate) fn wait_name(kind: WaitKind) -> (&'static str, Option<TaskId>) {
    match kind {
        WaitKind::Yield => ("yield", None),
        WaitKind::Sleep => ("sleep", None),
        WaitKind::Timeout => ("timeout", None),
        WaitKind::Select => ("select", None),
        WaitKind::Join(task) => ("join", Some(task)),
        WaitKind::Checkpoint => ("checkpoint", None),
        WaitKind::CancelSignal => ("cancelled", None),
        WaitKind::Shield(task) => ("shield", Some(task)),
        WaitKind::Blocking(task) => ("blocking", Some(task)),
        WaitKind::External => ("external", None),
        WaitKind::Io(IoWait::DuplexRead) => ("duplex-read", None),
        WaitKind::Io(IoWait::DuplexWrite) => ("duplex-write", None),
        WaitKind::Io(IoWait::SimplexRead) => ("simplex-read", None),
        WaitKind::Io(IoWait::SimplexWrite) => ("simplex-write", None),
        WaitKind::Io(IoWait::TcpRead) => ("tcp-read", None),
        WaitKind::Io(IoWait::TcpWrite) => ("tcp-write", None),
        WaitKind::Io(IoWait::TcpAccept) => ("tcp-accept", None),
        WaitKind::Io(IoWait::TcpConnect) => ("tcp-connect", None),
        WaitKind::SelectBranch(_) => ("select-branch", None),
    }
}

impl Trace {
    /// Every task that appears in the trace (as subject or spawned child),
    /// in id order.
    pub(crate) fn tasks_seen(&self) -> Vec<TaskId> {
        let mut tasks = std::collections::BTreeSet::new();
        for event in self.events() {
            tasks.insert(event.task);
            if let EventKind::Spawn { child, .. } = event.kind {
                tasks.insert(child);
            }
        }
        tasks.into_iter().collect()
    }

    /// The trace as JSON lines: a header line, then one line per event.
    /// The schema is in the [module documentation](self).
    ///
    /// ```
    /// let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    /// sim.block_on(async { cancelsim::yield_now().await }).unwrap();
    /// let jsonl = sim.trace().to_json_lines();
    /// let mut lines = jsonl.lines();
    /// assert!(lines.next().unwrap().starts_with(r#"{"format":"cancelsim-trace","version":2,"#));
    /// assert!(lines.next().unwrap().contains(r#""kind":"poll""#));
    /// ```
    pub fn to_json_lines(&self) -> String {
        let header = Header {
            format: "cancelsim-trace",
            version: JSON_FORMAT_VERSION,
            seed: self.seed(),
            scheduler: self.scheduler(),
            events: self.len(),
            dropped: self.dropped(),
            tasks: self
                .tasks_seen()
                .into_iter()
                .map(|task| TaskEntry {
                    task: task.as_u32(),
                    name: self.task_name(task),
                })
                .collect(),
        };
        let mut out = serde_json::to_string(&header).expect("JSON of plain values");
        out.push('\n');
        for event in self.events() {
            let line = self.json_line(&event);
            out.push_str(&serde_json::to_string(&line).expect("JSON of plain values"));
            out.push('\n');
        }
        out
    }

    pub(super) fn json_line<'a>(&'a self, event: &Event) -> Line<'a> {
        let mut line = Line {
            step: event.step,
            time_ns: event.time.as_nanos(),
            task: event.task.as_u32(),
            task_name: self.task_name(event.task),
            kind: event.kind.name(),
            ..Line::default()
        };
        match event.kind {
            EventKind::Spawn { child, at } => {
                line.child = Some(child.as_u32());
                line.child_name = self.task_name(child);
                line.at = Some(display_location(at));
            }
            EventKind::Suspend { ordinal, wait } => {
                let (name, task) = wait_name(wait.kind);
                line.ordinal = Some(ordinal);
                line.wait = Some(name);
                line.wait_task = task.map(TaskId::as_u32);
                if let WaitKind::SelectBranch(branch) = wait.kind {
                    line.branch = Some(branch);
                }
                line.at = wait.at.map(display_location);
            }
            EventKind::Wake { by } => {
                let (name, task) = match by {
                    WakeCause::Task(task) => ("task", Some(task)),
                    WakeCause::Timer => ("timer", None),
                    WakeCause::Outside => ("outside", None),
                };
                line.by = Some(name);
                line.by_task = task.map(TaskId::as_u32);
            }
            EventKind::CancelRequested { by, via, at } => {
                line.by_task = by.map(TaskId::as_u32);
                let (via, group, scope) = match via {
                    CancelVia::Handle => ("handle", None, None),
                    CancelVia::Group(group) => ("group", Some(group), None),
                    CancelVia::Injection => ("injection", None, None),
                    CancelVia::Timeout(scope) => ("timeout", None, Some(scope)),
                };
                line.via = Some(via);
                line.group = group;
                line.scope = scope;
                line.at = at.map(display_location);
            }
            EventKind::CancelDelivered { at } => line.at = Some(display_location(at)),
            EventKind::TimeoutFired { scope, race, at } => {
                line.scope = Some(scope);
                line.select = race;
                line.at = Some(display_location(at));
            }
            EventKind::Abort { by, at } => {
                line.by_task = by.map(TaskId::as_u32);
                line.at = at.map(display_location);
            }
            EventKind::Work { cost_nanos, at } => {
                line.cost_ns = Some(cost_nanos);
                line.at = Some(display_location(at));
            }
            EventKind::BlockingStart { cost_nanos, at } => {
                line.cost_ns = Some(cost_nanos);
                line.at = Some(display_location(at));
            }
            EventKind::Random { value, at } => {
                line.value = Some(value);
                line.at = Some(display_location(at));
            }
            EventKind::Choice {
                chosen,
                options,
                at,
                label,
            } => {
                line.value = Some(u64::from(chosen));
                line.options = Some(options);
                line.at = Some(display_location(at));
                line.label = label.and_then(|label| self.message(label));
            }
            EventKind::SelectWon {
                branch,
                dropped,
                point,
                at,
            } => {
                line.branch = Some(branch);
                line.dropped = Some((0..32).filter(|bit| dropped & (1 << bit) != 0).collect());
                line.point = Some(point);
                line.at = Some(display_location(at));
            }
            EventKind::Complete { outcome } => {
                line.outcome = Some(match outcome {
                    Outcome::Returned => "returned",
                    Outcome::Aborted => "aborted",
                    Outcome::Panicked(message) => {
                        line.message = self.message(message);
                        "panicked"
                    }
                });
            }
            EventKind::Injected { kind, point, at } => {
                line.injection = Some(kind.name());
                line.point = Some(point);
                line.at_instant = Some(match at {
                    InjectAt::Suspend => "suspend",
                    InjectAt::Wake => "wake",
                });
            }
            EventKind::Acquire { name, at } => {
                line.resource = self.message(name);
                line.at = Some(display_location(at));
            }
            EventKind::Release { name } => line.resource = self.message(name),
            EventKind::Violation { code } => line.code = Some(code.as_str()),
            EventKind::HeldForExpiry { until, blocking } => {
                line.until_ns = Some(until.as_nanos());
                line.held = Some(if blocking { "blocking" } else { "wake" });
            }
            EventKind::GraceRun { until } => line.until_ns = Some(until.as_nanos()),
            EventKind::Poll
            | EventKind::BlockingEnd
            | EventKind::Deadlock
            | EventKind::Drain
            | EventKind::SignalFired => {}
        }
        line
    }
}

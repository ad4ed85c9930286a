//! A run's trace as the scenario reads it: the core's trace, with every
//! location the `.kdl` step that caused the event (not the interpreter's
//! source), the tasks named as the file names them (asyncio.run's
//! shutdown as `asyncio.run`, the interpreter's done callbacks left out),
//! each task's end as asyncio would say it (`completed: cancelled`,
//! `completed: raised ValueError: x`), and the `log` lines at their place.
//! Also: a violation, explained in the scenario's words.

use std::collections::{BTreeMap, VecDeque};

use super::error::line_column;
use super::interp::located::{Note, SpawnKind, StepAt};
use super::interp::RunRecord;
use super::model::{Scenario, TaskOutcome};
use crate::trace::{display_location, CancelVia, EventKind, Outcome as End, Trace};
use crate::{TaskId, Violation, ViolationCode};

/// `file:line:column` of a step.
fn kdl(scenario: &Scenario, step: StepAt) -> String {
    let (line, column) = line_column(&scenario.source, step.0.offset());
    format!("{}:{line}:{column}", scenario.path)
}

/// How a task's end reads.
fn ended(outcome: &TaskOutcome) -> String {
    match outcome {
        TaskOutcome::Value(value) => format!("completed: returned {value:?}"),
        TaskOutcome::Cancelled => "completed: cancelled".to_string(),
        TaskOutcome::Timeout => "completed: raised TimeoutError".to_string(),
        TaskOutcome::Error(detail) if detail.contains(": ") || !detail.contains(' ') => {
            format!("completed: raised {detail}")
        }
        TaskOutcome::Error(detail) => format!("completed: raised RuntimeError: {detail}"),
        TaskOutcome::Running => "completed".to_string(),
    }
}

type Queue = VecDeque<(usize, Option<StepAt>)>;

/// The run's notes, found by what each event is keyed by.
#[derive(Default)]
struct Index {
    spawned: BTreeMap<TaskId, (usize, Option<StepAt>)>,
    unnamed_spawns: BTreeMap<TaskId, VecDeque<(usize, Option<StepAt>, SpawnKind)>>,
    suspended: BTreeMap<(TaskId, u32), (usize, Option<StepAt>)>,
    requests: BTreeMap<TaskId, Queue>,
    delivered: BTreeMap<TaskId, Queue>,
    work: BTreeMap<TaskId, Queue>,
    acquired: BTreeMap<TaskId, VecDeque<(usize, Option<StepAt>, String)>>,
    timeouts: BTreeMap<u32, (usize, Option<StepAt>)>,
    completed: BTreeMap<TaskId, (usize, TaskOutcome)>,
    released: BTreeMap<TaskId, Queue>,
    /// Deliveries that interrupt a cleanup: the `try` and the block.
    interrupting: BTreeMap<usize, (StepAt, &'static str)>,
    names: BTreeMap<TaskId, String>,
    logs: VecDeque<(usize, Option<TaskId>, usize)>,
}

impl Index {
    fn new(record: &RunRecord) -> Self {
        let mut index = Index::default();
        for (seq, (note, step)) in record.located.notes.iter().enumerate() {
            let step = *step;
            match note.clone() {
                Note::Spawn {
                    child: Some(child),
                    name,
                    ..
                } => {
                    index.spawned.insert(child, (seq, step));
                    if let Some(name) = name {
                        index.names.insert(child, name);
                    }
                }
                Note::Spawn {
                    parent: Some(parent),
                    child: None,
                    kind,
                    ..
                } => index
                    .unnamed_spawns
                    .entry(parent)
                    .or_default()
                    .push_back((seq, step, kind)),
                Note::Spawn { .. } => {}
                Note::Suspend { task, ordinal } => {
                    index.suspended.insert((task, ordinal), (seq, step));
                }
                Note::Request { target } => index
                    .requests
                    .entry(target)
                    .or_default()
                    .push_back((seq, step)),
                Note::Delivered { task, cleanup } => {
                    index
                        .delivered
                        .entry(task)
                        .or_default()
                        .push_back((seq, step));
                    if let Some(cleanup) = cleanup {
                        index.interrupting.insert(seq, cleanup);
                    }
                }
                Note::Work { task } => index.work.entry(task).or_default().push_back((seq, step)),
                Note::Acquire { task, name } => index
                    .acquired
                    .entry(task)
                    .or_default()
                    .push_back((seq, step, name)),
                Note::Timeout { scope } => {
                    index.timeouts.insert(scope, (seq, step));
                }
                Note::Log { task, index: line } => index.logs.push_back((seq, task, line)),
                Note::Release { task } => index
                    .released
                    .entry(task)
                    .or_default()
                    .push_back((seq, step)),
                Note::Complete { task, outcome } => {
                    index.completed.insert(task, (seq, outcome));
                }
            }
        }
        index
    }
}

fn pop(queues: &mut BTreeMap<TaskId, Queue>, task: TaskId) -> Option<(usize, Option<StepAt>)> {
    queues.get_mut(&task).and_then(VecDeque::pop_front)
}

/// The label a task is shown with, and whether it is shown at all.
fn label(trace: &Trace, task: TaskId) -> Option<String> {
    let label = trace.task_label(task);
    if label.starts_with("call_soon#") {
        None
    } else if label.starts_with("main#") && task.as_u32() != 0 {
        Some("asyncio.run".to_string())
    } else {
        Some(label)
    }
}

/// Replaces every mention of a hidden or renamed task in `text`.
fn relabel(trace: &Trace, text: &str, tasks: &[TaskId]) -> String {
    let mut out = text.to_string();
    for task in tasks {
        let original = trace.task_label(*task);
        let shown = label(trace, *task).unwrap_or_else(|| "a done callback".to_string());
        if shown != original {
            out = replace_label(&out, &original, &shown);
        }
    }
    out
}

/// `text` with `label` (not followed by a digit) replaced.
fn replace_label(text: &str, label: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(label) {
        let after = &rest[at + label.len()..];
        out.push_str(&rest[..at]);
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            out.push_str(label);
        } else {
            out.push_str(with);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The trace of a run of `scenario` (its `record` holds the notes of that
/// run), as the scenario reads it.
pub fn render_trace(scenario: &Scenario, trace: &Trace, record: &RunRecord) -> String {
    let mut index = Index::new(record);
    let mut children: BTreeMap<TaskId, Option<StepAt>> = BTreeMap::new();
    let header = trace.to_string();
    let mut out: String = header
        .lines()
        .take_while(|line| !line.trim_start().starts_with("step"))
        .map(|line| format!("{line}\n"))
        .collect();
    out.push_str(&format!(
        "{:>6} {:>10}  {:<12} event\n",
        "step", "time", "task"
    ));
    let mut last_step = 0;
    let emit_logs = |out: &mut String, before: Option<usize>, step: u32, index: &mut Index| {
        while let Some(&(seq, task, line)) = index.logs.front() {
            if before.is_some_and(|before| seq > before) {
                break;
            }
            index.logs.pop_front();
            if let Some(log) = record.logs.get(line) {
                let who = task
                    .and_then(|task| label(trace, task))
                    .unwrap_or_else(|| log.task.clone());
                out.push_str(&format!(
                    "{step:>6} {:>10}  {who:<12} log {:?}\n",
                    log.time.to_string(),
                    log.text
                ));
            }
        }
    };
    for event in trace.events() {
        let Some(shown) = label(trace, event.task) else {
            continue;
        };
        let line = trace.line(&event);
        let prefix = format!(
            "{:>6} {:>10}  {:<12} ",
            event.step,
            event.time.to_string(),
            trace.task_label(event.task)
        );
        let mut describe = line.get(prefix.len()..).unwrap_or(&line).to_string();
        let mut matched: Option<(usize, Option<StepAt>)> = None;
        let mut rust_at = None;
        match event.kind {
            EventKind::Spawn { child, at } => {
                if label(trace, child).is_none() {
                    continue;
                }
                rust_at = Some(at);
                matched = index.spawned.get(&child).copied().or_else(|| {
                    let next = index.unnamed_spawns.get_mut(&event.task)?.pop_front()?;
                    children.insert(child, next.1);
                    Some((next.0, next.1))
                });
            }
            EventKind::Suspend { ordinal, wait } => {
                rust_at = wait.at;
                if let Some(&(seq, step)) = index.suspended.get(&(event.task, ordinal)) {
                    matched = Some((seq, step));
                    if let Some(step) = step {
                        describe = format!(
                            "suspend at await point {ordinal} on {} ({})",
                            step.1,
                            kdl(scenario, step)
                        );
                    }
                } else if let Some(step) = children.get(&event.task).copied().flatten() {
                    matched = Some((usize::MAX, Some(step)));
                }
            }
            EventKind::CancelRequested { via, at, by } if via != CancelVia::Injection => {
                rust_at = at;
                matched = pop(&mut index.requests, event.task);
                // The interpreter's done callbacks cancel for a task group.
                let callback = by.is_some_and(|by| label(trace, by).is_none());
                if let (true, Some((_, Some(step)))) = (callback, matched) {
                    describe = format!(
                        "cancel requested by the {} at {}",
                        step.1,
                        kdl(scenario, step)
                    );
                    rust_at = None;
                }
            }
            EventKind::CancelDelivered { at } => {
                rust_at = Some(at);
                matched = pop(&mut index.delivered, event.task);
                describe = describe.replace(
                    "cancel delivered as Err(Cancelled)",
                    "CancelledError raised",
                );
                if let Some((step, block)) =
                    matched.and_then(|(seq, _)| index.interrupting.get(&seq))
                {
                    describe.push_str(&format!(
                        ", interrupting the {block} of the try at {}",
                        kdl(scenario, *step)
                    ));
                }
            }
            EventKind::Work { at, .. } => {
                rust_at = Some(at);
                matched = pop(&mut index.work, event.task);
            }
            EventKind::Acquire { at, .. } => {
                rust_at = Some(at);
                matched = index
                    .acquired
                    .get_mut(&event.task)
                    .and_then(VecDeque::pop_front)
                    .map(|(seq, step, _)| (seq, step));
            }
            EventKind::BlockingStart { at, .. } => {
                rust_at = Some(at);
                matched = children.get(&event.task).map(|step| (usize::MAX, *step));
            }
            EventKind::Release { .. } => matched = pop(&mut index.released, event.task),
            EventKind::TimeoutFired { scope, at, .. } => {
                rust_at = Some(at);
                matched = index.timeouts.get(&scope).copied();
            }
            EventKind::Complete {
                outcome: End::Returned,
            } => {
                if let Some((seq, outcome)) = index.completed.get(&event.task).cloned() {
                    matched = Some((seq, None));
                    describe = ended(&outcome);
                }
            }
            _ => {}
        }
        if let Some((seq, _)) = matched.filter(|(seq, _)| *seq != usize::MAX) {
            emit_logs(&mut out, Some(seq), last_step, &mut index);
        }
        if let Some(rust) = rust_at {
            let rust = display_location(rust);
            describe = match matched {
                Some((_, Some(step))) => describe.replace(&rust, &kdl(scenario, step)),
                // Caused by no step (asyncio.run's shutdown): no location.
                _ => describe
                    .replace(&format!(" at {rust}"), "")
                    .replace(&format!(" ({rust})"), ""),
            };
        }
        let mentioned: Vec<TaskId> = event.tasks().into_iter().flatten().collect();
        let describe = relabel(trace, &describe, &mentioned);
        last_step = event.step;
        out.push_str(&format!(
            "{:>6} {:>10}  {:<12} {describe}\n",
            event.step,
            event.time.to_string(),
            shown
        ));
    }
    emit_logs(&mut out, None, last_step, &mut index);
    out
}

/// A violation of a run of `scenario` in the scenario's words: what
/// happened, where in the file, and the fix as the scenario writes it.
pub fn explain(scenario: &Scenario, record: &RunRecord, violation: &Violation) -> String {
    let index = Index::new(record);
    let task = violation.task_id();
    let step_at_point = task
        .zip(violation.await_point())
        .and_then(|key| index.suspended.get(&key).and_then(|(_, step)| *step));
    let delivered = task.and_then(|task| {
        index
            .delivered
            .get(&task)
            .and_then(|q| q.front().and_then(|(_, step)| *step))
    });
    let acquired = task.and_then(|task| {
        index.acquired.get(&task).and_then(|q| {
            q.iter().find_map(|(_, step, name)| {
                violation
                    .message()
                    .contains(&format!("`{name}`"))
                    .then_some(*step)?
            })
        })
    });
    let at = match violation.kind() {
        ViolationCode::CancelSwallowed => delivered.or(step_at_point),
        ViolationCode::LeakedResource => acquired.or(step_at_point),
        _ => step_at_point,
    };
    let (what, hint) = words(violation);
    let mut text = format!("{}: {what}", violation.code());
    if let Some(task) = violation.task_label() {
        text.push_str(&format!("\n    task: {task}"));
        if let Some(point) = violation.await_point() {
            text.push_str(&format!(", await point {point}"));
        }
    }
    if let Some(step) = at {
        text.push_str(&format!("\n    at: {} ({})", kdl(scenario, step), step.1));
    }
    if let Some(injection) = violation.injection() {
        let task = injection.task;
        let name = if task.as_u32() == 0 {
            "main".to_string()
        } else {
            index.names.get(&task).cloned().unwrap_or_default()
        };
        let at = index
            .suspended
            .get(&(task, injection.point))
            .and_then(|(_, step)| *step)
            .map_or_else(String::new, |step| {
                format!(", {} at {}", step.1, kdl(scenario, step))
            });
        let what = match injection.kind {
            crate::InjectionKind::CancelCooperative => "a cancel",
            crate::InjectionKind::Timeout => "a timeout's expiry",
            crate::InjectionKind::TimeoutOuter => "the expiry of the timeout around its own",
            _ => injection.kind.name(),
        };
        text.push_str(&format!(
            "\n    injected: {injection} ({what} in {name}{task} at its await point {}{at})",
            injection.point
        ));
    }
    text.push_str(&format!("\n    hint: {hint}"));
    text
}

/// What a violation means and how a scenario fixes it.
fn words(violation: &Violation) -> (String, &'static str) {
    let message = violation.message();
    // The core's message without the interpreter's source locations.
    let plain = strip_locations(message);
    match violation.kind() {
        ViolationCode::CancelSwallowed => (
            "a CancelledError was caught and not re-raised, and the task went on to end normally: whoever awaits it never learns it was cancelled".to_string(),
            "end the handler with `reraise` (or `raise`); if the cancellation is the task's own to take back, `uncancel` it",
        ),
        ViolationCode::LeakedResource => (
            plain,
            "release it however the block ends: `try { … } finally { release NAME }`",
        ),
        ViolationCode::LeakedTask => (
            plain,
            "await what you spawn (`join`), or spawn it in a `group`; after a `wait-first`, `cancel` the others and `join` them in `finally`",
        ),
        ViolationCode::CancelIgnored => (
            plain,
            "a loop of `work` never awaits, so the cancel waits: put a `yield` (asyncio.sleep(0)) in it",
        ),
        ViolationCode::Deadlock => (
            plain,
            "every task waits on something nobody will do: `set` the event, `task-done` the item, `release` the lock in `finally`, or bound the wait with `timeout`",
        ),
        ViolationCode::StepLimit => (
            plain,
            "a loop that never awaits: put a `yield` in it, or bound it",
        ),
        _ => (plain, violation.hint()),
    }
}

/// `message` without ` (path.rs:1:2)` / ` at path.rs:1:2` of the interpreter.
fn strip_locations(message: &str) -> String {
    message
        .split(' ')
        .filter(|word| {
            let word = word.trim_matches(|c: char| "()`,;:".contains(c));
            !(word.contains(".rs:") && word.starts_with("src/"))
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" at ,", ",")
        .replace(" ()", "")
}

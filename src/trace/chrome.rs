//! The trace in Chrome's trace-event format, for Perfetto
//! (<https://ui.perfetto.dev>) and `chrome://tracing`.
//!
//! Layout: one process (`pid` 1) for the run; one thread lane (`tid` = task
//! id) per task, named by `thread_name` metadata (`fetch#1`) and sorted by
//! id. Each poll is a complete slice (`"ph": "X"`) from the `poll` event to
//! the task's next `suspend` or `complete`; its duration is the virtual time
//! that advanced inside the poll (CPU [`work`](crate::work)), shown as at
//! least 1 µs so that it can be seen (less only when the same task's next
//! poll starts sooner, so that slices never overlap). Suspensions, wakes,
//! cancel requests and deliveries, aborts, timeouts, injections, resources
//! and violations are thread-scoped instants (`"ph": "i"`); a deadlock and
//! the start of the drain are global instants. Each spawn is a flow
//! (`"ph": "s"` in the spawner, `"ph": "f"`, `"bp": "e"` at the spawned
//! task's first poll). Every instant carries the event's JSON-lines fields
//! as `args`.
//!
//! Timestamps are microseconds of virtual time (fractional: nanosecond
//! precision). Nothing in the output depends on the machine or the run's
//! wall-clock time.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{EventKind, Outcome, Trace};
use crate::vocab::TaskId;

/// The shortest slice drawn, in nanoseconds of virtual time.
const MIN_SLICE_NANOS: u64 = 1_000;
/// The single process of the trace.
const PID: u32 = 1;

fn micros(nanos: u64) -> Value {
    json!(nanos as f64 / 1_000.0)
}

/// One poll of one task.
struct Slice {
    task: TaskId,
    start: u64,
    end: u64,
    step: u32,
    ended: String,
}

impl Trace {
    /// The trace in Chrome trace-event JSON (an object with `traceEvents`),
    /// which Perfetto and `chrome://tracing` open. Layout in the
    /// [module documentation](self).
    ///
    /// ```
    /// let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    /// sim.block_on(async { cancelsim::yield_now().await }).unwrap();
    /// let chrome: serde_json::Value = serde_json::from_str(&sim.trace().to_chrome_json()).unwrap();
    /// assert!(chrome["traceEvents"].as_array().unwrap().iter().any(|e| e["ph"] == "X"));
    /// ```
    pub fn to_chrome_json(&self) -> String {
        let mut events: Vec<Value> = Vec::new();
        events.push(json!({
            "ph": "M", "name": "process_name", "pid": PID,
            "args": {"name": format!("cancelsim seed {} {}", self.seed(), self.scheduler())},
        }));
        for task in self.tasks_seen() {
            events.push(json!({
                "ph": "M", "name": "thread_name", "pid": PID, "tid": task.as_u32(),
                "args": {"name": self.task_label(task)},
            }));
            events.push(json!({
                "ph": "M", "name": "thread_sort_index", "pid": PID, "tid": task.as_u32(),
                "args": {"sort_index": task.as_u32()},
            }));
        }

        let slices = self.poll_slices();
        let mut first_poll: BTreeMap<TaskId, u64> = BTreeMap::new();
        let mut next_start: BTreeMap<TaskId, u64> = BTreeMap::new();
        let mut shown = vec![0u64; slices.len()];
        for (index, slice) in slices.iter().enumerate().rev() {
            let real = slice.end - slice.start;
            shown[index] = if real >= MIN_SLICE_NANOS {
                real
            } else {
                match next_start.get(&slice.task) {
                    Some(&next) if next > slice.start => MIN_SLICE_NANOS.min(next - slice.start),
                    _ => MIN_SLICE_NANOS,
                }
                .max(real)
            };
            next_start.insert(slice.task, slice.start);
            first_poll.insert(slice.task, slice.start);
        }
        for (slice, dur) in slices.iter().zip(shown) {
            events.push(json!({
                "ph": "X", "name": "poll", "cat": "poll", "pid": PID, "tid": slice.task.as_u32(),
                "ts": micros(slice.start), "dur": micros(dur),
                "args": {"step": slice.step, "ended": slice.ended, "virtual_ns": slice.end - slice.start},
            }));
        }

        for event in self.events() {
            let ts = event.time.as_nanos();
            let tid = event.task.as_u32();
            let name = match event.kind {
                EventKind::Poll
                | EventKind::Work { .. }
                | EventKind::Random { .. }
                | EventKind::Choice { .. } => continue,
                EventKind::Spawn { child, .. } => {
                    if let Some(&start) = first_poll.get(&child) {
                        let id = child.as_u32();
                        events.push(json!({
                            "ph": "s", "name": "spawn", "cat": "spawn", "id": id,
                            "pid": PID, "tid": tid, "ts": micros(ts),
                        }));
                        events.push(json!({
                            "ph": "f", "bp": "e", "name": "spawn", "cat": "spawn", "id": id,
                            "pid": PID, "tid": id, "ts": micros(start),
                        }));
                    }
                    format!("spawn {}", self.task_label(child))
                }
                EventKind::Suspend { ordinal, .. } => format!("await point {ordinal}"),
                EventKind::Wake { .. } => "wake".to_string(),
                EventKind::CancelRequested { .. } => "cancel requested".to_string(),
                EventKind::CancelDelivered { .. } => "cancel delivered".to_string(),
                EventKind::Abort { .. } => "abort".to_string(),
                EventKind::BlockingStart { .. } => "blocking start".to_string(),
                EventKind::BlockingEnd => "blocking end".to_string(),
                EventKind::HeldForExpiry { .. } => "held for expiry".to_string(),
                EventKind::TimeoutFired { race: Some(_), .. } => {
                    "select! timer branch won".to_string()
                }
                EventKind::TimeoutFired { .. } => "timeout fired".to_string(),
                EventKind::SelectWon { branch, .. } => format!("select! branch {branch} won"),
                EventKind::SignalFired => "signal fired".to_string(),
                EventKind::Complete { outcome } => match outcome {
                    Outcome::Returned => "complete".to_string(),
                    Outcome::Aborted => "complete (aborted)".to_string(),
                    Outcome::Panicked(_) => "complete (panicked)".to_string(),
                },
                EventKind::Injected { kind, point, .. } => {
                    format!("injected {} at await point {point}", kind.name())
                }
                EventKind::Acquire { name, .. } => {
                    format!("acquire {}", self.message(name).unwrap_or("?"))
                }
                EventKind::Release { name } => {
                    format!("release {}", self.message(name).unwrap_or("?"))
                }
                EventKind::Violation { code } => format!("violation {code}"),
                EventKind::Deadlock | EventKind::Drain | EventKind::GraceRun { .. } => {
                    events.push(json!({
                        "ph": "i", "s": "g", "name": event.kind.name(), "cat": event.kind.name(),
                        "pid": PID, "tid": tid, "ts": micros(ts),
                        "args": self.json_value(&event),
                    }));
                    continue;
                }
            };
            events.push(json!({
                "ph": "i", "s": "t", "name": name, "cat": event.kind.name(),
                "pid": PID, "tid": tid, "ts": micros(ts),
                "args": self.json_value(&event),
            }));
        }

        let document = json!({
            "traceEvents": events,
            "displayTimeUnit": "ms",
            "otherData": {
                "format": "cancelsim-trace-chrome",
                "version": super::json::JSON_FORMAT_VERSION,
                "seed": self.seed(),
                "scheduler": self.scheduler(),
                "dropped_events": self.dropped(),
            },
        });
        serde_json::to_string(&document).expect("JSON of plain values")
    }

    fn json_value(&self, event: &super::Event) -> Value {
        serde_json::to_value(self.json_line(event)).expect("JSON of plain values")
    }

    /// Every poll, from its `poll` event to the task's next suspension or
    /// completion (or the end of the trace), in start order.
    fn poll_slices(&self) -> Vec<Slice> {
        let mut slices: Vec<Slice> = Vec::new();
        let mut open: BTreeMap<TaskId, usize> = BTreeMap::new();
        let mut last = 0;
        for event in self.events() {
            let time = event.time.as_nanos();
            last = time;
            let ended = match event.kind {
                EventKind::Poll => {
                    if let Some(index) = open.remove(&event.task) {
                        slices[index].end = time;
                    }
                    open.insert(event.task, slices.len());
                    slices.push(Slice {
                        task: event.task,
                        start: time,
                        end: time,
                        step: event.step,
                        ended: "trace ended".to_string(),
                    });
                    continue;
                }
                EventKind::Suspend { ordinal, .. } => format!("suspended at await point {ordinal}"),
                EventKind::Complete { outcome } => match outcome {
                    Outcome::Returned => "completed".to_string(),
                    Outcome::Aborted => "aborted".to_string(),
                    Outcome::Panicked(_) => "panicked".to_string(),
                },
                _ => continue,
            };
            if let Some(index) = open.remove(&event.task) {
                slices[index].end = time;
                slices[index].ended = ended;
            }
        }
        for index in open.into_values() {
            slices[index].end = last.max(slices[index].start);
        }
        slices
    }
}

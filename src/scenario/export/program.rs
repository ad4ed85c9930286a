//! Writing the program: the prelude, one `async def` per task, the call.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::scenario::model::{Block, Resolution, Scenario, StepKind};

const PRELUDE: &str = include_str!("prelude.py");

/// The loop's time unit for `scenario`, in nanoseconds: the largest of 1 s,
/// 1 ms, 1 µs and 1 ns that divides every duration it names.
pub fn time_unit(scenario: &Scenario) -> u64 {
    let mut durations = Vec::new();
    for task in scenario.tasks.values() {
        durations_in(&task.body, &mut durations);
    }
    durations.extend(scenario.expect.time);
    [1_000_000_000, 1_000_000, 1_000, 1]
        .into_iter()
        .find(|unit| {
            durations
                .iter()
                .all(|d| d.as_nanos() % u128::from(*unit) == 0)
        })
        .unwrap_or(1)
}

fn durations_in(block: &Block, out: &mut Vec<Duration>) {
    for step in block.iter() {
        match &step.kind {
            StepKind::Sleep(d) | StepKind::Work(d) => out.push(*d),
            StepKind::Blocking { cost, .. } => out.push(*cost),
            StepKind::Timeout { duration, .. } => out.push(*duration),
            _ => {}
        }
        for nested in step.kind.blocks() {
            durations_in(nested, out);
        }
    }
}

/// The asyncio program that `scenario` models, as Python source.
pub fn export_python(scenario: &Scenario) -> String {
    let unit = time_unit(scenario);
    let functions: BTreeMap<&str, String> = scenario
        .tasks
        .keys()
        .enumerate()
        .map(|(index, name)| (name.as_str(), function_name(name, index)))
        .collect();
    let mut out = String::new();
    let _ = writeln!(out, "#!/usr/bin/env python3");
    let _ = writeln!(
        out,
        "# The asyncio program that the scenario {} models, written by `cancelsim export --python`.",
        scenario.path
    );
    if let Some(about) = &scenario.about {
        let _ = writeln!(out, "# {about}");
    }
    let _ = writeln!(
        out,
        "# Loop time is virtual: one unit is {}.",
        unit_name(unit)
    );
    let _ = writeln!(out, "UNIT_NS = {unit}");
    out.push_str(PRELUDE);
    for (name, task) in &scenario.tasks {
        let mut writer = Writer {
            out: String::new(),
            unit,
            functions: &functions,
            task: name,
            groups: 0,
            shields: 0,
        };
        let _ = writeln!(writer.out, "\n\nasync def {}():", functions[name.as_str()]);
        writer.block(&task.body, 1);
        out.push_str(&writer.out);
    }
    let _ = writeln!(out, "\n\nif __name__ == \"__main__\":");
    let _ = writeln!(out, "    run({})", functions["main"]);
    out
}

fn unit_name(unit: u64) -> &'static str {
    match unit {
        1_000_000_000 => "1 s",
        1_000_000 => "1 ms",
        1_000 => "1 µs",
        _ => "1 ns",
    }
}

/// `task_<name>`, with what is not a Python identifier character replaced.
fn function_name(name: &str, index: usize) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if clean == name.replace('-', "_") && !name.contains('_') {
        format!("task_{clean}")
    } else {
        format!("task_{clean}_{index}")
    }
}

/// A Python string literal.
fn string(text: &str) -> String {
    serde_json::to_string(text).expect("a string")
}

struct Writer<'a> {
    out: String,
    unit: u64,
    functions: &'a BTreeMap<&'a str, String>,
    /// The scenario task being written.
    task: &'a str,
    /// `async with TaskGroup() as gN` blocks open around the current line.
    groups: usize,
    shields: usize,
}

impl Writer<'_> {
    fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn units(&self, duration: Duration) -> String {
        (duration.as_nanos() / u128::from(self.unit)).to_string()
    }

    fn block(&mut self, block: &Block, depth: usize) {
        if block.is_empty() {
            self.line(depth, "pass");
        }
        for step in block.iter() {
            self.step(&step.kind, depth);
        }
    }

    fn step(&mut self, kind: &StepKind, depth: usize) {
        let task = string(self.task);
        match kind {
            StepKind::Sleep(d) => {
                let text = format!("await asyncio.sleep({})", self.units(*d));
                self.line(depth, &text);
            }
            StepKind::Yield => self.line(depth, "await asyncio.sleep(0)"),
            StepKind::Work(d) => {
                let text = format!("_work({})", self.units(*d));
                self.line(depth, &text);
            }
            StepKind::Blocking { cost, log } => {
                let text = format!(
                    "await _blocking({task}, {}, {})",
                    self.units(*cost),
                    log.as_deref().map_or_else(|| "None".to_string(), string)
                );
                self.line(depth, &text);
            }
            StepKind::Acquire(name) => {
                self.line(depth, &format!("await _acquire({})", string(name)))
            }
            StepKind::Release(name) => self.line(depth, &format!("_release({})", string(name))),
            StepKind::Log(text) => self.line(depth, &format!("log({task}, {})", string(text))),
            StepKind::Spawn(name) => {
                let group = if self.groups > 0 {
                    format!(", g{}", self.groups)
                } else {
                    String::new()
                };
                let text = format!(
                    "_spawn({}, {}(){group})",
                    string(name),
                    self.functions[name.as_str()]
                );
                self.line(depth, &text);
            }
            StepKind::Join { task, expect } => {
                let text = match expect {
                    crate::scenario::JoinExpect::Value => {
                        format!("await _task({}, \"join\")", string(task))
                    }
                    other => format!("await _join({}, {})", string(task), string(other.name())),
                };
                self.line(depth, &text);
            }
            StepKind::Cancel(name) => self.line(depth, &format!("_cancel({})", string(name))),
            StepKind::Timeout { duration, body } => {
                let text = format!("async with asyncio.timeout({}):", self.units(*duration));
                self.line(depth, &text);
                self.block(body, depth + 1);
            }
            StepKind::Shield(body) => {
                self.shields += 1;
                let name = format!("_shield_{}", self.shields);
                self.line(depth, &format!("async def {name}():"));
                // The body runs as its own task: not in the groups around.
                let groups = std::mem::replace(&mut self.groups, 0);
                self.block(body, depth + 1);
                self.groups = groups;
                self.line(depth, &format!("await asyncio.shield({name}())"));
            }
            StepKind::ShieldTask(name) => {
                let text = format!("await asyncio.shield(_task({}, \"shield\"))", string(name));
                self.line(depth, &text);
            }
            StepKind::Try {
                body,
                on_cancel,
                on_error,
                finally,
            } => {
                self.line(depth, "try:");
                self.block(body, depth + 1);
                if let Some((handler, resolution)) = on_cancel {
                    self.line(depth, "except asyncio.CancelledError:");
                    if handler.is_empty() && *resolution == Resolution::Swallow {
                        self.line(depth + 1, "pass");
                    } else if !handler.is_empty() {
                        self.block(handler, depth + 1);
                    }
                    if *resolution == Resolution::Reraise {
                        self.line(depth + 1, "raise");
                    }
                }
                if let Some(handler) = on_error {
                    self.line(depth, "except Exception:");
                    self.block(handler, depth + 1);
                }
                if let Some(handler) = finally {
                    self.line(depth, "finally:");
                    self.block(handler, depth + 1);
                }
            }
            StepKind::WaitFirst(tasks) => {
                let names: Vec<String> = tasks.iter().map(|t| string(t)).collect();
                self.line(depth, &format!("await _wait_first({})", names.join(", ")));
            }
            StepKind::Group(body) => {
                self.groups += 1;
                let text = format!("async with TaskGroup() as g{}:", self.groups);
                self.line(depth, &text);
                self.block(body, depth + 1);
                self.groups -= 1;
            }
            StepKind::Repeat { count, body } => {
                self.line(depth, &format!("for _ in range({count}):"));
                self.block(body, depth + 1);
            }
            StepKind::Fail(message) => {
                self.line(depth, &format!("raise RuntimeError({})", string(message)))
            }
            StepKind::Return(value) => self.line(depth, &format!("return {}", string(value))),
        }
    }
}

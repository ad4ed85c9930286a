//! Writing the program: the prelude, the declared primitives and exception
//! types, one `async def` per task, the call.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use super::statements::Writer;
use crate::scenario::exceptions::python_name;
use crate::scenario::model::{Block, PrimitiveKind, Scenario, StepKind};

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
            StepKind::WaitFor { timeout, .. } => out.push(*timeout),
            StepKind::Wait {
                timeout: Some(timeout),
                ..
            } => out.push(*timeout),
            _ => {}
        }
        for nested in step.kind.blocks() {
            durations_in(nested, out);
        }
    }
}

/// Every exception type the scenario names (raised or caught).
fn exception_types(block: &Block, out: &mut BTreeSet<String>) {
    for step in block.iter() {
        match &step.kind {
            StepKind::Raise {
                kind: Some(kind), ..
            } => {
                out.insert(kind.clone());
            }
            StepKind::Try { handlers, .. } => {
                out.extend(handlers.iter().flat_map(|h| h.kinds.iter().cloned()));
            }
            _ => {}
        }
        for nested in step.kind.blocks() {
            exception_types(nested, out);
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
        .map(|(index, name)| (name.as_str(), python_identifier("task", name, index)))
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
    let mut types = BTreeSet::new();
    for task in scenario.tasks.values() {
        exception_types(&task.body, &mut types);
    }
    let own: Vec<String> = types
        .iter()
        .filter(|kind| python_name(kind).1)
        .cloned()
        .collect();
    if !own.is_empty() || !scenario.primitives.is_empty() {
        out.push_str("\n\n# The scenario's own exception types and its primitives.\n");
    }
    for kind in &own {
        let _ = writeln!(out, "class {kind}(Exception):\n    pass\n");
    }
    for (name, primitive) in &scenario.primitives {
        let made = match primitive.kind {
            PrimitiveKind::Queue { maxsize } => format!("asyncio.Queue(maxsize={maxsize})"),
            PrimitiveKind::Event => "asyncio.Event()".to_string(),
            PrimitiveKind::Condition => "asyncio.Condition()".to_string(),
            PrimitiveKind::Semaphore { value } => format!("asyncio.Semaphore({value})"),
        };
        let _ = writeln!(out, "P[{}] = {made}", super::statements::string(name));
    }
    for (name, task) in &scenario.tasks {
        let mut writer = Writer::new(scenario, unit, &functions, task);
        writer.function(&functions[name.as_str()]);
        out.push_str(&writer.into_source());
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

/// `<prefix>_<name>`, with what is not a Python identifier character
/// replaced (and a number to keep names apart when something was).
pub(super) fn python_identifier(prefix: &str, name: &str, index: usize) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        format!("{prefix}_{clean}")
    } else {
        format!("{prefix}_{clean}_{index}")
    }
}

//! Static checks of a parsed scenario: what can be known wrong before any
//! run (a missing `main`, a task that is used but never defined or never
//! spawned, a cycle of tasks spawning each other without bound).

use std::collections::{BTreeMap, BTreeSet};

use miette::SourceSpan;

use super::error::ScenarioError;
use super::model::{Block, Scenario, StepKind};

/// Validates `scenario`; the first problem found, in file order.
pub fn check(scenario: &Scenario) -> Result<(), ScenarioError> {
    let error = |span: SourceSpan, message: String, label: &str, help: String| {
        ScenarioError::new(&scenario.path, &scenario.source, span, message, label, help)
    };
    if !scenario.tasks.contains_key("main") {
        return Err(error(
            SourceSpan::from((0, 0)),
            "no `main` task".to_string(),
            "the root task is missing",
            "add `task main { … }`: it is the root, the task every run starts with".to_string(),
        ));
    }
    let defined: Vec<&str> = scenario.tasks.keys().map(String::as_str).collect();
    // Which task spawns which (the spawn graph), and every use of a task.
    let mut spawns: BTreeMap<&str, Vec<(&str, SourceSpan)>> = BTreeMap::new();
    let mut uses = Vec::new();
    for task in scenario.tasks.values() {
        let mut found = Vec::new();
        collect(&task.body, &mut found)?;
        for (keyword, target, span) in found {
            if keyword == "spawn" {
                spawns.entry(&task.name).or_default().push((target, span));
            }
            uses.push((keyword, target, span));
        }
    }
    let spawned: BTreeSet<&str> = spawns.values().flatten().map(|(t, _)| *t).collect();
    for (keyword, target, span) in &uses {
        if !scenario.tasks.contains_key(*target) {
            return Err(error(
                *span,
                format!("`{keyword} {target}`: task `{target}` is not defined"),
                "undefined task",
                format!(
                    "define it with `task {target} {{ … }}`, or use one of: {}",
                    defined.join(", ")
                ),
            ));
        }
        if *target == "main" {
            return Err(error(
                *span,
                format!("`{keyword} main`: `main` is the root task"),
                "the root",
                "`main` starts every run; put the work in another task and spawn that".to_string(),
            ));
        }
        if *keyword != "spawn" && !spawned.contains(target) {
            return Err(error(
                *span,
                format!("`{keyword} {target}`: task `{target}` is never spawned"),
                "never spawned",
                format!("add `spawn {target}` before it (in this or another task)"),
            ));
        }
    }
    // A cycle in the spawn graph spawns without bound (there are no conditions).
    for start in spawns.keys() {
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, vec![start])];
        let mut seen = BTreeSet::new();
        while let Some((task, path)) = stack.pop() {
            for (next, span) in spawns.get(task).map(Vec::as_slice).unwrap_or(&[]) {
                if next == start {
                    let mut cycle = path.clone();
                    cycle.push(next);
                    return Err(error(
                        *span,
                        format!("unbounded spawn cycle: {}", cycle.join(" → ")),
                        "spawns without bound",
                        "a task that (indirectly) spawns itself runs forever; use `repeat N { … }` for a bounded loop".to_string(),
                    ));
                }
                if seen.insert(*next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
    }
    for expected in &scenario.expect.outcomes {
        if !scenario.tasks.contains_key(&expected.task) {
            return Err(error(
                expected.span,
                format!("expected outcome of undefined task `{}`", expected.task),
                "undefined task",
                format!("tasks are: {}", defined.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Every (keyword, task, span) that names a task, in `block` and its
/// nested blocks.
fn collect<'a>(
    block: &'a Block,
    out: &mut Vec<(&'static str, &'a str, SourceSpan)>,
) -> Result<(), ScenarioError> {
    for step in block.iter() {
        match &step.kind {
            StepKind::Spawn(task)
            | StepKind::Cancel(task)
            | StepKind::ShieldTask(task)
            | StepKind::Join { task, .. } => out.push((step.kind.keyword(), task, step.span)),
            StepKind::WaitFirst(tasks) => {
                for task in tasks {
                    out.push(("wait-first", task, step.span));
                }
            }
            _ => {}
        }
        for nested in step.kind.blocks() {
            collect(nested, out)?;
        }
    }
    Ok(())
}

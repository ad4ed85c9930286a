//! Static checks of a parsed scenario: what can be known wrong before any
//! run — a missing `main`; a task, queue, event, condition, semaphore or
//! variable that is used but never defined, declared, spawned or set; a
//! `spawn` with the wrong number of arguments; `break` outside `repeat`
//! and a bare `raise` outside a handler; a cycle of tasks spawning each
//! other without bound.
//!
//! `walk` collects what each task uses; this file judges it.

mod walk;

use std::collections::{BTreeMap, BTreeSet};

use miette::SourceSpan;

use super::error::ScenarioError;
use super::model::{PrimitiveKind, Scenario};
use walk::{walk_task, Uses};

/// Validates `scenario`; the first problem found, in file order.
pub fn check(scenario: &Scenario) -> Result<(), ScenarioError> {
    let error = |span: SourceSpan, message: String, label: &str, help: String| {
        ScenarioError::new(&scenario.path, &scenario.source, span, message, label, help)
    };
    let Some(main) = scenario.tasks.get("main") else {
        return Err(error(
            SourceSpan::from((0, 0)),
            "no `main` task".to_string(),
            "the root task is missing",
            "add `task main { … }`: it is the root, the task every run starts with".to_string(),
        ));
    };
    if !main.params.is_empty() {
        return Err(error(
            main.span,
            "`main` takes no parameters".to_string(),
            "the root",
            "asyncio.run starts `main` with no arguments; give parameters to the tasks it spawns"
                .to_string(),
        ));
    }
    for primitive in scenario.primitives.values() {
        if scenario.tasks.contains_key(&primitive.name) {
            return Err(error(
                primitive.span,
                format!(
                    "`{}` names both a task and {}",
                    primitive.name,
                    with_article(primitive.kind.keyword())
                ),
                "name taken",
                "give the primitive a name of its own".to_string(),
            ));
        }
    }
    let defined: Vec<&str> = scenario.tasks.keys().map(String::as_str).collect();
    let mut uses: BTreeMap<&str, Uses> = BTreeMap::new();
    for task in scenario.tasks.values() {
        let found =
            walk_task(task).map_err(|(span, message, help)| error(span, message, "here", help))?;
        uses.insert(&task.name, found);
    }
    // What `spawn` starts, and the names tasks are known by.
    let mut handles: BTreeSet<&str> = BTreeSet::new();
    for found in uses.values() {
        for spawn in &found.spawns {
            let Some(def) = scenario.tasks.get(spawn.task) else {
                return Err(error(
                    spawn.span,
                    format!(
                        "`spawn {}`: task `{}` is not defined",
                        spawn.task, spawn.task
                    ),
                    "undefined task",
                    format!(
                        "define it with `task {} {{ … }}`, or use one of: {}",
                        spawn.task,
                        defined.join(", ")
                    ),
                ));
            };
            if spawn.task == "main" || spawn.name == "main" {
                return Err(error(
                    spawn.span,
                    "`spawn main`: `main` is the root task".to_string(),
                    "the root",
                    "`main` starts every run; put the work in another task and spawn that"
                        .to_string(),
                ));
            }
            if spawn.args != def.params.len() {
                return Err(error(
                    spawn.span,
                    format!(
                        "`spawn {}` gives {} argument{}, task `{}` takes {}",
                        spawn.task,
                        spawn.args,
                        if spawn.args == 1 { "" } else { "s" },
                        def.name,
                        def.params.len()
                    ),
                    "wrong number of arguments",
                    if def.params.is_empty() {
                        format!("write `spawn {}`", def.name)
                    } else {
                        format!(
                            "write `spawn {} {}`",
                            def.name,
                            def.params.join(" ").to_uppercase()
                        )
                    },
                ));
            }
            handles.insert(spawn.name);
        }
    }
    for (task, found) in &uses {
        for (keyword, target, span) in &found.tasks {
            if found.sets.contains(target) && matches!(*keyword, "join" | "cancel") {
                continue;
            }
            if *target == "main" {
                return Err(error(
                    *span,
                    format!("`{keyword} main`: `main` is the root task"),
                    "the root",
                    "`main` starts every run; put the work in another task and spawn that"
                        .to_string(),
                ));
            }
            if handles.contains(target) {
                continue;
            }
            return Err(if scenario.tasks.contains_key(*target) {
                error(
                    *span,
                    format!("`{keyword} {target}`: task `{target}` is never spawned"),
                    "never spawned",
                    format!("add `spawn {target}` before it (in this or another task)"),
                )
            } else {
                error(
                    *span,
                    format!("`{keyword} {target}`: task `{target}` is not defined"),
                    "undefined task",
                    format!(
                        "define it with `task {target} {{ … }}`, spawn a task `as={target}`, or use one of: {}",
                        handles.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                )
            });
        }
        for (keyword, name, wanted, span) in &found.primitives {
            let declared = scenario.primitives.get(*name).map(|p| p.kind);
            let fits = |kind: PrimitiveKind| {
                wanted
                    .iter()
                    .any(|w| std::mem::discriminant(w) == std::mem::discriminant(&kind))
            };
            match declared {
                Some(kind) if fits(kind) => {}
                None if *keyword == "acquire" || *keyword == "release" => {}
                Some(kind) => {
                    return Err(error(
                        *span,
                        format!(
                            "`{keyword} {name}`: `{name}` is {}",
                            with_article(kind.keyword())
                        ),
                        "wrong kind",
                        format!("`{keyword}` takes {}", kinds(wanted)),
                    ))
                }
                None => {
                    return Err(error(
                        *span,
                        format!("`{keyword} {name}`: nothing called `{name}` is declared"),
                        "not declared",
                        format!(
                            "declare {} at the top level, e.g. `{} {name}`",
                            kinds(wanted),
                            wanted[0].keyword()
                        ),
                    ))
                }
            }
        }
        for (var, span) in &found.reads {
            if !found.assigned.contains(var) {
                return Err(error(
                    *span,
                    format!("`{{{var}}}`: task `{task}` never sets `{var}`"),
                    "not set",
                    format!(
                        "set it with `let {var} \"…\"` or `into={var}` on a step, or make it a parameter (`task {task} {var} {{ … }}`)"
                    ),
                ));
            }
        }
    }
    spawn_cycles(&uses, &error)?;
    for expected in &scenario.expect.outcomes {
        if !scenario.tasks.contains_key(&expected.task) && !handles.contains(expected.task.as_str())
        {
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

fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

fn kinds(wanted: &[PrimitiveKind]) -> String {
    let names: Vec<String> = wanted.iter().map(|k| with_article(k.keyword())).collect();
    match names.as_slice() {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        [] => String::new(),
    }
}

/// A cycle in the spawn graph spawns without bound.
fn spawn_cycles(
    uses: &BTreeMap<&str, Uses>,
    error: &dyn Fn(SourceSpan, String, &str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    let spawns: BTreeMap<&str, Vec<(&str, SourceSpan)>> = uses
        .iter()
        .map(|(task, found)| {
            (
                *task,
                found.spawns.iter().map(|s| (s.task, s.span)).collect(),
            )
        })
        .collect();
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
    Ok(())
}

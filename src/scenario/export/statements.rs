//! Writing one task's `async def`: a Python statement per step.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::program::python_identifier;
use crate::scenario::exceptions::python_name;
use crate::scenario::model::{
    Block, Cond, Handler, JoinExpect, PrimitiveKind, Resolution, Scenario, StepKind, TaskDef, Text,
    TextPart,
};

/// A Python string literal.
pub(super) fn string(text: &str) -> String {
    serde_json::to_string(text).expect("a string")
}

pub(super) struct Writer<'a> {
    out: String,
    scenario: &'a Scenario,
    unit: u64,
    functions: &'a BTreeMap<&'a str, String>,
    task: &'a TaskDef,
    /// Python names of the task's variables.
    vars: BTreeMap<String, String>,
    /// The variables that hold sets of tasks.
    sets: BTreeSet<String>,
    /// `async with TaskGroup() as gN` blocks open around the current line.
    groups: usize,
    shields: usize,
}

fn collect_vars(block: &Block, vars: &mut BTreeSet<String>, sets: &mut BTreeSet<String>) {
    for step in block.iter() {
        vars.extend(step.kind.assigns().into_iter().map(str::to_string));
        match &step.kind {
            StepKind::Wait { done, pending, .. } => {
                sets.extend(done.iter().chain(pending.iter()).cloned());
            }
            StepKind::Try { handlers, .. } => {
                vars.extend(handlers.iter().filter_map(|h| h.bind.clone()));
            }
            _ => {}
        }
        for nested in step.kind.blocks() {
            collect_vars(nested, vars, sets);
        }
    }
}

impl<'a> Writer<'a> {
    pub(super) fn new(
        scenario: &'a Scenario,
        unit: u64,
        functions: &'a BTreeMap<&'a str, String>,
        task: &'a TaskDef,
    ) -> Self {
        let mut names: BTreeSet<String> = task.params.iter().cloned().collect();
        let mut sets = BTreeSet::new();
        collect_vars(&task.body, &mut names, &mut sets);
        let vars = names
            .into_iter()
            .enumerate()
            .map(|(index, name)| {
                let python = python_identifier("v", &name, index);
                (name, python)
            })
            .collect();
        Writer {
            out: String::new(),
            scenario,
            unit,
            functions,
            task,
            vars,
            sets,
            groups: 0,
            shields: 0,
        }
    }

    pub(super) fn into_source(self) -> String {
        self.out
    }

    /// The task's `async def`.
    pub(super) fn function(&mut self, name: &str) {
        let params: Vec<&str> = self
            .task
            .params
            .iter()
            .map(|param| self.vars[param].as_str())
            .collect();
        let header = format!("\n\nasync def {name}({}):", params.join(", "));
        self.line(0, &header);
        let locals: Vec<String> = self
            .vars
            .iter()
            .filter(|(name, _)| !self.task.params.contains(name))
            .map(|(_, python)| format!("{python} = None"))
            .collect();
        for local in locals {
            self.line(1, &local);
        }
        let body = self.task.body.clone();
        self.block(&body, 1);
        self.line(1, "return \"none\"");
    }

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

    fn var(&self, name: &str) -> String {
        self.vars
            .get(name)
            .cloned()
            .unwrap_or_else(|| "None".to_string())
    }

    /// A Python expression for a text: a string, or an f-string.
    fn text(&self, text: &Text) -> String {
        if text.vars().next().is_none() {
            return string(&text.to_string().replace("{{", "{").replace("}}", "}"));
        }
        let mut inner = String::new();
        for part in &text.parts {
            match part {
                TextPart::Literal(literal) => {
                    let quoted = string(literal);
                    let escaped = &quoted[1..quoted.len() - 1];
                    inner.push_str(&escaped.replace('{', "{{").replace('}', "}}"));
                }
                TextPart::Var(name) => inner.push_str(&format!("{{_s({})}}", self.var(name))),
            }
        }
        format!("f\"{inner}\"")
    }

    /// The tasks a name stands for, as a Python expression.
    fn task_ref(&self, name: &str, keyword: &str) -> String {
        format!("_task({}, {})", string(name), string(keyword))
    }

    /// Several names, sets expanded, as a Python list.
    fn task_list(&self, names: &[String], keyword: &str) -> String {
        let items: Vec<String> = names
            .iter()
            .map(|name| {
                if self.sets.contains(name) {
                    format!("*_tasks({})", self.var(name))
                } else {
                    self.task_ref(name, keyword)
                }
            })
            .collect();
        format!("[{}]", items.join(", "))
    }

    fn assign(&self, into: Option<&String>, expression: &str) -> String {
        match into {
            Some(var) => format!("{} = {expression}", self.var(var)),
            None => expression.to_string(),
        }
    }

    fn primitive(&self, name: &str) -> String {
        format!("P[{}]", string(name))
    }

    fn cond(&self, cond: &Cond) -> String {
        match cond {
            Cond::Done(task) => format!("{}.done()", self.task_ref(task, "if done")),
            Cond::Cancelled(task) => format!("{}.cancelled()", self.task_ref(task, "if cancelled")),
            Cond::Cancelling => "asyncio.current_task().cancelling() > 0".to_string(),
            Cond::IsSet(event) => format!("{}.is_set()", self.primitive(event)),
            Cond::Empty(queue) => format!("{}.empty()", self.primitive(queue)),
            Cond::Equal(a, b) => format!("{} == {}", self.text(a), self.text(b)),
            Cond::Not(inner) => format!("not ({})", self.cond(inner)),
        }
    }

    pub(super) fn block(&mut self, block: &Block, depth: usize) {
        if block.is_empty() {
            self.line(depth, "pass");
        }
        for step in block.iter() {
            self.step(&step.kind, depth);
        }
    }

    fn step(&mut self, kind: &StepKind, depth: usize) {
        let line = match kind {
            StepKind::Sleep(d) => format!("await asyncio.sleep({})", self.units(*d)),
            StepKind::Yield => "await asyncio.sleep(0)".to_string(),
            StepKind::Work(d) => format!("_work({})", self.units(*d)),
            StepKind::Blocking { cost, log } => format!(
                "await _blocking(_name(), {}, {})",
                self.units(*cost),
                log.as_ref()
                    .map_or_else(|| "None".to_string(), |log| self.text(log))
            ),
            StepKind::Acquire(name) => format!("await _acquire({})", string(name)),
            StepKind::Release(name) => format!("_release({})", string(name)),
            StepKind::Log(text) => format!("log(_name(), {})", self.text(text)),
            StepKind::Let { var, value } => format!("{} = {}", self.var(var), self.text(value)),
            StepKind::Spawn { task, args, name } => {
                let group = if self.groups > 0 {
                    format!(", g{}", self.groups)
                } else {
                    String::new()
                };
                let args: Vec<String> = args.iter().map(|arg| self.text(arg)).collect();
                format!(
                    "_spawn({}, {}({}){group})",
                    string(name.as_deref().unwrap_or(task)),
                    self.functions[task.as_str()],
                    args.join(", ")
                )
            }
            StepKind::Join { task, expect, into } => {
                let call = match expect {
                    JoinExpect::Value => "await _join_task({}, \"value\")".to_string(),
                    other => format!("await _join_task({{}}, {})", string(other.name())),
                };
                if self.sets.contains(task) {
                    self.line(depth, &format!("for _each in _tasks({}):", self.var(task)));
                    let each = self.assign(into.as_ref(), &call.replace("{}", "_each"));
                    self.line(depth + 1, &each);
                    return;
                }
                let one = call.replace("{}", &self.task_ref(task, "join"));
                self.assign(into.as_ref(), &one)
            }
            StepKind::Cancel { task, message } => {
                let message = message
                    .as_ref()
                    .map_or_else(|| "None".to_string(), |m| self.text(m));
                if self.sets.contains(task) {
                    self.line(depth, &format!("for _each in _tasks({}):", self.var(task)));
                    self.line(depth + 1, &format!("_each.cancel({message})"));
                    return;
                }
                format!("_cancel({}, {message})", string(task))
            }
            StepKind::Uncancel { into } => {
                self.assign(into.as_ref(), "str(asyncio.current_task().uncancel())")
            }
            StepKind::Cancelling { into } => format!(
                "{} = str(asyncio.current_task().cancelling())",
                self.var(into)
            ),
            StepKind::Result { task, into } => format!(
                "{} = {}.result()",
                self.var(into),
                self.task_ref(task, "result")
            ),
            StepKind::Timeout { duration, body } => {
                let text = format!("async with asyncio.timeout({}):", self.units(*duration));
                self.line(depth, &text);
                self.block(body, depth + 1);
                return;
            }
            StepKind::Shield { body, into } => {
                self.shields += 1;
                let name = format!("_shield_{}", self.shields);
                self.line(depth, &format!("async def {name}():"));
                if !self.vars.is_empty() {
                    let all: Vec<&str> = self.vars.values().map(String::as_str).collect();
                    self.line(depth + 1, &format!("nonlocal {}", all.join(", ")));
                }
                // The body runs as its own task: not in the groups around.
                let groups = std::mem::replace(&mut self.groups, 0);
                self.block(body, depth + 1);
                self.line(depth + 1, "return \"none\"");
                self.groups = groups;
                self.assign(into.as_ref(), &format!("await asyncio.shield({name}())"))
            }
            StepKind::ShieldTask { task, into } => self.assign(
                into.as_ref(),
                &format!("await asyncio.shield({})", self.task_ref(task, "shield")),
            ),
            StepKind::Try {
                body,
                handlers,
                otherwise,
                finally,
            } => {
                self.line(depth, "try:");
                self.block(body, depth + 1);
                for handler in handlers {
                    self.handler(handler, depth);
                }
                if let Some(block) = otherwise {
                    self.line(depth, "else:");
                    self.block(block, depth + 1);
                }
                if let Some(block) = finally {
                    self.line(depth, "finally:");
                    self.block(block, depth + 1);
                }
                return;
            }
            StepKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.line(depth, &format!("if {}:", self.cond(cond)));
                self.block(then, depth + 1);
                if let Some(block) = otherwise {
                    self.line(depth, "else:");
                    self.block(block, depth + 1);
                }
                return;
            }
            StepKind::WaitFirst(tasks) => format!(
                "await asyncio.wait({}, return_when=asyncio.FIRST_COMPLETED)",
                self.task_list(tasks, "wait-first")
            ),
            StepKind::Wait {
                tasks,
                when,
                timeout,
                done,
                pending,
            } => {
                let timeout = timeout.map_or_else(|| "None".to_string(), |t| self.units(t));
                let call = format!(
                    "await asyncio.wait({}, timeout={timeout}, return_when=asyncio.{})",
                    self.task_list(tasks, "wait"),
                    when.name()
                );
                let done = done
                    .as_ref()
                    .map_or_else(|| "_".to_string(), |v| self.var(v));
                let pending = pending
                    .as_ref()
                    .map_or_else(|| "_".to_string(), |v| self.var(v));
                format!("{done}, {pending} = {call}")
            }
            StepKind::WaitFor {
                task,
                timeout,
                into,
            } => self.assign(
                into.as_ref(),
                &format!(
                    "await asyncio.wait_for({}, {})",
                    self.task_ref(task, "wait-for"),
                    self.units(*timeout)
                ),
            ),
            StepKind::Gather {
                tasks,
                return_exceptions,
                into,
            } => self.assign(
                into.as_ref(),
                &format!(
                    "_results(await asyncio.gather(*{}, return_exceptions={}))",
                    self.task_list(tasks, "gather"),
                    if *return_exceptions { "True" } else { "False" }
                ),
            ),
            StepKind::Group(body) => {
                self.groups += 1;
                let text = format!("async with TaskGroup() as g{}:", self.groups);
                self.line(depth, &text);
                self.block(body, depth + 1);
                self.groups -= 1;
                return;
            }
            StepKind::Repeat { count, body } => {
                self.line(depth, &format!("for _ in range({count}):"));
                self.block(body, depth + 1);
                return;
            }
            StepKind::Break => "break".to_string(),
            StepKind::Raise { kind: None, .. } => "raise".to_string(),
            StepKind::Raise {
                kind: Some(kind),
                message,
            } => format!(
                "raise {}({})",
                python_name(kind).0,
                message.as_ref().map_or_else(String::new, |m| self.text(m))
            ),
            StepKind::Fail(message) => format!("raise RuntimeError({})", self.text(message)),
            StepKind::Return(value) => format!("return {}", self.text(value)),
            StepKind::Put {
                queue,
                value,
                nowait,
            } => {
                if *nowait {
                    format!("{}.put_nowait({})", self.primitive(queue), self.text(value))
                } else {
                    format!("await {}.put({})", self.primitive(queue), self.text(value))
                }
            }
            StepKind::Get {
                queue,
                into,
                nowait,
            } => {
                let call = if *nowait {
                    format!("{}.get_nowait()", self.primitive(queue))
                } else {
                    format!("await {}.get()", self.primitive(queue))
                };
                self.assign(into.as_ref(), &call)
            }
            StepKind::TaskDone(queue) => format!("{}.task_done()", self.primitive(queue)),
            StepKind::SetEvent(event) => format!("{}.set()", self.primitive(event)),
            StepKind::ClearEvent(event) => format!("{}.clear()", self.primitive(event)),
            StepKind::WaitOn(name) => {
                let what = match self.scenario.primitives[name].kind {
                    PrimitiveKind::Queue { .. } => "join",
                    _ => "wait",
                };
                format!("await {}.{what}()", self.primitive(name))
            }
            StepKind::Notify { condition, count } => match count {
                Some(count) => format!("{}.notify({count})", self.primitive(condition)),
                None => format!("{}.notify_all()", self.primitive(condition)),
            },
        };
        self.line(depth, &line);
    }

    fn handler(&mut self, handler: &Handler, depth: usize) {
        let keyword = if handler.star { "except*" } else { "except" };
        let kinds: Vec<String> = handler
            .kinds
            .iter()
            .map(|kind| python_name(kind).0)
            .collect();
        let kinds = match kinds.as_slice() {
            [] => "BaseException".to_string(),
            [one] => one.clone(),
            many => format!("({})", many.join(", ")),
        };
        let bind = if handler.bind.is_some() {
            " as _exc"
        } else {
            ""
        };
        self.line(depth, &format!("{keyword} {kinds}{bind}:"));
        if let Some(var) = &handler.bind {
            let text = format!("{} = str(_exc)", self.var(var));
            self.line(depth + 1, &text);
        }
        let reraise = handler.ends == Some(Resolution::Reraise);
        if !handler.body.is_empty() || !reraise {
            self.block(&handler.body, depth + 1);
        }
        if reraise {
            self.line(depth + 1, "raise");
        }
    }
}

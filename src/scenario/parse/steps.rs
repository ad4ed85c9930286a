//! Steps: a block of step nodes into a [`Block`], each simple step, and a
//! hint for misspelt keywords. Compound steps (`try`, `if`, …) are in
//! `control`.

use std::sync::Arc;

use kdl::KdlNode;

use super::{Parser, STEP_KEYWORDS};
use crate::scenario::error::ScenarioError;
use crate::scenario::model::{Block, JoinExpect, ReturnWhen, Step, StepKind};

/// What ends an `on-cancel` handler, when parsing one.
pub(super) type Ending = Option<crate::scenario::model::Resolution>;

impl Parser<'_> {
    pub(super) fn block(&self, node: &KdlNode) -> Result<Block, ScenarioError> {
        match node.children() {
            Some(children) => self.steps(children.nodes(), false).map(|(steps, _)| steps),
            None => Err(self.error(
                node.span(),
                format!("`{}` needs a block `{{ … }}`", node.name().value()),
                "block missing",
                format!("write `{} … {{ steps }}`", node.name().value()),
            )),
        }
    }

    /// Parses a list of steps; in an `on-cancel` block the last node must
    /// be `reraise` or `swallow`.
    pub(super) fn steps(
        &self,
        nodes: &[KdlNode],
        on_cancel: bool,
    ) -> Result<(Block, Ending), ScenarioError> {
        let mut steps = Vec::new();
        let mut ending = None;
        let mut index = 0;
        while index < nodes.len() {
            let node = &nodes[index];
            index += 1;
            let keyword = node.name().value();
            if ending.is_some() {
                return Err(self.error(
                    node.name().span(),
                    format!("`{keyword}` after the end of an `on-cancel` handler"),
                    "unreachable",
                    "`reraise` or `swallow` must be the last step of `on-cancel`",
                ));
            }
            let kind = match keyword {
                "reraise" | "swallow" if on_cancel => {
                    self.only(node, 0, &[], keyword)?;
                    ending = Some(if keyword == "reraise" {
                        crate::scenario::model::Resolution::Reraise
                    } else {
                        crate::scenario::model::Resolution::Swallow
                    });
                    continue;
                }
                "reraise" => {
                    self.only(node, 0, &[], "reraise")?;
                    StepKind::Raise {
                        kind: None,
                        message: None,
                    }
                }
                "swallow" => {
                    return Err(self.error(
                        node.name().span(),
                        "`swallow` outside an `on-cancel` handler",
                        "only allowed in on-cancel",
                        "end an `on-cancel { … }` block with `reraise` or `swallow`; elsewhere a handler that does not raise swallows",
                    ))
                }
                "on-cancel" | "on-error" | "finally" | "except" | "except*" => {
                    return Err(self.error(
                        node.name().span(),
                        format!("`{keyword}` without a `try` before it"),
                        "no try",
                        format!("write `try {{ … }}` and, on the next line, `{keyword} {{ … }}`"),
                    ))
                }
                "else" => {
                    return Err(self.error(
                        node.name().span(),
                        "`else` without a `try` or an `if` before it",
                        "no try or if",
                        "write `if COND { … }` or `try { … }` and, on the next line, `else { … }`",
                    ))
                }
                "timeout" | "shield" | "group" | "repeat" | "try" | "if" => {
                    self.compound(node, nodes, &mut index)?
                }
                _ => self.simple(node)?,
            };
            steps.push(Step {
                kind,
                span: node.span(),
            });
        }
        Ok((Arc::from(steps), ending))
    }

    /// A step with no block.
    fn simple(&self, node: &KdlNode) -> Result<StepKind, ScenarioError> {
        let keyword = node.name().value();
        let leaf = |usage: &str, args: usize, props: &[&str]| -> Result<(), ScenarioError> {
            self.only(node, args, props, usage)?;
            self.no_children(node, usage)
        };
        Ok(match keyword {
            "sleep" | "work" => {
                leaf(&format!("{keyword} \"250ms\""), 1, &[])?;
                let duration = self.duration_arg(node)?;
                if keyword == "sleep" {
                    StepKind::Sleep(duration)
                } else {
                    StepKind::Work(duration)
                }
            }
            "yield" | "break" => {
                leaf(keyword, 0, &[])?;
                if keyword == "yield" {
                    StepKind::Yield
                } else {
                    StepKind::Break
                }
            }
            "blocking" => {
                leaf("blocking \"3s\" [\"log line\"]", 2, &[])?;
                let cost = self.duration_arg(node)?;
                let log = match self.args(node).get(1) {
                    Some(entry) => Some(self.text_entry(entry)?),
                    None => None,
                };
                StepKind::Blocking { cost, log }
            }
            "acquire" | "release" | "task-done" | "set" | "clear" => {
                leaf(&format!("{keyword} NAME"), 1, &[])?;
                let name = self.string_arg(node, 0, "a name")?;
                match keyword {
                    "acquire" => StepKind::Acquire(name),
                    "release" => StepKind::Release(name),
                    "task-done" => StepKind::TaskDone(name),
                    "set" => StepKind::SetEvent(name),
                    _ => StepKind::ClearEvent(name),
                }
            }
            "log" | "fail" | "return" => {
                leaf(&format!("{keyword} \"text\""), 1, &[])?;
                let text = match (keyword, self.args(node).first()) {
                    ("return", None) => crate::scenario::model::Text::literal("none"),
                    _ => self.text_arg(node, 0, "a text")?,
                };
                match keyword {
                    "log" => StepKind::Log(text),
                    "fail" => StepKind::Fail(text),
                    _ => StepKind::Return(text),
                }
            }
            "let" => {
                leaf("let NAME \"value\"", 2, &[])?;
                StepKind::Let {
                    var: self.string_arg(node, 0, "a variable name")?,
                    value: self.text_arg(node, 1, "a value")?,
                }
            }
            "spawn" => {
                leaf("spawn TASK [ARG…] [as=NAME]", usize::MAX, &["as"])?;
                let task = self.string_arg(node, 0, "a task name")?;
                let args = self.args(node)[1..]
                    .iter()
                    .map(|entry| self.text_entry(entry))
                    .collect::<Result<_, _>>()?;
                StepKind::Spawn {
                    task,
                    args,
                    name: self.name_prop(node, "as")?,
                }
            }
            "join" => {
                let usage = "join TASK [expect=value|cancelled|timeout|error|any] [into=VAR]";
                leaf(usage, 1, &["expect", "into"])?;
                let task = self.string_arg(node, 0, "a task name")?;
                let expect = match self.prop(node, "expect") {
                    None => JoinExpect::Value,
                    Some(entry) => self
                        .value_text(entry)
                        .and_then(|text| JoinExpect::from_name(&text))
                        .ok_or_else(|| {
                            self.error(
                                entry.span(),
                                format!("unknown join outcome `{}`", entry.value()),
                                "not an outcome",
                                "expect one of value, cancelled, timeout, error, any",
                            )
                        })?,
                };
                StepKind::Join {
                    task,
                    expect,
                    into: self.name_prop(node, "into")?,
                }
            }
            "cancel" => {
                leaf("cancel TASK [msg=\"why\"]", 1, &["msg"])?;
                StepKind::Cancel {
                    task: self.string_arg(node, 0, "a task name")?,
                    message: match self.prop(node, "msg") {
                        Some(entry) => Some(self.text_entry(entry)?),
                        None => None,
                    },
                }
            }
            "uncancel" => {
                leaf("uncancel [into=VAR]", 0, &["into"])?;
                StepKind::Uncancel {
                    into: self.name_prop(node, "into")?,
                }
            }
            "cancelling" | "result" => {
                let usage = if keyword == "result" {
                    "result TASK into=VAR"
                } else {
                    "cancelling into=VAR"
                };
                leaf(usage, usize::from(keyword == "result"), &["into"])?;
                let into = self.name_prop(node, "into")?.ok_or_else(|| {
                    self.error(
                        node.span(),
                        format!("`{keyword}` needs `into=VAR`"),
                        "where does the value go?",
                        format!("write `{usage}`"),
                    )
                })?;
                if keyword == "result" {
                    StepKind::Result {
                        task: self.string_arg(node, 0, "a task name")?,
                        into,
                    }
                } else {
                    StepKind::Cancelling { into }
                }
            }
            "raise" => {
                leaf("raise [TYPE [\"message\"]]", 2, &[])?;
                let args = self.args(node);
                StepKind::Raise {
                    kind: match args.first() {
                        Some(_) => Some(self.exception_type(node, 0)?),
                        None => None,
                    },
                    message: match args.get(1) {
                        Some(entry) => Some(self.text_entry(entry)?),
                        None => None,
                    },
                }
            }
            "wait-first" | "gather" => {
                let usage = if keyword == "gather" {
                    "gather TASK… [return-exceptions=#true] [into=VAR]"
                } else {
                    "wait-first TASK TASK…"
                };
                let props: &[&str] = if keyword == "gather" {
                    &["return-exceptions", "into"]
                } else {
                    &[]
                };
                leaf(usage, usize::MAX, props)?;
                let tasks = self.task_list(node, usage)?;
                if keyword == "gather" {
                    StepKind::Gather {
                        tasks,
                        return_exceptions: self.bool_prop(node, "return-exceptions")?,
                        into: self.name_prop(node, "into")?,
                    }
                } else {
                    StepKind::WaitFirst(tasks)
                }
            }
            "wait" => {
                let usage = "wait TASK… [return-when=FIRST_COMPLETED] [timeout=\"1s\"] [done=VAR] [pending=VAR], or wait EVENT|CONDITION|QUEUE";
                leaf(
                    usage,
                    usize::MAX,
                    &["return-when", "timeout", "done", "pending"],
                )?;
                let tasks = self.task_list(node, usage)?;
                let is_task_wait = node.entries().iter().any(|e| e.name().is_some())
                    || tasks.len() > 1
                    || !self.primitives.contains(tasks[0].as_str());
                if !is_task_wait {
                    return Ok(StepKind::WaitOn(tasks[0].clone()));
                }
                let when = match self.prop(node, "return-when") {
                    None => ReturnWhen::AllCompleted,
                    Some(entry) => self
                        .value_text(entry)
                        .and_then(|name| ReturnWhen::from_name(&name))
                        .ok_or_else(|| {
                            self.error(
                                entry.span(),
                                format!("unknown return-when `{}`", entry.value()),
                                "not a return-when",
                                "write FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED",
                            )
                        })?,
                };
                StepKind::Wait {
                    tasks,
                    when,
                    timeout: match self.prop(node, "timeout") {
                        Some(entry) => Some(self.duration_entry("timeout", entry)?),
                        None => None,
                    },
                    done: self.name_prop(node, "done")?,
                    pending: self.name_prop(node, "pending")?,
                }
            }
            "wait-for" => {
                leaf("wait-for TASK \"1s\" [into=VAR]", 2, &["into"])?;
                StepKind::WaitFor {
                    task: self.string_arg(node, 0, "a task name")?,
                    timeout: self.duration_at(node, 1)?,
                    into: self.name_prop(node, "into")?,
                }
            }
            "put" => {
                leaf("put QUEUE \"item\" [nowait=#true]", 2, &["nowait"])?;
                StepKind::Put {
                    queue: self.string_arg(node, 0, "a queue")?,
                    value: self.text_arg(node, 1, "an item")?,
                    nowait: self.bool_prop(node, "nowait")?,
                }
            }
            "get" => {
                leaf(
                    "get QUEUE [into=VAR] [nowait=#true]",
                    1,
                    &["into", "nowait"],
                )?;
                StepKind::Get {
                    queue: self.string_arg(node, 0, "a queue")?,
                    into: self.name_prop(node, "into")?,
                    nowait: self.bool_prop(node, "nowait")?,
                }
            }
            "notify" | "notify-all" => {
                let usage = if keyword == "notify" {
                    "notify CONDITION [N]"
                } else {
                    "notify-all CONDITION"
                };
                leaf(usage, if keyword == "notify" { 2 } else { 1 }, &[])?;
                let count = match (keyword, self.args(node).get(1)) {
                    ("notify", Some(entry)) => Some(self.count_entry(entry, 0..=100_000, usage)?),
                    ("notify", None) => Some(1),
                    _ => None,
                };
                StepKind::Notify {
                    condition: self.string_arg(node, 0, "a condition")?,
                    count,
                }
            }
            other => {
                let hint = match closest(other) {
                    Some(near) => format!(
                        "did you mean `{near}`? Steps are: {}",
                        STEP_KEYWORDS.join(", ")
                    ),
                    None => format!("steps are: {}", STEP_KEYWORDS.join(", ")),
                };
                return Err(self.error(
                    node.name().span(),
                    format!("unknown step `{other}`"),
                    "unknown step",
                    hint,
                ));
            }
        })
    }

    /// The task names a node lists (at least one).
    fn task_list(&self, node: &KdlNode, usage: &str) -> Result<Vec<String>, ScenarioError> {
        let count = self.args(node).len();
        if count == 0 {
            return Err(self.error(
                node.span(),
                format!("`{}` needs at least one task", node.name().value()),
                "no tasks",
                format!("write `{usage}`"),
            ));
        }
        (0..count)
            .map(|i| self.string_arg(node, i, "a task name"))
            .collect()
    }

    /// An exception type's name: an identifier that starts with a capital.
    pub(super) fn exception_type(
        &self,
        node: &KdlNode,
        index: usize,
    ) -> Result<String, ScenarioError> {
        let name = self.string_arg(node, index, "an exception type")?;
        let ok = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(self.error(
                self.args(node)[index].span(),
                format!("`{name}` is not an exception type"),
                "not a type name",
                "name a Python exception type (TimeoutError, ValueError, CancelledError, …) or your own, starting with a capital letter",
            ));
        }
        Ok(name)
    }
}

/// The step keyword nearest to `word` (edit distance at most 2).
fn closest(word: &str) -> Option<&'static str> {
    STEP_KEYWORDS
        .iter()
        .map(|keyword| (distance(word, keyword), *keyword))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, keyword)| keyword)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(previous + usize::from(ca != *cb));
            previous = current;
        }
    }
    row[b.len()]
}

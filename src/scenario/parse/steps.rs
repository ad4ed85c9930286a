//! Steps: a block of step nodes into a [`Block`], with a hint for misspelt
//! keywords.

use std::sync::Arc;

use kdl::{KdlNode, KdlValue};

use super::{Parser, STEP_KEYWORDS};
use crate::scenario::error::ScenarioError;
use crate::scenario::model::{Block, JoinExpect, Resolution, Step, StepKind};

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
    fn steps(
        &self,
        nodes: &[KdlNode],
        on_cancel: bool,
    ) -> Result<(Block, Option<Resolution>), ScenarioError> {
        let mut steps = Vec::new();
        let mut resolution = None;
        let mut index = 0;
        while index < nodes.len() {
            let node = &nodes[index];
            index += 1;
            let keyword = node.name().value();
            if resolution.is_some() {
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
                    resolution = Some(if keyword == "reraise" {
                        Resolution::Reraise
                    } else {
                        Resolution::Swallow
                    });
                    continue;
                }
                "reraise" | "swallow" => {
                    return Err(self.error(
                        node.name().span(),
                        format!("`{keyword}` outside an `on-cancel` handler"),
                        "only allowed in on-cancel",
                        "end an `on-cancel { … }` block with `reraise` or `swallow`",
                    ))
                }
                "on-cancel" | "on-error" | "finally" => {
                    return Err(self.error(
                        node.name().span(),
                        format!("`{keyword}` without a `try` before it"),
                        "no try",
                        format!("write `try {{ … }} {keyword} {{ … }}`"),
                    ))
                }
                "sleep" | "work" => {
                    self.only(node, 1, &[], &format!("{keyword} \"250ms\""))?;
                    self.no_children(node, &format!("{keyword} \"250ms\""))?;
                    let duration = self.duration_arg(node)?;
                    if keyword == "sleep" {
                        StepKind::Sleep(duration)
                    } else {
                        StepKind::Work(duration)
                    }
                }
                "yield" => {
                    self.only(node, 0, &[], "yield")?;
                    self.no_children(node, "yield")?;
                    StepKind::Yield
                }
                "blocking" => {
                    self.only(node, 2, &[], "blocking \"3s\" [\"log line\"]")?;
                    self.no_children(node, "blocking \"3s\"")?;
                    let cost = self.duration_arg(node)?;
                    let log = match self.args(node).get(1) {
                        Some(_) => Some(self.string_arg(node, 1, "a log line")?),
                        None => None,
                    };
                    StepKind::Blocking { cost, log }
                }
                "acquire" | "release" | "log" | "spawn" | "cancel" | "fail" => {
                    let what = match keyword {
                        "acquire" | "release" => "a resource name",
                        "log" => "a log line",
                        "fail" => "an error message",
                        _ => "a task name",
                    };
                    self.only(node, 1, &[], &format!("{keyword} NAME"))?;
                    self.no_children(node, &format!("{keyword} NAME"))?;
                    let text = self.string_arg(node, 0, what)?;
                    match keyword {
                        "acquire" => StepKind::Acquire(text),
                        "release" => StepKind::Release(text),
                        "log" => StepKind::Log(text),
                        "spawn" => StepKind::Spawn(text),
                        "cancel" => StepKind::Cancel(text),
                        _ => StepKind::Fail(text),
                    }
                }
                "return" => {
                    self.only(node, 1, &[], "return VALUE")?;
                    self.no_children(node, "return VALUE")?;
                    let value = self
                        .args(node)
                        .first()
                        .and_then(|entry| self.value_text(entry))
                        .unwrap_or_else(|| "none".to_string());
                    StepKind::Return(value)
                }
                "join" => {
                    let usage = "join TASK [expect=value|cancelled|timeout|error|any]";
                    self.only(node, 1, &["expect"], usage)?;
                    self.no_children(node, usage)?;
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
                    StepKind::Join { task, expect }
                }
                "wait-first" => {
                    self.only(node, usize::MAX, &[], "wait-first TASK TASK…")?;
                    self.no_children(node, "wait-first TASK TASK…")?;
                    let count = self.args(node).len();
                    if count == 0 {
                        return Err(self.error(
                            node.span(),
                            "`wait-first` needs at least one task",
                            "no tasks",
                            "write `wait-first fast slow`",
                        ));
                    }
                    let tasks = (0..count)
                        .map(|i| self.string_arg(node, i, "a task name"))
                        .collect::<Result<_, _>>()?;
                    StepKind::WaitFirst(tasks)
                }
                "timeout" => {
                    self.only(node, 1, &[], "timeout \"1s\" { … }")?;
                    let duration = self.duration_arg(node)?;
                    StepKind::Timeout {
                        duration,
                        body: self.block(node)?,
                    }
                }
                "shield" if node.children().is_none() => {
                    self.only(node, 1, &[], "shield TASK or shield { … }")?;
                    StepKind::ShieldTask(self.string_arg(node, 0, "a task name or a block")?)
                }
                "shield" | "group" => {
                    self.only(node, 0, &[], &format!("{keyword} {{ … }}"))?;
                    let body = self.block(node)?;
                    if keyword == "shield" {
                        StepKind::Shield(body)
                    } else {
                        StepKind::Group(body)
                    }
                }
                "repeat" => {
                    self.only(node, 1, &[], "repeat N { … }")?;
                    let count = match self.args(node).first().map(|e| (e, e.value())) {
                        Some((_, KdlValue::Integer(n))) if (1..=100_000).contains(n) => *n as u32,
                        Some((entry, _)) => {
                            return Err(self.error(
                                entry.span(),
                                "`repeat` needs a count from 1 to 100000",
                                "not a count",
                                "write e.g. `repeat 10 { … }`",
                            ))
                        }
                        None => {
                            return Err(self.error(
                                node.span(),
                                "`repeat` needs a count",
                                "count missing",
                                "write e.g. `repeat 10 { … }`",
                            ))
                        }
                    };
                    StepKind::Repeat {
                        count,
                        body: self.block(node)?,
                    }
                }
                "try" => {
                    self.only(node, 0, &[], "try { … }")?;
                    let body = self.block(node)?;
                    let (mut on_cancel, mut on_error, mut finally) = (None, None, None);
                    while let Some(next) = nodes.get(index) {
                        let handler = next.name().value();
                        let slot_taken = match handler {
                            "on-cancel" => {
                                on_cancel.is_some() || on_error.is_some() || finally.is_some()
                            }
                            "on-error" => on_error.is_some() || finally.is_some(),
                            "finally" => finally.is_some(),
                            _ => break,
                        };
                        if slot_taken {
                            return Err(self.error(
                                next.name().span(),
                                format!("`{handler}` repeated or out of order"),
                                "here",
                                "write the handlers once each, in the order on-cancel, on-error, finally",
                            ));
                        }
                        self.only(next, 0, &[], &format!("{handler} {{ … }}"))?;
                        index += 1;
                        match handler {
                            "on-cancel" => {
                                let children = next.children().ok_or_else(|| {
                                    self.error(
                                        next.span(),
                                        "`on-cancel` needs a block",
                                        "block missing",
                                        "write `on-cancel { …; reraise }`",
                                    )
                                })?;
                                let (steps, resolution) = self.steps(children.nodes(), true)?;
                                let resolution = resolution.ok_or_else(|| {
                                    self.error(
                                        next.span(),
                                        "`on-cancel` must end with `reraise` or `swallow`",
                                        "how does this handler end?",
                                        "add `reraise` as its last step (or `swallow`, to show the bug of dropping the cancellation)",
                                    )
                                })?;
                                on_cancel = Some((steps, resolution));
                            }
                            "on-error" => on_error = Some(self.block(next)?),
                            _ => finally = Some(self.block(next)?),
                        }
                    }
                    if on_cancel.is_none() && on_error.is_none() && finally.is_none() {
                        return Err(self.error(
                            node.name().span(),
                            "`try` without a handler",
                            "no on-cancel, on-error or finally after it",
                            "follow it with `on-cancel { … }`, `on-error { … }` or `finally { … }`",
                        ));
                    }
                    StepKind::Try {
                        body,
                        on_cancel,
                        on_error,
                        finally,
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
            };
            steps.push(Step {
                kind,
                span: node.span(),
            });
        }
        Ok((Arc::from(steps), resolution))
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

//! Compound steps: `timeout`, `shield`, `group`, `repeat`, `try` with its
//! handlers, `if` with its `else`, and conditions.

use kdl::KdlNode;

use super::Parser;
use crate::scenario::error::ScenarioError;
use crate::scenario::model::{Cond, Handler, Resolution, StepKind};

impl Parser<'_> {
    /// A step with a block; `try` and `if` also take the handler or
    /// `else` nodes after them (`index` moves past them).
    pub(super) fn compound(
        &self,
        node: &KdlNode,
        nodes: &[KdlNode],
        index: &mut usize,
    ) -> Result<StepKind, ScenarioError> {
        let keyword = node.name().value();
        Ok(match keyword {
            "timeout" => {
                self.only(node, 1, &[], "timeout \"1s\" { … }")?;
                let duration = self.duration_arg(node)?;
                StepKind::Timeout {
                    duration,
                    body: self.block(node)?,
                }
            }
            "shield" if node.children().is_none() => {
                self.only(
                    node,
                    1,
                    &["into"],
                    "shield TASK [into=VAR], or shield { … }",
                )?;
                StepKind::ShieldTask {
                    task: self.string_arg(node, 0, "a task name or a block")?,
                    into: self.name_prop(node, "into")?,
                }
            }
            "shield" => {
                self.only(node, 0, &["into"], "shield [into=VAR] { … }")?;
                StepKind::Shield {
                    body: self.block(node)?,
                    into: self.name_prop(node, "into")?,
                }
            }
            "group" => {
                self.only(node, 0, &[], "group { … }")?;
                StepKind::Group(self.block(node)?)
            }
            "repeat" => {
                self.only(node, 1, &[], "repeat N { … }")?;
                let count = match self.args(node).first() {
                    Some(entry) => self.count_entry(entry, 1..=100_000, "repeat 10 { … }")?,
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
            "if" => {
                let cond = self.condition(node, &self.args(node))?;
                let then = self.block(node)?;
                let otherwise = match nodes.get(*index) {
                    Some(next) if next.name().value() == "else" => {
                        self.only(next, 0, &[], "else { … }")?;
                        *index += 1;
                        Some(self.block(next)?)
                    }
                    _ => None,
                };
                StepKind::If {
                    cond,
                    then,
                    otherwise,
                }
            }
            _ => self.try_step(node, nodes, index)?,
        })
    }

    fn try_step(
        &self,
        node: &KdlNode,
        nodes: &[KdlNode],
        index: &mut usize,
    ) -> Result<StepKind, ScenarioError> {
        self.only(node, 0, &[], "try { … }")?;
        let body = self.block(node)?;
        let mut handlers: Vec<Handler> = Vec::new();
        let (mut otherwise, mut finally) = (None, None);
        // 0: handlers; 1: after `else`; 2: after `finally`.
        let mut stage = 0;
        while let Some(next) = nodes.get(*index) {
            let keyword = next.name().value();
            let wanted = match keyword {
                "on-cancel" | "on-error" | "except" | "except*" => 0,
                "else" => 1,
                "finally" => 2,
                _ => break,
            };
            if stage >= wanted.max(1) || (wanted == 0 && stage > 0) {
                return Err(self.error(
                    next.name().span(),
                    format!("`{keyword}` repeated or out of order"),
                    "here",
                    "after `try { … }` write the handlers (on-cancel, on-error, except, except*), then `else`, then `finally`, as in Python",
                ));
            }
            *index += 1;
            match keyword {
                "else" if handlers.is_empty() => {
                    return Err(self.error(
                        next.name().span(),
                        "`else` after a `try` with no handler",
                        "no except before it",
                        "`else` runs when no handler did: write an `except` (or on-cancel, on-error) before it",
                    ))
                }
                "else" => {
                    self.only(next, 0, &[], "else { … }")?;
                    otherwise = Some(self.block(next)?);
                    stage = 1;
                }
                "finally" => {
                    self.only(next, 0, &[], "finally { … }")?;
                    finally = Some(self.block(next)?);
                    stage = 2;
                }
                _ => handlers.push(self.handler(next)?),
            }
        }
        let stars = handlers.iter().filter(|h| h.star).count();
        if stars > 0 && stars < handlers.len() {
            let plain = handlers.iter().find(|h| !h.star).expect("some");
            return Err(self.error(
                plain.span,
                "`except*` and other handlers on one `try`",
                "mixed with except*",
                "a try takes either `except*` handlers (for an ExceptionGroup) or the others, as in Python",
            ));
        }
        if handlers.is_empty() && finally.is_none() {
            return Err(self.error(
                node.name().span(),
                "`try` without a handler or finally",
                "nothing after it",
                "follow it (on the next line) with `except TYPE { … }`, `on-cancel { … }`, `on-error { … }` or `finally { … }`",
            ));
        }
        Ok(StepKind::Try {
            body,
            handlers,
            otherwise,
            finally,
        })
    }

    fn handler(&self, node: &KdlNode) -> Result<Handler, ScenarioError> {
        let keyword = node.name().value();
        let (kinds, star, keyword, bind) = match keyword {
            "on-cancel" => {
                self.only(node, 0, &[], "on-cancel { …; reraise }")?;
                (vec!["CancelledError".to_string()], false, "on-cancel", None)
            }
            "on-error" => {
                self.only(node, 0, &["as"], "on-error [as=VAR] { … }")?;
                (
                    vec!["Exception".to_string()],
                    false,
                    "on-error",
                    self.name_prop(node, "as")?,
                )
            }
            _ => {
                let usage = format!("{keyword} [TYPE…] [as=VAR] {{ … }}");
                self.only(node, usize::MAX, &["as"], &usage)?;
                let kinds = (0..self.args(node).len())
                    .map(|i| self.exception_type(node, i))
                    .collect::<Result<Vec<_>, _>>()?;
                let star = keyword == "except*";
                if star && kinds.is_empty() {
                    return Err(self.error(
                        node.name().span(),
                        "`except*` needs a type",
                        "which type?",
                        "write e.g. `except* ValueError { … }`",
                    ));
                }
                let keyword = if star { "except*" } else { "except" };
                (kinds, star, keyword, self.name_prop(node, "as")?)
            }
        };
        let children = node.children().ok_or_else(|| {
            self.error(
                node.span(),
                format!("`{keyword}` needs a block"),
                "block missing",
                format!("write `{keyword} {{ … }}`"),
            )
        })?;
        let on_cancel = keyword == "on-cancel";
        let (body, ends) = self.steps(children.nodes(), on_cancel)?;
        if on_cancel && ends.is_none() {
            return Err(self.error(
                node.span(),
                "`on-cancel` must end with `reraise` or `swallow`",
                "how does this handler end?",
                "add `reraise` as its last step (or `swallow`, to show the bug of dropping the cancellation)",
            ));
        }
        Ok(Handler {
            kinds,
            star,
            bind,
            body,
            ends: ends.or(on_cancel.then_some(Resolution::Swallow)),
            keyword,
            span: node.span(),
        })
    }

    /// `if`'s condition from its arguments.
    fn condition(&self, node: &KdlNode, args: &[&kdl::KdlEntry]) -> Result<Cond, ScenarioError> {
        let usage = "if [not] done TASK | cancelled TASK | cancelling | is-set EVENT | empty QUEUE | equal A B { … }";
        let Some(first) = args.first() else {
            return Err(self.error(
                node.span(),
                "`if` needs a condition",
                "condition missing",
                format!("write `{usage}`"),
            ));
        };
        let word = self.value_text(first).unwrap_or_default();
        let name = |i: usize| -> Result<String, ScenarioError> {
            match args.get(i) {
                Some(entry) => self.value_text(entry).ok_or_else(|| {
                    self.error(
                        entry.span(),
                        "expected a name",
                        "here",
                        format!("write `{usage}`"),
                    )
                }),
                None => Err(self.error(
                    first.span(),
                    format!("`{word}` needs a name after it"),
                    "name missing",
                    format!("write `{usage}`"),
                )),
            }
        };
        let arity = |n: usize| -> Result<(), ScenarioError> {
            match args.get(n) {
                Some(extra) => Err(self.error(
                    extra.span(),
                    "too much in the condition",
                    "extra",
                    format!("write `{usage}`"),
                )),
                None => Ok(()),
            }
        };
        Ok(match word.as_str() {
            "not" => Cond::Not(Box::new(self.condition(node, &args[1..])?)),
            "done" | "cancelled" | "is-set" | "empty" => {
                let target = name(1)?;
                arity(2)?;
                match word.as_str() {
                    "done" => Cond::Done(target),
                    "cancelled" => Cond::Cancelled(target),
                    "is-set" => Cond::IsSet(target),
                    _ => Cond::Empty(target),
                }
            }
            "cancelling" => {
                arity(1)?;
                Cond::Cancelling
            }
            "equal" => {
                let (Some(a), Some(b)) = (args.get(1), args.get(2)) else {
                    return Err(self.error(
                        first.span(),
                        "`equal` compares two texts",
                        "needs two",
                        "write `if equal \"{answer}\" \"ok\" { … }`",
                    ));
                };
                arity(3)?;
                Cond::Equal(self.text_entry(a)?, self.text_entry(b)?)
            }
            other => {
                return Err(self.error(
                    first.span(),
                    format!("unknown condition `{other}`"),
                    "not a condition",
                    format!("write `{usage}`"),
                ))
            }
        })
    }
}

//! KDL text → [`Scenario`]: the file format.
//!
//! ```kdl
//! about "a worker that cleans up and propagates its cancellation"
//! task main {
//!     spawn worker
//!     sleep "1s"
//!     cancel worker
//!     join worker expect=cancelled
//! }
//! task worker {
//!     try { sleep "5s" } on-cancel { log "cleanup"; reraise }
//! }
//! expect {
//!     outcome worker cancelled
//!     time "1s"
//! }
//! ```
//!
//! Every error names the file, line and column, underlines the offending
//! text and says how to fix it. Durations are strings with a unit (`"250ms"`,
//! `"3s"`): KDL has no suffixed numbers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use super::error::ScenarioError;
use super::model::{
    Block, Expect, ExpectedOutcome, JoinExpect, Resolution, Scenario, Step, StepKind, TaskDef,
};

/// Every step keyword, for hints.
pub const STEP_KEYWORDS: [&str; 18] = [
    "sleep",
    "yield",
    "work",
    "blocking",
    "acquire",
    "release",
    "log",
    "spawn",
    "join",
    "cancel",
    "timeout",
    "shield",
    "try",
    "wait-first",
    "group",
    "repeat",
    "fail",
    "return",
];

/// Parses `text` (the contents of `path`) into a scenario, without the
/// static checks of [`check`](super::check).
pub fn parse(path: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let source = Arc::new(text.to_string());
    let parser = Parser {
        path,
        source: &source,
    };
    let document = KdlDocument::parse(text).map_err(|error| parser.kdl_error(&error))?;
    let mut tasks = BTreeMap::new();
    let mut about = None;
    let mut expect = None;
    for node in document.nodes() {
        match node.name().value() {
            "about" => about = Some(parser.string_arg(node, 0, "a description")?),
            "task" => {
                let name = parser.string_arg(node, 0, "a task name")?;
                let body = parser.block(node)?;
                let task = TaskDef {
                    name: name.clone(),
                    span: node.name().span(),
                    body,
                };
                if tasks.insert(name.clone(), task).is_some() {
                    return Err(parser.error(
                        node.span(),
                        format!("task `{name}` is defined twice"),
                        "second definition",
                        "give each task its own name",
                    ));
                }
            }
            "expect" => {
                if expect.is_some() {
                    return Err(parser.error(
                        node.name().span(),
                        "a second `expect` block",
                        "here",
                        "merge the two `expect` blocks into one",
                    ));
                }
                expect = Some(parser.expect(node)?);
            }
            other => {
                return Err(parser.error(
                    node.name().span(),
                    format!("unknown top-level node `{other}`"),
                    "not `about`, `task` or `expect`",
                    "a scenario file holds `about \"…\"`, `task NAME { … }` nodes and one `expect { … }`",
                ))
            }
        }
    }
    let name = std::path::Path::new(path)
        .file_stem()
        .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned());
    Ok(Scenario {
        name,
        path: path.to_string(),
        source: Arc::clone(&source),
        about,
        tasks,
        expect: expect.unwrap_or_default(),
    })
}

/// Parses a duration: `250ms`, `3s`, `1.5s`, `100us`, `2m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let nanos_per = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        _ => return None,
    };
    let nanos = number * nanos_per;
    (nanos.is_finite() && (0.0..1e18).contains(&nanos)).then(|| Duration::from_nanos(nanos as u64))
}

struct Parser<'a> {
    path: &'a str,
    source: &'a Arc<String>,
}

impl Parser<'_> {
    fn error(
        &self,
        span: SourceSpan,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::new(self.path, self.source, span, message, label, help)
    }

    fn kdl_error(&self, error: &kdl::KdlError) -> ScenarioError {
        match error.diagnostics.first() {
            Some(diagnostic) => self.error(
                diagnostic.span,
                format!(
                    "not valid KDL: {}",
                    diagnostic.message.as_deref().unwrap_or("unexpected text")
                ),
                diagnostic
                    .label
                    .clone()
                    .unwrap_or_else(|| "here".to_string()),
                diagnostic.help.clone().unwrap_or_else(|| {
                    "check quotes and braces; a node ends at a newline or `;`, so put \
                     `on-cancel`, `on-error` and `finally` on their own line after `}`; \
                     durations are quoted strings such as \"250ms\""
                        .to_string()
                }),
            ),
            None => self.error(
                SourceSpan::from((0, 0)),
                "not valid KDL",
                "here",
                "check quotes and braces",
            ),
        }
    }

    fn args<'n>(&self, node: &'n KdlNode) -> Vec<&'n KdlEntry> {
        node.entries()
            .iter()
            .filter(|e| e.name().is_none())
            .collect()
    }

    fn prop<'n>(&self, node: &'n KdlNode, name: &str) -> Option<&'n KdlEntry> {
        node.entries()
            .iter()
            .find(|e| e.name().is_some_and(|n| n.value() == name))
    }

    fn only(
        &self,
        node: &KdlNode,
        args: usize,
        props: &[&str],
        usage: &str,
    ) -> Result<(), ScenarioError> {
        let mut count = 0;
        for entry in node.entries() {
            match entry.name() {
                Some(name) if props.contains(&name.value()) => {}
                Some(name) => {
                    return Err(self.error(
                        entry.span(),
                        format!(
                            "`{}` has no property `{}`",
                            node.name().value(),
                            name.value()
                        ),
                        "unknown property",
                        format!("write it as `{usage}`"),
                    ))
                }
                None => {
                    count += 1;
                    if count > args {
                        return Err(self.error(
                            entry.span(),
                            format!("too many arguments to `{}`", node.name().value()),
                            "extra argument",
                            format!("write it as `{usage}`"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn no_children(&self, node: &KdlNode, usage: &str) -> Result<(), ScenarioError> {
        match node.children() {
            Some(children) => Err(self.error(
                children.span(),
                format!("`{}` takes no block", node.name().value()),
                "unexpected block",
                format!("write it as `{usage}`"),
            )),
            None => Ok(()),
        }
    }

    fn value_text(&self, entry: &KdlEntry) -> Option<String> {
        match entry.value() {
            KdlValue::String(s) => Some(s.clone()),
            KdlValue::Integer(i) => Some(i.to_string()),
            KdlValue::Float(f) => Some(f.to_string()),
            KdlValue::Bool(b) => Some(b.to_string()),
            KdlValue::Null => None,
        }
    }

    fn string_arg(
        &self,
        node: &KdlNode,
        index: usize,
        what: &str,
    ) -> Result<String, ScenarioError> {
        let args = self.args(node);
        let Some(entry) = args.get(index) else {
            return Err(self.error(
                node.span(),
                format!("`{}` needs {what}", node.name().value()),
                format!("{what} missing"),
                format!("add {what} after `{}`", node.name().value()),
            ));
        };
        match entry.value() {
            KdlValue::String(s) => Ok(s.clone()),
            _ => Err(self.error(
                entry.span(),
                format!(
                    "`{}` needs {what}, not `{}`",
                    node.name().value(),
                    entry.value()
                ),
                "expected a string",
                "write it as a bare word or a quoted string",
            )),
        }
    }

    fn duration_arg(&self, node: &KdlNode) -> Result<Duration, ScenarioError> {
        let keyword = node.name().value();
        let args = self.args(node);
        let Some(entry) = args.first() else {
            return Err(self.error(
                node.span(),
                format!("`{keyword}` needs a duration"),
                "duration missing",
                format!("write e.g. `{keyword} \"250ms\"` (units: ns, us, ms, s, m)"),
            ));
        };
        let text = match entry.value() {
            KdlValue::String(s) => s.clone(),
            KdlValue::Integer(n) => {
                return Err(self.error(
                    entry.span(),
                    format!("duration `{n}` has no unit"),
                    "no unit",
                    format!("write it with a unit, as a string: `{keyword} \"{n}ms\"`"),
                ))
            }
            other => other.to_string(),
        };
        parse_duration(&text).ok_or_else(|| {
            self.error(
                entry.span(),
                format!("bad duration `{text}`"),
                "not a duration",
                "write a number and a unit (ns, us, ms, s, m), e.g. \"250ms\" or \"1.5s\"",
            )
        })
    }

    fn block(&self, node: &KdlNode) -> Result<Block, ScenarioError> {
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

    fn expect(&self, node: &KdlNode) -> Result<Expect, ScenarioError> {
        let mut expect = Expect::default();
        let Some(children) = node.children() else {
            return Ok(expect);
        };
        for item in children.nodes() {
            match item.name().value() {
                "outcome" => {
                    let usage = "outcome TASK value|cancelled|timeout|error|running [DETAIL]";
                    self.only(item, 3, &[], usage)?;
                    let task = self.string_arg(item, 0, "a task name")?;
                    let kind = self.string_arg(item, 1, "an outcome")?;
                    if !["value", "cancelled", "timeout", "error", "running"].contains(&kind.as_str()) {
                        return Err(self.error(
                            self.args(item)[1].span(),
                            format!("unknown outcome `{kind}`"),
                            "not an outcome",
                            "expect one of value, cancelled, timeout, error, running",
                        ));
                    }
                    let detail = self.args(item).get(2).and_then(|entry| self.value_text(entry));
                    expect.outcomes.push(ExpectedOutcome {
                        task,
                        kind,
                        detail,
                        span: item.span(),
                    });
                }
                "violations" => {
                    self.only(item, usize::MAX, &[], "violations CODE…")?;
                    for entry in self.args(item) {
                        let code = self.value_text(entry).unwrap_or_default();
                        if crate::ViolationCode::from_name(&code).is_none() {
                            let codes: Vec<&str> =
                                crate::ViolationCode::ALL.iter().map(|c| c.as_str()).collect();
                            return Err(self.error(
                                entry.span(),
                                format!("unknown violation code `{code}`"),
                                "not a violation code",
                                format!("codes are: {}", codes.join(", ")),
                            ));
                        }
                        if !expect.violations.contains(&code) {
                            expect.violations.push(code);
                        }
                    }
                    expect.violations.sort();
                }
                "time" => {
                    self.only(item, 1, &[], "time \"1s\"")?;
                    expect.time = Some(self.duration_arg(item)?);
                }
                other => {
                    return Err(self.error(
                        item.name().span(),
                        format!("unknown expectation `{other}`"),
                        "not outcome, violations or time",
                        "an `expect` block holds `outcome TASK KIND`, `violations CODE…` and `time \"1s\"`",
                    ))
                }
            }
        }
        Ok(expect)
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

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
//!
//! This file reads the top-level nodes (tasks, declared primitives, `about`,
//! `expect`) and builds errors; `steps` parses task bodies and their simple
//! steps, `control` the compound ones, `expect` the `expect` block, and
//! `values` node arguments, texts and durations.

mod control;
mod expect;
mod limits;
mod steps;
mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kdl::KdlDocument;
use miette::SourceSpan;

use super::error::ScenarioError;
use super::model::{Primitive, PrimitiveKind, Scenario, TaskDef};

/// Every step keyword, for hints.
pub const STEP_KEYWORDS: [&str; 38] = [
    "sleep",
    "yield",
    "work",
    "blocking",
    "acquire",
    "release",
    "log",
    "let",
    "spawn",
    "join",
    "cancel",
    "uncancel",
    "cancelling",
    "result",
    "timeout",
    "shield",
    "try",
    "if",
    "wait-first",
    "wait",
    "wait-for",
    "gather",
    "group",
    "repeat",
    "break",
    "raise",
    "reraise",
    "fail",
    "return",
    "put",
    "get",
    "task-done",
    "set",
    "clear",
    "notify",
    "notify-all",
    "on-cancel",
    "on-error",
];

/// Parses `text` (the contents of `path`) into a scenario, without the
/// static checks of [`validate`](super::validate).
pub fn parse(path: &str, text: &str) -> Result<Scenario, ScenarioError> {
    limits::check(path, text)?;
    let source = Arc::new(text.to_string());
    let mut parser = Parser {
        path,
        source: &source,
        primitives: BTreeSet::new(),
    };
    let document = KdlDocument::parse(text).map_err(|error| parser.kdl_error(&error))?;
    // Declarations first: a `wait NAME` step reads differently for them.
    let mut primitives = BTreeMap::new();
    for node in document.nodes() {
        if let Some(primitive) = parser.primitive(node)? {
            if primitives.contains_key(&primitive.name) {
                return Err(parser.error(
                    node.span(),
                    format!("`{}` is declared twice", primitive.name),
                    "second declaration",
                    "give each queue, event, condition and semaphore its own name",
                ));
            }
            primitives.insert(primitive.name.clone(), primitive);
        }
    }
    parser.primitives = primitives.keys().cloned().collect();
    let mut tasks = BTreeMap::new();
    let mut about = None;
    let mut expect = None;
    for node in document.nodes() {
        match node.name().value() {
            "about" => about = Some(parser.string_arg(node, 0, "a description")?),
            "queue" | "event" | "condition" | "semaphore" => {}
            "task" => {
                parser.only(node, usize::MAX, &[], "task NAME [PARAM…] { … }")?;
                let name = parser.string_arg(node, 0, "a task name")?;
                let params = (1..parser.args(node).len())
                    .map(|i| parser.string_arg(node, i, "a parameter name"))
                    .collect::<Result<Vec<_>, _>>()?;
                let body = parser.block(node)?;
                let task = TaskDef {
                    name: name.clone(),
                    span: node.name().span(),
                    params,
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
                    "not `about`, `task`, a declaration or `expect`",
                    "a scenario file holds `about \"…\"`, `task NAME { … }` nodes, declarations (`queue NAME`, `event NAME`, `condition NAME`, `semaphore NAME`) and one `expect { … }`",
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
        primitives,
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
    /// The names of the declared primitives.
    primitives: BTreeSet<String>,
}

impl Parser<'_> {
    /// A declaration (`queue jobs maxsize=2`, `event ready`, `condition
    /// changed`, `semaphore slots value=3`), or `None` for another node.
    fn primitive(&self, node: &kdl::KdlNode) -> Result<Option<Primitive>, ScenarioError> {
        let keyword = node.name().value();
        let (usage, props): (&str, &[&str]) = match keyword {
            "queue" => ("queue NAME [maxsize=N]", &["maxsize"]),
            "semaphore" => ("semaphore NAME [value=N]", &["value"]),
            "event" => ("event NAME", &[]),
            "condition" => ("condition NAME", &[]),
            _ => return Ok(None),
        };
        self.only(node, 1, props, usage)?;
        self.no_children(node, usage)?;
        let name = self.string_arg(node, 0, "a name")?;
        let number = |prop: &str, default: u32| -> Result<u32, ScenarioError> {
            match self.prop(node, prop) {
                Some(entry) => self.count_entry(entry, 0..=1_000_000, usage),
                None => Ok(default),
            }
        };
        let kind = match keyword {
            "queue" => PrimitiveKind::Queue {
                maxsize: number("maxsize", 0)?,
            },
            "semaphore" => PrimitiveKind::Semaphore {
                value: number("value", 1)?,
            },
            "event" => PrimitiveKind::Event,
            _ => PrimitiveKind::Condition,
        };
        Ok(Some(Primitive {
            name,
            kind,
            span: node.span(),
        }))
    }

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
}

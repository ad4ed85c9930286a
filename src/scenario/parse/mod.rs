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
//! This file reads the top-level nodes and builds errors; `steps` parses task
//! bodies, `expect` the `expect` block, and `values` node arguments and
//! durations.

mod expect;
mod limits;
mod steps;
mod values;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kdl::KdlDocument;
use miette::SourceSpan;

use super::error::ScenarioError;
use super::model::{Scenario, TaskDef};

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
    limits::check(path, text)?;
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
}

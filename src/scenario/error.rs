//! `ScenarioError`: a problem in a scenario file, with where it is and how
//! to fix it, rendered through miette (the offending text underlined).

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};

/// A scenario file could not be read, parsed or validated.
#[derive(Debug, Clone)]
pub struct ScenarioError(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    path: String,
    source: Arc<String>,
    span: SourceSpan,
    message: String,
    label: String,
    help: String,
    named: NamedSource<String>,
}

impl ScenarioError {
    /// An error at `span` of `source`.
    pub fn new(
        path: &str,
        source: &Arc<String>,
        span: SourceSpan,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        let len = source.len();
        let offset = span.offset().min(len);
        let span = SourceSpan::from((offset, span.len().min(len - offset)));
        ScenarioError(Box::new(Inner {
            path: path.to_string(),
            source: Arc::clone(source),
            span,
            message: message.into(),
            label: label.into(),
            help: help.into(),
            named: NamedSource::new(path, source.as_str().to_string()),
        }))
    }

    /// A file that could not be read.
    pub fn io(path: &str, error: &std::io::Error) -> Self {
        ScenarioError::new(
            path,
            &Arc::new(String::new()),
            SourceSpan::from((0, 0)),
            format!("cannot read the scenario file: {error}"),
            "",
            "check the path; `cancelsim run` takes scenario files or directories of *.kdl files",
        )
    }

    /// The file.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// 1-based line of the offending text.
    pub fn line(&self) -> usize {
        self.line_column().0
    }

    /// 1-based column (in characters) of the offending text.
    pub fn column(&self) -> usize {
        self.line_column().1
    }

    fn line_column(&self) -> (usize, usize) {
        line_column(&self.0.source, self.0.span.offset())
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// How to fix it.
    pub fn hint(&self) -> &str {
        &self.0.help
    }

    /// The offending span (byte offset and length).
    pub fn span(&self) -> SourceSpan {
        self.0.span
    }

    /// The full report: `file:line:column: message`, the line with the
    /// offending text underlined, and the hint. `color` adds ANSI colors.
    pub fn render(&self, color: bool) -> String {
        let theme = if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        let handler = miette::GraphicalReportHandler::new_themed(theme)
            .with_links(false)
            .with_width(100);
        let mut out = String::new();
        if handler.render_report(&mut out, self).is_err() {
            out.push_str(&format!("  help: {}\n", self.0.help));
        }
        out
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, last)| last)
        .chars()
        .count()
        + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.0.path,
            self.line(),
            self.column(),
            self.0.message
        )
    }
}

impl std::error::Error for ScenarioError {}

impl Diagnostic for ScenarioError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("cancelsim::scenario"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.0.help.is_empty()).then(|| Box::new(&self.0.help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        (!self.0.source.is_empty()).then_some(&self.0.named as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.0.source.is_empty() {
            return None;
        }
        let label = (!self.0.label.is_empty()).then(|| self.0.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            label,
            self.0.span,
        ))))
    }
}

//! Failing runs' traces as files, for CI to keep.

use super::{Failure, Report};
use crate::oracle::Violation;

/// A format [`Report::write_artifacts`] can write a failing run's trace in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArtifactFormat {
    /// The text form (`.trace.txt`), with the repro line on top.
    Text,
    /// JSON lines (`.jsonl`), see [`Trace::to_json_lines`](crate::Trace::to_json_lines).
    JsonLines,
    /// Chrome trace-event JSON (`.chrome.json`), for Perfetto.
    Chrome,
    /// The SVG timeline (`.svg`).
    Svg,
}

impl ArtifactFormat {
    /// Every format.
    pub const ALL: &'static [ArtifactFormat] = &[
        ArtifactFormat::Text,
        ArtifactFormat::JsonLines,
        ArtifactFormat::Chrome,
        ArtifactFormat::Svg,
    ];

    /// The file name ending: `trace.txt`, `jsonl`, `chrome.json`, `svg`.
    pub fn extension(self) -> &'static str {
        match self {
            ArtifactFormat::Text => "trace.txt",
            ArtifactFormat::JsonLines => "jsonl",
            ArtifactFormat::Chrome => "chrome.json",
            ArtifactFormat::Svg => "svg",
        }
    }

    fn render(self, failure: &Failure) -> String {
        match self {
            ArtifactFormat::Text => format!("# {}\n{}", failure.repro, failure.trace),
            ArtifactFormat::JsonLines => failure.trace.to_json_lines(),
            ArtifactFormat::Chrome => failure.trace.to_chrome_json(),
            ArtifactFormat::Svg => failure.trace.to_svg(),
        }
    }
}

impl Report {
    /// Writes each failing run's trace to `dir` (created if missing), once
    /// per format: `failure-000-leaked-resource.trace.txt`,
    /// `failure-000-leaked-resource.svg`, ... (failure index, then the code
    /// of its first violation). Returns the files written, in order. The
    /// contents hold no absolute path, so they can be kept as CI artifacts
    /// and compared across machines. `Check::run` calls this with every
    /// format when `CANCELSIM_ARTIFACTS` is set.
    ///
    /// # Errors
    ///
    /// The first I/O error, naming the file.
    pub fn write_artifacts(
        &self,
        dir: &std::path::Path,
        formats: &[ArtifactFormat],
    ) -> std::io::Result<Vec<std::path::PathBuf>> {
        let mut written = Vec::new();
        if self.failures.is_empty() || formats.is_empty() {
            return Ok(written);
        }
        let context = |path: &std::path::Path, error: std::io::Error| {
            std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
        };
        std::fs::create_dir_all(dir).map_err(|error| context(dir, error))?;
        for (index, failure) in self.failures.iter().enumerate() {
            let code = failure
                .violations
                .first()
                .map_or("failure", Violation::code);
            for format in formats {
                let path = dir.join(format!("failure-{index:03}-{code}.{}", format.extension()));
                std::fs::write(&path, format.render(failure))
                    .map_err(|error| context(&path, error))?;
                written.push(path);
            }
        }
        Ok(written)
    }
}

/// The folder of a check's artifacts under `CANCELSIM_ARTIFACTS`: its name
/// (`Check::name`, a test's path), else the name of the thread it runs on
/// (the test harness names it after the test), else `check`; `::` becomes
/// `.` and anything but letters, digits, `_`, `-` and `.` becomes `_`.
pub(super) fn artifact_folder(name: Option<&str>) -> String {
    let thread = std::thread::current();
    let name = name
        .or(thread.name().filter(|name| *name != "main"))
        .unwrap_or("check");
    name.replace("::", ".")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

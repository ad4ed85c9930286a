//! Source locations, and how they appear in traces and reports.

use std::panic::Location;

/// A source location captured with `#[track_caller]` at a cancelsim primitive.
pub type SourceLocation = &'static Location<'static>;

/// A source path as it should appear in traces and reports: relative paths
/// (the package's own files) unchanged; absolute paths (dependencies) cut to
/// the crate directory, e.g. `tokio-1.0.0/src/sync/mpsc.rs`.
pub fn display_path(file: &str) -> &str {
    let path = std::path::Path::new(file);
    if !path.is_absolute() {
        return file;
    }
    // Keep from the component before the last `src`.
    let parts: Vec<&str> = file.split(['/', '\\']).collect();
    match parts.iter().rposition(|part| *part == "src") {
        Some(src) if src >= 1 => {
            let keep = parts[src - 1..].join("/");
            let start = file.len() - keep.len();
            if file[start..].replace('\\', "/") == keep {
                &file[start..]
            } else {
                parts.last().copied().unwrap_or(file)
            }
        }
        _ => parts.last().copied().unwrap_or(file),
    }
}

/// `file:line:column` with [`display_path`].
pub fn display_location(at: &Location<'_>) -> String {
    format!("{}:{}:{}", display_path(at.file()), at.line(), at.column())
}

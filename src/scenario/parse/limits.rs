//! Limits checked before the text reaches the KDL parser, which recurses
//! once per nesting level (a file nested a thousand levels deep overflowed
//! the stack) and is slow on huge inputs: a scenario is at most
//! [`MAX_BYTES`] long and nests blocks (and `/* */` comments) at most
//! [`MAX_DEPTH`] deep. Both are far beyond any hand-written scenario.

use std::sync::Arc;

use miette::SourceSpan;

use crate::scenario::error::ScenarioError;

/// The largest scenario file accepted.
pub const MAX_BYTES: usize = 1 << 20;

/// The deepest nesting of `{ }` blocks (or of `/* */` comments) accepted.
pub const MAX_DEPTH: usize = 64;

/// Rejects a text too large or nested too deep, with a located error.
pub fn check(path: &str, text: &str) -> Result<(), ScenarioError> {
    if text.len() > MAX_BYTES {
        // The error keeps only the start of the file: it points there.
        let head = &text[..floor_char_boundary(text, 256)];
        return Err(ScenarioError::new(
            path,
            &Arc::new(head.to_string()),
            SourceSpan::from((0, 0)),
            format!(
                "the file is {} bytes long, more than the {MAX_BYTES} bytes a scenario may have",
                text.len()
            ),
            "this file",
            "a scenario is a short program: split it into several files, or use `repeat N { … }` instead of copies",
        ));
    }
    if let Some(offset) = too_deep(text) {
        return Err(ScenarioError::new(
            path,
            &Arc::new(text.to_string()),
            SourceSpan::from((offset, 1)),
            format!("blocks nested more than {MAX_DEPTH} levels deep"),
            "one level too deep",
            "flatten the program: move deep parts into tasks of their own (`spawn`, `join`)",
        ));
    }
    Ok(())
}

/// The offset of the first `{` (or `/*`) past [`MAX_DEPTH`] levels,
/// skipping strings and comments as KDL reads them.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(at);
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            b'"' => at = skip_string(bytes, at + 1, 0),
            b'#' => {
                // A raw string: `#"…"#`, `##"…"##`, ...
                let hashes = bytes[at..].iter().take_while(|&&b| b == b'#').count();
                if bytes.get(at + hashes) == Some(&b'"') {
                    at = skip_string(bytes, at + hashes + 1, hashes);
                } else {
                    at += hashes;
                    continue;
                }
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at = bytes[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| at + n);
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                // Block comments nest.
                let mut comments = 0usize;
                while at < bytes.len() {
                    if bytes[at..].starts_with(b"/*") {
                        comments += 1;
                        if comments > MAX_DEPTH {
                            return Some(at);
                        }
                        at += 2;
                    } else if bytes[at..].starts_with(b"*/") {
                        comments -= 1;
                        at += 2;
                        if comments == 0 {
                            break;
                        }
                    } else {
                        at += 1;
                    }
                }
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// The offset of the closing quote of a string whose text starts at
/// `start` (a raw string with `hashes` `#`s has no escapes), or the end.
fn skip_string(bytes: &[u8], start: usize, hashes: usize) -> usize {
    let mut at = start;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if hashes == 0 => at += 2,
            b'"' if bytes[at + 1..]
                .iter()
                .take(hashes)
                .filter(|&&b| b == b'#')
                .count()
                == hashes =>
            {
                return at + hashes;
            }
            _ => at += 1,
        }
    }
    bytes.len()
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

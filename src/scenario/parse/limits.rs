//! Limits checked before the text reaches the KDL parser, which recurses
//! once per nesting level (a file nested a thousand levels deep overflowed
//! the stack) and is slow on huge inputs. A scenario is at most
//! [`MAX_BYTES`] long, holds none of the code points KDL forbids (control
//! characters, a byte-order mark past the start, direction controls: the
//! parser's error recovery after one reads on in ways a scan cannot
//! follow), and nests blocks (and `/* */` comments) at most [`MAX_DEPTH`]
//! deep, strings and comments skipped as KDL 2 reads them. As a second
//! guard, the braces of the whole text, strings included, may not nest
//! past [`MAX_RAW_DEPTH`]. All of it is far beyond any hand-written
//! scenario; the depth also keeps the scenario's own parser, checker and
//! interpreter, which recurse per block, within a 2 MiB thread stack (a
//! debug build overflowed one at 64 nested `group`s).

use std::sync::Arc;

use miette::SourceSpan;

use crate::scenario::error::ScenarioError;

/// The largest scenario file accepted.
pub const MAX_BYTES: usize = 1 << 20;

/// The deepest nesting of `{ }` blocks (or of `/* */` comments) accepted.
pub const MAX_DEPTH: usize = 32;

/// The deepest nesting of braces counted everywhere, strings included.
pub const MAX_RAW_DEPTH: usize = 128;

/// Rejects a text too large, with a forbidden code point, or nested too
/// deep, with a located error.
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
    let error = |offset: usize, len: usize, message: String, label: &str, help: &str| {
        ScenarioError::new(
            path,
            &Arc::new(text.to_string()),
            SourceSpan::from((offset, len)),
            message,
            label,
            help,
        )
    };
    if let Some((offset, c)) = text
        .char_indices()
        .find(|&(offset, c)| forbidden(c) && !(offset == 0 && c == '\u{feff}'))
    {
        return Err(error(
            offset,
            c.len_utf8(),
            format!(
                "the code point U+{:04X} is not allowed in a scenario file",
                c as u32
            ),
            "here",
            "KDL forbids control characters, a byte-order mark past the start and direction \
             controls: delete it (an editor that shows invisible characters helps)",
        ));
    }
    if let Some(offset) = too_deep(text) {
        return Err(error(
            offset,
            1,
            format!("blocks nested more than {MAX_DEPTH} levels deep"),
            "one level too deep",
            "flatten the program: move deep parts into tasks of their own (`spawn`, `join`)",
        ));
    }
    if let Some(offset) = too_deep_raw(text) {
        return Err(error(
            offset,
            1,
            format!(
                "braces nested more than {MAX_RAW_DEPTH} levels deep (counting those in strings)"
            ),
            "too deep",
            "a scenario does not need that many `{`: shorten the strings and blocks that hold them",
        ));
    }
    Ok(())
}

/// A code point KDL 2 does not allow anywhere in a document.
fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{e}'..='\u{1f}' | '\u{7f}' | '\u{feff}'
        | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A KDL 2 newline (`\r\n` counts as `\r`, then `\n`).
fn newline(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// The offset of the first `{` (or `/*`) past [`MAX_DEPTH`] levels,
/// skipping strings and comments as KDL reads them.
fn too_deep(text: &str) -> Option<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at_char = |i: usize| chars.get(i).map(|&(_, c)| c);
    let starts = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| at_char(i + k) == Some(c))
    };
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let (offset, c) = chars[i];
        match c {
            '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(offset);
                }
            }
            '}' => depth = depth.saturating_sub(1),
            '"' => {
                i = skip_string(&chars, i, 0);
                continue;
            }
            '#' => {
                // A raw string: `#"…"#`, `##"…"##`, ...
                let hashes = (i..chars.len()).take_while(|&k| chars[k].1 == '#').count();
                if at_char(i + hashes) == Some('"') {
                    i = skip_string(&chars, i + hashes, hashes);
                } else {
                    i += hashes;
                }
                continue;
            }
            '/' if at_char(i + 1) == Some('/') => {
                while i < chars.len() && !newline(chars[i].1) {
                    i += 1;
                }
                continue;
            }
            '/' if at_char(i + 1) == Some('*') => {
                // Block comments nest.
                let mut comments = 0usize;
                while i < chars.len() {
                    if starts(i, "/*") {
                        comments += 1;
                        if comments > MAX_DEPTH {
                            return Some(chars[i].0);
                        }
                        i += 2;
                    } else if starts(i, "*/") {
                        comments -= 1;
                        i += 2;
                        if comments == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index (in `chars`) just past the string whose opening quote is at
/// `quote` (with `hashes` `#`s: a raw string, no escapes). As in KDL 2, a
/// string ends at its line's end unless it is a multi-line one (`"""`):
/// an unterminated one is an error the parser recovers from at the next
/// line, which it then reads as nodes.
fn skip_string(chars: &[(usize, char)], quote: usize, hashes: usize) -> usize {
    let is = |i: usize, c: char| chars.get(i).is_some_and(|&(_, found)| found == c);
    let multi_line = is(quote + 1, '"') && is(quote + 2, '"');
    let closer = if multi_line { 3 } else { 1 };
    let mut i = quote + closer;
    while i < chars.len() {
        let c = chars[i].1;
        if c == '\\' && hashes == 0 {
            i += 2;
        } else if newline(c) && !multi_line {
            return i;
        } else if (0..closer).all(|k| is(i + k, '"'))
            && (0..hashes).all(|k| is(i + closer + k, '#'))
        {
            return i + closer + hashes;
        } else {
            i += 1;
        }
    }
    chars.len()
}

/// The offset of the first `{` past [`MAX_RAW_DEPTH`] levels, counting
/// every brace of the text.
fn too_deep_raw(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, c) in text.char_indices() {
        match c {
            '{' => {
                depth += 1;
                if depth > MAX_RAW_DEPTH {
                    return Some(offset);
                }
            }
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

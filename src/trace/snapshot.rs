//! Snapshotting a trace with insta: [`assert_trace_snapshot!`](crate::assert_trace_snapshot).
//!
//! The text form of a trace holds only virtual time, task ids and names and
//! repository-relative source locations, so it is stable by construction.
//! [`redact_for_snapshot`] still strips absolute paths defensively (a panic
//! message or a task name may carry one), so that a snapshot taken on one
//! machine matches on every other.

use super::display_path;

/// The snapshot text of a trace's text form: the package directory
/// `manifest_dir` removed from paths, and any other absolute path cut to its
/// crate-relative part with [`display_path`](super::display_path).
///
/// ```
/// let text = "0 main#0 completed: panicked: at /home/ci/work/app/src/lib.rs:3:1";
/// let stable = cancelsim::trace::redact_for_snapshot(text, "/home/ci/work/app");
/// assert_eq!(stable, "0 main#0 completed: panicked: at src/lib.rs:3:1");
/// ```
pub fn redact_for_snapshot(text: &str, manifest_dir: &str) -> String {
    let manifest_dir = manifest_dir.trim_end_matches(['/', '\\']);
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let line = if manifest_dir.is_empty() {
            line.to_string()
        } else {
            line.replace(&format!("{manifest_dir}/"), "")
                .replace(&format!("{manifest_dir}\\"), "")
        };
        let mut rest = line.as_str();
        while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = &rest[..end];
            let lead = word.len() - word.trim_start_matches(['(', '`', '\'', '"']).len();
            let (prefix, path) = word.split_at(lead);
            out.push_str(prefix);
            if is_absolute(path) {
                out.push_str(display_path(path));
            } else {
                out.push_str(path);
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
    }
    out
}

fn is_absolute(word: &str) -> bool {
    let bytes = word.as_bytes();
    word.starts_with('/')
        || (bytes.len() > 2
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && (bytes[2] == b'\\' || bytes[2] == b'/'))
}

/// Snapshots a trace's text form with insta, in the package's top-level
/// `snapshots/` directory, as `snapshots/<name>.snap`.
///
/// The text starts with the format version line
/// ([`TEXT_FORMAT_VERSION`](crate::trace::TEXT_FORMAT_VERSION)); absolute
/// paths are redacted ([`redact_for_snapshot`](crate::trace::redact_for_snapshot)).
/// The macro expands to `insta::assert_snapshot!` in your crate, so add
/// `insta` to your `[dev-dependencies]`; cancelsim itself does not depend on
/// it. Review changes with `cargo insta review`; in CI (`CI` set) a changed
/// trace fails until accepted.
///
/// ```ignore
/// #[test]
/// fn fetch_then_cancel() {
///     let mut sim = cancelsim::Sim::new(cancelsim::Config::default().seed(7));
///     sim.block_on(my_program()).unwrap();
///     cancelsim::assert_trace_snapshot!("fetch_then_cancel", sim.trace());
/// }
/// ```
///
/// `trace` is anything whose `Display` is a trace's text form: a
/// [`Trace`](crate::Trace), `&Trace`, `sim.trace()` or `failure.trace()`.
#[macro_export]
macro_rules! assert_trace_snapshot {
    ($name:expr, $trace:expr $(,)?) => {{
        let cancelsim_trace_text = $crate::trace::redact_for_snapshot(
            &::std::string::ToString::to_string(&$trace),
            ::core::env!("CARGO_MANIFEST_DIR"),
        );
        let mut cancelsim_settings = ::insta::Settings::clone_current();
        cancelsim_settings.set_snapshot_path(
            ::std::path::Path::new(::core::env!("CARGO_MANIFEST_DIR")).join("snapshots"),
        );
        cancelsim_settings.set_prepend_module_to_snapshot(false);
        cancelsim_settings.bind(|| {
            ::insta::assert_snapshot!($name, cancelsim_trace_text, ::core::stringify!($trace));
        });
    }};
}

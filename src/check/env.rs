//! `CANCELSIM_*` environment variables read by `Check::run`.
//!
//! | variable | meaning |
//! | --- | --- |
//! | `CANCELSIM_REPLAY` | a repro line: run exactly that plan and print its trace |
//! | `CANCELSIM_THREADS` | worker threads for the sweep (default: all cores) |
//! | `CANCELSIM_MAX_RUNS` | cap on the runs of every sweep (overrides `max_runs`) |
//! | `CANCELSIM_ARTIFACTS` | directory where failing runs' traces are written |
//!
//! Any other `CANCELSIM_*` name, or a bad value, is an error: a typo must not
//! silently fall back to a default.

use std::path::PathBuf;

use super::Repro;

/// The most worker threads a sweep starts.
pub(crate) const MAX_THREADS: usize = 1024;

/// The variables, read and checked.
#[derive(Debug, Default)]
pub(crate) struct Env {
    pub replay: Option<Repro>,
    pub threads: Option<usize>,
    pub max_runs: Option<usize>,
    pub artifacts: Option<PathBuf>,
}

const KNOWN: [&str; 4] = [
    "CANCELSIM_REPLAY",
    "CANCELSIM_THREADS",
    "CANCELSIM_MAX_RUNS",
    "CANCELSIM_ARTIFACTS",
];

/// A bad `CANCELSIM_*` environment variable: an unknown name, or a value
/// that does not parse. Its message names the variable, the value, what is
/// expected and an example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvError {
    message: String,
}

impl std::fmt::Display for EnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EnvError {}

/// Checks every `CANCELSIM_*` variable of the process environment, as
/// [`Check::run`](super::Check::run) reads them: a tool (the CLI) calls it
/// first, to exit with the message instead of panicking in a sweep.
///
/// # Errors
///
/// The first unknown name or bad value.
pub fn check_environment() -> Result<(), EnvError> {
    read().map(drop).map_err(|message| EnvError { message })
}

/// Reads every `CANCELSIM_*` variable of the process environment.
pub(crate) fn read() -> Result<Env, String> {
    from_vars(std::env::vars_os().filter_map(|(key, value)| {
        let key = key.into_string().ok()?;
        key.starts_with("CANCELSIM_").then(|| {
            (
                key,
                value
                    .into_string()
                    .unwrap_or_else(|v| v.to_string_lossy().into_owned()),
            )
        })
    }))
}

/// Reads the given `(name, value)` pairs (testable without touching the
/// process environment).
pub(crate) fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Env, String> {
    let mut env = Env::default();
    for (key, value) in vars {
        let positive = |what: &str| -> Result<usize, String> {
            match value.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!(
                    "{key}={value:?} is not valid: expected {what} (a whole number of at least 1), e.g. {key}=4"
                )),
            }
        };
        match key.as_str() {
            "CANCELSIM_REPLAY" => {
                env.replay = Some(value.trim().parse().map_err(|e| format!("{key}: {e}"))?)
            }
            "CANCELSIM_THREADS" => {
                let threads = positive("a thread count")?;
                if threads > MAX_THREADS {
                    return Err(format!(
                        "{key}={value:?} is not valid: at most {MAX_THREADS} threads, e.g. {key}=4"
                    ));
                }
                env.threads = Some(threads);
            }
            "CANCELSIM_MAX_RUNS" => env.max_runs = Some(positive("a run count")?),
            "CANCELSIM_ARTIFACTS" => {
                if value.trim().is_empty() {
                    return Err(format!(
                        "{key} is empty: set it to a directory for failing runs' traces, or unset it"
                    ));
                }
                env.artifacts = Some(PathBuf::from(value));
            }
            _ => {
                return Err(format!(
                    "unknown environment variable {key}: cancelsim reads {} (a typo?)",
                    KNOWN.join(", ")
                ))
            }
        }
    }
    Ok(env)
}

//! `CANCELSIM_*` environment variables read by `Check::run`.
//!
//! | variable | meaning |
//! | --- | --- |
//! | `CANCELSIM_REPLAY` | a repro line: run exactly that plan and print its trace |
//! | `CANCELSIM_THREADS` | worker threads for the sweep (default: all cores; overrides `threads`) |
//! | `CANCELSIM_MAX_RUNS` | cap on the runs of every sweep (overrides `max_runs`) |
//! | `CANCELSIM_ARTIFACTS` | directory where failing runs' traces are written, a folder per test |
//! | `CANCELSIM_TIME_BUDGET` | wall-clock budget of every sweep (`90s`, `10m`; overrides `time_budget`) |
//! | `CANCELSIM_WATCHDOG` | wall-clock limit of one poll (`5s`, `500ms`) or `off` (overrides `Config::watchdog` in sweeps) |
//! | `CANCELSIM_TIMEOUT_RESULTS` | `fail` or `excuse`: whether a timeout expiry the test fails the same way without is a failure (overrides `excuse_timeout_results`) |
//!
//! One precedence rule: a variable that is set wins over what the code says
//! (the `Check` builder, the `Config`), which wins over the default — so CI
//! can change every sweep without editing a test. `Check::run` reads them
//! once, here.
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
    /// `CANCELSIM_TIME_BUDGET`: the wall-clock budget of every sweep.
    pub time_budget: Option<std::time::Duration>,
    /// `CANCELSIM_WATCHDOG`: the limit of a poll (`Some(None)`: off).
    pub watchdog: Option<Option<std::time::Duration>>,
    /// `CANCELSIM_TIMEOUT_RESULTS`: excuse (`excuse`) or fail (`fail`)
    /// the runs `Check::excuse_timeout_results` is about.
    pub excuse_timeout_results: Option<bool>,
}

const KNOWN: [&str; 7] = [
    "CANCELSIM_REPLAY",
    "CANCELSIM_THREADS",
    "CANCELSIM_MAX_RUNS",
    "CANCELSIM_ARTIFACTS",
    "CANCELSIM_TIME_BUDGET",
    "CANCELSIM_WATCHDOG",
    "CANCELSIM_TIMEOUT_RESULTS",
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
            "CANCELSIM_TIME_BUDGET" => {
                env.time_budget = Some(duration(&value).ok_or_else(|| {
                    format!(
                        "{key}={value:?} is not valid: expected a duration with a unit, e.g. {key}=10m or {key}=90s"
                    )
                })?);
            }
            "CANCELSIM_WATCHDOG" => {
                env.watchdog = Some(if value.trim() == "off" {
                    None
                } else {
                    Some(duration(&value).ok_or_else(|| {
                        format!(
                            "{key}={value:?} is not valid: expected a duration with a unit or `off`, e.g. {key}=10s"
                        )
                    })?)
                });
            }
            "CANCELSIM_TIMEOUT_RESULTS" => {
                env.excuse_timeout_results = Some(match value.trim() {
                    "excuse" => true,
                    "fail" => false,
                    _ => {
                        return Err(format!(
                            "{key}={value:?} is not valid: expected `fail` (a timeout expiry the \
                             test fails the same way without is a failure) or `excuse` (it is \
                             counted, not failed), e.g. {key}=fail"
                        ))
                    }
                });
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

/// A positive duration: a number and a unit (`ms`, `s`, `m`, `h`).
fn duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "ms" => number / 1e3,
        "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds > 0.0 && seconds < 1e9)
        .then(|| std::time::Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::from_vars;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn bad_environment_values_are_errors_with_a_hint() {
        let error = from_vars(vars(&[("CANCELSIM_THREADS", "many")])).unwrap_err();
        assert!(
            error.contains("CANCELSIM_THREADS") && error.contains("e.g."),
            "{error}"
        );
        let error = from_vars(vars(&[("CANCELSIM_THREDS", "2")])).unwrap_err();
        assert!(
            error.contains("unknown") && error.contains("CANCELSIM_THREADS"),
            "{error}"
        );
        let error = from_vars(vars(&[("CANCELSIM_REPLAY", "garbage")])).unwrap_err();
        assert!(error.contains("not a cancelsim repro"), "{error}");
        let error = from_vars(vars(&[("CANCELSIM_MAX_RUNS", "0")])).unwrap_err();
        assert!(error.contains("at least 1"), "{error}");
        let error = from_vars(vars(&[("CANCELSIM_TIMEOUT_RESULTS", "no")])).unwrap_err();
        assert!(
            error.contains("e.g. CANCELSIM_TIMEOUT_RESULTS=fail"),
            "{error}"
        );
        let env = from_vars(vars(&[("CANCELSIM_TIMEOUT_RESULTS", "fail")])).unwrap();
        assert_eq!(env.excuse_timeout_results, Some(false));
    }

    #[test]
    fn budgets_and_the_watchdog_are_read_from_the_environment() {
        let env = from_vars(vars(&[
            ("CANCELSIM_TIME_BUDGET", "90s"),
            ("CANCELSIM_WATCHDOG", "off"),
        ]))
        .unwrap();
        assert_eq!(env.time_budget, Some(std::time::Duration::from_secs(90)));
        assert_eq!(env.watchdog, Some(None));
        let env = from_vars(vars(&[
            ("CANCELSIM_TIME_BUDGET", "10m"),
            ("CANCELSIM_WATCHDOG", "500ms"),
        ]))
        .unwrap();
        assert_eq!(env.time_budget, Some(std::time::Duration::from_secs(600)));
        assert_eq!(
            env.watchdog,
            Some(Some(std::time::Duration::from_millis(500)))
        );
        for (key, value) in [
            ("CANCELSIM_TIME_BUDGET", "10"),
            ("CANCELSIM_TIME_BUDGET", "-1s"),
            ("CANCELSIM_TIME_BUDGET", "0s"),
            ("CANCELSIM_WATCHDOG", "soon"),
            ("CANCELSIM_WATCHDOG", "1e99h"),
        ] {
            let error = from_vars(vars(&[(key, value)])).unwrap_err();
            assert!(error.contains(key) && error.contains("e.g."), "{error}");
        }
    }

    /// One precedence rule for every budget: the environment, then the
    /// code, then the default.
    #[test]
    fn the_environment_wins_over_the_code_which_wins_over_the_default() {
        let check = crate::Check::new(|| async {})
            .threads(2)
            .max_runs(5)
            .time_budget(std::time::Duration::from_secs(7))
            .config(crate::Config::sweep().watchdog(None));
        let code = check.budget(&from_vars(Vec::new()).unwrap());
        assert_eq!(code.threads, 2);
        assert_eq!(code.max_runs, 5);
        assert_eq!(code.time, std::time::Duration::from_secs(7));
        assert_eq!(code.watchdog, None);
        let env = from_vars(vars(&[
            ("CANCELSIM_THREADS", "3"),
            ("CANCELSIM_MAX_RUNS", "9"),
            ("CANCELSIM_TIME_BUDGET", "11s"),
            ("CANCELSIM_WATCHDOG", "2s"),
        ]))
        .unwrap();
        let overridden = check.budget(&env);
        assert_eq!(overridden.threads, 3);
        assert_eq!(overridden.max_runs, 9);
        assert_eq!(overridden.time, std::time::Duration::from_secs(11));
        assert_eq!(overridden.watchdog, Some(std::time::Duration::from_secs(2)));
        let defaults = crate::Check::new(|| async {}).budget(&from_vars(Vec::new()).unwrap());
        assert_eq!(defaults.max_runs, crate::check::DEFAULT_MAX_RUNS);
        assert_eq!(defaults.time, crate::check::DEFAULT_TIME_BUDGET);
        assert_eq!(defaults.watchdog, Some(crate::config::DEFAULT_WATCHDOG));
    }

    #[test]
    fn good_environment_values_are_read() {
        let env = from_vars(vars(&[
            ("CANCELSIM_THREADS", "3"),
            (
                "CANCELSIM_REPLAY",
                "cancelsim:v1 seed=2 scheduler=pct:3 inject=timeout@1:2/wake",
            ),
        ]))
        .unwrap();
        assert_eq!(env.threads, Some(3));
        assert_eq!(env.replay.unwrap().seed, 2);
    }
}

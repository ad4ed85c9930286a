//! Helpers of the scenario tests (`mod scenario_common;`): loading a
//! scenario, and running its baseline both ways — the interpreter and the
//! asyncio program `export_python` writes for it, under CPython — so that
//! every behaviour a test pins is one CPython has too.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use cancelsim::scenario::{self, Baseline, PythonRun, Scenario};

/// The `python3` to compare with (`CANCELSIM_PYTHON` names another), or
/// `None`, said once, when there is none.
pub fn python() -> Option<&'static str> {
    static PYTHON: OnceLock<Option<String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let python =
                std::env::var("CANCELSIM_PYTHON").unwrap_or_else(|_| "python3".to_string());
            match Command::new(&python).arg("--version").output() {
                Ok(output) if output.status.success() => Some(python),
                _ => {
                    eprintln!(
                        "skipped: no `{python}` on this machine, so scenarios are not compared \
                         with CPython (install python3 3.11 or later, or set CANCELSIM_PYTHON)"
                    );
                    None
                }
            }
        })
        .as_deref()
}

/// Parses and checks `text` as `name`, panicking with the rendered error.
pub fn load_text(name: &str, text: &str) -> Arc<Scenario> {
    Arc::new(scenario::load_str(name, text).unwrap_or_else(|e| panic!("{}", e.render(false))))
}

/// Loads a file, named by its path relative to the repository.
pub fn load_file(path: &Path) -> Arc<Scenario> {
    let relative = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path);
    let text = std::fs::read_to_string(path).unwrap();
    load_text(&relative.display().to_string(), &text)
}

/// The catalogue's files, sorted.
pub fn catalogue() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "kdl"))
        .collect();
    files.sort();
    files
}

/// How the interpreter's baseline of `scenario` differs from CPython's run
/// of its exported program (empty when they agree or there is no python).
pub fn differences_from_cpython(scenario: &Scenario, baseline: &Baseline) -> Vec<String> {
    let Some(python) = python() else {
        return Vec::new();
    };
    let program = scenario::export_python(scenario);
    match PythonRun::run(python, &program, scenario::time_unit(scenario)) {
        Ok(run) => run.differences(baseline),
        Err(error) => vec![format!("{error}\nthe program:\n{program}")],
    }
}

/// The baseline of `text`, checked against CPython.
pub fn baseline(text: &str) -> Baseline {
    let scenario = load_text("t.kdl", text);
    let baseline = scenario::baseline(&scenario, 0);
    let differ = differences_from_cpython(&scenario, &baseline);
    assert!(
        differ.is_empty(),
        "differs from CPython:\n{}",
        differ.join("\n")
    );
    baseline
}

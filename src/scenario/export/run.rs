//! Running an exported program under `python3` and reading back what it
//! printed.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::scenario::Baseline;
use crate::SimError;

/// How a task ended in the Python run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonTaskOutcome {
    /// `value`, `cancelled`, `timeout` or `error`.
    pub kind: String,
    /// The value or the error's text.
    pub detail: Option<String>,
    /// When it ended, in nanoseconds of virtual time.
    pub end_ns: u64,
}

/// What an exported program printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PythonRun {
    /// Every `log` line: nanoseconds of virtual time, task, text.
    pub logs: Vec<(u64, String, String)>,
    /// Each task's outcome (the last instance of each name).
    pub outcomes: BTreeMap<String, PythonTaskOutcome>,
    /// When `main` ended, in nanoseconds.
    pub main_end_ns: Option<u64>,
    /// `deadlock` when the loop had nothing left to run.
    pub error: Option<String>,
}

impl PythonRun {
    /// Runs `program` (an exported scenario whose unit is `unit_ns`) with
    /// `python`, feeding it on stdin. `Err` says why it could not run or
    /// what it printed that is not an exported program's output.
    pub fn run(python: &str, program: &str, unit_ns: u64) -> Result<PythonRun, String> {
        let mut child = Command::new(python)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {python}: {e}"))?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(program.as_bytes())
            .map_err(|e| format!("cannot write to {python}: {e}"))?;
        let output = child
            .wait_with_output()
            .map_err(|e| format!("{python} failed: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "{python} exited with {}:\n{}{}",
                output.status,
                stdout,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        PythonRun::parse(&stdout, unit_ns)
    }

    /// Reads the JSON lines an exported program prints.
    pub fn parse(stdout: &str, unit_ns: u64) -> Result<PythonRun, String> {
        let ns = |value: &Value| -> Option<u64> {
            value
                .as_f64()
                .map(|units| (units * unit_ns as f64).round() as u64)
        };
        let mut run = PythonRun::default();
        let mut ended = false;
        for line in stdout.lines().filter(|line| !line.trim().is_empty()) {
            let value: Value =
                serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line}"))?;
            if let Some(text) = value.get("log") {
                run.logs.push((
                    ns(&value["t"]).ok_or_else(|| format!("no time: {line}"))?,
                    value["task"].as_str().unwrap_or_default().to_string(),
                    text.as_str().unwrap_or_default().to_string(),
                ));
            } else if let Some(outcomes) = value.get("outcomes").and_then(Value::as_object) {
                for (task, outcome) in outcomes {
                    run.outcomes.insert(
                        task.clone(),
                        PythonTaskOutcome {
                            kind: outcome[0].as_str().unwrap_or_default().to_string(),
                            detail: outcome[1].as_str().map(str::to_string),
                            end_ns: ns(&outcome[2]).unwrap_or_default(),
                        },
                    );
                }
                run.main_end_ns = ns(&value["end"]);
                run.error = value["error"].as_str().map(str::to_string);
                ended = true;
            } else {
                return Err(format!("unexpected line: {line}"));
            }
        }
        if !ended {
            return Err(format!("the program did not print its outcomes:\n{stdout}"));
        }
        Ok(run)
    }
}

impl PythonRun {
    /// How `baseline` (the interpreter's run) differs from this one:
    /// whether the run stopped on a deadlock, when `main` ended, each task's
    /// outcome and end time, and the log lines with their times (empty:
    /// they agree).
    pub fn differences(&self, baseline: &Baseline) -> Vec<String> {
        let mut problems = Vec::new();
        let ours = baseline.error.as_ref().map(|error| match error {
            SimError::Deadlock { .. } => "deadlock".to_string(),
            other => other.to_string(),
        });
        if ours != self.error {
            problems.push(format!(
                "run error: interpreter {ours:?}, CPython {:?}",
                self.error
            ));
        }
        let record = &baseline.record;
        let end = record.main_end.map(|end| end.as_nanos());
        if end != self.main_end_ns {
            problems.push(format!(
                "main ended: interpreter {end:?} ns, CPython {:?} ns",
                self.main_end_ns
            ));
        }
        let tasks: std::collections::BTreeSet<&String> =
            record.outcomes.keys().chain(self.outcomes.keys()).collect();
        for task in tasks {
            let ours = record.outcomes.get(task).map(|(outcome, end)| {
                (
                    outcome.kind().to_string(),
                    outcome.detail().map(str::to_string),
                    end.as_nanos(),
                )
            });
            let theirs = self
                .outcomes
                .get(task)
                .map(|o| (o.kind.clone(), o.detail.clone(), o.end_ns));
            if ours != theirs {
                problems.push(format!(
                    "task {task}: interpreter {ours:?}, CPython {theirs:?}"
                ));
            }
        }
        let ours: Vec<(u64, String, String)> = record
            .logs
            .iter()
            .map(|line| (line.time.as_nanos(), line.task.clone(), line.text.clone()))
            .collect();
        if ours != self.logs {
            problems.push(format!(
                "log lines differ:\n    interpreter {ours:?}\n    CPython     {:?}",
                self.logs
            ));
        }
        problems
    }
}

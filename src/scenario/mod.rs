//! Scenarios: task programs in KDL files, their interpreter on `Sim`, and
//! the sweep that checks them against their `expect` block.
//!
//! A scenario names its tasks (`main` is the root), their steps, and what
//! the sweep must find. [`load`] reads and validates a file;
//! [`sweep`] runs it at every await point and compares.

mod error;
mod exceptions;
mod export;
mod interp;
mod model;
mod output;
mod parse;
mod render;
mod sweep;
mod validate;

pub use error::ScenarioError;
pub use export::{export_python, time_unit, PythonRun, PythonTaskOutcome};
pub use interp::{run, Located, LogLine, RootEnd, RunRecord};
pub use model::{
    Block, Cond, Expect, ExpectedOutcome, Handler, JoinExpect, Outcome, Primitive, PrimitiveKind,
    Resolution, ReturnWhen, Scenario, Step, StepKind, TaskDef, Text, TextPart,
};
pub use output::{verdicts_json, verdicts_junit};
pub use parse::{parse, parse_duration, STEP_KEYWORDS};
pub use render::{explain, render_trace};
pub use sweep::{baseline, sweep, Baseline, SweepOptions, Verdict};
pub use validate::check;

/// Parses and validates `text` as the scenario file `path`.
///
/// Both recurse once per nested block: they run on a thread of their own
/// with a stack sized for the deepest nesting a file may have (32
/// levels), so that any caller's thread (a test's 2 MiB one included) can
/// load any file.
pub fn load_str(path: &str, text: &str) -> Result<Scenario, ScenarioError> {
    const STACK: usize = 64 << 20;
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("cancelsim-scenario-parser".to_string())
            .stack_size(STACK)
            .spawn_scoped(scope, || {
                let scenario = parse(path, text)?;
                check(&scenario)?;
                Ok(scenario)
            })
            .map_err(|e| ScenarioError::io(path, &e))?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Reads, parses and validates the scenario file at `path`.
pub fn load(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(&shown, &e))?;
    load_str(&shown, &text)
}

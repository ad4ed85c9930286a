//! Every scenario of the catalogue (`scenarios/`) matches its expectation
//! when swept, and its baseline trace is pinned by a snapshot.

use std::path::PathBuf;
use std::sync::Arc;

use cancelsim::scenario::{self, SweepOptions};

fn catalogue() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "kdl"))
        .collect();
    files.sort();
    files
}

fn load(path: &std::path::Path) -> Arc<scenario::Scenario> {
    let relative = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path);
    let text = std::fs::read_to_string(path).unwrap();
    Arc::new(
        scenario::load_str(&relative.display().to_string(), &text)
            .unwrap_or_else(|e| panic!("{}", e.render(false))),
    )
}

#[test]
fn the_catalogue_has_a_wrong_and_a_right_version_of_each_rule() {
    let files = catalogue();
    assert!(files.len() >= 16, "{} scenarios", files.len());
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().filter(|n| n.ends_with("-wrong")).count() >= 8);
    assert!(names.iter().filter(|n| n.ends_with("-right")).count() >= 8);
}

#[test]
fn every_scenario_matches_its_expectation() {
    let mut differ = Vec::new();
    for path in catalogue() {
        let scenario = load(&path);
        let verdict = scenario::sweep(&scenario, &SweepOptions::default());
        if !verdict.matches() {
            differ.push(format!("{}: {:?}", scenario.name, verdict.problems));
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
}

#[test]
fn every_baseline_trace_is_stable() {
    for path in catalogue() {
        let scenario = load(&path);
        let first = scenario::baseline(&scenario, 0);
        let second = scenario::baseline(&scenario, 0);
        let text = first.trace.to_string();
        assert_eq!(text, second.trace.to_string(), "{}", scenario.name);
        assert!(!text.contains(env!("CARGO_MANIFEST_DIR")));
        // The interpreter's own line numbers are not part of a scenario's
        // behaviour: keep the file, drop `:line:column`.
        let mut snapshot = without_interpreter_lines(&text);
        snapshot.push_str("\noutcomes:\n");
        for task in &scenario.instance_names() {
            match first.record.outcomes.get(task) {
                Some((outcome, end)) => {
                    snapshot.push_str(&format!("  {task}: {outcome} at {end}\n"))
                }
                None => snapshot.push_str(&format!("  {task}: running\n")),
            }
        }
        for line in &first.record.logs {
            snapshot.push_str(&format!("log {} {}: {}\n", line.time, line.task, line.text));
        }
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("scenario_{}", scenario.name), snapshot);
        });
    }
}

/// `src/scenario/interp.rs:380:18` → `src/scenario/interp.rs`, and the same
/// for the interpreter's submodules (`src/scenario/interp/step.rs:50:13` →
/// `src/scenario/interp/step.rs`).
fn without_interpreter_lines(text: &str) -> String {
    const FILE: &str = "src/scenario/interp";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(FILE) {
        let path = |c: char| c.is_ascii_lowercase() || c == '_' || c == '/' || c == '.';
        let name = rest[at + FILE.len()..]
            .find(|c: char| !path(c))
            .unwrap_or(rest.len() - at - FILE.len());
        let after = at + FILE.len() + name;
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        if let Some(tail) = rest.strip_prefix(':') {
            let line = digits(tail);
            if line > 0 {
                let tail2 = &tail[line..];
                if let Some(col_tail) = tail2.strip_prefix(':') {
                    let col = digits(col_tail);
                    rest = &col_tail[col..];
                } else {
                    rest = tail2;
                }
            }
        }
    }
    out.push_str(rest);
    out
}

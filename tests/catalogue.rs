//! Every scenario of the catalogue (`scenarios/`) matches its expectation
//! when swept, and its baseline trace is pinned by a snapshot.

#![cfg(feature = "scenario")]

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
        let text = scenario::render_trace(&scenario, &first.trace, &first.record);
        assert_eq!(
            text,
            scenario::render_trace(&scenario, &second.trace, &second.record),
            "{}",
            scenario.name
        );
        assert!(!text.contains(env!("CARGO_MANIFEST_DIR")));
        // Every location is the scenario file's, none the interpreter's.
        assert!(!text.contains("src/"), "{}:\n{text}", scenario.name);
        let mut snapshot = text;
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

//! Every catalogue scenario, both ways: the interpreter's baseline run and
//! the asyncio program `cancelsim export --python` writes for it, run by
//! CPython (`python3`, 3.11 or later; `CANCELSIM_PYTHON` names another).
//! Outcomes, end times, log lines with their times and when `main` ended
//! must agree. Without a `python3` the test says so and passes.
#![cfg(feature = "scenario")]

mod scenario_common;

use cancelsim::scenario;
use scenario_common::{catalogue, differences_from_cpython, load_file, python};

#[test]
fn every_catalogue_scenario_agrees_with_cpython() {
    if python().is_none() {
        return;
    }
    let files = catalogue();
    // A few CPython processes at a time: each takes tens of megabytes.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let differ: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut found = Vec::new();
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = files.get(index) else {
                            return found;
                        };
                        let scenario = load_file(path);
                        let baseline = scenario::baseline(&scenario, 0);
                        let problems = differences_from_cpython(&scenario, &baseline);
                        if !problems.is_empty() {
                            found.push(format!("{}:\n  {}", scenario.name, problems.join("\n  ")));
                        }
                    }
                })
            })
            .collect();
        let mut differ: Vec<String> = workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("no panic"))
            .collect();
        differ.sort();
        differ
    });
    assert!(
        differ.is_empty(),
        "{} of {} scenarios differ from CPython:\n{}",
        differ.len(),
        files.len(),
        differ.join("\n")
    );
}

#[test]
fn an_exported_program_names_its_scenario_and_time_unit() {
    let scenario = load_file(&catalogue()[0]);
    let program = scenario::export_python(&scenario);
    assert!(program.starts_with("#!/usr/bin/env python3\n"), "{program}");
    assert!(program.contains("models, written by `cancelsim export --python`"));
    assert!(program.contains("UNIT_NS = "));
    assert!(program.contains("run(task_main)"));
}

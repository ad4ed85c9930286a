//! The `CANCELSIM_*` environment, through a child process (so this
//! process's environment is never touched): replay, artifacts, threads.

use std::process::Command;

use cancelsim::Check;

use crate::common::sweep;
use crate::leaky_program;

// ----- the environment, through a child process ------------------------------

const VARIABLES: [&str; 4] = [
    "CANCELSIM_REPLAY",
    "CANCELSIM_THREADS",
    "CANCELSIM_MAX_RUNS",
    "CANCELSIM_ARTIFACTS",
];

/// Runs one test of this module (`test`, its name here) in a child process
/// with `name=value` set (and no other `CANCELSIM_*`); returns (success,
/// stdout, stderr).
fn run_child(test: &str, name: &str, value: &str) -> (bool, String, String) {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    let test = format!("environment::{test}");
    command.args(["--exact", &test, "--nocapture", "--test-threads=1"]);
    for variable in VARIABLES {
        command.env_remove(variable);
    }
    command.env(name, value);
    let output = command.output().expect("the test binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The target of `replay_reruns_exactly_one_run`: a plain sweep when run
/// normally, a single replayed run under `CANCELSIM_REPLAY`.
#[test]
fn replay_target() {
    let report = sweep(leaky_program).run();
    assert!(!report.is_clean());
    if std::env::var_os("CANCELSIM_REPLAY").is_some() {
        assert_eq!(report.counts().runs, 1);
        assert_eq!(report.failures().len(), 1);
    }
}

/// The target of `artifacts_go_to_a_folder_per_test`: two named failing
/// checks and an unnamed one.
#[test]
fn artifacts_target() {
    for name in ["tests::first", "tests::second"] {
        assert!(!sweep(leaky_program).name(name).run().is_clean());
    }
    assert!(!sweep(leaky_program).run().is_clean());
}

#[test]
fn artifacts_go_to_a_folder_per_test() {
    let dir = std::env::temp_dir().join(format!(
        "cancelsim-artifacts-per-test-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let (success, stdout, stderr) = run_child(
        "artifacts_target",
        "CANCELSIM_ARTIFACTS",
        dir.to_str().unwrap(),
    );
    assert!(success, "{stdout}\n{stderr}");
    let mut folders: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    // The unnamed check is named after the test it runs in (the harness
    // names the thread after it).
    assert_eq!(
        folders,
        [
            "environment.artifacts_target",
            "tests.first",
            "tests.second"
        ],
        "{stderr}"
    );
    for folder in &folders {
        let files = std::fs::read_dir(dir.join(folder)).unwrap().count();
        assert_eq!(files, 4 * 10, "{folder}: every failure in all four formats");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The target of the environment tests: any sweep.
#[test]
fn environment_target() {
    Check::new(|| async {}).run().assert_clean();
}

#[test]
fn replay_reruns_exactly_one_run() {
    let report = sweep(leaky_program).run();
    let failure = &report.failures()[3];
    let repro = failure.repro().to_string();
    let (success, stdout, stderr) = run_child("replay_target", "CANCELSIM_REPLAY", &repro);
    assert!(success, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("cancelsim: replaying {repro}\n")),
        "{stdout}"
    );
    // The very trace of the failing run, and its violation.
    assert!(stdout.contains(&failure.trace().to_string()), "{stdout}");
    assert!(
        stdout.contains("injected cancel-drop at await point"),
        "{stdout}"
    );
    for violation in failure.violations() {
        assert!(stdout.contains(&violation.to_string()), "{stdout}");
    }
    assert!(stdout.contains("leaked-resource: resource `"), "{stdout}");
}

#[test]
fn a_bad_replay_line_names_the_variable() {
    let (success, stdout, stderr) = run_child("environment_target", "CANCELSIM_REPLAY", "garbage");
    assert!(!success, "{stdout}");
    assert!(
        stderr.contains(
            "cancelsim: CANCELSIM_REPLAY: not a cancelsim repro: it starts with `garbage`"
        ),
        "{stderr}"
    );
}

#[test]
fn a_bad_thread_count_names_the_variable() {
    let (success, stdout, stderr) = run_child("environment_target", "CANCELSIM_THREADS", "abc");
    assert!(!success, "{stdout}");
    assert!(
        stderr.contains("cancelsim: CANCELSIM_THREADS=\"abc\" is not valid")
            && stderr.contains("e.g. CANCELSIM_THREADS=4"),
        "{stderr}"
    );
    let (success, _, stderr) = run_child("environment_target", "CANCELSIM_THREDS", "2");
    assert!(!success);
    assert!(
        stderr.contains("unknown environment variable CANCELSIM_THREDS"),
        "{stderr}"
    );
    let (success, stdout, stderr) = run_child("environment_target", "CANCELSIM_THREADS", "3");
    assert!(success, "{stdout}\n{stderr}");
}

//! The `cancelsim` binary end to end: exit codes, bad files, output when
//! piped, `--json` and `--junit`.

#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cancelsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cancelsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CANCELSIM_REPLAY")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cancelsim-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

#[test]
fn run_exits_0_when_every_scenario_matches() {
    let out = cancelsim(&[
        "run",
        "scenarios/swallowed-cancel-wrong.kdl",
        "scenarios/swallowed-cancel-right.kdl",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("swallowed-cancel-wrong"), "{stdout}");
    assert!(
        stdout.contains("await points") && stdout.contains("runs"),
        "{stdout}"
    );
    assert!(stdout.contains("found: cancel-swallowed"), "{stdout}");
    // Piped: plain lines, no progress bar escapes.
    assert!(!stdout.contains('\u{1b}') && !text(&out.stderr).contains('\u{1b}'));
}

#[test]
fn run_exits_1_when_a_result_differs_from_its_expectation() {
    let dir = temp_dir("differs");
    let file = write(
        &dir,
        "claims-clean.kdl",
        "task main {\n    try {\n        sleep \"1s\"\n    }\n    on-cancel {\n        swallow\n    }\n}\n",
    );
    let out = cancelsim(&["run", &file]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("FAIL") && stdout.contains("unexpected violation cancel-swallowed"),
        "{stdout}"
    );
    // The suggested replay names the real file, and it replays.
    let line = stdout
        .lines()
        .find(|line| line.contains("first failing run: cancelsim replay"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.ends_with(&format!("--scenario {file}")), "{line}");
    let repro = line.split('\'').nth(1).expect("the repro in quotes");
    let replayed = cancelsim(&["replay", repro, "--scenario", &file]);
    assert_eq!(
        replayed.status.code(),
        Some(1),
        "{}",
        text(&replayed.stderr)
    );
}

#[test]
fn a_bad_file_exits_2_with_line_column_and_hint() {
    let dir = temp_dir("bad");
    let file = write(&dir, "bad.kdl", "task main {\n    sleep \"ten\"\n}\n");
    for command in ["run", "check"] {
        let out = cancelsim(&[command, &file]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("bad.kdl:2:11"), "{stderr}");
        assert!(stderr.contains("help:"), "{stderr}");
        assert!(!stderr.contains('\u{1b}'), "no colors when piped: {stderr}");
    }
}

#[test]
fn check_validates_the_catalogue() {
    let out = cancelsim(&["check", "scenarios"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn json_and_junit_outputs_parse() {
    let dir = temp_dir("reports");
    let junit = dir.join("junit.xml");
    let out = cancelsim(&[
        "run",
        "scenarios/timeout-fires-wrong.kdl",
        "scenarios/timeout-fires-right.kdl",
        "--json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(value["matches"], true);
    assert_eq!(value["scenarios"].as_array().unwrap().len(), 2);
    assert_eq!(value["scenarios"][0]["found"][0], "leaked-resource");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"));
    assert!(xml.contains("tests=\"2\" failures=\"0\""), "{xml}");
    assert_eq!(xml.matches("<testcase").count(), 2);
}

#[test]
fn trace_json_ends_with_outcomes_end_time_and_logs() {
    let out = cancelsim(&[
        "trace",
        "scenarios/shield-commit-right.kdl",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["outcomes"]["txn"]["outcome"], "cancelled");
    assert_eq!(value["end"], "0.300s");
    assert_eq!(value["logs"][1]["text"], "committed");
    assert_eq!(value["logs"][1]["time"], "0.300s");
    let trace = cancelsim(&["trace", "scenarios/shield-commit-right.kdl"]);
    assert!(text(&trace.stdout).starts_with("cancelsim trace v2"));
}

#[test]
fn replay_reruns_one_failing_run() {
    let out = cancelsim(&[
        "replay",
        "cancelsim:v1 seed=0 scheduler=fifo",
        "--scenario",
        "scenarios/resource-release-on-success-wrong.kdl",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("leaked-resource"));
    let bad = cancelsim(&[
        "replay",
        "garbage",
        "--scenario",
        "scenarios/timeout-fires-right.kdl",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn replaying_an_injection_that_never_fires_is_an_error() {
    for line in [
        "cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@7:7",
        "cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@4294967295:4294967295",
    ] {
        let out = cancelsim(&[
            "replay",
            line,
            "--scenario",
            "scenarios/timeout-fires-right.kdl",
        ]);
        assert_eq!(out.status.code(), Some(2), "{line}");
        assert!(
            text(&out.stderr).contains("injection never fired"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn run_ignores_a_replay_line_left_in_the_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_cancelsim"))
        .args(["run", "scenarios/resource-release-on-success-wrong.kdl"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CANCELSIM_REPLAY", "cancelsim:v1 seed=0 scheduler=fifo")
        .output()
        .expect("the binary runs");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("CANCELSIM_REPLAY is ignored by `cancelsim run`"),
        "{stderr}"
    );
    // The sweep ran: the scenario's expected violation was found (its
    // `expect` matches), in more runs than one replay.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        !text(&out.stdout).contains("    1 runs"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn demo_still_runs() {
    let out = cancelsim(&["demo"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("outcome:"));
}

/// README's "Reading a trace" quotes the demo's output: it must stay the
/// real output, byte for byte.
#[test]
fn readme_quotes_the_demo_output_verbatim() {
    let out = cancelsim(&["demo"]);
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md is readable");
    let quoted = format!("```text\n{}```", text(&out.stdout));
    assert!(
        readme.contains(&quoted),
        "README.md no longer quotes `cancelsim demo` verbatim; replace its block with:\n{}",
        text(&out.stdout)
    );
}

#[test]
fn trace_renders_every_format_and_injected_runs() {
    let file = "scenarios/shield-commit-wrong.kdl";
    let chrome = cancelsim(&["trace", file, "--format", "chrome"]);
    assert_eq!(chrome.status.code(), Some(0));
    let value: serde_json::Value =
        serde_json::from_slice(&chrome.stdout).expect("chrome output is JSON");
    assert!(value["traceEvents"]
        .as_array()
        .is_some_and(|e| !e.is_empty()));
    let svg = cancelsim(&["trace", file, "--format", "svg"]);
    assert_eq!(svg.status.code(), Some(0));
    assert!(text(&svg.stdout).starts_with("<svg"));
    // An injected run: the injection shows in its trace, the JSON names it.
    let repro = "cancelsim:v1 seed=0 scheduler=fifo inject=cancel-coop@1:1";
    let injected = cancelsim(&["trace", file, "--inject", repro]);
    assert_eq!(injected.status.code(), Some(0));
    assert!(text(&injected.stdout).contains("injected cancel-coop at await point 1"));
    let json = cancelsim(&["trace", file, "--inject", repro, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value["repro"], repro);
}

fn cancelsim_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cancelsim"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CANCELSIM_REPLAY");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

#[test]
fn a_bad_or_unknown_environment_variable_exits_2_with_its_message() {
    let file = "scenarios/swallowed-cancel-right.kdl";
    for (key, value, expected) in [
        (
            "CANCELSIM_THREADS",
            "many",
            "CANCELSIM_THREADS=\"many\" is not valid",
        ),
        ("CANCELSIM_THREADS", "99999999", "at most 1024"),
        ("CANCELSIM_MAX_RUNS", "0", "at least 1"),
        (
            "CANCELSIM_THREDS",
            "2",
            "unknown environment variable CANCELSIM_THREDS",
        ),
        ("CANCELSIM_REPLAY", "garbage", "not a cancelsim repro"),
        ("CANCELSIM_ARTIFACTS", "", "CANCELSIM_ARTIFACTS is empty"),
    ] {
        let out = cancelsim_with_env(&["run", file], &[(key, value)]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}={value}: {stderr}");
        assert!(stderr.contains(expected), "{key}={value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{key}={value}: {stderr}");
    }
}

#[test]
fn huge_seed_counts_neither_panic_nor_allocate() {
    for seeds in ["18446744073709551615", "4294967296", "1000000"] {
        let out = cancelsim(&[
            "run",
            "scenarios/swallowed-cancel-right.kdl",
            "--seeds",
            seeds,
            "--max-runs",
            "4",
        ]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "--seeds {seeds}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Out of range or not a number: a usage error.
    for (args, expected) in [
        (vec!["--seeds", "18446744073709551616"], "--seeds"),
        (vec!["--jobs", "0"], "--jobs"),
        (vec!["--jobs", "100000"], "--jobs"),
        (vec!["--max-runs", "0"], "at least 1"),
    ] {
        let mut all = vec!["run", "scenarios/swallowed-cancel-right.kdl"];
        all.extend(args.iter().copied());
        let out = cancelsim(&all);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn json_lists_every_failure_group() {
    // Seven workers, each leaking its own resource when cancelled: seven
    // groups (one per task), more than the five failing runs `--json`
    // used to list.
    let dir = temp_dir("groups");
    let mut program = String::from("task main {\n");
    for n in 0..7 {
        program.push_str(&format!("    spawn w{n}\n"));
    }
    for n in 0..7 {
        program.push_str(&format!("    join w{n}\n"));
    }
    program.push_str("}\n");
    for n in 0..7 {
        program.push_str(&format!(
            "task w{n} {{\n    acquire r{n}\n    sleep \"1s\"\n    release r{n}\n}}\n"
        ));
    }
    program.push_str("expect {\n    violations leaked-resource leaked-task\n}\n");
    let file = write(&dir, "seven.kdl", &program);
    let out = cancelsim(&["run", &file, "--json"]);
    let stdout = text(&out.stdout);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let scenario = &value["scenarios"][0];
    let groups = scenario["groups"].as_array().expect("groups");
    let leaks: Vec<&serde_json::Value> = groups
        .iter()
        .filter(|group| group["code"] == "leaked-resource")
        .collect();
    assert_eq!(leaks.len(), 7, "{stdout}");
    for group in groups {
        assert!(group["runs"].as_u64().unwrap() >= 1);
        assert!(group["first"]["repro"]
            .as_str()
            .unwrap()
            .starts_with("cancelsim:v1"));
    }
    assert_eq!(
        scenario["failures"].as_array().unwrap().len(),
        groups.len(),
        "the first failing run of every group"
    );
}

#[test]
fn export_writes_the_asyncio_program_to_stdout_or_a_file() {
    let out = cancelsim(&[
        "export",
        "--python",
        "scenarios/timeout-around-join-right.kdl",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let program = text(&out.stdout);
    assert!(program.contains("async def task_lookup():"), "{program}");
    assert!(
        program.contains("async with asyncio.timeout(1):"),
        "{program}"
    );
    let dir = temp_dir("export");
    let file = dir.join("program.py");
    let written = cancelsim(&[
        "export",
        "--python",
        "scenarios/timeout-around-join-right.kdl",
        "-o",
        &file.display().to_string(),
    ]);
    assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), program);
}

#[test]
fn export_of_a_bad_file_exits_2_with_the_location() {
    let dir = temp_dir("export-bad");
    let file = write(&dir, "bad.kdl", "task main {\n    sleeep \"1s\"\n}\n");
    let out = cancelsim(&["export", "--python", &file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.kdl:2:5"),
        "{}",
        text(&out.stderr)
    );
    let missing = cancelsim(&["export", "scenarios/timeout-around-join-right.kdl"]);
    assert_eq!(missing.status.code(), Some(2), "--python is required");
}

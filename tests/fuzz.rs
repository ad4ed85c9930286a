//! Hostile input, fuzzed: scenario text, repro lines, `CANCELSIM_*`
//! environment values and command-line arguments. The property, for each:
//! no panic, exit code 0, 1 or 2 only, and a bad input answered with a
//! message that says where (file, line and column; the variable; the
//! argument). Seeded (the same cases on every run) and small enough for CI;
//! every child process runs under a small runs and time budget.

#![cfg(feature = "cli")]

use std::path::PathBuf;
use std::process::{Command, Output};

use cancelsim::scenario::load_str;
use cancelsim::Repro;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// A runner with a fixed seed: the same cases on every run.
fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

fn catalogue() -> Vec<(PathBuf, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f, text)
        })
        .collect()
}

/// Edits to a text: (where, what kind, what to insert).
fn arb_edits() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, String)>> {
    proptest::collection::vec(
        (
            any::<prop::sample::Index>(),
            0u8..4,
            prop_oneof![
                "[ -~\n{}\"#/*]{0,6}",
                Just("{".repeat(80)),
                Just("repeat 99999999 {".to_string()),
                Just("\"99999999999999999999s\"".to_string()),
                Just("/*".repeat(70)),
                Just("\u{0}\u{feff}é".to_string()),
            ],
        ),
        1..6,
    )
}

fn apply(text: &str, edits: &[(prop::sample::Index, u8, String)]) -> String {
    let mut text: Vec<char> = text.chars().collect();
    for (at, kind, insert) in edits {
        let at = at.index(text.len() + 1);
        match kind {
            0 => {
                text.splice(at..at, insert.chars());
            }
            1 => {
                let end = (at + 3).min(text.len());
                text.drain(at..end);
            }
            2 => text.truncate(at),
            _ => {
                let end = (at + insert.len()).min(text.len());
                text.splice(at..end, insert.chars());
            }
        }
    }
    text.into_iter().collect()
}

/// The binary, from the crate's directory, under a small budget (a fuzzed
/// `--seeds` must not make a test slow); no `CANCELSIM_*` of the caller.
fn cancelsim(args: &[String], env: &[(String, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cancelsim"));
    // An argument or variable cannot hold a NUL: the OS takes none.
    command
        .args(args.iter().map(|arg| arg.replace('\0', "")))
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CANCELSIM_") {
            command.env_remove(key);
        }
    }
    command
        .env("CANCELSIM_MAX_RUNS", "4")
        .env("CANCELSIM_TIME_BUDGET", "5s");
    for (key, value) in env {
        command.env(key, value.replace('\0', ""));
    }
    command.output().expect("the binary runs")
}

/// The property of every run of the binary.
fn well_behaved(what: &str, out: &Output) -> Result<(), TestCaseError> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    prop_assert!(
        matches!(code, Some(0..=2)),
        "{what}: exit {code:?}\n{stderr}"
    );
    prop_assert!(!stderr.contains("panicked"), "{what}: a panic\n{stderr}");
    if code == Some(2) {
        prop_assert!(
            !stderr.trim().is_empty(),
            "{what}: exit 2 without a message"
        );
    }
    Ok(())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cancelsim-fuzz-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn fuzzed_scenario_text_gives_a_located_error_or_a_scenario() {
    let files = catalogue();
    runner(400)
        .run(
            &(any::<prop::sample::Index>(), arb_edits()),
            |(file, edits)| {
                let text = apply(&files[file.index(files.len())].1, &edits);
                if let Err(error) = load_str("fuzzed.kdl", &text) {
                    prop_assert!(error.line() >= 1 && error.column() >= 1);
                    prop_assert!(!error.message().is_empty() && !error.hint().is_empty());
                    let rendered = error.render(false);
                    let at = format!("fuzzed.kdl:{}:{}", error.line(), error.column());
                    prop_assert!(rendered.contains(&at), "{rendered}");
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn fuzzed_scenario_files_through_the_binary_exit_0_1_or_2_with_a_located_message() {
    let files = catalogue();
    let dir = temp_dir("scenarios");
    let case = std::cell::Cell::new(0);
    runner(40)
        .run(
            &(any::<prop::sample::Index>(), arb_edits()),
            |(file, edits)| {
                let text = apply(&files[file.index(files.len())].1, &edits);
                case.set(case.get() + 1);
                let path = dir.join(format!("case-{}.kdl", case.get()));
                std::fs::write(&path, &text).unwrap();
                let shown = path.display().to_string();
                for command in ["check", "run", "trace"] {
                    let out = cancelsim(&[command.to_string(), shown.clone()], &[]);
                    well_behaved(&format!("{command} {shown}"), &out)?;
                    if out.status.code() == Some(2) {
                        let stderr = String::from_utf8_lossy(&out.stderr);
                        // A bad file is named with its line and column.
                        prop_assert!(stderr.contains(&format!("{shown}:")), "{stderr}");
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

fn arb_repro_line() -> impl Strategy<Value = String> {
    let good = "cancelsim:v1 seed=0 scheduler=fifo inject=cancel-coop@1:1".to_string();
    prop_oneof![
        "[ -~]{0,60}",
        arb_edits().prop_map(move |edits| apply(&good, &edits)),
        (
            prop_oneof![
                Just("fifo"),
                Just("random"),
                Just("pct:3"),
                Just("pct:0"),
                Just("pct:99999999999")
            ],
            "(cancel-drop|cancel-coop|timeout|signal|bogus)@[0-9]{1,11}:[0-9]{1,11}(/wake|/later)?",
            "[0-9]{1,21}",
        )
            .prop_map(|(scheduler, inject, seed)| format!(
                "cancelsim:v1 seed={seed} scheduler={scheduler} inject={inject}"
            )),
    ]
}

#[test]
fn fuzzed_repro_lines_parse_or_say_what_is_wrong() {
    runner(2000)
        .run(&arb_repro_line(), |line| {
            match line.parse::<Repro>() {
                Ok(repro) => {
                    // What parses prints back as a line that parses to it.
                    prop_assert_eq!(repro.to_string().parse::<Repro>().unwrap(), repro);
                }
                Err(error) => {
                    let message = error.to_string();
                    prop_assert!(message.starts_with("not a cancelsim repro: "), "{message}");
                    prop_assert!(message.contains("expected e.g."), "{message}");
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzzed_repro_lines_through_the_binary_exit_0_1_or_2() {
    runner(40)
        .run(&arb_repro_line(), |line| {
            let args = [
                "replay".to_string(),
                line.clone(),
                "--scenario".to_string(),
                "scenarios/swallowed-cancel-wrong.kdl".to_string(),
            ];
            let out = cancelsim(&args, &[]);
            well_behaved(&format!("replay {line:?}"), &out)
        })
        .unwrap();
}

#[test]
fn fuzzed_environment_values_exit_0_or_2_naming_the_variable() {
    let names = prop_oneof![
        Just("CANCELSIM_REPLAY"),
        Just("CANCELSIM_THREADS"),
        Just("CANCELSIM_MAX_RUNS"),
        Just("CANCELSIM_ARTIFACTS"),
        Just("CANCELSIM_TIME_BUDGET"),
        Just("CANCELSIM_WATCHDOG"),
        Just("CANCELSIM_THREDS"),
        Just("CANCELSIM_"),
    ];
    let values = prop_oneof![
        "[ -~]{0,12}",
        "-?[0-9]{1,25}(ms|s|m|h|x)?",
        Just("off".to_string()),
        Just("0".to_string()),
        Just("18446744073709551616".to_string()),
    ];
    runner(60)
        .run(&(names, values), |(name, value)| {
            // The artifacts go to a fresh directory, never into the tree.
            let value = if name == "CANCELSIM_ARTIFACTS" && !value.trim().is_empty() {
                temp_dir("artifacts")
                    .join(value.replace(['/', '\\', '.'], "_"))
                    .display()
                    .to_string()
            } else {
                value
            };
            let args = [
                "run".to_string(),
                "scenarios/swallowed-cancel-right.kdl".to_string(),
            ];
            let out = cancelsim(&args, &[(name.to_string(), value.clone())]);
            well_behaved(&format!("{name}={value:?}"), &out)?;
            prop_assert!(out.status.code() != Some(1), "{name}={value:?}");
            if out.status.code() == Some(2) {
                let stderr = String::from_utf8_lossy(&out.stderr);
                prop_assert!(stderr.contains(name), "{name}={value:?}: {stderr}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzzed_command_lines_exit_0_1_or_2() {
    let token = prop_oneof![
        Just("run"),
        Just("trace"),
        Just("replay"),
        Just("check"),
        Just("demo"),
        Just("export"),
        Just("--seeds"),
        Just("--seed"),
        Just("--jobs"),
        Just("--max-runs"),
        Just("--json"),
        Just("--junit"),
        Just("--format"),
        Just("--inject"),
        Just("--scenario"),
        Just("--scheduler"),
        Just("-o"),
        Just("--help"),
        Just("--version"),
        Just("scenarios/timeout-fires-wrong.kdl"),
        Just("scenarios/no-such-file.kdl"),
        Just("scenarios"),
        Just("json"),
        Just("svg"),
        Just("pct:2"),
        Just("pct:0"),
        Just("0"),
        Just("3"),
        Just("-1"),
        Just("18446744073709551615"),
        Just("99999999999999999999999"),
        Just("cancelsim:v1 seed=0 scheduler=fifo inject=cancel-coop@1:1"),
        Just("garbage"),
        Just(""),
    ];
    let out_dir = temp_dir("cli");
    runner(80)
        .run(&proptest::collection::vec(token, 0..7), |tokens| {
            let args: Vec<String> = tokens
                .iter()
                .map(|token| match *token {
                    // Outputs go to a fresh directory, never into the tree.
                    "-o" | "--junit" => format!("{token}={}", out_dir.join("out").display()),
                    other => other.to_string(),
                })
                .collect();
            let out = cancelsim(&args, &[]);
            well_behaved(&format!("{args:?}"), &out)
        })
        .unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);
}

//! The runner itself: repro lines, report counts and coverage, thread-count
//! independence, sampling and sharding, the JSON and JUnit forms,
//! `assert_clean`, and the `CANCELSIM_*` environment (through a child
//! process, so this process's environment is never touched).

use std::collections::BTreeSet;
use std::mem::ManuallyDrop;
use std::process::Command;

use cancelsim::time::{sleep, timeout};
use cancelsim::{resource, spawn_named, yield_now, Check, Report, Repro, SchedulerKind};

mod common;
use common::{location_in, ms, named_injections, sweep};

/// A clean program with four await points, all resumed:
/// `main` 1 (the sleep inside a timeout), `main` 2 (joining the child),
/// `child` 1 (sleep), `child` 2 (yield).
async fn small_program() {
    let child = spawn_named("child", async {
        sleep(ms(10)).await;
        yield_now().await;
    })
    .abort_on_drop();
    let _ = timeout(ms(100), sleep(ms(5))).await;
    let _ = child.await;
}

/// Releases its resources by hand on the success path only, so a drop at any
/// of its five await points leaks one: `main` 1 (sleep), `worker` 1 (sleep),
/// `main` 2 (yield), `main` 3 (join), `worker` 2 (yield), in that order.
async fn leaky_program() {
    let worker = spawn_named("worker", async {
        let conn = ManuallyDrop::new(resource::acquire("db"));
        sleep(ms(5)).await;
        yield_now().await;
        ManuallyDrop::into_inner(conn).release();
    })
    .abort_on_drop();
    let log = ManuallyDrop::new(resource::acquire("log"));
    sleep(ms(1)).await;
    yield_now().await;
    let _ = worker.await;
    ManuallyDrop::into_inner(log).release();
}

/// `tests/check.rs:LINE:COLUMN` of `token` on the first line of this file
/// that contains `marker`.
fn location_of(marker: &str, token: &str) -> String {
    location_in("tests/check.rs", include_str!("check.rs"), marker, token)
}

/// `(task name, await point)` of the injection of each failing run.
fn failing_points(report: &Report) -> Vec<(String, u32)> {
    report
        .failures()
        .iter()
        .flat_map(|failure| {
            named_injections(failure).map(|(name, injection)| (name.to_string(), injection.point))
        })
        .collect()
}

// ----- Repro -----------------------------------------------------------------

#[test]
fn repro_lines_round_trip() {
    for line in [
        "cancelsim:v1 seed=0 scheduler=fifo",
        "cancelsim:v1 seed=7 scheduler=random inject=cancel-coop@1:3",
        "cancelsim:v1 seed=18446744073709551615 scheduler=pct:3 inject=cancel-drop@1:2,timeout@0:4/wake",
        "cancelsim:v1 seed=2 scheduler=pct:1 inject=timeout@12:1,cancel-coop@0:9/wake,cancel-drop@3:7",
    ] {
        let repro: Repro = line.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(repro.to_string(), line);
        assert_eq!(repro.to_string().parse::<Repro>().unwrap(), repro);
    }
    let baseline = Repro::baseline(7, SchedulerKind::Pct { depth: 3 });
    assert_eq!(baseline.to_string(), "cancelsim:v1 seed=7 scheduler=pct:3");
    assert_eq!(baseline.to_string().parse::<Repro>().unwrap(), baseline);
    // Whitespace around and between the words does not matter.
    let spaced: Repro = "  cancelsim:v1\tseed=7   scheduler=pct:3 \n"
        .parse()
        .unwrap();
    assert_eq!(spaced, baseline);
}

#[test]
fn repros_of_a_report_round_trip() {
    let report = sweep(leaky_program).run();
    assert!(!report.failures().is_empty());
    for failure in report.failures() {
        let line = failure.repro().to_string();
        assert!(!line.contains('\n'), "one line: {line}");
        assert_eq!(&line.parse::<Repro>().unwrap(), failure.repro());
    }
}

#[test]
fn garbage_repro_lines_are_rejected_with_what_is_wrong() {
    let cases = [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("hello world", "it starts with `hello`"),
        (
            "cancelsim:v2 seed=1 scheduler=fifo",
            "version `cancelsim:v2` is not supported (this cancelsim reads `cancelsim:v1`)",
        ),
        (
            "cancelsim:v1 seed=x scheduler=fifo",
            "seed `x` is not a number",
        ),
        (
            "cancelsim:v1 seed=-1 scheduler=fifo",
            "seed `-1` is not a number",
        ),
        ("cancelsim:v1 scheduler=fifo", "`seed=` is missing"),
        ("cancelsim:v1 seed=1", "`scheduler=` is missing"),
        (
            "cancelsim:v1 seed=1 scheduler=lifo",
            "unknown scheduler `lifo`",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=pct:0",
            "unknown scheduler `pct:0`",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo color=red",
            "unknown field `color`",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo seed",
            "`seed` is not key=value",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=boom@1:2",
            "injection `boom@1:2` is not KIND@TASK:POINT[/wake]",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=cancel-drop@1:0",
            "injection `cancel-drop@1:0` is not",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=cancel-drop@1",
            "injection `cancel-drop@1` is not",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=timeout@x:1",
            "injection `timeout@x:1` is not",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=timeout@1:2/later",
            "injection `timeout@1:2/later` is not",
        ),
    ];
    for (line, expected) in cases {
        let error = line
            .parse::<Repro>()
            .expect_err(&format!("`{line}` must be rejected"));
        let message = error.to_string();
        assert!(
            message.starts_with("not a cancelsim repro: ") && message.contains(expected),
            "`{line}`: {message}"
        );
        // Every message shows what a good line looks like.
        assert!(
            message.contains("expected e.g. `cancelsim:v1 seed=7"),
            "{message}"
        );
    }
}

// ----- Report counts ---------------------------------------------------------

#[test]
fn report_counts_of_a_known_program() {
    let report = sweep(small_program).run();
    report.assert_clean();
    let counts = report.counts();
    assert_eq!(counts.baselines, 1);
    assert_eq!(counts.await_points, 4);
    assert_eq!(counts.injectable_points, 4);
    // Each of the 4 points was resumed, so each kind lands at two instants
    // (suspend, wake): drop 4 x 2, cooperative 4 x 2, and the timeout only at
    // main's first await point (the only one inside a timeout): 1 x 2.
    let per_kind: Vec<(&str, usize)> = counts.per_kind.iter().map(|(k, n)| (*k, *n)).collect();
    assert_eq!(
        per_kind,
        [("cancel-coop", 8), ("cancel-drop", 8), ("timeout", 2)]
    );
    // The baseline runs twice (the determinism check), then 18 injected runs.
    assert_eq!(counts.runs, 2 + 18);
    assert_eq!(counts.random_plans, 0);
    assert_eq!(counts.sampled_out, 0);
    // (task, point, kind): 4 drop + 4 cooperative + 1 timeout, all fired.
    assert_eq!(counts.tuples_planned, 9);
    assert_eq!(counts.tuples_covered, 9);
    let text = report.to_string();
    assert!(
        text.contains("4 await points (4 injectable) in 1 baseline runs")
            && text.contains("cancel-drop 8, cancel-coop 8, timeout 2")
            && text.contains("coverage: 9/9 (task, await point, injection) tuples"),
        "{text}"
    );
}

#[test]
fn seeds_multiply_the_baselines_and_the_sweep() {
    let report = sweep(small_program).seeds(0..3).run();
    report.assert_clean();
    let counts = report.counts();
    assert_eq!(counts.baselines, 3);
    assert_eq!(counts.await_points, 12);
    assert_eq!(counts.runs, 3 * 2 + 3 * 18);
    // Fifo with any seed runs the same way: same (task, point, kind) tuples.
    assert_eq!(counts.tuples_planned, 9);
}

#[test]
fn report_is_the_same_whatever_the_thread_count() {
    let one = sweep(leaky_program).random_plans(8).threads(1).run();
    let four = sweep(leaky_program).random_plans(8).threads(4).run();
    assert!(!one.is_clean());
    assert_eq!(one.to_json(), four.to_json());
    assert_eq!(one.to_string(), four.to_string());
    assert_eq!(one.to_junit(), four.to_junit());
}

// ----- max_runs and shard ----------------------------------------------------

#[test]
fn max_runs_covers_every_await_point_before_repeating_one() {
    let every_point: BTreeSet<(String, u32)> = [
        ("main", 1),
        ("main", 2),
        ("main", 3),
        ("worker", 1),
        ("worker", 2),
    ]
    .into_iter()
    .map(|(name, point)| (name.to_string(), point))
    .collect();
    let full = sweep(leaky_program).run();
    // 5 points x (drop, cooperative) x (suspend, wake).
    let total = full.counts().per_kind.values().sum::<usize>();
    assert_eq!(total, 20);
    // Every drop leaks a resource; cooperative requests are ignored.
    assert_eq!(full.failures().len(), 10);

    // The first 5 runs are one per await point (the first kind: drop at
    // suspension), so all five fail, each at a different point.
    let five = sweep(leaky_program).max_runs(5).run();
    let points = failing_points(&five);
    assert_eq!(points.len(), 5, "{five}");
    assert_eq!(points.into_iter().collect::<BTreeSet<_>>(), every_point);
    assert_eq!(five.counts().sampled_out, total - 5);
    assert_eq!(five.counts().tuples_planned, 5);
    assert_eq!(five.counts().runs, 2 + 5);

    // Two more runs start the second round, the second kind at suspension
    // (every tuple runs once before any runs again), from the first
    // points: cooperative requests, which this program ignores.
    let seven = sweep(leaky_program).max_runs(7).run();
    let points = failing_points(&seven);
    assert_eq!(points.len(), 5);
    assert_eq!(seven.counts().per_kind["cancel-coop"], 2);
    assert_eq!(seven.counts().tuples_planned, 7);
    assert_eq!(seven.counts().tuples_total, 10);

    // Past every tuple comes the round of drops on wake; a budget that
    // covers only part of a round spreads evenly over its await points
    // (found in the order main 1, worker 1, main 2, main 3, worker 2).
    let twelve = sweep(leaky_program).max_runs(12).run();
    let points = failing_points(&twelve);
    assert_eq!(points.len(), 7);
    assert_eq!(twelve.counts().tuples_planned, 10);
    assert_eq!(
        &points[5..],
        [("main".to_string(), 2), ("worker".to_string(), 2)]
    );

    // The same sample every time.
    let again = sweep(leaky_program).max_runs(7).run();
    assert_eq!(seven.to_json(), again.to_json());
}

#[test]
fn shards_add_up_to_the_full_sweep() {
    let full = sweep(leaky_program).run();
    let full_failures: BTreeSet<String> = full
        .failures()
        .iter()
        .map(|f| f.repro().to_string())
        .collect();
    let mut per_kind = std::collections::BTreeMap::new();
    let mut failures = BTreeSet::new();
    let mut failing_runs = 0;
    for index in 0..3 {
        let shard = sweep(leaky_program).shard(index, 3).run();
        for (kind, runs) in &shard.counts().per_kind {
            *per_kind.entry(*kind).or_insert(0) += runs;
        }
        failing_runs += shard.failures().len();
        failures.extend(shard.failures().iter().map(|f| f.repro().to_string()));
        assert!(shard.to_string().contains(&format!("shard {index} of 3")));
    }
    assert_eq!(per_kind, full.counts().per_kind);
    assert_eq!(failures, full_failures);
    assert_eq!(
        failing_runs,
        full.failures().len(),
        "the shards are disjoint"
    );
}

#[test]
#[should_panic(expected = "Check::shard(3, 3): the index must be below the count")]
fn shard_index_must_be_below_the_count() {
    let _ = sweep(leaky_program).shard(3, 3);
}

// ----- JSON and JUnit --------------------------------------------------------

#[test]
fn json_has_the_documented_fields() {
    let report = sweep(leaky_program).run();
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("valid JSON");
    assert_eq!(json["clean"], false);
    assert_eq!(json["scheduler"], "fifo");
    assert_eq!(json["seeds"], serde_json::json!([0]));
    assert!(json["shard"].is_null());
    assert!(json["pct_bound"].is_null());
    let counts = report.counts();
    let c = &json["counts"];
    assert_eq!(c["baselines"], counts.baselines);
    assert_eq!(c["await_points"], counts.await_points);
    assert_eq!(c["injectable_points"], counts.injectable_points);
    assert_eq!(c["runs"], counts.runs);
    assert_eq!(c["per_kind"]["cancel-drop"], 10);
    assert_eq!(c["per_kind"]["cancel-coop"], 10);
    assert_eq!(c["random_plans"], 0);
    assert_eq!(c["sampled_out"], 0);
    assert_eq!(c["tuples_planned"], counts.tuples_planned);
    assert_eq!(c["tuples_covered"], counts.tuples_covered);
    let failures = json["failures"].as_array().expect("an array");
    assert_eq!(failures.len(), report.failures().len());
    for (value, failure) in failures.iter().zip(report.failures()) {
        assert_eq!(value["repro"], failure.repro().to_string());
        assert!(value["await_point"].as_str().is_some(), "{value}");
        let violations = value["violations"].as_array().expect("an array");
        assert_eq!(violations.len(), failure.violations().len());
        for (v, violation) in violations.iter().zip(failure.violations()) {
            assert_eq!(v["code"], violation.code());
            assert_eq!(v["code"], "leaked-resource");
            assert_eq!(v["task"], violation.task_label().unwrap());
            assert_eq!(v["location"], violation.location().unwrap());
            assert_eq!(v["injection"], failure.repro().injections[0].to_string());
            assert_eq!(v["message"], violation.message());
            assert_eq!(v["hint"], violation.hint());
            assert!(v.get("await_point").is_some(), "{v}");
        }
    }
    let sharded: serde_json::Value =
        serde_json::from_str(&sweep(small_program).shard(1, 2).run().to_json()).unwrap();
    assert_eq!(
        sharded["shard"],
        serde_json::json!({"index": 1, "count": 2})
    );
    assert_eq!(sharded["clean"], true);
}

/// A minimal XML reader: checks well-formedness (one root, balanced tags,
/// quoted attributes, only the five predefined entities) and returns every
/// element as (name, attributes, path of enclosing element names).
type Element = (String, Vec<(String, String)>, Vec<String>);

fn parse_xml(xml: &str) -> Vec<Element> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .expect("an XML declaration");
    let mut elements = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    let check_text = |text: &str| {
        let mut text = text;
        while let Some(at) = text.find('&') {
            let entity = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .into_iter()
                .find(|e| text[at..].starts_with(e))
                .unwrap_or_else(|| panic!("bad entity in {text:?}"));
            text = &text[at + entity.len()..];
        }
    };
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert!(
            !stack.is_empty() || text.trim().is_empty(),
            "text outside the root: {text:?}"
        );
        check_text(text);
        let close = rest[open..].find('>').expect("an unclosed tag") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attributes_text) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "bad tag name {name:?}"
        );
        let mut attributes = Vec::new();
        loop {
            attributes_text = attributes_text.trim_start();
            if attributes_text.is_empty() {
                break;
            }
            let (key, after) = attributes_text.split_once("=\"").expect("key=\"value\"");
            let end = after.find('"').expect("a closing quote");
            let value = &after[..end];
            assert!(!value.contains('<'), "raw < in an attribute: {value:?}");
            check_text(value);
            attributes.push((key.to_string(), value.to_string()));
            attributes_text = &after[end + 1..];
        }
        if stack.is_empty() {
            roots += 1;
        }
        elements.push((name.to_string(), attributes, stack.clone()));
        if !self_closing {
            stack.push(name.to_string());
        }
    }
    assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert_eq!(roots, 1, "one root element");
    elements
}

fn attribute<'a>(element: &'a Element, key: &str) -> &'a str {
    element
        .1
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} on <{}>", element.0))
}

#[test]
fn junit_has_one_testcase_per_await_point_and_kind() {
    let report = sweep(leaky_program).run();
    let xml = report.to_junit();
    let elements = parse_xml(&xml);
    let suite = &elements[0];
    assert_eq!(suite.0, "testsuite");
    let cases: Vec<&Element> = elements.iter().filter(|e| e.0 == "testcase").collect();
    // The baseline, then 5 await points x 2 kinds (both instants in one case).
    assert_eq!(cases.len(), 1 + 5 * 2, "{xml}");
    assert!(cases.iter().all(|c| c.2 == ["testsuite"]));
    assert!(attribute(cases[0], "name").starts_with("baseline cancelsim:v1 seed=0"));
    let names: BTreeSet<&str> = cases.iter().map(|c| attribute(c, "name")).collect();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    let worker_sleep = format!(
        "worker#1 await point 1 on sleep ({}) x cancel-drop",
        location_of("sleep(ms(5)).await;", "sleep")
    );
    assert!(names.contains(worker_sleep.as_str()), "{names:#?}");
    let main_join = format!(
        "main#0 await point 3 on join #1 ({}) x cancel-coop",
        location_of("let worker = spawn_named(\"worker\"", "spawn_named")
    );
    assert!(names.contains(main_join.as_str()), "{names:#?}");
    assert_eq!(attribute(suite, "tests"), cases.len().to_string());
    // Every drop case fails (a leaked resource); no cooperative one does.
    let failures: Vec<&Element> = elements.iter().filter(|e| e.0 == "failure").collect();
    assert_eq!(failures.len(), 5);
    assert_eq!(attribute(suite, "failures"), "5");
    for failure in &failures {
        assert_eq!(failure.2, ["testsuite", "testcase"]);
        // The codes of the run's violations (dropping main leaks both).
        assert!(attribute(failure, "message")
            .split(", ")
            .all(|code| code == "leaked-resource"));
    }
    assert!(xml.contains("repro: cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@"));
    let failing_cases = xml
        .split("<testcase ")
        .filter(|case| case.contains("<failure"))
        .count();
    assert_eq!(failing_cases, 5);
    assert!(xml
        .split("<testcase ")
        .filter(|case| case.contains("<failure"))
        .all(|case| case.contains("x cancel-drop\"")));
}

#[test]
fn junit_of_a_clean_report_is_well_formed() {
    let xml = sweep(small_program).run().to_junit();
    let elements = parse_xml(&xml);
    assert_eq!(elements.iter().filter(|e| e.0 == "testcase").count(), 1 + 9);
    assert!(elements.iter().all(|e| e.0 != "failure"));
}

// ----- assert_clean ----------------------------------------------------------

#[test]
fn assert_clean_panics_with_the_report_text() {
    let report = sweep(leaky_program).run();
    let caught = std::panic::catch_unwind(|| report.assert_clean()).expect_err("must panic");
    let message = caught
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert_eq!(message, &report.to_string());
    assert!(
        message.contains("cancelsim check: FAILED (10 of 22 runs failed)"),
        "{message}"
    );
    // One group per bug (the leaking task and where it acquired), however
    // many injection points found it.
    assert!(message.contains("leaked-resource in worker at tests/check.rs:"));
    assert!(message.contains("first found at worker#1 await point 1 on sleep"));
    assert!(
        message.contains("replay: CANCELSIM_REPLAY='cancelsim:v1 seed=0 scheduler=fifo inject=")
    );
    assert!(message.contains("trace of the first failing run"));
    sweep(small_program).run().assert_clean();
}

// ----- the environment, through a child process ------------------------------

const VARIABLES: [&str; 4] = [
    "CANCELSIM_REPLAY",
    "CANCELSIM_THREADS",
    "CANCELSIM_MAX_RUNS",
    "CANCELSIM_ARTIFACTS",
];

/// Runs one test of this binary in a child process with `name=value` set
/// (and no other `CANCELSIM_*`); returns (success, stdout, stderr).
fn run_child(test: &str, name: &str, value: &str) -> (bool, String, String) {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.args(["--exact", test, "--nocapture", "--test-threads=1"]);
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
        ["artifacts_target", "tests.first", "tests.second"],
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

#[test]
fn a_range_of_every_seed_is_taken_lazily_as_far_as_the_budget_goes() {
    let report = Check::new(small_program)
        .seeds(0..u64::MAX)
        .max_runs(3)
        .run();
    report.assert_clean();
    assert_eq!(report.counts().baselines, 3);
    assert_eq!(report.counts().seeds_left_out, u64::MAX - 3);
    let text = report.to_string();
    assert!(text.contains("seeds 0..3"), "{text}");
    assert!(text.contains("more of the range left out"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["seeds"], serde_json::json!([0, 1, 2]));
}

/// A deadlock report names where each task started; the root started
/// where the check is written (the test), not inside cancelsim.
#[test]
fn a_deadlock_names_the_tests_own_location_for_the_root() {
    let report = Check::new(|| async {
        let (_keep, never) = futures::channel::oneshot::channel::<()>();
        let _ = never.await;
    })
    .run();
    let text = report.to_string();
    assert!(text.contains("deadlock"), "{text}");
    assert!(text.contains("tests/check.rs:"), "{text}");
    assert!(!text.contains("src/check/run.rs"), "{text}");
}

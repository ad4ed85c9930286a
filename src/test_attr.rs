//! What `#[cancelsim::test]` expands to call: a sweep of the test body that
//! fails the test with the report.

use std::future::Future;
use std::panic::Location;

use crate::check::Check;
use crate::inject::CancelMode;
use crate::schedule::SchedulerKind;

/// The arguments of `#[cancelsim::test(...)]`, validated by the macro.
#[derive(Clone, Copy, Debug)]
pub struct TestArgs {
    /// Seeds `0..seeds` (default 1).
    pub seeds: Option<u64>,
    /// `fifo`, `random` or `pct:N` (default `fifo`).
    pub scheduler: Option<&'static str>,
    /// `drop`, `coop`, `both` or `none` (default `both`).
    pub cancel: Option<&'static str>,
    /// Timeout expiry at every await point in a `timeout` (default true).
    pub timeouts: Option<bool>,
    /// At most this many injected runs.
    pub max_runs: Option<usize>,
    /// Random schedules explored besides the baseline (default 16; none
    /// when `exhaustive` is given without it).
    pub explore: Option<u64>,
    /// Every schedule within this many deviations
    /// ([`Check::explore_exhaustively`]).
    pub exhaustive: Option<usize>,
    /// `cancelsim` (the default) or `tokio` ([`Check::tokio_preset`]).
    pub preset: Option<&'static str>,
    /// The tokio runtime flavor the test asks for: `current_thread` (the
    /// default: schedules keep tasks in wake order,
    /// [`SchedulerKind::CurrentThread`]) or `multi_thread` (schedules
    /// explore task orders too, [`SchedulerKind::Random`]).
    pub flavor: Option<&'static str>,
    /// The grace time of a cancel request or shutdown signal, in
    /// milliseconds (`grace = "5s"`; default 1 s, [`Config::cancel_grace`](crate::Config::cancel_grace)).
    pub grace_ms: Option<u64>,
    /// Whether a timeout expiry the test fails the same way without is
    /// excused (`excuse_timeouts = false`; default true,
    /// [`Check::excuse_timeout_results`]).
    pub excuse_timeouts: Option<bool>,
    /// Where the test function's body ends (its closing brace): with
    /// where it starts, the lines whose `timeout`s are the test's own.
    pub body_end: Option<&'static Location<'static>>,
}

impl TestArgs {
    /// No argument given.
    pub const DEFAULT: TestArgs = TestArgs {
        seeds: None,
        scheduler: None,
        cancel: None,
        timeouts: None,
        max_runs: None,
        explore: None,
        exhaustive: None,
        preset: None,
        flavor: None,
        grace_ms: None,
        excuse_timeouts: None,
        body_end: None,
    };
}

/// Where it is called: the macros call it at the test body's closing
/// brace ([`TestArgs::body_end`]).
#[track_caller]
pub const fn here() -> &'static Location<'static> {
    Location::caller()
}

/// What a test body may return: `()`, or a `Result` whose `Err` fails it.
pub trait TestOutput {
    /// Panics on a failure, with its message located at `test`, where the
    /// test is written (the panic happens in the harness, after the body's
    /// future ended: its own location would name the harness).
    fn finish(self, test: &'static Location<'static>);
}

impl TestOutput for () {
    fn finish(self, _test: &'static Location<'static>) {}
}

impl<E: std::fmt::Debug> TestOutput for Result<(), E> {
    fn finish(self, test: &'static Location<'static>) {
        if let Err(error) = self {
            // Unwound with the test's location as the panic's: raised here,
            // the message would name the harness.
            std::panic::resume_unwind(Box::new(format!(
                "the test returned Err({error:?}) at {}:{}:{}",
                crate::trace::display_path(test.file()),
                test.line(),
                test.column()
            )));
        }
    }
}

/// The sweep a `#[cancelsim::test]` runs, as a [`Check`], before it is run.
#[track_caller]
pub fn build<F, Fut>(
    module: &'static str,
    name: &'static str,
    args: TestArgs,
    body: F,
) -> Check<impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()>>> + Send + Sync>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + 'static,
    Fut::Output: TestOutput,
{
    build_at(module, name, args, body, Location::caller())
}

/// [`build`] for the test written at `test`.
pub fn build_at<F, Fut>(
    module: &'static str,
    name: &'static str,
    args: TestArgs,
    body: F,
    test: &'static Location<'static>,
) -> Check<impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()>>> + Send + Sync>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + 'static,
    Fut::Output: TestOutput,
{
    let path = format!("{module}::{name}");
    let run = move || -> std::pin::Pin<Box<dyn Future<Output = ()>>> {
        let future = body();
        Box::pin(async move { future.await.finish(test) })
    };
    let mut check = Check::new(run).name(path).test_file(test.file());
    // The root is the test: where it started is the test's attribute, not
    // this file.
    check.config.root_location = Some(test);
    if let Some(end) = args.body_end.filter(|end| end.file() == test.file()) {
        check = check.test_lines(test.line(), end.line());
    }
    // The schedules explored besides the baseline: a multi-thread tokio
    // runtime (or cancelsim's own sweep) reorders tasks, a current-thread
    // one runs them in wake order, polling the body (its `block_on`
    // future) first at each turn.
    let explored = if args.preset == Some("tokio") && args.flavor != Some("multi_thread") {
        SchedulerKind::CurrentThread
    } else {
        SchedulerKind::Random
    };
    check = match args.preset {
        Some("tokio") => check.tokio_preset(),
        _ => check
            .cancel_at_every_await(CancelMode::Both)
            .timeout_at_every_await(true),
    };
    check = check.explore_schedules(explored.clone(), 16);
    if explored == SchedulerKind::CurrentThread {
        // tokio's current-thread runtime polls the test body first.
        check = check.root_first(true);
    }
    if let Some(seeds) = args.seeds {
        check = check.seeds(0..seeds);
    }
    if let Some(scheduler) = args.scheduler {
        let kind: SchedulerKind = scheduler.parse().unwrap_or_else(|error| {
            panic!("#[cancelsim::test(scheduler = {scheduler:?})]: {error}")
        });
        check = check.scheduler(kind);
    }
    match args.cancel {
        Some("drop") => check = check.cancel_at_every_await(CancelMode::Drop),
        Some("coop") => check = check.cancel_at_every_await(CancelMode::Cooperative),
        Some("both") => check = check.cancel_at_every_await(CancelMode::Both),
        Some("none") => check = check.without_cancellation(),
        _ => {}
    }
    if let Some(timeouts) = args.timeouts {
        check = check.timeout_at_every_await(timeouts);
    }
    if let Some(ms) = args.grace_ms {
        check = check.grace_time(std::time::Duration::from_millis(ms));
    }
    if let Some(excuse) = args.excuse_timeouts {
        check = check.excuse_timeout_results(excuse);
    }
    if let Some(max) = args.max_runs {
        check = check.max_runs(max);
    }
    match (args.explore, args.exhaustive) {
        (Some(count), _) => check = check.explore_schedules(explored, count),
        // Every schedule within the bound: random ones add nothing.
        (None, Some(_)) => check = check.explore_schedules(explored, 0),
        (None, None) => {}
    }
    if let Some(bound) = args.exhaustive {
        check = check.explore_exhaustively(bound);
    }
    check
}

/// Runs the sweep of a `#[cancelsim::test]`; a failure panics with the
/// report (whose repro lines name the test, so `CANCELSIM_REPLAY` replays
/// this test only).
#[track_caller]
pub fn test<F, Fut>(module: &'static str, name: &'static str, args: TestArgs, body: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + 'static,
    Fut::Output: TestOutput,
{
    let report = build(module, name, args, body).run();
    finish(module, name, args, &report);
}

/// Ends the test `module::name` whose sweep made `report`: prints what a
/// clean sweep excused, or panics with the report and the command that
/// replays the failure — located at the test (`#[track_caller]` from the
/// attribute's expansion), not here.
#[track_caller]
pub fn finish(module: &'static str, name: &'static str, args: TestArgs, report: &crate::Report) {
    if let Some(repro) = report.replayed() {
        // The replay printed the run's trace and violations already: the
        // panic points there instead of repeating them, and offers no
        // command to replay the run it replays.
        if !report.is_clean() {
            panic!(
                "cancelsim replay of {repro}: FAILED ({} violations; the run's trace and each \
                 violation with its hint are printed above)",
                report
                    .failures()
                    .iter()
                    .map(|f| f.violations().len())
                    .sum::<usize>()
            );
        }
        // Past the harness's capture, as below: a replay that does not
        // fail says so in a plain `cargo test` too.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "cancelsim: {module}::{name}: replayed {repro}: {}",
            crate::check::CLEAN_REPLAY
        );
        return;
    }
    if report.is_clean() {
        // What a clean sweep ran, excused and did not sweep (timeout
        // expiries excused, no signal registered): on stdout, which the
        // test harness shows with `--nocapture` or `--show-output`.
        print!("{report}");
        let excused = report.counts().timeout_results_excused;
        if excused > 0 {
            // Past the harness's capture (it takes `print!`/`eprint!`
            // only): a clean test whose sweep excused runs says so in a
            // plain `cargo test` too.
            use std::io::Write;
            // On a line of its own: the harness has written `test name ...`
            // without its newline yet.
            let _ = writeln!(
                std::io::stderr(),
                "\ncancelsim: {module}::{name}: {excused} timeout expir{} excused: the test failed \
                 the same way when the timeout expired before its operation started, e.g. {} — \
                 either it checks the result the timeout decides (it assumes the timeout never \
                 fires: a fallback value, a 504), or the code mishandles the expiry (keeps a \
                 leader's role or lease it could not renew; loses a message moved into \
                 `timeout(.., tx.send(msg))`: `reserve()` a slot first; marks a change seen \
                 (`borrow_and_update()`) before applying it and never retries it; stops when it \
                 falls behind the slow operation: a `broadcast` receiver that ends on \
                 `RecvError::Lagged`). If the assertion must \
                 hold however slow the operation is (nothing lost, no write after the lease ran \
                 out), call strict_timeout_results() first in the test (or set \
                 CANCELSIM_TIMEOUT_RESULTS=fail) to see these runs as failures; `--nocapture` \
                 shows the report",
                if excused == 1 { "y" } else { "ies" },
                report
                    .counts()
                    .timeout_result_example
                    .as_deref()
                    .unwrap_or("?")
            );
        }
        let own = report.counts().assertion_timeouts;
        if own > 0 {
            // Those runs stopped at the test's own assertion on its
            // timeout: what it asserts after it did not run in them.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "cancelsim: {module}::{name}: {own} injected run{} expired a timeout the test \
                 asserts on itself (its `.unwrap()`, `assert!(r.is_ok())`, `_ = sleep(..) => \
                 panic!(..)`): its assertion, not a bug — but the assertions after it did not run \
                 in those runs; to check an invariant under the expiry, assert it first or handle \
                 the `Err(Elapsed)`",
                if own == 1 { "" } else { "s" }
            );
        }
        return;
    }
    // The path `cargo test` filters on leaves out the crate's name.
    let filter = module
        .split_once("::")
        .map_or(name.to_string(), |(_, rest)| format!("{rest}::{name}"));
    // A tokio test runs simulated only in the simulation build: the
    // command must build it again, or it replays on real tokio.
    let build = if args.preset == Some("tokio") {
        "RUSTFLAGS=\"--cfg cancelsim\" RUSTDOCFLAGS=\"--cfg cancelsim\" CARGO_TARGET_DIR=target/sim "
    } else {
        ""
    };
    // `RUST_BACKTRACE=0`: the replay panics again with the report, and a
    // backtrace of the harness (what a shell with RUST_BACKTRACE=1 adds)
    // says nothing about the code under test. Only the command sets it.
    let target = cargo_target(
        std::env::var("CARGO_PKG_NAME").ok().as_deref(),
        std::env::var("CARGO_MANIFEST_DIR").ok().as_deref(),
        args.body_end.map(|at| at.file()),
        std::path::Path::is_file,
    );
    let command =
        format!("RUST_BACKTRACE=0 {build}cargo test{target} -- --exact {filter} --nocapture");
    // One group: its run's repro, so the line is ready to paste; more:
    // the user picks the group.
    // What the test printed (its `println!`s, a `tracing` subscriber's
    // lines), the harness shows above the report: every run's.
    let output = format!(
        "(any output of the test shown above this report comes from every run of the sweep, \
         its {} runs and the re-runs that trace a failure; the replay prints only its run's, with \
         its trace)",
        report.counts().runs
    );
    match report.failure_groups() {
        [group] => panic!(
            "{report}\nreplay this run: CANCELSIM_REPLAY='{}' {command}\n{output}",
            report.failures()[group.first].repro()
        ),
        _ => panic!(
            "{report}\nreplay one of these runs: CANCELSIM_REPLAY='<the repro of its group's \
             `replay:` line>' {command}\n{output}"
        ),
    }
}

/// The `cargo test` options that build and run only the test's own
/// target: ` -p <package>` (cargo sets `CARGO_PKG_NAME` and
/// `CARGO_MANIFEST_DIR` for the tests it runs), and, from the test's file
/// as the package sees it, ` --test <name>` for `tests/<name>.rs` or
/// `tests/<name>/…`, ` --bin <name>` for `src/bin/<name>…`, ` --example`
/// and ` --bench` likewise. A test anywhere else in `src/` (a library's
/// or a binary's: the file does not say which) is selected by the filter
/// alone, and so is one whose file is not inside the package.
fn cargo_target(
    package: Option<&str>,
    manifest_dir: Option<&str>,
    file: Option<&str>,
    is_file: impl Fn(&std::path::Path) -> bool,
) -> String {
    let mut options = String::new();
    if let Some(package) = package.filter(|p| !p.is_empty()) {
        options.push_str(&format!(" -p {package}"));
    }
    let (Some(manifest_dir), Some(file)) = (manifest_dir, file) else {
        return options;
    };
    let split = |path: &str| -> Vec<String> {
        path.split(['/', '\\'])
            .filter(|part| !part.is_empty() && *part != ".")
            .map(str::to_string)
            .collect()
    };
    let (package_dir, file) = (split(manifest_dir), split(file));
    // The file is relative to the workspace's root (a member's path
    // starts with the member's directories), to the package's, or
    // absolute: its path in the package is what is left once an end of
    // the package's directory is taken off its start — the longest such
    // end that leaves a file of the package.
    let in_package = |rest: &[String]| {
        let mut path = std::path::PathBuf::from(manifest_dir);
        path.extend(rest);
        is_file(&path)
    };
    let Some(rest) = (0..=package_dir.len())
        .map(|skip| package_dir.len() - skip)
        .filter(|&len| file.starts_with(&package_dir[package_dir.len() - len..]))
        .map(|len| &file[len..])
        .find(|rest| in_package(rest))
    else {
        return options;
    };
    // `tests/x.rs` is target `x`; `tests/x/main.rs`, `tests/x/y.rs` too.
    let target_in = |dir: usize| -> Option<&str> {
        let name = rest.get(dir + 1)?;
        if rest.len() == dir + 2 {
            name.strip_suffix(".rs")
        } else {
            Some(name.as_str())
        }
    };
    let option = match rest.first().map(String::as_str) {
        Some("tests") => target_in(0).map(|name| ("--test", name)),
        Some("examples") => target_in(0).map(|name| ("--example", name)),
        Some("benches") => target_in(0).map(|name| ("--bench", name)),
        Some("src") if rest.get(1).is_some_and(|dir| dir == "bin") => {
            target_in(1).map(|name| ("--bin", name))
        }
        _ => None,
    };
    if let Some((kind, name)) = option.filter(|(_, name)| !name.is_empty()) {
        options.push_str(&format!(" {kind} {name}"));
    }
    options
}

#[cfg(test)]
mod cargo_target_tests {
    use super::cargo_target;

    #[test]
    fn integration_tests_and_binaries_are_named() {
        let root = Some("/home/u/svc");
        let member = Some("/home/u/ws/crates/svc");
        let cases = [
            // (package dir, file as rustc names it, options)
            (root, "tests/quorum.rs", " -p svc --test quorum"),
            (
                member,
                "crates/svc/tests/quorum.rs",
                " -p svc --test quorum",
            ),
            (
                member,
                "/home/u/ws/crates/svc/tests/quorum.rs",
                " -p svc --test quorum",
            ),
            (root, "tests/http/main.rs", " -p svc --test http"),
            (root, "tests/http/conn.rs", " -p svc --test http"),
            (root, "src/bin/tool.rs", " -p svc --bin tool"),
            (root, "src/bin/tool/main.rs", " -p svc --bin tool"),
            (root, "examples/demo.rs", " -p svc --example demo"),
            (root, "benches/load.rs", " -p svc --bench load"),
            (root, "src/pool.rs", " -p svc"),
            // Unit tests in a `tests` module of `src/`: no target of
            // that name.
            (root, "src/tests/foo.rs", " -p svc"),
            (root, "src/tests/mod.rs", " -p svc"),
            (
                member,
                "crates/svc/src/bin/tool/tests/x.rs",
                " -p svc --bin tool",
            ),
            (root, "tests/http/tests/x.rs", " -p svc --test http"),
            // A package directory named `tests`.
            (Some("/home/u/tests"), "src/lib.rs", " -p svc"),
            (Some("/home/u/tests"), "tests/a.rs", " -p svc --test a"),
            (root, "src/bin", " -p svc"),
            (root, "src\\pool.rs", " -p svc"),
        ];
        // The packages' files: the ones the cases name.
        let files = [
            "/home/u/svc/tests/quorum.rs",
            "/home/u/ws/crates/svc/tests/quorum.rs",
            "/home/u/svc/tests/http/main.rs",
            "/home/u/svc/tests/http/conn.rs",
            "/home/u/svc/src/bin/tool.rs",
            "/home/u/svc/src/bin/tool/main.rs",
            "/home/u/svc/examples/demo.rs",
            "/home/u/svc/benches/load.rs",
            "/home/u/svc/src/pool.rs",
            "/home/u/svc/src/tests/foo.rs",
            "/home/u/svc/src/tests/mod.rs",
            "/home/u/ws/crates/svc/src/bin/tool/tests/x.rs",
            "/home/u/svc/tests/http/tests/x.rs",
            "/home/u/tests/src/lib.rs",
            "/home/u/tests/tests/a.rs",
            "/home/u/svc/src/pool.rs",
        ];
        let exists = |path: &std::path::Path| files.iter().any(|f| path == std::path::Path::new(f));
        for (dir, file, expected) in cases {
            assert_eq!(
                cargo_target(Some("svc"), dir, Some(file), exists),
                expected,
                "{dir:?} {file:?}"
            );
        }
        assert_eq!(
            cargo_target(None, root, Some("tests/quorum.rs"), exists),
            " --test quorum"
        );
        assert_eq!(cargo_target(Some(""), None, Some("tests/a.rs"), exists), "");
        assert_eq!(cargo_target(Some("svc"), root, None, exists), " -p svc");
        // A file outside the package: the filter alone.
        assert_eq!(
            cargo_target(Some("svc"), root, Some("tests/gone.rs"), exists),
            " -p svc"
        );
    }
}

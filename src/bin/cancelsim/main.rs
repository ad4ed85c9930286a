//! The `cancelsim` command line.
//!
//! * `cancelsim run [PATHS…]` sweeps scenario files (default: `scenarios/`)
//!   and compares each with its `expect` block — the main job;
//! * `cancelsim trace FILE` prints the baseline run of one scenario;
//! * `cancelsim replay REPRO --scenario FILE` re-runs one failing run;
//! * `cancelsim check FILE…` validates files without running them;
//! * `cancelsim export --python FILE` writes the asyncio program a scenario
//!   models;
//! * `cancelsim demo` runs a small built-in program and prints its trace.
//!
//! Exit codes: 0 all good, 1 a result differs from its expectation (or a
//! replayed run fails), 2 a file or an argument is wrong.

mod demo;
mod export;
mod report;

use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;

use cancelsim::scenario::{self, RunRecord, Scenario, ScenarioError, SweepOptions};
use cancelsim::{Config, Repro, SchedulerKind};
use clap::{Args, Parser, Subcommand, ValueEnum};
use report::verdict_line;
use serde_json::json;

/// Deterministic simulation testing for async Rust: prove your code survives
/// cancellation.
#[derive(Debug, Parser)]
#[command(name = "cancelsim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sweep scenario files at every await point and compare each with its `expect` block.
    Run(RunArgs),
    /// Print the baseline run of one scenario (or one injected run).
    Trace(TraceArgs),
    /// Re-run one run of a scenario from its repro line and print its trace.
    Replay(ReplayArgs),
    /// Validate scenario files without running them.
    Check(CheckArgs),
    /// Write the asyncio program a scenario models (`--python`).
    Export(export::ExportArgs),
    /// Run a built-in example with a cancellation in it and print its trace.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Scenario files, or directories of `*.kdl` files.
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,

    /// Sweep under seeds 0..N (above 1, with random schedules).
    #[arg(long, default_value_t = 1, value_name = "N")]
    seeds: u64,

    /// Worker threads (default: all cores; at most 1024).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: Option<u16>,

    /// Cap on the injected runs of each scenario (at least 1).
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    max_runs: Option<usize>,

    /// Print the results as JSON on stdout instead of lines.
    #[arg(long)]
    json: bool,

    /// Also write a JUnit XML report (one testcase per scenario) to PATH.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// The stable text trace, then task outcomes and log lines.
    Text,
    /// JSON: the trace lines, each task's outcome and end time, the log.
    Json,
    /// Chrome trace-event JSON (Perfetto, chrome://tracing).
    Chrome,
    /// A self-contained SVG timeline.
    Svg,
}

#[derive(Debug, Args)]
struct TraceArgs {
    /// The scenario file.
    file: PathBuf,

    /// A repro line (from a report) to run instead of the baseline.
    #[arg(long, value_name = "REPRO")]
    inject: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,

    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,

    /// Seed of the baseline run.
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed: u64,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// The repro line, e.g. `cancelsim:v1 seed=0 scheduler=fifo inject=cancel-coop@1:2`.
    repro: String,

    /// The scenario file it came from.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Scenario files, or directories of `*.kdl` files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Options that choose one world: the same values give the same trace.
#[derive(Debug, Args)]
struct WorldArgs {
    /// Seed of the scheduler and of `cancelsim::random`.
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed: u64,

    /// Scheduling strategy: `fifo`, `random` or `pct:D` (PCT with bug depth D >= 1).
    #[arg(long, default_value = "fifo", value_name = "KIND", value_parser = parse_scheduler)]
    scheduler: SchedulerKind,
}

impl WorldArgs {
    fn config(&self) -> Config {
        Config::default()
            .seed(self.seed)
            .scheduler(self.scheduler.clone())
    }
}

#[derive(Debug, Args)]
struct DemoArgs {
    #[command(flatten)]
    world: WorldArgs,
}

fn parse_positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "`{text}` is not a whole number of at least 1 (e.g. 1000)"
        )),
    }
}

fn parse_scheduler(text: &str) -> Result<SchedulerKind, String> {
    text.parse()
        .map_err(|error: cancelsim::schedule::ParseSchedulerError| error.to_string())
}

/// Why a command failed: its exit code and what to print.
struct Failed {
    code: u8,
    message: String,
}

impl Failed {
    fn usage(message: impl Into<String>) -> Self {
        Failed {
            code: 2,
            message: message.into(),
        }
    }

    fn file(error: &ScenarioError) -> Self {
        Failed {
            code: 2,
            message: error.render(std::io::stderr().is_terminal()),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A bad `CANCELSIM_*` variable is a usage error, said before any work.
    if let Err(error) = cancelsim::check::check_environment() {
        eprintln!("cancelsim: {error}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Trace(args) => trace(&args),
        Command::Replay(args) => replay(&args),
        Command::Check(args) => check(&args),
        Command::Export(args) => export::export(&args),
        Command::Demo(args) => demo::demo(&args).map_err(|e| Failed {
            code: 1,
            message: format!("cancelsim: {e}"),
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failed) => {
            if !failed.message.is_empty() {
                eprintln!("{}", failed.message.trim_end());
            }
            ExitCode::from(failed.code)
        }
    }
}

/// The scenario files under `paths` (directories give their `*.kdl` files,
/// sorted).
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failed> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| {
                Failed::usage(format!("cancelsim: cannot read {}: {e}", path.display()))
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "kdl"))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(Failed::usage(format!(
                "cancelsim: {} does not exist (give scenario files or directories of *.kdl files)",
                path.display()
            )));
        }
    }
    Ok(files)
}

fn load_all(paths: &[PathBuf]) -> Result<Vec<Arc<Scenario>>, Failed> {
    let mut scenarios = Vec::new();
    for file in scenario_files(paths)? {
        scenarios.push(Arc::new(
            scenario::load(&file).map_err(|e| Failed::file(&e))?,
        ));
    }
    if scenarios.is_empty() {
        return Err(Failed::usage("cancelsim: no scenario files (*.kdl) found"));
    }
    Ok(scenarios)
}

fn load_one(path: &Path) -> Result<Arc<Scenario>, Failed> {
    scenario::load(path)
        .map(Arc::new)
        .map_err(|e| Failed::file(&e))
}

fn run(args: &RunArgs) -> Result<(), Failed> {
    let scenarios = load_all(&args.paths)?;
    if std::env::var_os("CANCELSIM_REPLAY").is_some() {
        eprintln!(
            "cancelsim: CANCELSIM_REPLAY is ignored by `cancelsim run` (it sweeps every scenario); \
             replay one run with `cancelsim replay '<repro>' --scenario FILE`"
        );
    }
    let options = SweepOptions {
        seeds: args.seeds.max(1),
        threads: args.jobs.map(usize::from),
        max_runs: args.max_runs,
    };
    let progress = (std::io::stderr().is_terminal() && !args.json).then(|| {
        let bar = indicatif::ProgressBar::new(scenarios.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .expect("a valid template"),
        );
        bar
    });
    let started = std::time::Instant::now();
    let mut verdicts = Vec::new();
    for scenario in &scenarios {
        if let Some(bar) = &progress {
            bar.set_message(scenario.name.clone());
        }
        let verdict = scenario::sweep(scenario, &options);
        if !args.json {
            let mut line = verdict_line(&verdict);
            if !verdict.matches() {
                line.push_str(&first_failure(scenario, &verdict));
            }
            match &progress {
                Some(bar) => bar.println(line),
                None => println!("{line}"),
            }
        }
        if let Some(bar) = &progress {
            bar.inc(1);
        }
        verdicts.push(verdict);
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let failed = verdicts.iter().filter(|v| !v.matches()).count();
    if args.json {
        println!("{}", scenario::verdicts_json(&verdicts));
    } else {
        println!(
            "{} scenarios, {} as expected, {} differ ({:.2}s)",
            verdicts.len(),
            verdicts.len() - failed,
            failed,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, scenario::verdicts_junit(&verdicts)).map_err(|e| {
            Failed::usage(format!("cancelsim: cannot write {}: {e}", path.display()))
        })?;
    }
    if failed > 0 {
        return Err(Failed {
            code: 1,
            message: String::new(),
        });
    }
    Ok(())
}

/// The first failing run of a sweep, replayed and explained in the
/// scenario's words (indented under its result line).
fn first_failure(scenario: &Arc<Scenario>, verdict: &scenario::Verdict) -> String {
    let Some(failure) = verdict.report.failures().first() else {
        return String::new();
    };
    let Ok(run) = replay_run(scenario, &failure.repro().to_string()) else {
        return String::new();
    };
    let mut text = String::new();
    for violation in &run.violations {
        let explained = scenario::explain(scenario, &run.record, violation);
        for line in explained.lines() {
            text.push_str(&format!("\n       {line}"));
        }
    }
    text
}

fn write_out(output: Option<&Path>, text: &str) -> Result<(), Failed> {
    match output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Failed::usage(format!("cancelsim: cannot write {}: {e}", path.display()))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn record_json(scenario: &Scenario, record: &RunRecord) -> serde_json::Value {
    let outcomes: serde_json::Map<String, serde_json::Value> = scenario
        .instance_names()
        .iter()
        .map(|task| {
            let (outcome, end) = match record.outcomes.get(task) {
                Some((outcome, end)) => (outcome.clone(), Some(end.to_string())),
                None => (scenario::TaskOutcome::Running, None),
            };
            (
                task.clone(),
                json!({"outcome": outcome.kind(), "detail": outcome.detail(), "ended_at": end}),
            )
        })
        .collect();
    json!({
        "outcomes": outcomes,
        "end": record.main_end.map(|end| end.to_string()),
        "logs": record.logs.iter().map(|line| json!({
            "time": line.time.to_string(), "task": line.task, "text": line.text,
        })).collect::<Vec<_>>(),
    })
}

fn record_text(scenario: &Scenario, record: &RunRecord) -> String {
    let mut text = String::from("\noutcomes:\n");
    for task in &scenario.instance_names() {
        match record.outcomes.get(task) {
            Some((outcome, end)) => text.push_str(&format!("  {task}: {outcome} at {end}\n")),
            None => text.push_str(&format!("  {task}: running\n")),
        }
    }
    if let Some(end) = record.main_end {
        text.push_str(&format!("main ended at {end}\n"));
    }
    if !record.logs.is_empty() {
        text.push_str("log:\n");
        for line in &record.logs {
            text.push_str(&format!("  {} {}: {}\n", line.time, line.task, line.text));
        }
    }
    text
}

fn trace(args: &TraceArgs) -> Result<(), Failed> {
    let scenario = load_one(&args.file)?;
    let (trace, record, error, replayed) = match &args.inject {
        Some(repro) => {
            let run = replay_run(&scenario, repro)?;
            (
                run.trace,
                run.record,
                None,
                Some((repro.trim(), run.violations)),
            )
        }
        None => {
            let baseline = scenario::baseline(&scenario, args.seed);
            (baseline.trace, baseline.record, baseline.error, None)
        }
    };
    let text = match args.format {
        Format::Chrome => trace.to_chrome_json(),
        Format::Svg => trace.to_svg(),
        Format::Text => {
            let mut text = scenario::render_trace(&scenario, &trace, &record);
            if let Some(error) = &error {
                text.push_str(&format!("run stopped: {error}\n"));
            }
            for violation in replayed.iter().flat_map(|(_, violations)| violations) {
                text.push_str(&format!(
                    "{}\n",
                    scenario::explain(&scenario, &record, violation)
                ));
            }
            text.push_str(&record_text(&scenario, &record));
            text
        }
        Format::Json => {
            let mut value = json!({
                "scenario": scenario.name,
                "seed": args.seed,
                "trace": scenario::render_trace(&scenario, &trace, &record).lines().collect::<Vec<_>>(),
                "error": error.as_ref().map(|e| e.to_string()),
            });
            if let Some((repro, violations)) = &replayed {
                value["repro"] = json!(repro);
                value["violations"] =
                    json!(violations.iter().map(|v| v.code()).collect::<Vec<_>>());
            }
            if let (Some(map), serde_json::Value::Object(record)) =
                (value.as_object_mut(), record_json(&scenario, &record))
            {
                map.extend(record);
            }
            format!("{}\n", serde_json::to_string_pretty(&value).expect("JSON"))
        }
    };
    write_out(args.output.as_deref(), &text)
}

/// One injected run of a scenario.
struct Replayed {
    record: RunRecord,
    violations: Vec<cancelsim::Violation>,
    trace: cancelsim::Trace,
}

/// Runs one plan (a repro line) of `scenario` in a fresh world.
fn replay_run(scenario: &Arc<Scenario>, repro: &str) -> Result<Replayed, Failed> {
    let repro: Repro = repro
        .trim()
        .parse()
        .map_err(|e| Failed::usage(format!("cancelsim: {e}")))?;
    let latest: Rc<RefCell<Option<Rc<RefCell<RunRecord>>>>> = Rc::default();
    let model = Arc::clone(scenario);
    let body = {
        let latest = Rc::clone(&latest);
        move || {
            let record = Rc::new(RefCell::new(RunRecord::default()));
            *latest.borrow_mut() = Some(Rc::clone(&record));
            scenario::run(Arc::clone(&model), record, false)
        }
    };
    let outcome = cancelsim::check::run_repro(&body, &Config::sweep(), &repro);
    if let Some(first) = outcome.unfired.first() {
        let list: Vec<String> = outcome.unfired.iter().map(ToString::to_string).collect();
        return Err(Failed::usage(format!(
            "cancelsim: injection never fired — the scenario differs from the recording: {} \
             (task {} never reached await point {}); take a fresh repro line from `cancelsim run`",
            list.join(", "),
            first.task,
            first.point
        )));
    }
    let record = latest
        .borrow_mut()
        .take()
        .map(|record| record.borrow().clone())
        .unwrap_or_default();
    Ok(Replayed {
        record,
        violations: outcome.violations,
        trace: outcome.trace,
    })
}

fn replay(args: &ReplayArgs) -> Result<(), Failed> {
    let scenario = load_one(&args.scenario)?;
    let run = replay_run(&scenario, &args.repro)?;
    print!(
        "{}",
        scenario::render_trace(&scenario, &run.trace, &run.record)
    );
    for violation in &run.violations {
        println!("{}", scenario::explain(&scenario, &run.record, violation));
    }
    print!("{}", record_text(&scenario, &run.record));
    if run.violations.is_empty() {
        println!("no violation");
        Ok(())
    } else {
        let codes: Vec<&str> = run.violations.iter().map(|v| v.code()).collect();
        Err(Failed {
            code: 1,
            message: format!("violations: {}", codes.join(", ")),
        })
    }
}

fn check(args: &CheckArgs) -> Result<(), Failed> {
    let scenarios = load_all(&args.paths)?;
    for scenario in &scenarios {
        println!("ok   {} ({} tasks)", scenario.path, scenario.tasks.len());
    }
    Ok(())
}

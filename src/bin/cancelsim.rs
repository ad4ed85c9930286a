//! The `cancelsim` command line.
//!
//! `cancelsim demo` runs a small built-in program with a cancellation in it
//! and prints its trace. Each subcommand is one variant of [`Command`]; the
//! options that describe a world (seed, scheduler) live in [`WorldArgs`] so
//! that later subcommands can flatten them in too.

use std::cell::Cell;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::cancel::{checkpoint, Cancelled, OrCancel};
use cancelsim::{blocking, time, Config, SchedulerKind, Sim};
use clap::{Args, Parser, Subcommand};

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
    /// Run a built-in example with a cancellation in it and print its trace.
    Demo(DemoArgs),
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

fn parse_scheduler(text: &str) -> Result<SchedulerKind, String> {
    match text {
        "fifo" => Ok(SchedulerKind::Fifo),
        "random" => Ok(SchedulerKind::Random),
        _ => match text.strip_prefix("pct:").map(str::parse::<u32>) {
            Some(Ok(depth)) if depth >= 1 => Ok(SchedulerKind::Pct { depth }),
            _ => Err(
                "expected `fifo`, `random` or `pct:D` with D a bug depth of at least 1 \
                      (e.g. `pct:3`)"
                    .to_string(),
            ),
        },
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cancelsim: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the demo program and prints its trace and a summary line.
fn demo(args: &DemoArgs) -> Result<(), cancelsim::SimError> {
    let mut sim = Sim::new(args.world.config());
    let saw = sim.block_on(caller())?;
    print!("{}", *sim.trace());
    println!(
        "outcome: {saw}; virtual time {}, {} steps",
        sim.now(),
        sim.steps()
    );
    Ok(())
}

/// Starts a download, gives it one second, then asks it to cancel and waits
/// for it to clean up. Returns what it saw, in words.
async fn caller() -> String {
    let saved_pages = Rc::new(Cell::new(None));
    let fetch = cancelsim::spawn_named("fetch", fetch(10, Rc::clone(&saved_pages)));
    time::sleep(Duration::from_secs(1)).await;
    fetch.cancel();
    let outcome = match fetch.await {
        Ok(Ok(pages)) => format!("fetch returned {pages} pages"),
        Ok(Err(Cancelled { .. })) => "fetch ended with Err(Cancelled)".to_string(),
        Err(error) => format!("fetch failed: {error}"),
    };
    match saved_pages.get() {
        Some(pages) => format!("{outcome} after its cleanup saved {pages} pages"),
        None => format!("{outcome} without its cleanup (a bug)"),
    }
}

/// Downloads `pages` pages, 300 ms each, then parses each one (CPU work).
/// Whatever happens, its cleanup saves what it has on a worker thread before
/// it ends; a cancel request still reaches the caller as `Err(Cancelled)`.
async fn fetch(pages: u32, saved_pages: Rc<Cell<Option<u32>>>) -> Result<u32, Cancelled> {
    let done = Cell::new(0);
    let result = download(pages, &done).await;
    let done = done.get();
    blocking(Duration::from_millis(50), move || {
        saved_pages.set(Some(done))
    })
    .await;
    result.map(|()| done)
}

async fn download(pages: u32, done: &Cell<u32>) -> Result<(), Cancelled> {
    for _ in 0..pages {
        time::sleep(Duration::from_millis(300)).or_cancel().await?;
        cancelsim::work(Duration::from_millis(20));
        done.set(done.get() + 1);
        checkpoint().await?;
    }
    Ok(())
}

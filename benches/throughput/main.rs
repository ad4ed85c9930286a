//! Throughput of cancelsim against tokio's paused current-thread runtime.
//!
//! One process runs every workload on both executors and prints a table of
//! medians. cancelsim runs as users run it: `TraceMode::Full` (every event
//! recorded) and the default `Fifo` scheduler; tokio runs on
//! `new_current_thread().enable_time().start_paused(true)`, the runtime
//! people reach for when they want virtual time in tests. Each measurement
//! covers building the world, running the workload and dropping the world
//! (dropping a recorded trace is part of what tracing costs). The two sides
//! alternate repetition by repetition, so background load hits both alike.
//!
//! Workloads:
//! * W0: create and drop an empty world (ns per world);
//! * W1: 1,000 tasks × 1,000 `yield_now()`;
//! * W2: 10,000 tasks × 100 sleeps of seeded random 1–1000 ms (the same
//!   durations on both sides, drawn up front from one `SimRng`);
//! * W3: 1,000,000 sequential spawn + join of an empty task, from the root;
//! * W4: two tasks ping-pong 1,000,000 messages over two capacity-1
//!   `tokio::sync::mpsc` channels (runtime-agnostic, so both sides run the
//!   same channel code);
//! * W5: a small program (3 tasks, 10 sleeps each, one channel message)
//!   re-run 10,000 times from a fresh world; runs per second.
//!
//! * W6: a `Check` sweep (both cancel modes plus timeouts, at suspension)
//!   of a program with about 1,000 await points, on 1 and on 2 threads;
//!   runs and polls per second (target: a million polls in under 1 s on one
//!   core, near-linear scaling).
//!
//! Peak RSS is process-wide, so it is measured in child processes: the bench
//! re-executes itself with `--rss W3` (W3 once, `TraceMode::Off`) and with
//! `--rss empty` (one empty `Sim`), and each child prints its `VmHWM`.
//!
//! ```text
//! cargo bench --bench throughput             # full run
//! cargo bench --bench throughput -- --quick  # once, 1/10 size
//! ```
//! Other arguments: `--only W2` runs one workload (for profiling; `W2,W5`
//! runs those two, in the usual order),
//! `--side cancelsim|tokio` runs one side, `--reps N` sets the repetitions,
//! `--trace off` runs cancelsim without recording (to see what tracing costs).
//!
//! Layout: `worlds` (the two runtimes), `sizes`, the workloads by family
//! (`executor`: W0, W1, W3; `sleeps`: W2; `programs`: W4, W5; `sweep`: W6),
//! `measure` (plan, medians, workload), `table` (the printed rows) and `rss`
//! (peak memory in child processes).

mod executor;
mod measure;
mod programs;
mod rss;
mod sizes;
mod sleeps;
mod sweep;
mod table;
mod worlds;

use std::sync::Arc;
use std::time::Instant;

use cancelsim::TraceMode;

use crate::executor::{w0_cancelsim, w0_tokio, w1_cancelsim, w1_tokio, w3_cancelsim, w3_tokio};
use crate::measure::{measure, Plan, Target, Workload};
use crate::programs::{w4_cancelsim, w4_tokio, w5_cancelsim, w5_durations, w5_tokio};
use crate::rss::{print_rss, rss_child};
use crate::sizes::Sizes;
use crate::sleeps::{w2_cancelsim, w2_durations, w2_expected_end, w2_tokio};
use crate::sweep::sweep_bench;
use crate::table::{print_header, print_row};
use crate::worlds::{trace_mode, MAX_STEPS, TRACE_MODE};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(mode) = value_of(&args, "--rss") {
        rss_child(&mode);
        return;
    }
    let quick = args.iter().any(|arg| arg == "--quick");
    let only = value_of(&args, "--only").map(|w| w.to_ascii_uppercase());
    let side = value_of(&args, "--side");
    let reps = value_of(&args, "--reps").map(|n| n.parse::<usize>().expect("--reps N"));
    let plan = if quick {
        Plan {
            sizes: Sizes::quick(),
            reps: reps.unwrap_or(1),
            warm_up: false,
        }
    } else {
        Plan {
            sizes: Sizes::FULL,
            reps: reps.unwrap_or(7),
            warm_up: true,
        }
    };
    let trace = match value_of(&args, "--trace").as_deref() {
        None | Some("full") => TraceMode::Full,
        Some("off") => TraceMode::Off,
        Some(other) => panic!("--trace takes full or off, not {other:?}"),
    };
    TRACE_MODE.set(trace).expect("set once");
    let run_cancelsim = side.as_deref() != Some("tokio");
    let run_tokio = side.as_deref() != Some("cancelsim");

    let sizes = plan.sizes;
    println!(
        "cancelsim vs tokio (current_thread, start_paused) — {} mode, median of {} rep(s){}",
        if quick { "quick (1/10 size)" } else { "full" },
        plan.reps,
        if plan.warm_up { " after 1 warm-up" } else { "" },
    );
    println!(
        "cancelsim: TraceMode::{trace:?}, Fifo scheduler, max_steps {MAX_STEPS}; \
         times include building and dropping the world\n"
    );

    let selected = |name: &str| {
        only.as_deref()
            .is_none_or(|only| only.split(',').any(|one| one == name))
    };
    // Drawn only when W2 runs, so `--only` profiles show nothing else.
    let w2: Arc<[u64]> = if selected("W2") {
        w2_durations(sizes)
    } else {
        Arc::from([])
    };
    let w2_end = w2_expected_end(sizes, &w2);
    let w5 = w5_durations();
    let yields = sizes.yield_tasks * sizes.yields_per_task;
    let ping_sum: u64 = (0..sizes.messages as u64).sum();
    let small_sum: u64 = (0..sizes.small_runs as u64).sum();

    let workloads = vec![
        Workload {
            name: "W0",
            what: "create+drop empty world".into(),
            ops: sizes.worlds,
            unit: "world",
            target: Target::None,
            cancelsim: Box::new(|| w0_cancelsim(sizes)),
            tokio: Box::new(|| w0_tokio(sizes)),
        },
        Workload {
            name: "W1",
            what: format!("{}×{} yield_now", sizes.yield_tasks, sizes.yields_per_task),
            ops: yields,
            unit: "yield",
            target: Target::RatioAtMost(1.0),
            cancelsim: Box::new(|| assert_eq!(w1_cancelsim(sizes), yields)),
            tokio: Box::new(|| assert_eq!(w1_tokio(sizes), yields)),
        },
        Workload {
            name: "W2",
            what: format!(
                "{}×{} random sleeps",
                sizes.sleep_tasks, sizes.sleeps_per_task
            ),
            ops: sizes.sleep_tasks * sizes.sleeps_per_task,
            unit: "sleep",
            target: Target::RatioAtMost(0.6),
            cancelsim: Box::new(|| assert_eq!(w2_cancelsim(sizes, &w2), w2_end)),
            tokio: Box::new(|| assert_eq!(w2_tokio(sizes, &w2), w2_end)),
        },
        Workload {
            name: "W3",
            what: format!("{} spawn+join", sizes.spawns),
            ops: sizes.spawns,
            unit: "spawn",
            target: Target::RatioAtMost(1.0),
            cancelsim: Box::new(|| assert_eq!(w3_cancelsim(sizes, trace_mode()), sizes.spawns)),
            tokio: Box::new(|| assert_eq!(w3_tokio(sizes), sizes.spawns)),
        },
        Workload {
            name: "W4",
            what: format!("{} ping-pong msgs", sizes.messages),
            ops: sizes.messages,
            unit: "msg",
            target: Target::RatioAtMost(1.0),
            cancelsim: Box::new(|| assert_eq!(w4_cancelsim(sizes), ping_sum)),
            tokio: Box::new(|| assert_eq!(w4_tokio(sizes), ping_sum)),
        },
        Workload {
            name: "W5",
            what: format!("{} fresh small runs", sizes.small_runs),
            ops: sizes.small_runs,
            unit: "run",
            target: Target::SpeedupAtLeast(4.0),
            cancelsim: Box::new(|| assert_eq!(w5_cancelsim(sizes, w5), small_sum)),
            tokio: Box::new(|| assert_eq!(w5_tokio(sizes, w5), small_sum)),
        },
    ];

    print_header();
    let total = Instant::now();
    for mut workload in workloads {
        if !selected(workload.name) {
            continue;
        }
        let measured = measure(
            plan,
            run_cancelsim.then_some(&mut *workload.cancelsim),
            run_tokio.then_some(&mut *workload.tokio),
        );
        print_row(&workload, &measured);
    }
    if selected("W6") {
        sweep_bench(quick);
    }
    println!("\nbenchmark time: {:.1}s", total.elapsed().as_secs_f64());

    if only.is_none() {
        print_rss();
    }
}

/// The value after `flag` (`--flag value` or `--flag=value`).
fn value_of(args: &[String], flag: &str) -> Option<String> {
    let prefix = format!("{flag}=");
    args.iter().enumerate().find_map(|(index, arg)| {
        if arg == flag {
            args.get(index + 1).cloned()
        } else {
            arg.strip_prefix(&prefix).map(str::to_string)
        }
    })
}

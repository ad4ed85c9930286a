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

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cancelsim::schedule::SimRng;
use cancelsim::{Config, Sim, TraceMode};
use tokio::sync::mpsc;

/// Trace mode of the timed cancelsim runs: `Full` unless `--trace off` (a
/// diagnostic knob, to see what recording costs).
static TRACE_MODE: std::sync::OnceLock<TraceMode> = std::sync::OnceLock::new();

fn trace_mode() -> TraceMode {
    *TRACE_MODE.get().unwrap_or(&TraceMode::Full)
}

/// Step budget for cancelsim: far above what any workload needs, so the
/// budget never ends a run early.
const MAX_STEPS: u64 = 1_000_000_000;

/// Seed of the sleep durations (W2, W5).
const DURATION_SEED: u64 = 0x5EED;

// ----- sizes ---------------------------------------------------------------------

/// Workload sizes; `--quick` divides each by ten.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    /// W0: worlds created per measurement.
    worlds: usize,
    /// W1: tasks and yields per task.
    yield_tasks: usize,
    yields_per_task: usize,
    /// W2: tasks and sleeps per task.
    sleep_tasks: usize,
    sleeps_per_task: usize,
    /// W3: spawn + join pairs.
    spawns: usize,
    /// W4: messages sent each way.
    messages: usize,
    /// W5: fresh-world runs of the small program.
    small_runs: usize,
}

impl Sizes {
    const FULL: Sizes = Sizes {
        worlds: 10_000,
        yield_tasks: 1_000,
        yields_per_task: 1_000,
        sleep_tasks: 10_000,
        sleeps_per_task: 100,
        spawns: 1_000_000,
        messages: 1_000_000,
        small_runs: 10_000,
    };

    fn quick() -> Sizes {
        let full = Sizes::FULL;
        Sizes {
            worlds: full.worlds / 10,
            yield_tasks: full.yield_tasks / 10,
            // 1/10 of the total work, keeping the per-task shape of W1 and W2.
            yields_per_task: full.yields_per_task,
            sleep_tasks: full.sleep_tasks / 10,
            sleeps_per_task: full.sleeps_per_task,
            spawns: full.spawns / 10,
            messages: full.messages / 10,
            small_runs: full.small_runs / 10,
        }
    }
}

// ----- the two worlds ------------------------------------------------------------

fn sim_config() -> Config {
    Config::default().max_steps(MAX_STEPS).trace(trace_mode())
}

/// Runs `future` as the root of a fresh cancelsim world, then drops the world.
fn on_cancelsim<F: std::future::Future>(config: Config, future: F) -> F::Output {
    let mut sim = Sim::new(config);
    let out = sim
        .block_on(future)
        .unwrap_or_else(|error| panic!("cancelsim run failed: {error}"));
    drop(sim);
    out
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds")
}

/// Runs `future` on a fresh paused tokio runtime, then drops the runtime.
fn on_tokio<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio_runtime();
    let out = runtime.block_on(future);
    drop(runtime);
    out
}

// ----- workloads -------------------------------------------------------------------

/// W0: one empty world, created and dropped, `count` times.
fn w0_cancelsim(sizes: Sizes) {
    for _ in 0..sizes.worlds {
        black_box(Sim::new(Config::default()));
    }
}

fn w0_tokio(sizes: Sizes) {
    for _ in 0..sizes.worlds {
        black_box(tokio_runtime());
    }
}

/// W1: every task yields `yields_per_task` times; returns the yields done.
fn w1_cancelsim(sizes: Sizes) -> usize {
    on_cancelsim(sim_config(), async move {
        let handles: Vec<_> = (0..sizes.yield_tasks)
            .map(|_| {
                cancelsim::spawn(async move {
                    for _ in 0..sizes.yields_per_task {
                        cancelsim::yield_now().await;
                    }
                    sizes.yields_per_task
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.expect("W1 task ends");
        }
        total
    })
}

fn w1_tokio(sizes: Sizes) -> usize {
    on_tokio(async move {
        let handles: Vec<_> = (0..sizes.yield_tasks)
            .map(|_| {
                tokio::spawn(async move {
                    for _ in 0..sizes.yields_per_task {
                        tokio::task::yield_now().await;
                    }
                    sizes.yields_per_task
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.expect("W1 task ends");
        }
        total
    })
}

/// The sleep durations of W2 (milliseconds, 1..=1000), task after task.
fn w2_durations(sizes: Sizes) -> Arc<[u64]> {
    let mut rng = SimRng::new(DURATION_SEED);
    (0..sizes.sleep_tasks * sizes.sleeps_per_task)
        .map(|_| rng.below(1000) + 1)
        .collect()
}

/// The virtual time W2 must end at: the longest task's total sleep.
fn w2_expected_end(sizes: Sizes, durations: &[u64]) -> Duration {
    let longest = durations
        .chunks(sizes.sleeps_per_task)
        .map(|task| task.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    Duration::from_millis(longest)
}

/// W2: task `i` sleeps the durations `i*per..(i+1)*per`; returns the virtual
/// time at the end.
fn w2_cancelsim(sizes: Sizes, durations: &Arc<[u64]>) -> Duration {
    let durations = Arc::clone(durations);
    on_cancelsim(sim_config(), async move {
        let start = cancelsim::time::Instant::now();
        let handles: Vec<_> = (0..sizes.sleep_tasks)
            .map(|task| {
                let durations = Arc::clone(&durations);
                cancelsim::spawn(async move {
                    let mine = task * sizes.sleeps_per_task..(task + 1) * sizes.sleeps_per_task;
                    for &ms in &durations[mine] {
                        cancelsim::time::sleep(Duration::from_millis(ms)).await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("W2 task ends");
        }
        start.elapsed()
    })
}

fn w2_tokio(sizes: Sizes, durations: &Arc<[u64]>) -> Duration {
    let durations = Arc::clone(durations);
    on_tokio(async move {
        let start = tokio::time::Instant::now();
        let handles: Vec<_> = (0..sizes.sleep_tasks)
            .map(|task| {
                let durations = Arc::clone(&durations);
                tokio::spawn(async move {
                    let mine = task * sizes.sleeps_per_task..(task + 1) * sizes.sleeps_per_task;
                    for &ms in &durations[mine] {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("W2 task ends");
        }
        start.elapsed()
    })
}

/// W3: spawn an empty task and join it, `spawns` times in a row.
fn w3_cancelsim(sizes: Sizes, trace: TraceMode) -> usize {
    on_cancelsim(sim_config().trace(trace), async move {
        let mut joined = 0;
        for _ in 0..sizes.spawns {
            cancelsim::spawn(async {}).await.expect("W3 task ends");
            joined += 1;
        }
        joined
    })
}

fn w3_tokio(sizes: Sizes) -> usize {
    on_tokio(async move {
        let mut joined = 0;
        for _ in 0..sizes.spawns {
            tokio::spawn(async {}).await.expect("W3 task ends");
            joined += 1;
        }
        joined
    })
}

/// The two ends of W4: `ping` sends `0..messages` and waits for each echo;
/// `pong` echoes until its inbox closes. Returns the sum of the echoes.
async fn w4_ping(
    messages: usize,
    to_pong: mpsc::Sender<u64>,
    mut from_pong: mpsc::Receiver<u64>,
) -> u64 {
    let mut sum = 0;
    for message in 0..messages as u64 {
        to_pong.send(message).await.expect("pong is alive");
        sum += from_pong.recv().await.expect("pong echoes");
    }
    sum
}

async fn w4_pong(mut from_ping: mpsc::Receiver<u64>, to_ping: mpsc::Sender<u64>) {
    while let Some(message) = from_ping.recv().await {
        if to_ping.send(message).await.is_err() {
            break;
        }
    }
}

fn w4_cancelsim(sizes: Sizes) -> u64 {
    on_cancelsim(sim_config(), async move {
        let (to_pong, from_ping) = mpsc::channel(1);
        let (to_ping, from_pong) = mpsc::channel(1);
        let ping = cancelsim::spawn(w4_ping(sizes.messages, to_pong, from_pong));
        let pong = cancelsim::spawn(w4_pong(from_ping, to_ping));
        let sum = ping.await.expect("ping ends");
        pong.await.expect("pong ends");
        sum
    })
}

fn w4_tokio(sizes: Sizes) -> u64 {
    on_tokio(async move {
        let (to_pong, from_ping) = mpsc::channel(1);
        let (to_ping, from_pong) = mpsc::channel(1);
        let ping = tokio::spawn(w4_ping(sizes.messages, to_pong, from_pong));
        let pong = tokio::spawn(w4_pong(from_ping, to_ping));
        let sum = ping.await.expect("ping ends");
        pong.await.expect("pong ends");
        sum
    })
}

/// W5's sleeps: 3 tasks × 10 durations (milliseconds), drawn once.
fn w5_durations() -> [[u64; 10]; 3] {
    let mut rng = SimRng::new(DURATION_SEED + 5);
    let mut durations = [[0; 10]; 3];
    for task in &mut durations {
        for ms in task {
            *ms = rng.below(100) + 1;
        }
    }
    durations
}

/// W5 on cancelsim: `small_runs` fresh worlds, each running the small
/// program (a producer sleeps then sends, a consumer receives then sleeps, a
/// bystander sleeps). Returns the sum of the values received.
fn w5_cancelsim(sizes: Sizes, durations: [[u64; 10]; 3]) -> u64 {
    let mut received = 0;
    for run in 0..sizes.small_runs as u64 {
        received += on_cancelsim(Config::default().trace(trace_mode()), async move {
            let (tx, mut rx) = mpsc::channel(1);
            let producer = cancelsim::spawn(async move {
                for ms in durations[0] {
                    cancelsim::time::sleep(Duration::from_millis(ms)).await;
                }
                tx.send(run).await.expect("consumer is alive");
            });
            let consumer = cancelsim::spawn(async move {
                let value = rx.recv().await.expect("producer sends");
                for ms in durations[1] {
                    cancelsim::time::sleep(Duration::from_millis(ms)).await;
                }
                value
            });
            let bystander = cancelsim::spawn(async move {
                for ms in durations[2] {
                    cancelsim::time::sleep(Duration::from_millis(ms)).await;
                }
            });
            producer.await.expect("producer ends");
            bystander.await.expect("bystander ends");
            consumer.await.expect("consumer ends")
        });
    }
    received
}

fn w5_tokio(sizes: Sizes, durations: [[u64; 10]; 3]) -> u64 {
    let mut received = 0;
    for run in 0..sizes.small_runs as u64 {
        received += on_tokio(async move {
            let (tx, mut rx) = mpsc::channel(1);
            let producer = tokio::spawn(async move {
                for ms in durations[0] {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                tx.send(run).await.expect("consumer is alive");
            });
            let consumer = tokio::spawn(async move {
                let value = rx.recv().await.expect("producer sends");
                for ms in durations[1] {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                value
            });
            let bystander = tokio::spawn(async move {
                for ms in durations[2] {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
            });
            producer.await.expect("producer ends");
            bystander.await.expect("bystander ends");
            consumer.await.expect("consumer ends")
        });
    }
    received
}

// ----- measuring -------------------------------------------------------------------

/// How to measure.
#[derive(Clone, Copy, Debug)]
struct Plan {
    sizes: Sizes,
    /// Timed repetitions per side (after one untimed warm-up unless quick).
    reps: usize,
    warm_up: bool,
}

/// Median wall times of `plan.reps` runs of each side, after a warm-up run
/// of each. The sides alternate rep by rep, so load from other processes on
/// the machine hits both alike.
fn measure<'a>(
    plan: Plan,
    cancelsim: Option<&'a mut (dyn FnMut() + 'a)>,
    tokio: Option<&'a mut (dyn FnMut() + 'a)>,
) -> Measured {
    let mut sides = [cancelsim, tokio];
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    if plan.warm_up {
        for run in sides.iter_mut().flatten() {
            run();
        }
    }
    for _ in 0..plan.reps {
        for (run, times) in sides.iter_mut().zip(&mut times) {
            if let Some(run) = run {
                let start = Instant::now();
                run();
                times.push(start.elapsed());
            }
        }
    }
    let [cancelsim, tokio] = times.map(|mut times| {
        times.sort();
        times.get(times.len() / 2).copied()
    });
    Measured { cancelsim, tokio }
}

/// The medians of one workload (None: that side was not run).
struct Measured {
    cancelsim: Option<Duration>,
    tokio: Option<Duration>,
}

/// One workload: its name, its unit and how to run each side once.
struct Workload<'a> {
    name: &'static str,
    what: String,
    /// Operations per run, to report time per operation.
    ops: usize,
    unit: &'static str,
    target: Target,
    cancelsim: Box<dyn FnMut() + 'a>,
    tokio: Box<dyn FnMut() + 'a>,
}

#[derive(Clone, Copy, Debug)]
enum Target {
    /// Informational only.
    None,
    /// cancelsim time / tokio time at most this.
    RatioAtMost(f64),
    /// cancelsim runs/s over tokio runs/s at least this.
    SpeedupAtLeast(f64),
}

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

// ----- W6: a full Check sweep ---------------------------------------------------------

/// 10 tasks × `sleeps` sleeps inside a timeout, joined by the root.
async fn w6_program(sleeps: u64) {
    let mut handles = Vec::new();
    for task in 0..10u64 {
        handles.push(
            cancelsim::spawn(async move {
                let _ = cancelsim::time::timeout(Duration::from_secs(1_000), async move {
                    for i in 0..sleeps {
                        cancelsim::time::sleep(Duration::from_millis(1 + (task * 7 + i) % 5)).await;
                    }
                })
                .await;
            })
            .abort_on_drop(),
        );
    }
    for handle in handles {
        let _ = handle.await;
    }
}

fn sweep_bench(quick: bool) {
    let sleeps = if quick { 10 } else { 100 };
    let body = move || w6_program(sleeps);
    let mut baseline = cancelsim::Sim::new(cancelsim::Config::default());
    baseline.block_on(body()).expect("the W6 program runs");
    let polls_per_run = baseline.steps();
    println!("\nW6   Check sweep: 10 tasks x {sleeps} sleeps in a timeout, both cancel modes + timeouts at every await point");
    let mut single = None;
    for threads in [1usize, 2] {
        let start = Instant::now();
        // The tasks do not check for cooperative cancellation: a request
        // at their first sleep is honoured only as they end, 100 sleeps
        // later, past the default budget of 100 polls. The workload is
        // about speed, so the budget covers it.
        let mut config = cancelsim::Config::default();
        config.grace_polls = 4 * sleeps as u32;
        let report = cancelsim::Check::new(body)
            .config(config)
            .cancel_at_every_await(cancelsim::CancelMode::Both)
            .timeout_at_every_await(true)
            .inject_on_wake(false)
            .threads(threads)
            .run();
        let elapsed = start.elapsed().as_secs_f64();
        assert!(report.is_clean(), "{report}");
        let runs = report.counts().runs;
        let polls = runs as f64 * polls_per_run as f64;
        println!(
            "     {threads} thread(s): {} await points, {runs} runs, ~{:.1}M polls in {elapsed:.2}s = {:.0} runs/s, {:.2}M polls/s{}",
            report.counts().await_points,
            polls / 1e6,
            runs as f64 / elapsed,
            polls / elapsed / 1e6,
            match single {
                None => format!("  (target: 1M polls in < 1 s on one core: {})", if polls / elapsed >= 1e6 { "ok" } else { "MISS" }),
                Some(one) => format!("  (speed-up over 1 thread: {:.2}x)", one / elapsed),
            }
        );
        single.get_or_insert(elapsed);
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

// ----- printing ----------------------------------------------------------------------

fn print_header() {
    println!(
        "{:<4} {:<26} {:>22} {:>22} {:>13} {:>8} {:>5}",
        "", "workload", "cancelsim", "tokio", "ratio", "target", "ok?"
    );
    println!("{}", "-".repeat(108));
}

fn per_op(time: Duration, ops: usize) -> f64 {
    time.as_nanos() as f64 / ops.max(1) as f64
}

fn print_row(workload: &Workload<'_>, measured: &Measured) {
    let cell = |time: Option<Duration>| match (time, workload.target) {
        (None, _) => "—".to_string(),
        (Some(time), Target::SpeedupAtLeast(_)) => {
            format!(
                "{:.0} {}s/s",
                workload.ops as f64 / time.as_secs_f64(),
                workload.unit
            )
        }
        (Some(time), _) => format!(
            "{:.0} ns/{} ({:.0} ms)",
            per_op(time, workload.ops),
            workload.unit,
            time.as_secs_f64() * 1e3
        ),
    };
    let ratio = match (measured.cancelsim, measured.tokio) {
        (Some(sim), Some(tokio)) => Some(sim.as_secs_f64() / tokio.as_secs_f64()),
        _ => None,
    };
    let (ratio_text, target_text, verdict) = match (workload.target, ratio) {
        (_, None) => ("—".to_string(), "—".to_string(), ""),
        (Target::None, Some(ratio)) => (format!("{ratio:.2}"), "—".to_string(), ""),
        (Target::RatioAtMost(max), Some(ratio)) => (
            format!("{ratio:.2}"),
            format!("≤ {max:.1}"),
            if ratio <= max { "ok" } else { "MISS" },
        ),
        (Target::SpeedupAtLeast(min), Some(ratio)) => {
            let speedup = 1.0 / ratio;
            (
                format!("{speedup:.2}× faster"),
                format!("≥ {min:.0}×"),
                if speedup >= min { "ok" } else { "MISS" },
            )
        }
    };
    println!(
        "{:<4} {:<26} {:>22} {:>22} {:>13} {:>8} {:>5}",
        workload.name,
        workload.what,
        cell(measured.cancelsim),
        cell(measured.tokio),
        ratio_text,
        target_text,
        verdict
    );
}

// ----- peak memory -----------------------------------------------------------------

/// `VmHWM` of this process in KiB (peak resident set size).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Child mode: do one thing, print `VmHWM <KiB>`.
fn rss_child(mode: &str) {
    match mode.to_ascii_uppercase().as_str() {
        "W3" => {
            let joined = w3_cancelsim(Sizes::FULL, TraceMode::Off);
            assert_eq!(joined, Sizes::FULL.spawns);
        }
        "EMPTY" => {
            let sim = Sim::new(Config::default().trace(TraceMode::Off));
            black_box(&sim);
            drop(sim);
        }
        other => panic!("--rss takes W3 or empty, not {other:?}"),
    }
    match peak_rss_kib() {
        Some(kib) => println!("VmHWM {kib}"),
        None => println!("VmHWM unavailable"),
    }
}

/// Runs this binary again in `--rss mode` and reads the child's `VmHWM`.
fn rss_of_child(mode: &str) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|error| error.to_string())?;
    let output = Command::new(exe)
        .args(["--rss", mode])
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "child `--rss {mode}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM "))
        .and_then(|kib| kib.trim().parse().ok())
        .ok_or_else(|| format!("child `--rss {mode}` printed no VmHWM: {stdout}"))
}

fn print_rss() {
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "\npeak RSS (VmHWM, child processes, cancelsim with TraceMode::Off; target: W3 within a few MiB of empty)"
    );
    match (rss_of_child("empty"), rss_of_child("W3")) {
        (Ok(empty), Ok(w3)) => {
            let diff = w3 as i64 - empty as i64;
            println!(
                "  empty Sim:                {:>8.1} MiB ({empty} KiB)",
                mib(empty)
            );
            println!(
                "  W3 ({} spawn+join): {:>8.1} MiB ({w3} KiB)",
                Sizes::FULL.spawns,
                mib(w3)
            );
            println!(
                "  difference:               {:>8.1} MiB ({diff} KiB)  {}",
                diff as f64 / 1024.0,
                if diff <= 4 * 1024 { "ok" } else { "MISS" }
            );
        }
        (empty, w3) => {
            for error in [empty.err(), w3.err()].into_iter().flatten() {
                println!("  {error}");
            }
        }
    }
}

//! Throughput of tokio code through the facade against the same code on
//! real tokio's paused current-thread runtime, in one process.
//!
//! Each workload is written once, as tokio code (`tokio::spawn`,
//! `tokio::time::sleep`, `tokio::task::yield_now`, `tokio::sync::mpsc`,
//! `tokio::runtime::Builder`), in a macro expanded twice: over real tokio
//! (`new_current_thread().enable_time().start_paused(true)`) and over
//! `cancelsim_tokio`, the facade, in its simulation build — what a user's
//! renamed `tokio` dependency compiles to. The facade runs as users run it:
//! every event traced, the `Fifo` baseline, tasks named by spawn site.
//! Each measurement covers building the runtime, the workload and dropping
//! the runtime; the two sides alternate repetition by repetition.
//!
//! * W1: 1,000 tasks × 1,000 `yield_now()`;
//! * W2: 10,000 tasks × 100 sleeps of seeded random 1–1000 ms;
//! * W3: 1,000,000 sequential `spawn` + join of an empty task;
//! * W4: two tasks ping-pong 1,000,000 messages over two capacity-1 `mpsc`
//!   channels;
//! * W5: a small program (3 tasks, 10 sleeps each, one message) on a fresh
//!   runtime, 10,000 times; runs per second.
//!
//! Only the simulation build has a facade to measure:
//!
//! ```text
//! RUSTFLAGS="--cfg cancelsim" CARGO_TARGET_DIR=target/sim cargo bench -p cancelsim-tokio --bench facade
//! RUSTFLAGS="--cfg cancelsim" CARGO_TARGET_DIR=target/sim cargo bench -p cancelsim-tokio --bench facade -- --quick
//! ```
//! Other arguments: `--only W2` (or `W2,W5`), `--reps N`, `--side
//! facade|tokio` (one side only, for profiling).

#[cfg(not(cancelsim))]
fn main() {
    println!(
        "the facade bench measures the simulation build: run\n  \
         RUSTFLAGS=\"--cfg cancelsim\" CARGO_TARGET_DIR=target/sim cargo bench -p cancelsim-tokio --bench facade"
    );
}

#[cfg(cancelsim)]
fn main() {
    bench::main();
}

#[cfg(cancelsim)]
mod bench {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// Workload sizes; `--quick` divides the totals by ten.
    #[derive(Clone, Copy, Debug)]
    pub struct Sizes {
        pub yield_tasks: usize,
        pub yields_per_task: usize,
        pub sleep_tasks: usize,
        pub sleeps_per_task: usize,
        pub spawns: usize,
        pub messages: usize,
        pub small_runs: usize,
    }

    const FULL: Sizes = Sizes {
        yield_tasks: 1_000,
        yields_per_task: 1_000,
        sleep_tasks: 10_000,
        sleeps_per_task: 100,
        spawns: 1_000_000,
        messages: 1_000_000,
        small_runs: 10_000,
    };

    const QUICK: Sizes = Sizes {
        yield_tasks: 100,
        yields_per_task: 1_000,
        sleep_tasks: 1_000,
        sleeps_per_task: 100,
        spawns: 100_000,
        messages: 100_000,
        small_runs: 1_000,
    };

    /// Seeded durations in milliseconds, `1..=max` (a small xorshift: the
    /// same numbers on both sides and on every machine).
    fn durations(count: usize, max: u64, seed: u64) -> Arc<[u64]> {
        let mut state = seed | 1;
        (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state % max + 1
            })
            .collect()
    }

    /// The workloads, written once over the crate named `rt`.
    macro_rules! workloads {
        ($side:ident, $krate:ident) => {
            pub mod $side {
                use std::sync::Arc;
                use std::time::Duration;

                use super::Sizes;
                use $krate as rt;

                /// The time driver only (no I/O driver, whose epoll
                /// instance would dominate W5 on tokio's side).
                fn runtime() -> rt::runtime::Runtime {
                    rt::runtime::Builder::new_current_thread()
                        .enable_time()
                        .start_paused(true)
                        .build()
                        .expect("a current-thread runtime builds")
                }

                pub fn w1(sizes: Sizes) -> usize {
                    runtime().block_on(async move {
                        let handles: Vec<_> = (0..sizes.yield_tasks)
                            .map(|_| {
                                rt::spawn(async move {
                                    for _ in 0..sizes.yields_per_task {
                                        rt::task::yield_now().await;
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

                pub fn w2(sizes: Sizes, durations: &Arc<[u64]>) -> Duration {
                    let durations = Arc::clone(durations);
                    runtime().block_on(async move {
                        let start = rt::time::Instant::now();
                        let handles: Vec<_> = (0..sizes.sleep_tasks)
                            .map(|task| {
                                let durations = Arc::clone(&durations);
                                rt::spawn(async move {
                                    let per = sizes.sleeps_per_task;
                                    for &ms in &durations[task * per..(task + 1) * per] {
                                        rt::time::sleep(Duration::from_millis(ms)).await;
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

                pub fn w3(sizes: Sizes) -> usize {
                    runtime().block_on(async move {
                        let mut joined = 0;
                        for _ in 0..sizes.spawns {
                            rt::spawn(async {}).await.expect("W3 task ends");
                            joined += 1;
                        }
                        joined
                    })
                }

                pub fn w4(sizes: Sizes) -> u64 {
                    runtime().block_on(async move {
                        let (to_pong, mut from_ping) = rt::sync::mpsc::channel::<u64>(1);
                        let (to_ping, mut from_pong) = rt::sync::mpsc::channel::<u64>(1);
                        let ping = rt::spawn(async move {
                            let mut sum = 0;
                            for message in 0..sizes.messages as u64 {
                                to_pong.send(message).await.expect("pong is alive");
                                sum += from_pong.recv().await.expect("pong echoes");
                            }
                            sum
                        });
                        let pong = rt::spawn(async move {
                            while let Some(message) = from_ping.recv().await {
                                if to_ping.send(message).await.is_err() {
                                    break;
                                }
                            }
                        });
                        let sum = ping.await.expect("ping ends");
                        pong.await.expect("pong ends");
                        sum
                    })
                }

                pub fn w5(sizes: Sizes, durations: &Arc<[u64]>) -> u64 {
                    let mut received = 0;
                    for run in 0..sizes.small_runs as u64 {
                        let durations = Arc::clone(durations);
                        received += runtime().block_on(async move {
                            let (tx, mut rx) = rt::sync::mpsc::channel(1);
                            let mine = |task: usize| -> Vec<u64> {
                                durations[task * 10..task * 10 + 10].to_vec()
                            };
                            let (first, second, third) = (mine(0), mine(1), mine(2));
                            let producer = rt::spawn(async move {
                                for ms in first {
                                    rt::time::sleep(Duration::from_millis(ms)).await;
                                }
                                tx.send(run).await.expect("consumer is alive");
                            });
                            let consumer = rt::spawn(async move {
                                let value = rx.recv().await.expect("producer sends");
                                for ms in second {
                                    rt::time::sleep(Duration::from_millis(ms)).await;
                                }
                                value
                            });
                            let bystander = rt::spawn(async move {
                                for ms in third {
                                    rt::time::sleep(Duration::from_millis(ms)).await;
                                }
                            });
                            producer.await.expect("producer ends");
                            bystander.await.expect("bystander ends");
                            consumer.await.expect("consumer ends")
                        });
                    }
                    received
                }
            }
        };
    }

    workloads!(real, tokio);
    workloads!(facade, cancelsim_tokio);

    /// One workload: both sides, with what each must return.
    struct Workload<'a> {
        name: &'static str,
        what: String,
        ops: usize,
        unit: &'static str,
        /// Report runs per second (W5) instead of time per operation.
        per_second: bool,
        facade: Box<dyn FnMut() + 'a>,
        tokio: Box<dyn FnMut() + 'a>,
    }

    /// Medians of `reps` alternating runs of each side (the selected ones),
    /// after a warm-up.
    fn measure(
        reps: usize,
        warm_up: bool,
        sides: [bool; 2],
        workload: &mut Workload<'_>,
    ) -> [Option<Duration>; 2] {
        let runs: [&mut (dyn FnMut() + '_); 2] = [&mut workload.facade, &mut workload.tokio];
        let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..reps + usize::from(warm_up) {
            for side in 0..2 {
                if sides[side] {
                    let start = Instant::now();
                    (runs[side])();
                    times[side].push(start.elapsed());
                }
            }
        }
        times.map(|mut times| {
            if warm_up && !times.is_empty() {
                times.remove(0);
            }
            times.sort();
            times.get(times.len() / 2).copied()
        })
    }

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

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|arg| arg == "--quick");
        let only = value_of(&args, "--only").map(|w| w.to_ascii_uppercase());
        let reps = value_of(&args, "--reps")
            .map(|n| n.parse::<usize>().expect("--reps N"))
            .unwrap_or(if quick { 1 } else { 5 })
            .max(1);
        let sides = match value_of(&args, "--side").as_deref() {
            None => [true, true],
            Some("facade") => [true, false],
            Some("tokio") => [false, true],
            Some(other) => panic!("--side takes facade or tokio, not {other:?}"),
        };
        let sizes = if quick { QUICK } else { FULL };
        let selected = |name: &str| {
            only.as_deref()
                .is_none_or(|only| only.split(',').any(|one| one == name))
        };
        println!(
            "tokio code through cancelsim-tokio (simulation build) vs real tokio (current_thread, \
             start_paused) — {}, median of {reps} rep(s){}",
            if quick { "quick (1/10 size)" } else { "full" },
            if quick { "" } else { " after 1 warm-up" }
        );
        println!(
            "facade: trace on (TraceMode::Full), Fifo, tasks named by spawn site; times include \
             building and dropping the runtime\n"
        );

        let w2_durations = durations(sizes.sleep_tasks * sizes.sleeps_per_task, 1000, 0x5EED);
        let w2_end = Duration::from_millis(
            w2_durations
                .chunks(sizes.sleeps_per_task)
                .map(|task| task.iter().sum::<u64>())
                .max()
                .unwrap_or(0),
        );
        let w5_durations = durations(30, 100, 0x5EED + 5);
        let yields = sizes.yield_tasks * sizes.yields_per_task;
        let ping_sum: u64 = (0..sizes.messages as u64).sum();
        let small_sum: u64 = (0..sizes.small_runs as u64).sum();

        let workloads = vec![
            Workload {
                name: "W1",
                what: format!("{}×{} yield_now", sizes.yield_tasks, sizes.yields_per_task),
                ops: yields,
                unit: "yield",
                per_second: false,
                facade: Box::new(|| assert_eq!(facade::w1(sizes), yields)),
                tokio: Box::new(|| assert_eq!(real::w1(sizes), yields)),
            },
            Workload {
                name: "W2",
                what: format!(
                    "{}×{} random sleeps",
                    sizes.sleep_tasks, sizes.sleeps_per_task
                ),
                ops: sizes.sleep_tasks * sizes.sleeps_per_task,
                unit: "sleep",
                per_second: false,
                facade: Box::new(|| assert_eq!(facade::w2(sizes, &w2_durations), w2_end)),
                tokio: Box::new(|| assert_eq!(real::w2(sizes, &w2_durations), w2_end)),
            },
            Workload {
                name: "W3",
                what: format!("{} spawn+join", sizes.spawns),
                ops: sizes.spawns,
                unit: "spawn",
                per_second: false,
                facade: Box::new(|| assert_eq!(facade::w3(sizes), sizes.spawns)),
                tokio: Box::new(|| assert_eq!(real::w3(sizes), sizes.spawns)),
            },
            Workload {
                name: "W4",
                what: format!("{} ping-pong msgs", sizes.messages),
                ops: sizes.messages,
                unit: "msg",
                per_second: false,
                facade: Box::new(|| assert_eq!(facade::w4(sizes), ping_sum)),
                tokio: Box::new(|| assert_eq!(real::w4(sizes), ping_sum)),
            },
            Workload {
                name: "W5",
                what: format!("{} fresh small runs", sizes.small_runs),
                ops: sizes.small_runs,
                unit: "run",
                per_second: true,
                facade: Box::new(|| assert_eq!(facade::w5(sizes, &w5_durations), small_sum)),
                tokio: Box::new(|| assert_eq!(real::w5(sizes, &w5_durations), small_sum)),
            },
        ];

        println!(
            "{:<4} {:<26} {:>24} {:>24} {:>8} {:>8} {:>5}",
            "", "workload", "facade", "tokio", "ratio", "target", "ok?"
        );
        println!("{}", "-".repeat(106));
        let total = Instant::now();
        for mut workload in workloads {
            if !selected(workload.name) {
                continue;
            }
            let [facade, tokio] = measure(reps, !quick, sides, &mut workload);
            let cell = |time: Option<Duration>| {
                let Some(time) = time else {
                    return "—".to_string();
                };
                if workload.per_second {
                    format!(
                        "{:.0} {}s/s",
                        workload.ops as f64 / time.as_secs_f64(),
                        workload.unit
                    )
                } else {
                    format!(
                        "{:.0} ns/{} ({:.0} ms)",
                        time.as_nanos() as f64 / workload.ops as f64,
                        workload.unit,
                        time.as_secs_f64() * 1e3
                    )
                }
            };
            let ratio = facade
                .zip(tokio)
                .map(|(facade, tokio)| facade.as_secs_f64() / tokio.as_secs_f64());
            println!(
                "{:<4} {:<26} {:>24} {:>24} {:>8} {:>8} {:>5}",
                workload.name,
                workload.what,
                cell(facade),
                cell(tokio),
                ratio.map_or("—".to_string(), |ratio| format!("{ratio:.2}")),
                "≤ 1.0",
                match ratio {
                    Some(ratio) if ratio <= 1.0 => "ok",
                    Some(_) => "MISS",
                    None => "",
                }
            );
        }
        println!(
            "\nratio: facade time / tokio time (W5: the inverse of the runs-per-second speed-up)\n\
             benchmark time: {:.1}s",
            total.elapsed().as_secs_f64()
        );
    }
}

//! Random task programs (sleeps, yields, CPU work, logs, cancels, joins,
//! raises, returns, handlers, timeouts, shields, a group), each run both
//! ways — the interpreter's baseline and its exported program under CPython
//! — must agree. A generator of awkward timing the catalogue does not
//! think of. Without a `python3` the test says so and passes.
//!
//! The first 60 programs run on every `cargo test`;
//! `CANCELSIM_RANDOM_PROGRAMS=N` runs N. Of the first 400, one differs,
//! from a difference known and left: when CPU work (`work`) moves the
//! clock past due timers in the middle of asyncio's loop iteration,
//! cancelsim fires them as soon as that step ends, asyncio at the start of
//! its next iteration, after the callbacks already scheduled. (The same
//! holds, in a smaller way, for which steps still run in the iteration
//! after `main`'s last one, before asyncio.run cancels what is left.)
#![cfg(feature = "scenario")]

mod scenario_common;

use cancelsim::scenario;
use scenario_common::{differences_from_cpython, load_text, python};

/// xorshift64*: the same programs on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn indent(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|line| format!("    {line}"))
        .collect()
}

/// Steps for task `me` (who may cancel and join `others`).
fn steps(rng: &mut Rng, depth: u32, me: &str, others: &[String], handler: bool) -> Vec<String> {
    let mut body = Vec::new();
    for _ in 0..=rng.below(3) {
        let roll = rng.below(100);
        let sleep = format!("sleep \"{}ms\"", [1, 2, 3, 5, 7, 11][rng.below(6) as usize]);
        match roll {
            0..=24 => body.push(sleep),
            25..=29 => body.push("yield".to_string()),
            30..=33 => body.push(format!("work \"{}ms\"", 1 + rng.below(4))),
            34..=44 => body.push(format!("log \"{me} {}\"", rng.below(100))),
            45..=50 if !others.is_empty() => {
                let other = &others[rng.below(others.len() as u64) as usize];
                body.push(format!("cancel {other}"));
            }
            51..=54 => body.push(format!("raise ValueError \"{me}\"")),
            55..=57 => body.push(format!("return r{}", rng.below(10))),
            58..=60 if handler => body.push("reraise".to_string()),
            61..=75 if depth < 2 => {
                let inner = steps(rng, depth + 1, me, others, handler);
                let (keyword, ending) = match rng.below(5) {
                    0 => (
                        "on-cancel",
                        Some(if rng.chance(50) { "reraise" } else { "swallow" }),
                    ),
                    1 => ("on-error", None),
                    2 => ("except ValueError", None),
                    3 => ("except CancelledError", None),
                    _ => ("finally", None),
                };
                let mut cleanup =
                    steps(rng, depth + 1, me, others, keyword != "finally" || handler);
                cleanup.retain(|step| step != "reraise" || ending.is_none());
                cleanup.extend(ending.map(str::to_string));
                body.push("try {".to_string());
                body.extend(indent(inner));
                body.push("}".to_string());
                body.push(format!("{keyword} {{"));
                body.extend(indent(cleanup));
                body.push("}".to_string());
            }
            76..=84 if depth < 2 => {
                body.push(format!(
                    "timeout \"{}ms\" {{",
                    [2, 4, 6, 9][rng.below(4) as usize]
                ));
                body.extend(indent(steps(rng, depth + 1, me, others, handler)));
                body.push("}".to_string());
            }
            85..=89 if depth < 2 => {
                body.push("shield {".to_string());
                body.extend(indent(steps(rng, depth + 1, me, &[], false)));
                body.push("}".to_string());
            }
            _ => body.push(sleep),
        }
    }
    body
}

/// A program: `main` spawns some tasks (maybe in a group), runs steps,
/// then waits for every task it spawned.
fn program(seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let tasks: Vec<String> = (0..1 + rng.below(3)).map(|i| format!("t{i}")).collect();
    let mut main = Vec::new();
    let grouped = rng.chance(30);
    if grouped {
        main.push("group {".to_string());
        main.extend(tasks.iter().map(|task| format!("    spawn {task}")));
        main.push("    sleep \"1ms\"".to_string());
        main.push("}".to_string());
    } else {
        main.extend(tasks.iter().map(|task| format!("spawn {task}")));
    }
    main.push("try {".to_string());
    main.extend(indent(steps(&mut rng, 1, "main", &tasks, false)));
    main.push("}".to_string());
    main.push("finally {".to_string());
    main.extend(
        tasks
            .iter()
            .map(|task| format!("    join {task} expect=any")),
    );
    main.push("}".to_string());
    let mut text = String::new();
    let mut task = |name: &str, body: Vec<String>| {
        text.push_str(&format!("task {name} {{\n"));
        for line in indent(body) {
            text.push_str(&format!("{line}\n"));
        }
        text.push_str("}\n");
    };
    task("main", main);
    for name in &tasks {
        let body = steps(&mut rng, 0, name, &[], false);
        task(name, body);
    }
    text
}

/// How many programs the test runs (`CANCELSIM_RANDOM_PROGRAMS` for more).
fn count() -> u64 {
    std::env::var("CANCELSIM_RANDOM_PROGRAMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(60)
}

#[test]
fn random_programs_agree_with_cpython() {
    if python().is_none() {
        return;
    }
    let seeds = count();
    let next = std::sync::atomic::AtomicU64::new(0);
    let loaded = std::sync::atomic::AtomicU64::new(0);
    let mut differ: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut found = Vec::new();
                    loop {
                        let seed = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if seed >= seeds {
                            return found;
                        }
                        let text = program(seed);
                        let Ok(scenario) = scenario::load_str("random.kdl", &text) else {
                            continue;
                        };
                        loaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let scenario = std::sync::Arc::new(scenario);
                        let baseline = scenario::baseline(&scenario, 0);
                        let problems = differences_from_cpython(&scenario, &baseline);
                        if !problems.is_empty() {
                            found
                                .push(format!("seed {seed}:\n{text}\n  {}", problems.join("\n  ")));
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("no panic"))
            .collect()
    });
    differ.sort();
    let loaded = loaded.into_inner();
    assert!(
        loaded * 3 >= seeds * 2,
        "only {loaded} of {seeds} programs loaded"
    );
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
}

#[test]
fn the_generated_programs_are_valid_scenarios() {
    for seed in 0..20 {
        load_text("random.kdl", &program(seed));
    }
}

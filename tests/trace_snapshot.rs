//! The stable text form of a trace, pinned by snapshots under `snapshots/`,
//! and the trace modes that keep less of it.

use std::time::Duration;

use cancelsim::cancel::{checkpoint, Cancelled};
use cancelsim::time::{sleep, timeout};
use cancelsim::{spawn_named, yield_now, Config, Sim, TraceMode};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A fetch that finishes, a worker cancelled mid-loop, and a timeout that fires.
async fn small_program() -> (u32, Result<(), Cancelled>, bool) {
    let fetch = spawn_named("fetch", async {
        sleep(ms(100)).await;
        1
    });
    let worker = spawn_named("worker", async {
        for _ in 0..10 {
            sleep(ms(30)).await;
            checkpoint().await?;
        }
        Ok::<(), Cancelled>(())
    });
    sleep(ms(50)).await;
    worker.cancel();
    let worker_result = worker.await.unwrap();
    let fetched = fetch.await.unwrap();
    let timed_out = timeout(ms(20), sleep(ms(1000))).await.is_err();
    (fetched, worker_result, timed_out)
}

fn assert_only_relative_paths(text: &str) {
    assert!(!text.contains(env!("CARGO_MANIFEST_DIR")), "{text}");
    for line in text.lines() {
        for word in line.split_whitespace() {
            let word = word.trim_start_matches('(');
            assert!(
                !(word.starts_with('/') || word.get(1..3) == Some(":\\")),
                "absolute path in: {line}"
            );
        }
    }
}

#[test]
fn the_trace_of_a_small_program_is_stable() {
    let mut sim = Sim::new(Config::default().seed(17));
    let out = sim.block_on(small_program()).unwrap();
    assert_eq!(out, (1, Err(Cancelled), true));
    let text = sim.trace().to_string();
    assert!(text.starts_with("cancelsim trace v2\nseed 17, scheduler fifo\n"));
    assert!(
        text.contains("spawn fetch#1 at tests/trace_snapshot.rs:"),
        "{text}"
    );
    assert!(
        text.contains("worker#2     cancel requested by main#0 at tests/trace_snapshot.rs:"),
        "{text}"
    );
    assert!(
        text.contains("timeout #0 fired (tests/trace_snapshot.rs:"),
        "{text}"
    );
    assert_only_relative_paths(&text);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("trace_small_program_fifo", text);
    });
}

#[test]
fn the_trace_of_a_small_program_under_random_is_stable() {
    let mut sim = Sim::new(
        Config::default()
            .seed(17)
            .scheduler(cancelsim::SchedulerKind::Random),
    );
    let out = sim.block_on(small_program()).unwrap();
    assert_eq!(out, (1, Err(Cancelled), true));
    let text = sim.trace().to_string();
    assert_only_relative_paths(&text);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("trace_small_program_random", text);
    });
}

/// Three tasks yielding a few times: enough events to cap.
async fn busy_program() {
    let tasks: Vec<_> = (0..3)
        .map(|index| {
            spawn_named(&format!("busy{index}"), async {
                for _ in 0..4 {
                    yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn trace_mode_last_keeps_the_last_n_events_and_says_so() {
    let mut full = Sim::new(Config::default().seed(2));
    full.block_on(busy_program()).unwrap();
    let full_trace = full.trace();
    let full_text = full_trace.to_string();

    let mut capped = Sim::new(Config::default().seed(2).trace(TraceMode::Last(5)));
    capped.block_on(busy_program()).unwrap();
    let capped_trace = capped.trace();
    let capped_text = capped_trace.to_string();

    assert_eq!(capped_trace.len(), 5);
    assert_eq!(capped_trace.dropped(), (full_trace.len() - 5) as u64);
    assert!(full_trace.len() > 5);
    assert_eq!(full_trace.dropped(), 0);
    let notice = format!(
        "({} earlier events dropped: trace capped at the last 5)",
        full_trace.len() - 5
    );
    assert_eq!(
        capped_text.lines().nth(2),
        Some(notice.as_str()),
        "{capped_text}"
    );
    // The events kept are exactly the last five of the full trace.
    let last_full: Vec<&str> = full_text.lines().rev().take(5).collect();
    let last_capped: Vec<&str> = capped_text.lines().rev().take(5).collect();
    assert_eq!(last_capped, last_full);
    assert_eq!(capped_text.lines().count(), 2 + 1 + 1 + 5);
}

#[test]
fn trace_mode_off_records_nothing_but_the_run_still_works() {
    let mut sim = Sim::new(Config::default().seed(3).trace(TraceMode::Off));
    let value = sim
        .block_on(async {
            busy_program().await;
            sleep(ms(5)).await;
            9
        })
        .unwrap();
    assert_eq!(value, 9);
    assert!(sim.trace().is_empty());
    assert_eq!(sim.trace().dropped(), 0);
    assert_eq!(
        sim.trace().to_string(),
        "cancelsim trace v2\nseed 3, scheduler fifo\n(trace off)\n"
    );
    assert!(sim.steps() > 0);
    assert!(
        !sim.schedule().is_empty(),
        "the schedule is recorded even with the trace off"
    );
}

/// The one-liner for users: `assert_trace_snapshot!` writes to the package's
/// top-level `snapshots/` directory, version line first.
#[test]
fn assert_trace_snapshot_pins_a_trace_in_snapshots() {
    let mut sim = Sim::new(Config::default().seed(17));
    let _ = sim.block_on(small_program()).unwrap();
    cancelsim::assert_trace_snapshot!("trace_small_program_macro", sim.trace());
    let stored = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/snapshots/trace_small_program_macro.snap"
    ))
    .expect("the snapshot lives in snapshots/");
    let body = stored.splitn(3, "---\n").nth(2).unwrap();
    assert!(body.starts_with("cancelsim trace v2\n"), "{body}");
    assert_only_relative_paths(body);
}

/// Every path a poll takes into the trace: a poll that only suspends, one
/// that wakes another task first (a channel send), one that wakes two and
/// then waits on a join, one that spawns, one that cancels another task,
/// one that completes (waking its joiner first), and a root that polls
/// between them.
async fn every_kind_of_poll() {
    let (tx, mut rx) = futures::channel::mpsc::channel::<u32>(1);
    let receiver = spawn_named("receiver", async move {
        use futures::StreamExt;
        let mut sum = 0;
        while let Some(value) = rx.next().await {
            sum += value;
        }
        sum
    });
    let sender = spawn_named("sender", async move {
        use futures::SinkExt;
        let mut tx = tx;
        for value in 0..3 {
            tx.send(value).await.unwrap();
            yield_now().await;
        }
    });
    let sleeper = spawn_named("sleeper", async {
        loop {
            if checkpoint().await.is_err() {
                return;
            }
            sleep(ms(5)).await;
        }
    });
    // Two waiters the parent wakes in one poll before it suspends on a join
    // (a wait that names a task).
    let (first_tx, first_rx) = futures::channel::oneshot::channel::<()>();
    let (second_tx, second_rx) = futures::channel::oneshot::channel::<()>();
    let waiters =
        [first_rx, second_rx].map(|rx| spawn_named("waiter", async { rx.await.unwrap() }));
    let parent = spawn_named("parent", async move {
        let child = spawn_named("child", async { sleep(ms(1)).await });
        for _ in 0..3 {
            yield_now().await;
        }
        first_tx.send(()).unwrap();
        second_tx.send(()).unwrap();
        child.await.unwrap();
    });
    sender.await.unwrap();
    parent.await.unwrap();
    for waiter in waiters {
        waiter.await.unwrap();
    }
    sleeper.cancel();
    sleeper.await.unwrap();
    assert_eq!(receiver.await.unwrap(), 3);
}

/// The full trace writes most polls folded into the record that follows
/// them; a capped trace keeps plain events. Both must read back the same.
#[test]
fn a_full_trace_reads_back_the_same_events_as_a_capped_one() {
    let events = |mode: TraceMode| {
        let mut sim = Sim::new(Config::default().seed(4).trace(mode));
        sim.block_on(every_kind_of_poll()).unwrap();
        let trace = sim.trace();
        (
            trace.len(),
            trace
                .events()
                .map(|event| format!("{event:?}"))
                .collect::<Vec<_>>(),
        )
    };
    let (full_len, full) = events(TraceMode::Full);
    let (capped_len, capped) = events(TraceMode::Last(1 << 20));
    assert_eq!(full_len, full.len());
    assert_eq!(capped_len, capped.len());
    assert_eq!(full, capped);
    let polls = full.iter().filter(|event| event.contains("Poll")).count();
    assert!(polls > 20, "{polls} polls");
    // And which task each poll belongs to is pinned: folding must not move
    // a poll onto the task of the record it was folded into.
    let mut sim = Sim::new(Config::default().seed(4));
    sim.block_on(every_kind_of_poll()).unwrap();
    let text = sim.trace().to_string();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("trace_every_kind_of_poll", text);
    });
}

/// Call sites of one run of [`calls_with_sites`]: (what, line).
type Sites = Vec<(&'static str, u32)>;

/// Cancels, aborts (directly and through an `abort_on_drop` handle), works,
/// draws a random number and lets a timeout fire, noting the line of each
/// call.
async fn calls_with_sites() -> Sites {
    let mut sites = Vec::new();
    let sleeper = spawn_named("sleeper", async { sleep(ms(100)).await });
    let polite = spawn_named("polite", cancelsim::cancel::cancelled());
    yield_now().await;
    sites.push(("cancel", line!() + 1));
    polite.cancel();
    sites.push(("abort", line!() + 1));
    sleeper.abort();
    sites.push(("abort_on_drop", line!() + 1));
    let guarded = spawn_named("guarded", sleep(ms(100))).abort_on_drop();
    yield_now().await;
    drop(guarded);
    sites.push(("work", line!() + 1));
    cancelsim::work(ms(5));
    sites.push(("random", line!() + 1));
    let _: u64 = cancelsim::random();
    sites.push(("timeout", line!() + 1));
    let _ = timeout(ms(1), sleep(ms(10))).await;
    polite.await.unwrap();
    sites
}

/// Events a cancelsim call causes name the caller's `file:line` (an
/// `abort_on_drop` handle's abort: where the handle was made), in both
/// stores, and the JSON lines carry the same; a timeout names its scope.
#[test]
fn events_caused_by_a_call_name_its_call_site() {
    for mode in [TraceMode::Full, TraceMode::Last(1_000)] {
        let mut sim = Sim::new(Config::default().seed(5).trace(mode));
        let sites = sim.block_on(calls_with_sites()).unwrap();
        let text = sim.trace().to_string();
        let site = |what: &str| {
            let line = sites.iter().find(|(name, _)| *name == what).unwrap().1;
            format!("tests/trace_snapshot.rs:{line}:")
        };
        let has = |task: &str, event: String| {
            assert!(
                text.lines()
                    .any(|line| line.contains(task) && line.contains(&event)),
                "no `{event}` of {task} in:\n{text}"
            );
        };
        has(
            "polite#2",
            format!("cancel requested by main#0 at {}", site("cancel")),
        );
        has(
            "sleeper#1",
            format!("aborted by main#0 at {}", site("abort")),
        );
        has(
            "guarded#3",
            format!("aborted by main#0 at {}", site("abort_on_drop")),
        );
        has("main#0", format!("work 0.005s at {}", site("work")));
        has("main#0", format!(" at {}", site("random")));
        has("main#0", format!("timeout #0 fired ({}", site("timeout")));
        assert!(text.contains(": future dropped"), "{text}");
        assert_only_relative_paths(&text);

        let json = sim.trace().to_json_lines();
        for what in ["cancel", "abort", "abort_on_drop", "work", "random"] {
            let at = format!("\"at\":\"{}", site(what));
            assert!(json.contains(&at), "no {at} in:\n{json}");
        }
        assert!(
            json.lines()
                .any(|line| line.contains("\"timeout_fired\"") && line.contains("\"scope\":0")),
            "{json}"
        );
    }
}

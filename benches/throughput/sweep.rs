//! W6: a full `Check` sweep, on one and on two threads.

use std::time::{Duration, Instant};

/// 10 tasks × `sleeps` sleeps inside a timeout, joined by the root.
pub(crate) async fn w6_program(sleeps: u64) {
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

pub(crate) fn sweep_bench(quick: bool) {
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

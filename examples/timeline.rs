//! Renders two timelines: a small failing run found by a cancellation sweep,
//! a busy run (50 tasks, about 13,000 events) and one of 80 tasks.
//!
//! ```text
//! cargo run --example timeline -- target/timelines
//! ```
//!
//! writes `failing.svg`, `failing.chrome.json` (open it in
//! <https://ui.perfetto.dev>), `failing.jsonl`, `busy.svg` and
//! `busy.chrome.json`, `folded.svg` to the directory given (default: the
//! current one).

use std::mem::ManuallyDrop;
use std::time::Duration;

use cancelsim::cancel::{checkpoint, Cancelled, OrCancel};
use cancelsim::time::{sleep, timeout};
use cancelsim::{spawn_named, CancelMode, Check, Config, Sim};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A worker whose connection is only returned on the success path.
async fn pool_user() {
    let fetch = spawn_named("fetch", async {
        sleep(ms(40)).await;
        sleep(ms(60)).await;
        1
    })
    .abort_on_drop();
    let worker = spawn_named("worker", async {
        for _ in 0..3 {
            // Bug: the connection goes back to the pool only if the sleep
            // finishes; a cancel here leaks it.
            let conn = ManuallyDrop::new(cancelsim::resource::acquire("conn"));
            sleep(ms(30)).or_cancel().await?;
            ManuallyDrop::into_inner(conn).release();
            checkpoint().await?;
        }
        Ok::<(), Cancelled>(())
    })
    .abort_on_drop();
    let _ = worker.await;
    let _ = fetch.await;
    let _ = timeout(ms(20), sleep(ms(1000))).await;
}

/// `tasks` tasks sleeping and yielding `rounds` times; a few are cancelled.
async fn busy(tasks: u64, rounds: u64) {
    let mut handles = Vec::new();
    for index in 0..tasks {
        handles.push(spawn_named(&format!("worker-{index:02}"), async move {
            for round in 0..rounds {
                if (round + index) % 3 == 0 {
                    cancelsim::yield_now().await;
                } else {
                    sleep(Duration::from_micros(100 + 37 * ((index * 7 + round) % 11))).await;
                }
                checkpoint().await?;
            }
            Ok::<(), Cancelled>(())
        }));
    }
    sleep(ms(1)).await;
    for handle in handles.iter().skip(3).step_by(10) {
        handle.cancel();
    }
    for handle in handles {
        let _ = handle.await;
    }
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&dir).expect("output directory");

    let report = Check::new(pool_user)
        .cancel_at_every_await(CancelMode::Drop)
        .threads(1)
        .run();
    let failure = report
        .failures()
        .iter()
        .find(|failure| failure.repro().injections.iter().any(|i| i.point >= 3))
        .expect("the sweep finds the leak");
    println!("failing run: {}", failure.repro());
    let trace = failure.trace();
    std::fs::write(dir.join("failing.svg"), trace.to_svg()).unwrap();
    std::fs::write(dir.join("failing.chrome.json"), trace.to_chrome_json()).unwrap();
    std::fs::write(dir.join("failing.jsonl"), trace.to_json_lines()).unwrap();

    for (name, tasks, rounds) in [("busy", 50, 60), ("folded", 80, 5)] {
        let mut sim = Sim::new(Config::default().seed(3).max_steps(1_000_000));
        sim.block_on(busy(tasks, rounds)).unwrap();
        let trace = sim.trace();
        println!("{name} run: {tasks} tasks, {} events", trace.len());
        std::fs::write(dir.join(format!("{name}.svg")), trace.to_svg()).unwrap();
        std::fs::write(
            dir.join(format!("{name}.chrome.json")),
            trace.to_chrome_json(),
        )
        .unwrap();
    }
}

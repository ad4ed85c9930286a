//! The trace's names and messages over long runs.

use std::time::Duration;

use crate::config::TraceMode;
use crate::time::sleep;
use crate::{resource, spawn_named, Config, Sim};

/// A long run of named tasks and tracked resources: spawns `workers`
/// tasks called `worker` and `jobs` with a name of their own, each
/// taking and releasing the resource `db`, while `keeper` (spawned
/// first) sleeps through all of it and then finishes.
fn long_run(mode: TraceMode, workers: u32, jobs: u32) -> Sim {
    let mut sim = Sim::new(Config::default().seed(1).trace(mode));
    sim.block_on(async move {
        let keeper = spawn_named("keeper", sleep(Duration::from_secs(1)));
        for _ in 0..workers {
            spawn_named("worker", async { resource::acquire("db").release() })
                .await
                .unwrap();
        }
        for job in 0..jobs {
            spawn_named(&format!("job-{job}"), async {}).await.unwrap();
        }
        keeper.await.unwrap();
    })
    .unwrap();
    sim
}

/// A capped trace keeps the names its kept events need (and those of
/// tasks still running), not one per task ever spawned; resource names
/// are kept once.
#[test]
fn a_capped_trace_does_not_pile_up_names_and_messages() {
    let sim = long_run(TraceMode::Last(100), 20_000, 5_000);
    let trace = sim.trace();
    let (names, distinct, messages) = trace.text_counts();
    assert!(names <= 1_200, "{names} names kept");
    assert!(distinct <= 1_200, "{distinct} distinct names kept");
    assert_eq!(messages, 1, "`db`, once");
    assert_eq!(trace.message(0), Some("db"));
    // The keeper's spawn fell out of the ring long ago; it still has
    // its name where its last events are shown.
    let text = trace.to_string();
    assert!(text.contains("keeper#1     completed: returned"), "{text}");
    assert!(text.contains("main#0"), "{text}");
    for line in text.lines().skip(3) {
        let task = line.split_whitespace().nth(2).unwrap_or("");
        assert!(
            !task.starts_with('#') && !line.contains("by #") && !line.contains("spawn #"),
            "an unnamed task in: {line}"
        );
    }
}

/// The full trace keeps every name (all its events stay), each distinct
/// text once.
#[test]
fn a_full_trace_keeps_every_name() {
    let sim = long_run(TraceMode::Full, 2_000, 500);
    let (names, distinct, messages) = sim.trace().text_counts();
    assert_eq!(names, 1 + 2_000 + 500);
    assert_eq!(distinct, 1 + 1 + 500);
    assert_eq!(messages, 1);
}

//! Code that bounds a retry loop by `std::time::Instant` (the wall clock)
//! while it sleeps on tokio's clock (trial 16: bb8's connection retries)
//! runs through its sleeps until real time passes: a run that should take
//! 5 s of backoff takes 5 s of wall time and days of virtual time. The
//! sweep says so on stderr (the report, which a seed fixes, holds no
//! measurement of the machine); the same loop on `tokio::time::Instant`
//! gets no notice.
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Report};

/// Retries every 10 virtual minutes for `budget` measured on the wall clock
/// (`wall`) or on tokio's clock; each attempt takes 10 ms of real CPU.
async fn retry_for(budget: Duration, wall: bool) -> u32 {
    let wall_start = std::time::Instant::now();
    let start = cancelsim_tokio::time::Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        std::thread::sleep(Duration::from_millis(10)); // an attempt's work
        let spent = if wall {
            wall_start.elapsed()
        } else {
            start.elapsed()
        };
        if spent >= budget {
            return attempts;
        }
        cancelsim_tokio::time::sleep(Duration::from_secs(600)).await;
    }
}

fn sweep(wall: bool) -> Report {
    Check::new(move || async move {
        retry_for(Duration::from_millis(1100), wall).await;
    })
    .tokio_preset()
    .max_runs(1)
    .run()
}

#[test]
fn a_loop_bounded_by_the_wall_clock_is_named_in_the_report() {
    // (The loop's attempts differ from run to run with the wall clock:
    // the determinism check may report that too.)
    let report = sweep(true);
    assert!(report.counts().wall_clock_runs > 0, "{report}");
    let notice = report.counts().wall_clock_notice().unwrap();
    assert!(notice.contains("took long on the wall clock"), "{notice}");
    assert!(notice.contains("`std::time::Instant`"), "{notice}");
    // A measurement of the machine: on stderr (printed by `run`), not in
    // the report a seed fixes.
    assert!(
        !report.to_string().contains("took long on the wall clock"),
        "{report}"
    );
}

#[test]
fn the_same_loop_on_tokios_clock_gets_no_notice() {
    let report = sweep(false);
    report.assert_clean();
    assert_eq!(report.counts().wall_clock_runs, 0, "{report}");
    assert_eq!(report.counts().wall_clock_notice(), None);
}

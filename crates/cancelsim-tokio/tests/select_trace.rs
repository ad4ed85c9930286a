//! What the simulated `select!` leaves in the trace: the winner, and where
//! the dropped branches waited — no await point for a race decided in its
//! first poll (its losers were created and dropped within it), the task's
//! await point for one decided after it suspended.
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Config, Sim};

fn select_line(trace: &str) -> &str {
    trace
        .lines()
        .find(|line| line.contains("select! at"))
        .unwrap_or_else(|| panic!("no select! line in:\n{trace}"))
}

#[test]
fn a_select_decided_in_its_first_poll_names_no_await_point() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(async {
        cancelsim_tokio::time::sleep(Duration::from_millis(1)).await; // await point 1
        cancelsim_tokio::select! {
            biased;
            _ = cancelsim_tokio::time::sleep(Duration::from_millis(20)) => 0,
            _ = std::future::ready(()) => 1,
        }
    })
    .unwrap();
    let trace = sim.trace().to_string();
    let line = select_line(&trace);
    assert!(
        line.ends_with("branch 1 won; dropped pending branch 0"),
        "{line}"
    );
}

#[test]
fn a_select_decided_later_names_where_its_losers_waited() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(async {
        cancelsim_tokio::time::sleep(Duration::from_millis(1)).await; // await point 1
        cancelsim_tokio::select! {
            biased;
            _ = cancelsim_tokio::time::sleep(Duration::from_millis(20)) => 0,
            _ = cancelsim_tokio::time::sleep(Duration::from_millis(10)) => 1,
        }
    })
    .unwrap();
    let trace = sim.trace().to_string();
    let line = select_line(&trace);
    assert!(
        line.ends_with("branch 1 won; dropped pending branch 0 (waiting at await point 2)"),
        "{line}"
    );
}

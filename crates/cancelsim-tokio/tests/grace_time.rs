//! `tokio::cancelsim::set_grace_time`: a service designed to drain for a few
//! seconds after its shutdown signal says so, and the sweep holds it to that
//! budget instead of the default second.
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Report, ViolationCode};
use cancelsim_tokio::sync::watch;

/// Serves until `shutdown` flips, then drains in-flight work in three
/// one-second steps (each a wake-up the grace budget is checked at).
async fn service(mut shutdown: watch::Receiver<bool>) {
    loop {
        cancelsim_tokio::select! {
            _ = shutdown.changed() => break,
            _ = cancelsim_tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    for _ in 0..3 {
        cancelsim_tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn shutdown_test(grace: Option<Duration>) {
    let (stop, shutdown) = watch::channel(false);
    let stop = std::rc::Rc::new(stop);
    if let Some(grace) = grace {
        cancelsim_tokio::cancelsim::set_grace_time(grace);
    }
    cancelsim_tokio::cancelsim::register_signal({
        let stop = std::rc::Rc::clone(&stop);
        move || {
            let _ = stop.send(true);
        }
    });
    let server = cancelsim_tokio::spawn(service(shutdown));
    cancelsim_tokio::time::sleep(Duration::from_millis(250)).await;
    let _ = stop.send(true);
    server.await.unwrap();
}

fn sweep(grace: Option<Duration>) -> Report {
    Check::new(move || shutdown_test(grace))
        .tokio_preset()
        .seeds(0..2)
        .run()
}

#[test]
fn a_three_second_drain_overruns_the_default_grace_time() {
    let report = sweep(None);
    assert!(
        report.failures().iter().any(|failure| failure
            .violations()
            .iter()
            .any(|violation| violation.kind() == ViolationCode::CancelIgnored)),
        "{report}"
    );
}

#[test]
fn the_program_sets_a_grace_time_its_drain_fits_in() {
    sweep(Some(Duration::from_secs(5))).assert_clean();
}

#[test]
fn a_grace_time_longer_than_the_drain_still_catches_a_deaf_service() {
    // The same budget does not excuse a service that never drains: one that
    // ignores the signal is still reported, after five seconds instead of one.
    let report = Check::new(|| async {
        cancelsim_tokio::cancelsim::set_grace_time(Duration::from_secs(5));
        cancelsim_tokio::cancelsim::register_signal(|| {});
        let deaf = cancelsim_tokio::spawn(async {
            for _ in 0..20 {
                cancelsim_tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        deaf.await.unwrap();
    })
    .tokio_preset()
    .seeds(0..1)
    .run();
    assert!(
        report
            .to_string()
            .contains("not honoured after 5.000s of virtual time"),
        "{report}"
    );
}

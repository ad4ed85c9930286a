//! `tokio::signal::unix`, simulated: a `Signal` receives what the test
//! fires with `tokio::cancelsim::fire_signal`; against real tokio, which
//! receives a real signal sent to the test process; and a SIGTERM shutdown
//! swept at every await point (`register_signal`), with a buggy twin.
#![cfg(all(cancelsim, unix))]

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use cancelsim::{Check, Report, ViolationCode};
use cancelsim_tokio::signal::unix::{signal, SignalKind};

#[macro_use]
mod common;
use common::Log;

/// Sends SIGUSR2 to this process (real tokio), or fires it in the
/// simulation (the facade).
fn deliver_usr2() {
    if cancelsim::in_simulation() {
        cancelsim_tokio::cancelsim::fire_signal(SignalKind::user_defined2());
    } else {
        let status = std::process::Command::new("sh")
            .args(["-c", "kill -USR2 $PPID"])
            .status()
            .expect("sh runs");
        assert!(status.success());
    }
}

#[test]
fn recv_after_each_delivery_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::signal::unix::{signal, SignalKind};
        let mut first = signal(SignalKind::user_defined2()).unwrap();
        let mut second = signal(SignalKind::user_defined2()).unwrap();
        let waiter = rt::spawn({
            let log = Arc::clone(&log);
            async move {
                for round in 0..2 {
                    first.recv().await.unwrap();
                    note!(log, start, "first got round {round}");
                }
            }
        });
        rt::time::sleep(Duration::from_millis(5)).await;
        deliver_usr2();
        second.recv().await.unwrap();
        note!(log, start, "second got round 0");
        rt::time::sleep(Duration::from_millis(5)).await;
        deliver_usr2();
        second.recv().await.unwrap();
        note!(log, start, "second got round 1");
        waiter.await.unwrap();
        note!(log, start, "done");
    });
    // Real signals arrive when they arrive: compare what was received, in
    // each listener's order.
    let texts = |log: &[(u128, String)], who: &str| {
        log.iter()
            .filter(|(_, text)| text.starts_with(who))
            .map(|(_, text)| text.clone())
            .collect::<Vec<_>>()
    };
    for who in ["first", "second", "done"] {
        assert_eq!(texts(&real, who), texts(&sim, who), "{who}");
    }
    assert_eq!(
        sim.iter().map(|(ms, _)| *ms).collect::<Vec<_>>(),
        [5, 5, 10, 10, 10],
        "each delivery at its virtual instant: {sim:?}"
    );
}

/// tokio's semantics, as its `Signal` is a `watch` receiver: deliveries
/// made before the listener existed are not seen; several before one
/// `recv` complete that one `recv`; other kinds are not seen; each
/// simulation starts with none. (Real signals arrive asynchronously, so
/// these orderings are checked on the facade alone.) The one difference:
/// a signal delivered before any listener of its kind existed waits for
/// the first one (in a process it would have found no handler).
#[test]
fn deliveries_coalesce_and_a_new_listener_sees_only_later_ones() {
    let runtime = cancelsim_tokio::runtime::Runtime::new().unwrap();
    let pending = |result: Result<Option<()>, _>| result.is_err();
    let outcome = runtime.block_on(async {
        let wait = Duration::from_millis(10);
        let mut term = signal(SignalKind::terminate()).unwrap();
        let mut hup = signal(SignalKind::hangup()).unwrap();
        cancelsim_tokio::cancelsim::fire_signal(SignalKind::terminate());
        cancelsim_tokio::cancelsim::fire_signal(SignalKind::terminate());
        let mut late = signal(SignalKind::terminate()).unwrap();
        let first = term.recv().await;
        let coalesced = cancelsim_tokio::time::timeout(wait, term.recv()).await;
        let other_kind = cancelsim_tokio::time::timeout(wait, hup.recv()).await;
        let late_one = cancelsim_tokio::time::timeout(wait, late.recv()).await;
        (
            first,
            pending(coalesced),
            pending(other_kind),
            pending(late_one),
        )
    });
    assert_eq!(outcome, (Some(()), true, true, true));
    let before_any_listener = cancelsim_tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async {
            let wait = Duration::from_millis(10);
            cancelsim_tokio::cancelsim::fire_signal(SignalKind::quit());
            let mut first = signal(SignalKind::quit()).unwrap();
            let mut second = signal(SignalKind::quit()).unwrap();
            let first_saw = first.recv().await;
            let second_saw = cancelsim_tokio::time::timeout(wait, second.recv()).await;
            (first_saw, pending(second_saw))
        });
    assert_eq!(
        before_any_listener,
        (Some(()), true),
        "the first listener sees a delivery made before it, later ones do not"
    );
    let fresh = cancelsim_tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async {
            let mut term = signal(SignalKind::terminate()).unwrap();
            cancelsim_tokio::time::timeout(Duration::from_millis(5), term.recv())
                .await
                .is_err()
        });
    assert!(fresh, "a new simulation starts with no delivery");
}

#[test]
fn sigint_and_ctrl_c_are_one_signal() {
    let runtime = cancelsim_tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut int = signal(SignalKind::interrupt()).unwrap();
        cancelsim_tokio::cancelsim::fire_ctrl_c();
        int.recv().await.unwrap();
    });
    let runtime = cancelsim_tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        cancelsim_tokio::cancelsim::fire_signal(SignalKind::interrupt());
        cancelsim_tokio::signal::ctrl_c().await.unwrap();
    });
}

#[test]
fn kinds_and_errors_agree_with_tokio() {
    use tokio::signal::unix::SignalKind as Real;
    let pairs = [
        (Real::alarm(), SignalKind::alarm()),
        (Real::child(), SignalKind::child()),
        (Real::hangup(), SignalKind::hangup()),
        (Real::interrupt(), SignalKind::interrupt()),
        (Real::io(), SignalKind::io()),
        (Real::pipe(), SignalKind::pipe()),
        (Real::quit(), SignalKind::quit()),
        (Real::terminate(), SignalKind::terminate()),
        (Real::user_defined1(), SignalKind::user_defined1()),
        (Real::user_defined2(), SignalKind::user_defined2()),
        (Real::window_change(), SignalKind::window_change()),
    ];
    for (real, sim) in pairs {
        assert_eq!(real.as_raw_value(), sim.as_raw_value());
        assert_eq!(SignalKind::from(real.as_raw_value()), sim);
    }
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::signal::unix::{signal, SignalKind};
        for signum in [0, 9] {
            let error = signal(SignalKind::from_raw(signum)).unwrap_err();
            note!(log, start, "{signum}: {:?} {error}", error.kind());
        }
    });
    assert_eq!(real, sim);
    assert_eq!(sim[1].1, "9: Other Refusing to register signal 9");
}

/// A service that stops on SIGTERM, as a k8s deployment does. The right
/// one listens for it while it works; the buggy one only between jobs.
async fn service(buggy: bool) {
    let mut term = signal(SignalKind::terminate()).unwrap();
    loop {
        let job = cancelsim_tokio::time::sleep(Duration::from_secs(3));
        if buggy {
            job.await;
            // Between jobs only: has SIGTERM come meanwhile?
            let stop = std::future::poll_fn(|cx| Poll::Ready(term.poll_recv(cx).is_ready())).await;
            if stop {
                return;
            }
        } else {
            cancelsim_tokio::select! {
                _ = term.recv() => return,
                _ = job => {}
            }
        }
    }
}

async fn service_test(buggy: bool) {
    cancelsim_tokio::cancelsim::register_signal(|| {
        cancelsim_tokio::cancelsim::fire_signal(SignalKind::terminate())
    });
    let server = cancelsim_tokio::spawn(service(buggy));
    cancelsim_tokio::time::sleep(Duration::from_secs(7)).await;
    cancelsim_tokio::cancelsim::fire_signal(SignalKind::terminate());
    server.await.unwrap();
}

fn sweep(buggy: bool) -> Report {
    Check::new(move || service_test(buggy)).tokio_preset().run()
}

#[test]
fn a_service_deaf_to_sigterm_mid_job_is_cancel_ignored() {
    let report = sweep(true);
    let ignored: Vec<_> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .filter(|violation| violation.kind() == ViolationCode::CancelIgnored)
        .collect();
    assert!(!ignored.is_empty(), "{report}");
    assert!(
        ignored[0]
            .task_name()
            .is_some_and(|name| name.starts_with("tests/signal_unix.rs:")),
        "named by its spawn site: {report}"
    );
    assert!(report.to_string().contains("signal@"), "{report}");
}

#[test]
fn a_service_that_listens_for_sigterm_is_clean() {
    let report = sweep(false);
    report.assert_clean();
    assert!(
        report.counts().per_kind["signal"] > 0,
        "the signal was swept"
    );
}

#[test]
fn same_seed_same_trace_with_signals() {
    let run = |seed| {
        let config = cancelsim::Config::default()
            .seed(seed)
            .scheduler(cancelsim::SchedulerKind::Random);
        let mut sim = cancelsim::Sim::new(config);
        sim.block_on(service_test(false)).unwrap();
        sim.trace().to_string()
    };
    assert_eq!(run(4), run(4));
}

//! A `select!` branch that stands for a slow backend — an `async` block or
//! an `async fn` that sleeps, the usual test double — is not the race's
//! timer when the race has a timer of its own (a `sleep`, an interval's
//! tick, a pinned `Sleep`, made before the race): an injected expiry of
//! that timer drops the backend where it waits, as a slow backend is
//! dropped, and the step it leaves half-done is found. (User trial 7, M1.)
//! A race whose only timers are such futures keeps them as its timers
//! (`a_user_built_deadline_future_is_a_timer` in `select_timeout.rs`).
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use cancelsim::{Check, Config, Report, SchedulerKind, Sim, ViolationCode};
use cancelsim_tokio::sync::mpsc;
use cancelsim_tokio::time::{interval, sleep};

fn sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()>,
{
    Check::new(body).tokio_preset().run()
}

/// Puts `state` back when the step is dropped half-done.
struct Restore<'a>(&'a Cell<u32>);

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// A service loop: commands, a step against a slow backend (a `sleep`
/// stands for it), and a statistics tick that checks no step is half-done.
/// The buggy step leaves `state` at 1 when the `select!` drops it.
async fn service(guarded: bool) {
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<u32>(4);
    cancelsim_tokio::spawn(async move {
        for i in 0..3 {
            sleep(Duration::from_millis(5)).await;
            let _ = cmd_tx.send(i).await;
        }
    });
    let state = Cell::new(0u32);
    let mut stats = interval(Duration::from_millis(250));
    stats.tick().await;
    loop {
        cancelsim_tokio::select! {
            cmd = cmd_rx.recv() => { if cmd.is_none() { break } }
            _ = async {
                state.set(state.get() + 1);
                let restore = guarded.then(|| Restore(&state));
                sleep(Duration::from_millis(2)).await;
                match restore {
                    Some(restore) => drop(restore),
                    None => state.set(state.get() - 1),
                }
            } => {}
            _ = stats.tick() => { assert_eq!(state.get(), 0, "a step was dropped half-done"); }
        }
    }
}

#[test]
fn a_step_against_a_sleeping_backend_dropped_half_done_is_found() {
    let report = sweep(|| service(false));
    assert!(!report.is_clean(), "{report}");
    let failure = &report.failures()[0];
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    assert_eq!(violation.task_id().map(|t| t.as_u32()), Some(0), "{report}");
    assert_eq!(violation.task_name(), Some("main"), "{report}");
    assert_eq!(
        failure.repro().injections[0].kind,
        cancelsim::InjectionKind::Timeout,
        "{report}"
    );
    let text = report.to_string();
    assert!(text.contains("a step was dropped half-done"), "{text}");
    // The await point is the backend's sleep, which the expiry dropped,
    // not the tick that won.
    let at = format!("first found at main#0 await point 1 on sleep ({}:", file!());
    assert!(text.contains(&at), "{text}");
    let hint = violation.hint();
    assert!(
        hint.contains("Keep only cancel-safe futures in the select!"),
        "{hint}"
    );
}

#[test]
fn the_step_that_restores_its_state_when_dropped_passes() {
    sweep(|| service(true)).assert_clean();
}

/// The same with the backend as an `async fn` and the race's timer a
/// `sleep` of its own.
async fn request(state: &Cell<u32>) {
    state.set(state.get() + 1);
    sleep(Duration::from_millis(20)).await;
    state.set(state.get() - 1);
}

#[test]
fn an_async_fn_that_sleeps_is_a_backend_against_a_sleep() {
    let report = sweep(|| async {
        let state = Cell::new(0u32);
        cancelsim_tokio::select! {
            _ = request(&state) => {}
            _ = sleep(Duration::from_secs(1)) => {}
        }
        assert_eq!(state.get(), 0, "a request was dropped half-done");
    });
    assert!(!report.is_clean(), "{report}");
    assert!(report.failures()[0].has(ViolationCode::Panic), "{report}");
}

// ----- determinism ---------------------------------------------------------------

fn traced(seed: u64) -> String {
    let mut sim = Sim::new(
        Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random),
    );
    sim.block_on(service(true)).unwrap();
    sim.trace().to_string()
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    assert_eq!(traced(5), traced(5));
}

#[test]
fn the_found_expiry_replays_the_same_way() {
    let report = sweep(|| service(false));
    let repro = report.failures()[0].repro().clone();
    let body = || service(false);
    let config = Config::default().runtime_shutdown(true);
    let first = cancelsim::check::run_repro(&body, &config, &repro);
    let again = cancelsim::check::run_repro(&body, &config, &repro);
    assert!(!first.is_clean(), "{}", first.trace);
    assert_eq!(first.trace.to_string(), again.trace.to_string());
}

// ----- unchanged without an injection, as on real tokio ------------------------------

#[macro_use]
mod common;
use common::Log;

#[test]
fn a_sleeping_backend_against_timers_agrees_with_tokio_without_an_injection() {
    let (real, sim) = both!(|rt, log, start| async move {
        let (tx, mut rx) = rt::sync::mpsc::channel::<u32>(4);
        rt::spawn(async move {
            for i in 0..3 {
                rt::time::sleep(Duration::from_millis(7)).await;
                let _ = tx.send(i).await;
            }
        });
        let mut ticker = rt::time::interval(Duration::from_millis(10));
        ticker.tick().await;
        let deadline = rt::time::sleep(Duration::from_millis(45));
        rt::pin!(deadline);
        let mut steps = 0u32;
        loop {
            rt::select! {
                biased;
                _ = &mut deadline => { note!(log, start, "deadline"); break; }
                at = ticker.tick() => note!(log, start, "tick {:?}", at.duration_since(start)),
                Some(item) = rx.recv() => note!(log, start, "item {item}"),
                _ = async { rt::time::sleep(Duration::from_millis(3)).await; } => {
                    steps += 1;
                    note!(log, start, "step {steps}");
                }
            }
        }
        let late = rt::select! {
            _ = async { rt::time::sleep(Duration::from_millis(3)).await } => "backend",
            _ = rt::time::sleep(Duration::from_millis(5)) => "timer",
        };
        note!(log, start, "{late}");
    });
    assert_eq!(real, sim);
    assert!(sim.len() > 8, "{sim:?}");
}

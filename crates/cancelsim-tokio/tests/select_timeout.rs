//! A `select!` with a timer branch is a timeout around its other branches:
//! the tokio preset expires it at every await point they reach, as it
//! expires a `time::timeout` — the cancel-unsafe code under a `select!`
//! against a `sleep` or an `interval.tick()` is found like its `timeout`
//! twin, the cancel-safe twin passes, and a `select!` without a timer
//! branch gets no timeout injection. (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::sync::atomic::{AtomicU64, Ordering};
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

fn timeout_runs(report: &Report) -> usize {
    report
        .counts()
        .runs_by_kind()
        .into_iter()
        .filter(|(kind, _)| *kind == "timeout")
        .map(|(_, n)| n)
        .sum()
}

// ----- the counter under `select! { work, sleep }` ----------------------------

/// Counts a job while waiting for it; the buggy one forgets to uncount
/// when the wait is dropped.
async fn wait_for_job(rx: &mut mpsc::Receiver<u32>, busy: &AtomicU64, guarded: bool) -> u32 {
    struct Uncount<'a>(&'a AtomicU64);
    impl Drop for Uncount<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    busy.fetch_add(1, Ordering::SeqCst);
    let guard = guarded.then(|| Uncount(busy));
    let job = rx.recv().await.unwrap_or(0);
    if guard.is_none() {
        busy.fetch_sub(1, Ordering::SeqCst);
    }
    job
}

async fn counter_under_select(guarded: bool) {
    let (tx, mut rx) = mpsc::channel(1);
    let busy = AtomicU64::new(0);
    cancelsim_tokio::spawn(async move {
        sleep(Duration::from_millis(10)).await;
        let _ = tx.send(1).await;
    });
    cancelsim_tokio::select! {
        _ = wait_for_job(&mut rx, &busy, guarded) => {}
        _ = sleep(Duration::from_secs(1)) => {}
    }
    assert_eq!(busy.load(Ordering::SeqCst), 0, "a job is still counted");
}

#[test]
fn a_counter_left_counted_by_a_select_against_a_sleep_is_found() {
    let report = sweep(|| counter_under_select(false));
    assert!(!report.is_clean(), "{report}");
    let failure = &report.failures()[0];
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    assert_eq!(violation.task_id().map(|t| t.as_u32()), Some(0), "{report}");
    assert_eq!(violation.task_name(), Some("main"), "{report}");
    let injection = failure.repro().injections[0];
    assert_eq!(
        injection.kind,
        cancelsim::InjectionKind::Timeout,
        "{report}"
    );
    assert_eq!(injection.to_string(), "timeout@0:1", "{report}");
    let text = report.to_string();
    assert!(text.contains("a job is still counted"), "{text}");
    // The injection line names the race it expired (its repro says
    // `timeout@`, as a `timeout`'s would).
    let race = format!(
        "injected: timeout@0:1 (the timer branch of the select! at {}:62:5 won)",
        file!()
    );
    assert!(violation.to_string().contains(&race), "{violation}");
    // The trace: the timer won at its deadline, the work was dropped where
    // it waited.
    let trace = failure.trace().to_string();
    let fired = format!("select! #0's timer branch won ({}:", file!());
    assert!(trace.contains(&fired), "{trace}");
    assert!(
        trace.contains("branch 1 won; dropped pending branch 0 (waiting at await point 1)"),
        "{trace}"
    );
    // The advice is the select!'s, not the generic "make the change atomic".
    let hint = violation.hint();
    assert!(
        hint.contains("Keep only cancel-safe futures in the select!"),
        "{hint}"
    );
    assert!(!text.contains(" on timeout ("), "{text}");
}

#[test]
fn the_guarded_counter_under_a_select_passes() {
    let report = sweep(|| counter_under_select(true));
    report.assert_clean();
    assert!(timeout_runs(&report) > 0, "{report}");
}

// ----- the collector under `select! { interval.tick(), rx.recv() }` ----------

/// Items come in pairs; the buggy reader takes a pair in two steps, and
/// the first half is lost when the tick wins between them. The fixed one
/// keeps the half it has in the collector's state (cancel-safe).
async fn collector(buggy: bool) {
    let (tx, mut rx) = mpsc::channel::<u32>(8);
    cancelsim_tokio::spawn(async move {
        for i in 0..3 {
            let _ = tx.send(2 * i).await;
            sleep(Duration::from_millis(3)).await;
            let _ = tx.send(2 * i + 1).await;
            sleep(Duration::from_millis(3)).await;
        }
    });
    let mut ticker = interval(Duration::from_millis(50));
    let mut buffer: Vec<u32> = Vec::new();
    let mut flushed: Vec<u32> = Vec::new();
    let mut half: Option<u32> = None;
    loop {
        cancelsim_tokio::select! {
            _ = ticker.tick() => flushed.append(&mut buffer),
            pair = async {
                if buggy {
                    let first = rx.recv().await?;
                    let second = rx.recv().await?;
                    Some((first, second))
                } else {
                    loop {
                        let item = rx.recv().await?;
                        match half.take() {
                            None => half = Some(item),
                            Some(first) => return Some((first, item)),
                        }
                    }
                }
            } => match pair {
                Some((first, second)) => buffer.extend([first, second]),
                None => break,
            },
        }
    }
    flushed.append(&mut buffer);
    assert_eq!(flushed, [0, 1, 2, 3, 4, 5], "items lost");
}

#[test]
fn a_half_read_pair_lost_to_an_interval_tick_is_found() {
    let report = sweep(|| collector(true));
    assert!(!report.is_clean(), "{report}");
    let failure = &report.failures()[0];
    assert!(failure.has(ViolationCode::Panic), "{report}");
    assert_eq!(
        failure.violations()[0].task_id().map(|t| t.as_u32()),
        Some(0),
        "{report}"
    );
    assert_eq!(
        failure.repro().injections[0].kind,
        cancelsim::InjectionKind::Timeout,
        "{report}"
    );
    let text = report.to_string();
    assert!(text.contains("items lost"), "{text}");
    assert!(text.contains("won; dropped pending branch 1"), "{text}");
}

#[test]
fn the_cancel_safe_collector_passes() {
    let report = sweep(|| collector(false));
    report.assert_clean();
    assert!(timeout_runs(&report) > 0, "{report}");
}

// ----- what is not a timer ---------------------------------------------------

async fn no_timer_branch() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let (stop_tx, mut stop_rx) = mpsc::channel::<()>(1);
    cancelsim_tokio::spawn(async move {
        sleep(Duration::from_millis(10)).await;
        let _ = tx.send(1).await;
        let _ = stop_tx.send(()).await;
    });
    // Either may win (both are ready at 10 ms).
    let _ = cancelsim_tokio::select! {
        job = rx.recv() => job,
        _ = stop_rx.recv() => None,
    };
}

#[test]
fn a_select_without_a_timer_branch_gets_no_timeout_injection() {
    let report = sweep(no_timer_branch);
    report.assert_clean();
    assert_eq!(timeout_runs(&report), 0, "{report}");
}

/// Two timers race: nothing waits on anything that could be late.
#[test]
fn a_select_of_timers_only_gets_no_timeout_injection() {
    let report = sweep(|| async {
        let mut slow = std::pin::pin!(sleep(Duration::from_millis(20)));
        cancelsim_tokio::select! {
            _ = &mut slow => {}
            _ = sleep(Duration::from_millis(10)) => {}
        }
        (&mut slow).await;
    });
    report.assert_clean();
    assert_eq!(timeout_runs(&report), 0, "{report}");
}

/// A branch that first waits on a timer and then on something else (a
/// `Notify`) is taken for a timer branch until it does; an expiry injected
/// meanwhile must not leave the race polling nothing: once no branch is a
/// timer, the race runs as it would (no hang, no stall on correct code).
async fn timer_then_notify() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let ready = Arc::new(cancelsim_tokio::sync::Notify::new());
    let notifier = Arc::clone(&ready);
    cancelsim_tokio::spawn(async move {
        sleep(Duration::from_millis(50)).await;
        notifier.notify_one();
        sleep(Duration::from_millis(50)).await;
        let _ = tx.send(1).await;
    });
    let got = cancelsim_tokio::select! {
        job = rx.recv() => job.unwrap_or(0),
        _ = async {
            sleep(Duration::from_millis(10)).await;
            ready.notified().await;
        } => 2,
    };
    assert!(got == 1 || got == 2, "got {got}");
}

#[test]
fn a_branch_that_waits_on_a_timer_then_on_a_notify_is_no_false_alarm() {
    let report = sweep(timer_then_notify);
    report.assert_clean();
    assert!(timeout_runs(&report) > 0, "the race was expired: {report}");
}

// ----- shapes of timers --------------------------------------------------------

/// `sleep_until`, and a `Sleep` pinned once and raced by reference in a
/// loop, are timers too.
async fn reused_sleep(guarded: bool) {
    let (tx, mut rx) = mpsc::channel(1);
    let busy = AtomicU64::new(0);
    cancelsim_tokio::spawn(async move {
        sleep(Duration::from_millis(10)).await;
        let _ = tx.send(1).await;
        sleep(Duration::from_millis(10)).await;
        let _ = tx.send(2).await;
    });
    let deadline = cancelsim_tokio::time::Instant::now() + Duration::from_secs(1);
    let until = cancelsim_tokio::time::sleep_until(deadline);
    cancelsim_tokio::pin!(until);
    for _ in 0..2 {
        cancelsim_tokio::select! {
            _ = wait_for_job(&mut rx, &busy, guarded) => {}
            _ = &mut until => break,
        }
    }
    assert_eq!(busy.load(Ordering::SeqCst), 0, "a job is still counted");
}

#[test]
fn a_pinned_sleep_until_raced_by_reference_is_a_timer() {
    let report = sweep(|| reused_sleep(false));
    assert!(!report.is_clean(), "{report}");
    assert!(report.failures()[0].has(ViolationCode::Panic), "{report}");
    sweep(|| reused_sleep(true)).assert_clean();
}

/// A timeout the user builds: a future that only waits on a sleep.
#[test]
fn a_user_built_deadline_future_is_a_timer() {
    async fn deadline(after: Duration) -> Result<(), &'static str> {
        sleep(after).await;
        Err("deadline")
    }
    let report = sweep(|| async {
        let (tx, mut rx) = mpsc::channel(1);
        let busy = AtomicU64::new(0);
        cancelsim_tokio::spawn(async move {
            sleep(Duration::from_millis(10)).await;
            let _ = tx.send(1).await;
        });
        let _ = cancelsim_tokio::select! {
            job = wait_for_job(&mut rx, &busy, false) => Ok(job),
            late = deadline(Duration::from_secs(1)) => late.map(|()| 0),
        };
        assert_eq!(busy.load(Ordering::SeqCst), 0, "a job is still counted");
    });
    assert!(!report.is_clean(), "{report}");
}

// ----- the test's own guard ------------------------------------------------------

/// A test that guards its body with a `select!` against a sleep and
/// panics when the sleep wins: an injected expiry there is the test's own
/// assertion, not a bug of the code under test.
#[test]
fn a_test_guarding_its_body_with_a_select_panic_is_not_reported() {
    let report = Check::new(|| async {
        let (tx, mut rx) = mpsc::channel(1);
        cancelsim_tokio::spawn(async move {
            sleep(Duration::from_millis(10)).await;
            let _ = tx.send(1).await;
        });
        cancelsim_tokio::select! {
            job = rx.recv() => assert_eq!(job, Some(1)),
            _ = sleep(Duration::from_secs(5)) => panic!("the test timed out"),
        }
    })
    .tokio_preset()
    .test_file(file!())
    .run();
    report.assert_clean();
    assert!(timeout_runs(&report) > 0, "{report}");
    assert!(report.counts().assertion_timeouts > 0, "{report}");
}

// ----- determinism ---------------------------------------------------------------

fn traced(seed: u64) -> String {
    let mut sim = Sim::new(
        Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random),
    );
    sim.block_on(collector(false)).unwrap();
    sim.trace().to_string()
}

#[test]
fn the_same_seed_gives_the_same_trace_and_two_seeds_differ() {
    assert_eq!(traced(3), traced(3));
    let traces: std::collections::BTreeSet<String> = (0..8).map(traced).collect();
    assert!(traces.len() > 1, "eight seeds, one trace");
}

#[test]
fn an_expired_select_replays_the_same_way() {
    let report = sweep(|| counter_under_select(false));
    let repro = report.failures()[0].repro().clone();
    let body = || counter_under_select(false);
    let config = Config::default().runtime_shutdown(true);
    let first = cancelsim::check::run_repro(&body, &config, &repro);
    let again = cancelsim::check::run_repro(&body, &config, &repro);
    assert!(!first.is_clean(), "{}", first.trace);
    assert_eq!(first.fired, repro.injections);
    assert_eq!(first.trace.to_string(), again.trace.to_string());
}

// ----- the facade's `#[tokio::test]` -----------------------------------------------

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
#[should_panic(expected = "injected: timeout@")]
async fn a_tokio_test_with_a_counter_under_select_fails_with_the_report() {
    counter_under_select(false).await;
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn a_tokio_test_with_the_guarded_counter_passes() {
    counter_under_select(true).await;
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
#[should_panic(expected = "injected: timeout@")]
async fn a_tokio_test_with_the_buggy_collector_fails_with_the_report() {
    collector(true).await;
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn a_tokio_test_with_the_cancel_safe_collector_passes() {
    collector(false).await;
}

// ----- unchanged without an injection, as on real tokio ------------------------------

#[macro_use]
mod common;
use common::Log;

#[test]
fn selects_against_timers_agree_with_tokio_without_an_injection() {
    let (real, sim) = both!(|rt, log, start| async move {
        let (tx, mut rx) = rt::sync::mpsc::channel::<u32>(4);
        rt::spawn(async move {
            for i in 0..4 {
                rt::time::sleep(Duration::from_millis(7)).await;
                let _ = tx.send(i).await;
            }
        });
        let mut ticker = rt::time::interval(Duration::from_millis(10));
        let deadline = rt::time::sleep(Duration::from_millis(45));
        rt::pin!(deadline);
        loop {
            rt::select! {
                biased;
                _ = &mut deadline => { note!(log, start, "deadline"); break; }
                at = ticker.tick() => note!(log, start, "tick {:?}", at.duration_since(start)),
                Some(item) = rx.recv() => note!(log, start, "item {item}"),
            }
        }
        let late = rt::select! {
            _ = rt::time::sleep(Duration::from_millis(5)) => "timer",
            _ = std::future::pending::<()>() => "never",
        };
        note!(log, start, "{late}");
    });
    assert_eq!(real, sim);
    assert!(sim.len() > 8, "{sim:?}");
}

// ----- the race's wait is named at the `select!` ------------------------------

/// A ticker made, and reset, in a helper (trial 12: the wait was named at
/// the helper's `reset()`).
fn ticker() -> cancelsim_tokio::time::Interval {
    let mut ticks = interval(Duration::from_millis(50));
    ticks.reset();
    ticks
}

/// One event forwarded: received from the broadcast, then sent on (the
/// client's queue may be full) — a branch of the user's own.
async fn forward_one(
    events: &mut cancelsim_tokio::sync::broadcast::Receiver<u64>,
    out: &mpsc::Sender<u64>,
) -> bool {
    match events.recv().await {
        Ok(event) => out.send(event).await.is_ok(),
        Err(_) => false,
    }
}

/// A relay loop racing its forwarding against a heartbeat made, and
/// reset, in `ticker` (trial 12's relay).
async fn relay() {
    let (events_tx, mut events) = cancelsim_tokio::sync::broadcast::channel(8);
    let (out, mut out_rx) = mpsc::channel(1);
    let mut heartbeat = ticker();
    let producer = cancelsim_tokio::spawn(async move {
        for event in 0..3 {
            let _ = events_tx.send(event);
            sleep(Duration::from_millis(5)).await;
        }
    });
    let consumer = cancelsim_tokio::spawn(async move {
        while out_rx.recv().await.is_some() {
            sleep(Duration::from_millis(20)).await;
        }
    });
    for _ in 0..6 {
        cancelsim_tokio::select! {
            _ = forward_one(&mut events, &out) => {}
            _ = heartbeat.tick() => {}
        }
    }
    drop(out);
    let _ = producer.await;
    let _ = consumer.await;
}

/// The line of `relay`'s `select!`.
const SELECT_LINE: u32 = line!() - 11;

#[test]
fn a_race_against_a_ticker_reset_elsewhere_is_named_at_the_select() {
    // After the heartbeat wins an expired round, the next round's wait is
    // the race's own timer: named at the `select!`.
    let at = format!("on select! ({}:{SELECT_LINE}:", file!());
    let mut named = 0;
    for point in 1..=4 {
        let repro: cancelsim::Repro =
            format!("cancelsim:v1 seed=0 scheduler=fifo inject=timeout@0:{point}")
                .parse()
                .unwrap();
        let run = cancelsim::check::run_repro(&relay, &Config::default(), &repro);
        let trace = run.trace.to_string();
        for line in trace.lines().filter(|l| l.contains("on select! (")) {
            assert!(line.contains(&at), "{line}\n{trace}");
            named += 1;
        }
    }
    assert!(named > 0, "no wait on the race's own timer");
}

//! An injected expiry holds a slow operation, and blocking work is the
//! slow backend a timeout waits on: blocking work due while a task is held
//! by an expiry finishes only after that timeout fires. A renderer on the
//! blocking pool that sends its result with `.expect(..)` then panics on the
//! receiver its caller's timeout dropped — found, reported once (on the task
//! that ran the work, not also on its blocking work), with a hint naming the
//! work left running; its twin that ignores a gone caller passes. The trace
//! says what was held and until when.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cancelsim::time::{sleep, timeout};
use cancelsim::{Check, Config, Sim, ViolationCode};

fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}

/// A request handler: renders on the blocking pool (1 ms), answer over a
/// oneshot, under a 2 s deadline; four requests. `strict`: the renderer
/// `expect`s its caller to be there.
async fn handler(strict: bool, rendered: Arc<AtomicUsize>) {
    for i in 0..4u8 {
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let rendered = Arc::clone(&rendered);
        drop(cancelsim::spawn(async move {
            cancelsim::blocking(ms(1), move || {
                if strict {
                    tx.send(i).expect("caller went away"); // marker: expect
                } else {
                    let _ = tx.send(i);
                }
                rendered.fetch_add(1, Ordering::SeqCst);
            })
            .await;
        }));
        let _ = timeout(ms(2000), rx).await; // marker: deadline
    }
    sleep(ms(10)).await;
}

fn check(strict: bool) -> cancelsim::Report {
    Check::new(move || handler(strict, Arc::default()))
        .timeout_at_every_await(true)
        .run()
}

#[test]
fn a_renderer_that_expects_its_caller_is_found_once_with_the_left_running_hint() {
    let report = check(true);
    assert!(!report.is_clean(), "{report}");
    let codes: Vec<_> = report
        .failure_groups()
        .iter()
        .map(|group| group.code.as_str())
        .collect();
    assert_eq!(codes, ["unobserved-panic"], "{report}");
    let failure = &report.failures()[0];
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::UnobservedPanic);
    assert!(violation.message().contains("caller went away"), "{report}");
    assert!(
        violation.hint().contains("work it had started went on"),
        "{report}"
    );
    let injection = violation.injection().expect("an injected run");
    assert!(injection.kind.is_expiry(), "{report}");
    let trace = failure.trace().to_string();
    assert!(
        trace.contains("blocking work held until after 2.000s: the injected expiry makes it"),
        "{trace}"
    );
}

#[test]
fn a_renderer_that_lets_a_gone_caller_go_passes() {
    let report = check(false);
    report.assert_clean();
    assert!(report.counts().per_kind["timeout"] > 0, "{report}");
}

/// The replay of the failing run: the same trace twice; the work ends just
/// after the deadline, in the fixed twin too (which then passes).
#[test]
fn the_held_run_replays_with_the_same_trace() {
    let report = check(true);
    let repro = report.failures()[0].repro().to_string();
    let trace = |strict: bool| {
        let outcome = cancelsim::check::run_repro(
            &|| handler(strict, Arc::default()),
            &Config::default(),
            &repro.parse().unwrap(),
        );
        assert_eq!(outcome.is_clean(), !strict, "{}", outcome.trace);
        outcome.trace.to_string()
    };
    let first = trace(true);
    assert_eq!(first, trace(true));
    assert!(
        first.contains("2.000000001s  blocking#2   completed: panicked"),
        "the work ends just after the deadline: {first}"
    );
    assert!(trace(false).contains("blocking work held until after 2.000s"));
}

/// A reply that comes while its caller is held: the trace says the wake
/// counts only at the deadline.
#[test]
fn a_wake_of_a_held_task_says_until_when_it_is_held() {
    let body = || async {
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        drop(cancelsim::spawn_named("replier", async move {
            sleep(ms(1)).await;
            let _ = tx.send(7);
        }));
        let _ = timeout(ms(200), rx).await;
    };
    let outcome = cancelsim::check::run_repro(
        &body,
        &Config::default(),
        &"cancelsim:v1 seed=0 scheduler=fifo inject=timeout@0:1"
            .parse()
            .unwrap(),
    );
    let trace = outcome.trace.to_string();
    let woken = trace
        .lines()
        .position(|line| line.contains("main#0       woken by replier#1"))
        .unwrap_or_else(|| panic!("{trace}"));
    // Its next poll, before it suspends again.
    let held: Vec<&str> = trace.lines().skip(woken).take(4).collect();
    assert!(
        held[2].ends_with("0.001s  main#0       poll")
            && held[3]
                .contains("0.001s  main#0       wake held until 0.200s by the injected expiry"),
        "{trace}"
    );
    assert_eq!(trace.matches("wake held until").count(), 1, "{trace}");
}

/// Without an injection nothing is held: the work takes its 1 ms.
#[test]
fn nothing_is_held_without_an_expiry() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(handler(true, Arc::default())).unwrap();
    let trace = sim.trace().to_string();
    assert!(!trace.contains("held until"), "{trace}");
    assert!(
        trace.contains("0.001s  blocking#2   woken by timer"),
        "{trace}"
    );
}

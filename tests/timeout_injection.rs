//! An injected timeout expiry acts whatever the timeout's inner future waits
//! on: a channel, a lock, a `Notify`, a oneshot, a hand-written future that
//! keeps its own waker, a cancelsim `JoinHandle` or blocking work. An
//! expiry injected at the await point's suspension, or after the task was
//! woken there (the value has arrived), means the wait is not over before
//! the deadline: the inner future is no longer polled, and the caller sees
//! `Err(Elapsed)` at the deadline, as from a real timeout, never earlier.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use cancelsim::check::run_repro;
use cancelsim::time::{sleep, timeout, Instant};
use cancelsim::{Check, Config, Repro};

mod common;
use common::ms;

/// What the root saw from its `timeout` in each run: `ok` or `elapsed`,
/// with the virtual time.
type Seen = Arc<Mutex<Vec<String>>>;

/// `main`'s first await point is the timeout around `wait`; a helper task
/// makes `wait` ready after 10 ms. The root records what the timeout gave.
fn body<W, Fut>(
    seen: &Seen,
    wait: W,
) -> impl Fn() -> Pin<Box<dyn Future<Output = ()>>> + Send + Sync
where
    W: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let seen = Arc::clone(seen);
    let wait = Arc::new(wait);
    move || {
        let seen = Arc::clone(&seen);
        let wait = Arc::clone(&wait);
        Box::pin(async move {
            let waiting = wait();
            let got = timeout(Duration::from_secs(1), waiting).await;
            let word = if got.is_ok() { "ok" } else { "elapsed" };
            seen.lock()
                .unwrap()
                .push(format!("{word} at {}", Instant::now()));
        })
    }
}

fn replay<F, Fut>(body: &F, line: &str) -> cancelsim::check::RunOutcome
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let repro: Repro = line.parse().unwrap();
    run_repro(body, &Config::default(), &repro)
}

/// The sweep injects at the timeout's await point, at suspension and on
/// wake, and each injection makes the timeout give `Err(Elapsed)` at its
/// deadline (1 s), although the value arrives at 10 ms. Replaying either
/// gives the same trace twice.
fn assert_expiry_acts<W, Fut>(wait: W)
where
    W: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let seen: Seen = Arc::default();
    let body = Arc::new(body(&seen, wait));
    let report = Check::new({
        let body = Arc::clone(&body);
        move || body()
    })
    .timeout_at_every_await(true)
    .run();
    let body = &*body;
    report.assert_clean();
    assert!(
        report
            .counts()
            .fired_per_kind
            .get("timeout")
            .copied()
            .unwrap_or(0)
            >= 2,
        "the timeout was injected at suspension and on wake:\n{report}"
    );
    seen.lock().unwrap().clear();

    let at_suspend = replay(
        &body,
        "cancelsim:v1 seed=0 scheduler=fifo inject=timeout@0:1",
    );
    assert_eq!(at_suspend.fired.len(), 1, "{}", at_suspend.trace);
    assert!(at_suspend.is_clean(), "{:?}", at_suspend.violations);
    assert_eq!(
        *seen.lock().unwrap(),
        ["elapsed at 1.000s"],
        "{}",
        at_suspend.trace
    );
    assert!(
        at_suspend.trace.to_string().contains("timeout #0 fired"),
        "{}",
        at_suspend.trace
    );
    // The injection's line says it takes effect at the deadline.
    assert!(
        at_suspend.trace.to_string().contains(
            "injected timeout at await point 1: what it waits on is not done before the \
             deadline, where the timeout fires"
        ),
        "{}",
        at_suspend.trace
    );
    seen.lock().unwrap().clear();

    let on_wake = replay(
        &body,
        "cancelsim:v1 seed=0 scheduler=fifo inject=timeout@0:1/wake",
    );
    assert_eq!(on_wake.fired.len(), 1, "{}", on_wake.trace);
    assert_eq!(
        *seen.lock().unwrap(),
        ["elapsed at 1.000s"],
        "{}",
        on_wake.trace
    );
    seen.lock().unwrap().clear();

    // Without an injection the inner future wins at 10 ms.
    let baseline = replay(&body, "cancelsim:v1 seed=0 scheduler=fifo");
    assert_eq!(
        *seen.lock().unwrap(),
        ["ok at 0.010s"],
        "{}",
        baseline.trace
    );

    // Same plan, same trace.
    let again = replay(
        &body,
        "cancelsim:v1 seed=0 scheduler=fifo inject=timeout@0:1/wake",
    );
    assert_eq!(again.trace.to_string(), on_wake.trace.to_string());
}

/// Spawns a task that runs `then` after 10 ms.
fn after_10ms(then: impl FnOnce() + 'static) {
    cancelsim::spawn_named("helper", async move {
        sleep(ms(10)).await;
        then();
    })
    .detach();
}

#[test]
fn an_injected_expiry_wins_over_a_channel_receive() {
    assert_expiry_acts(|| {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
        after_10ms(move || {
            let _ = tx.try_send(1);
        });
        async move {
            rx.recv().await;
        }
    });
}

#[test]
fn an_injected_expiry_wins_over_a_lock() {
    assert_expiry_acts(|| {
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        let held = lock.clone().try_lock_owned().unwrap();
        after_10ms(move || drop(held));
        async move {
            let _guard = lock.lock().await;
        }
    });
}

#[test]
fn an_injected_expiry_wins_over_a_notify() {
    assert_expiry_acts(|| {
        let notify = Arc::new(tokio::sync::Notify::new());
        let waker = Arc::clone(&notify);
        after_10ms(move || waker.notify_one());
        async move {
            notify.notified().await;
        }
    });
}

#[test]
fn an_injected_expiry_wins_over_a_oneshot() {
    assert_expiry_acts(|| {
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        after_10ms(move || {
            let _ = tx.send(1);
        });
        async move {
            let _ = rx.await;
        }
    });
}

/// A future from no library at all: it keeps the waker it was polled with
/// and is woken by hand.
#[derive(Default)]
struct Gate {
    open: bool,
    waker: Option<Waker>,
}

struct WaitGate(Rc<RefCell<Gate>>);

impl Future for WaitGate {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut gate = self.0.borrow_mut();
        if gate.open {
            Poll::Ready(())
        } else {
            gate.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

#[test]
fn an_injected_expiry_wins_over_a_foreign_future() {
    assert_expiry_acts(|| {
        let gate = Rc::new(RefCell::new(Gate::default()));
        let opener = Rc::clone(&gate);
        after_10ms(move || {
            let mut gate = opener.borrow_mut();
            gate.open = true;
            if let Some(waker) = gate.waker.take() {
                waker.wake();
            }
        });
        WaitGate(gate)
    });
}

#[test]
fn an_injected_expiry_wins_over_a_join_handle() {
    assert_expiry_acts(|| {
        let child = cancelsim::spawn_named("child", async { sleep(ms(10)).await }).abort_on_drop();
        async move {
            let _ = child.await;
        }
    });
}

#[test]
fn an_injected_expiry_wins_over_blocking_work() {
    assert_expiry_acts(|| async {
        cancelsim::blocking(ms(10), || ()).await;
    });
}

/// The value arrives at the deadline's very instant: without an injection
/// `Fifo` lets the inner future win the tie; an expiry injected after the
/// task was woken there wins it.
#[test]
fn an_injected_expiry_on_wake_wins_the_deadline_tie() {
    let seen: Seen = Arc::default();
    let body = {
        let seen = Arc::clone(&seen);
        move || {
            let seen = Arc::clone(&seen);
            async move {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
                after_10ms(move || {
                    let _ = tx.try_send(1);
                });
                cancelsim::yield_now().await; // the helper's timer comes first
                let got = timeout(ms(10), rx.recv()).await;
                seen.lock().unwrap().push(format!("{:?}", got.map(|_| ())));
            }
        }
    };
    replay(&body, "cancelsim:v1 seed=0 scheduler=fifo");
    replay(
        &body,
        "cancelsim:v1 seed=0 scheduler=fifo inject=timeout@0:2/wake",
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], "Ok(())");
    assert!(seen[1].starts_with("Err(Elapsed"), "{seen:?}");
}

//! A spawned task's timeout is never excused as the test's check of its
//! result: the test sees only what that task did on the expiry. A lease
//! renewer that keeps its leader role when a renewal times out lets the
//! leader write after its lease ran out — found, with the hint about the
//! task's handling of the expiry; its twin, which gives the role up on
//! `Elapsed`, passes. The test's own timeout (in the body) is still
//! excused when it fails the same way never started.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::time::{sleep, timeout, Instant};
use cancelsim::{Check, Report, ViolationCode};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const TTL: Duration = Duration::from_millis(50);

/// The lease store: grants for `TTL`, answering in 2 ms; counts writes
/// made after the lease ran out.
#[derive(Default)]
struct Store {
    until: Cell<Option<Instant>>,
    fenced: Cell<u32>,
}

impl Store {
    async fn renew(&self) -> bool {
        sleep(ms(2)).await; // marker: renew
        self.until.set(Some(Instant::now() + TTL));
        true
    }

    fn write(&self) {
        if self.until.get().is_none_or(|until| Instant::now() >= until) {
            self.fenced.set(self.fenced.get() + 1);
        }
    }
}

/// A leader for 200 ms: a renewer task every 20 ms under a 10 ms
/// timeout, a writer every 5 ms while it holds the role. `keep_role`:
/// the bug, a timed-out renewal keeps the current role.
async fn leader(keep_role: bool) {
    let store = Rc::new(Store::default());
    let leading = Rc::new(Cell::new(false));
    let renewer = cancelsim::spawn_named("renewer", {
        let (store, leading) = (Rc::clone(&store), Rc::clone(&leading));
        async move {
            loop {
                match timeout(ms(10), store.renew()).await {
                    Ok(granted) => leading.set(granted),
                    Err(_) if keep_role => {}
                    Err(_) => leading.set(false),
                }
                sleep(ms(20)).await;
            }
        }
    })
    .abort_on_drop();
    let started = Instant::now();
    while Instant::now() - started < ms(200) {
        if leading.get() {
            store.write();
        }
        sleep(ms(5)).await;
    }
    drop(renewer);
    assert_eq!(store.fenced.get(), 0, "writes after the lease ran out");
}

fn sweep(keep_role: bool) -> Report {
    Check::new(move || leader(keep_role))
        .without_cancellation()
        .timeout_at_every_await(true)
        .run()
}

#[test]
fn a_renewer_that_keeps_its_role_on_a_timeout_is_found() {
    let report = sweep(true);
    assert!(!report.is_clean(), "{report}");
    assert_eq!(report.counts().timeout_results_excused, 0, "{report}");
    let violation = &report.failures()[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    assert!(violation
        .message()
        .contains("writes after the lease ran out"));
    let injection = violation.injection().expect("injected");
    assert!(injection.kind.is_expiry(), "{report}");
    assert!(
        violation
            .hint()
            .contains("how that task handles the expiry"),
        "{}",
        violation.hint()
    );
    // Same seed, same report.
    assert_eq!(report.to_string(), sweep(true).to_string());
}

#[test]
fn a_renewer_that_gives_its_role_up_passes() {
    let report = sweep(false);
    report.assert_clean();
    assert!(report.counts().per_kind["timeout"] > 0, "{report}");
}

/// The same test's own timeout around a lookup with a fallback: excused
/// (the test checks the result that timeout decides).
#[test]
fn the_tests_own_timeout_is_still_excused() {
    let report = Check::new(|| async {
        let value = timeout(ms(100), async {
            sleep(ms(10)).await;
            7
        })
        .await
        .unwrap_or(0);
        assert_eq!(value, 7);
    })
    .without_cancellation()
    .timeout_at_every_await(true)
    .run();
    report.assert_clean();
    assert!(report.counts().timeout_results_excused > 0, "{report}");
}

/// The opt-out: a test that expects its background tasks' happy path says
/// so, and their expiries are excused as its own are.
#[test]
fn a_test_can_excuse_its_background_tasks_expiries() {
    let report = Check::new(|| async {
        cancelsim::time::excuse_background_timeout_results();
        leader(true).await;
    })
    .without_cancellation()
    .timeout_at_every_await(true)
    .run();
    report.assert_clean();
    assert!(report.counts().timeout_results_excused > 0, "{report}");
}

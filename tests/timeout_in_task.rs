//! A spawned task's timeout: the test sees it only through what that task
//! did on the expiry. A lease renewer that keeps its leader role when a
//! renewal times out lets the leader write after its lease ran out; the
//! test fails the same way when the renewal never started, so by default
//! the run is excused — named in the report as a spawned task's, with
//! both readings — and a strict test gets it as a failure, with the hint
//! about that task's handling of the expiry. The twin that gives the role
//! up on `Elapsed` passes, strict too.

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

fn sweep(keep_role: bool, strict: bool) -> Report {
    Check::new(move || async move {
        if strict {
            cancelsim::time::strict_timeout_results();
        }
        leader(keep_role).await;
    })
    .without_cancellation()
    .timeout_at_every_await(true)
    .run()
}

#[test]
fn a_renewer_that_keeps_its_role_is_excused_and_named_a_spawned_tasks() {
    let report = sweep(true, false);
    report.assert_clean();
    assert!(report.counts().timeout_results_excused > 0, "{report}");
    let text = report.to_string();
    assert!(
        text.contains("writes after the lease ran out")
            && text.contains("in a spawned task")
            && text.contains("unless the code mishandles the expiry: keeps a role or lease"),
        "{text}"
    );
}

#[test]
fn a_strict_test_finds_the_renewer_that_keeps_its_role() {
    let report = sweep(true, true);
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
    assert_eq!(report.to_string(), sweep(true, true).to_string());
}

#[test]
fn a_renewer_that_gives_its_role_up_passes_strict_too() {
    for strict in [false, true] {
        let report = sweep(false, strict);
        report.assert_clean();
        assert!(report.counts().per_kind["timeout"] > 0, "{report}");
    }
}

/// The test's own timeout around a lookup with a fallback: excused too,
/// and not named a spawned task's.
#[test]
fn the_tests_own_timeout_is_excused_as_its_own() {
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
    assert!(
        !report.to_string().contains("in a spawned task"),
        "{report}"
    );
}

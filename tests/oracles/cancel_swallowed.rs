//! `cancel-swallowed`: a task that drops the `Cancelled` its checkpoint
//! hands it, and a hand-made timeout that breaks because of it.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::cancel::{checkpoint, Cancelled};
use cancelsim::time::sleep;
use cancelsim::{invariant, spawn_named, Check};
use futures::future::{select, Either};

use crate::common::{location_in, ms, sweep};
use crate::{codes, failing_injections, found, set};

/// `tests/oracles/cancel_swallowed.rs:LINE:COLUMN` of `token` on the first line of
/// this file that contains `marker` (source locations without hard-coded
/// numbers).
fn location_of(marker: &str, token: &str) -> String {
    location_in(
        "tests/oracles/cancel_swallowed.rs",
        include_str!("cancel_swallowed.rs"),
        marker,
        token,
    )
}

// ----- 2. a swallowed Cancelled keeps the task running ----------------------

/// Bug: the poller drops the `Cancelled` its checkpoint hands it and carries
/// on to report success.
async fn poller_swallowing_cancel() {
    let poller = spawn_named("poller", async {
        let mut polled = 0u32;
        for _ in 0..3 {
            let _ = checkpoint().await; // swallowed
            sleep(ms(5)).await;
            polled += 1;
        }
        Ok::<u32, Cancelled>(polled)
    })
    .abort_on_drop();
    let _ = poller.await;
}

/// Fixed: the `Cancelled` is propagated.
async fn poller_propagating_cancel() {
    let poller = spawn_named("poller", async {
        let mut polled = 0u32;
        for _ in 0..3 {
            checkpoint().await?;
            sleep(ms(5)).await;
            polled += 1;
        }
        Ok::<u32, Cancelled>(polled)
    })
    .abort_on_drop();
    let _ = poller.await;
}

#[test]
fn swallowed_cancel_is_cancel_swallowed() {
    let report = sweep(poller_swallowing_cancel).run();
    assert_eq!(codes(&report), BTreeSet::from(["cancel-swallowed"]));
    for (failure, violation) in found(&report, "cancel-swallowed") {
        assert_eq!(violation.task_name(), Some("poller"), "{violation}");
        assert_eq!(
            violation.location(),
            Some(location_of("let _ = checkpoint().await;", "checkpoint()")),
            "{violation}"
        );
        // Delivered at the injected await point or a later one (never before).
        let injected = failure.repro().injections[0].point;
        assert!(
            violation
                .await_point()
                .is_some_and(|point| point >= injected),
            "{violation}"
        );
    }
    // Every cooperative request the poller gets before its last checkpoint;
    // a request at the last sleep is never delivered (the task just ends).
    assert_eq!(
        failing_injections(&report),
        set(&[
            "poller cancel-coop@1",
            "poller cancel-coop@2",
            "poller cancel-coop@3",
            "poller cancel-coop@4",
            "poller cancel-coop@5",
        ])
    );
}

#[test]
fn propagated_cancel_is_clean() {
    sweep(poller_propagating_cancel).run().assert_clean();
}

// ----- 3. a swallowed cancel breaks a timeout built on cancellation ---------

/// A deadline built by hand on cooperative cancellation: when it passes, the
/// caller asks the worker to cancel and waits for it to end.
async fn with_deadline(
    deadline: Duration,
    mut worker: cancelsim::AbortOnDropHandle<Result<u32, Cancelled>>,
) -> Result<u32, &'static str> {
    let timer = std::pin::pin!(sleep(deadline));
    match select(timer, &mut worker).await {
        Either::Right((result, _)) => result
            .map_err(|_| "worker failed")?
            .map_err(|_| "worker cancelled"),
        Either::Left(((), _)) => {
            worker.cancel();
            match (&mut worker).await {
                Ok(Ok(pages)) => Ok(pages), // the worker says it completed
                _ => Err("timed out"),
            }
        }
    }
}

/// Runs `fetch` under a 35 ms hand-made deadline; the invariant says the
/// caller learns in time (an answer by 45 ms, one page late at most).
async fn fetch_under_deadline<F>(fetch: F)
where
    F: Future<Output = Result<u32, Cancelled>> + 'static,
{
    let answered_at = Rc::new(Cell::new(None));
    let check = Rc::clone(&answered_at);
    invariant("the caller learns by its deadline", move || {
        check.get().is_none_or(|at: Duration| at <= ms(45))
    });
    let worker = spawn_named("fetch", fetch).abort_on_drop();
    let _outcome = with_deadline(ms(35), worker).await;
    answered_at.set(Some(cancelsim::time::Instant::now().since_start()));
}

/// Bug: the worker swallows the cancel and fetches all ten pages.
async fn deadline_swallowed() {
    fetch_under_deadline(async {
        let mut pages = 0;
        for _ in 0..10 {
            sleep(ms(10)).await;
            drop(checkpoint().await); // swallowed: fetch on regardless
            pages += 1;
        }
        Ok(pages)
    })
    .await;
}

/// Fixed: the worker propagates the cancel.
async fn deadline_propagated() {
    fetch_under_deadline(async {
        let mut pages = 0;
        for _ in 0..10 {
            sleep(ms(10)).await;
            checkpoint().await?;
            pages += 1;
        }
        Ok(pages)
    })
    .await;
}

#[test]
fn swallowed_cancel_breaks_a_hand_made_timeout() {
    // The baseline shows it: no injection needed.
    let report = Check::new(deadline_swallowed).run();
    assert_eq!(report.failures().len(), 1, "{report}");
    let failure = &report.failures()[0];
    assert!(failure.repro().injections.is_empty());
    let (_, swallowed) = found(&report, "cancel-swallowed")[0];
    assert_eq!(swallowed.task_name(), Some("fetch"), "{swallowed}");
    assert_eq!(
        swallowed.location(),
        Some(location_of("drop(checkpoint().await)", "checkpoint()")),
    );
    let (_, late) = found(&report, "invariant")[0];
    assert!(
        late.message().contains("the caller learns by its deadline"),
        "{late}"
    );
}

#[test]
fn propagated_cancel_keeps_a_hand_made_timeout() {
    sweep(deadline_propagated).run().assert_clean();
}

//! The catalogue of bugs the oracles must find: for each one a buggy program
//! that must fail with the right violation code, naming the right task and
//! await point, and its fixed twin that must pass the full sweep (both cancel
//! modes and timeouts at every await point, plus schedules where they matter).

use cancelsim::ViolationCode;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cancelsim::cancel::{checkpoint, shield, Cancelled};
use cancelsim::time::{sleep, timeout};
use cancelsim::{
    blocking, invariant, resource, spawn_named, work, yield_now, Check, Config, Failure, Report,
    SchedulerKind, Violation,
};
use futures::future::{select, Either};

mod common;
use common::{location_in, ms, named_injections, sweep};

/// Every violation with `code`, with its failing run; panics with the report
/// when there is none.
fn found<'a>(report: &'a Report, code: &str) -> Vec<(&'a Failure, &'a Violation)> {
    let hits: Vec<_> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations().iter().map(move |v| (failure, v)))
        .filter(|(_, v)| v.code() == code)
        .collect();
    assert!(!hits.is_empty(), "expected a `{code}` violation:\n{report}");
    hits
}

/// The codes of every violation of the report.
fn codes(report: &Report) -> BTreeSet<&'static str> {
    report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations().iter().map(Violation::code))
        .collect()
}

/// The injections of a failing run as `task-name kind@point`, e.g.
/// `writer cancel-drop@2` (the instant, suspend or wake, left out).
fn injections(failure: &Failure) -> Vec<String> {
    named_injections(failure)
        .map(|(name, injection)| format!("{name} {}@{}", injection.kind.name(), injection.point))
        .collect()
}

/// `injections` of every failing run (each run has one injection here).
fn failing_injections(report: &Report) -> BTreeSet<String> {
    report.failures().iter().flat_map(injections).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| item.to_string()).collect()
}

/// `tests/oracles.rs:LINE:COLUMN` of `token` on the first line of this file
/// that contains `marker` (source locations without hard-coded numbers).
fn location_of(marker: &str, token: &str) -> String {
    location_in(
        "tests/oracles.rs",
        include_str!("oracles.rs"),
        marker,
        token,
    )
}

// ----- 1. cleanup skipped when cancelled between acquire and release --------

/// Bug: the connection goes back by hand on the success path only; a cancel
/// at the query or at the checkpoint skips the release.
async fn release_on_success_path_only() {
    let writer = spawn_named("writer", async {
        let conn = ManuallyDrop::new(resource::acquire("db")); // acquire: manual
        sleep(ms(10)).await; // the query
        checkpoint().await?;
        ManuallyDrop::into_inner(conn).release();
        Ok::<(), Cancelled>(())
    })
    .abort_on_drop();
    let _ = writer.await;
}

/// Fixed: the guard releases on drop, however the task ends.
async fn release_by_raii_guard() {
    let writer = spawn_named("writer", async {
        let conn = resource::acquire("db");
        sleep(ms(10)).await;
        checkpoint().await?;
        conn.release();
        Ok::<(), Cancelled>(())
    })
    .abort_on_drop();
    let _ = writer.await;
}

#[test]
fn cleanup_skipped_on_cancel_is_a_leaked_resource() {
    let report = sweep(release_on_success_path_only).run();
    for (failure, violation) in found(&report, "leaked-resource") {
        assert_eq!(violation.task_name(), Some("writer"), "{violation}");
        assert_eq!(
            violation.injection().as_ref(),
            failure.repro().injections.first()
        );
        assert_eq!(
            violation.location(),
            Some(location_of("acquire: manual", "resource::acquire")),
            "{violation}"
        );
    }
    assert_eq!(codes(&report), BTreeSet::from(["leaked-resource"]));
    // Every cancel of the writer between acquire and release leaks it. The
    // root's only await point comes before the writer first runs (dropping it
    // there aborts the writer before it acquires) and after it ended.
    assert_eq!(
        failing_injections(&report),
        set(&[
            "writer cancel-drop@1",
            "writer cancel-drop@2",
            "writer cancel-coop@1",
            "writer cancel-coop@2",
        ])
    );
    assert!(report
        .failures()
        .iter()
        .all(|f| !f.repro().injections.is_empty()));
}

#[test]
fn cleanup_by_raii_guard_is_clean() {
    sweep(release_by_raii_guard).run().assert_clean();
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

// ----- 4. a CPU loop ignoring a cancel request ------------------------------

/// Fixed: each round ends at a checkpoint.
async fn cpu_loop_with_checkpoint() {
    let hasher = spawn_named("hasher", async {
        for _ in 0..40 {
            work(ms(50));
            checkpoint().await?;
        }
        Ok::<(), Cancelled>(())
    })
    .abort_on_drop();
    sleep(ms(100)).await;
    hasher.cancel();
    let _ = hasher.await;
}

#[test]
fn cpu_loop_with_a_checkpoint_is_clean() {
    sweep(cpu_loop_with_checkpoint).run().assert_clean();
}

// ----- 5. the loser of a race left running ----------------------------------

/// Fixed: both handles abort their task when dropped.
async fn race_aborting_the_loser() -> u32 {
    let primary = spawn_named("primary", async {
        sleep(ms(10)).await;
        1
    })
    .abort_on_drop();
    let replica = spawn_named("replica", async {
        sleep(ms(30)).await;
        2
    })
    .abort_on_drop();
    match select(primary, replica).await {
        Either::Left((won, _loser)) | Either::Right((won, _loser)) => won.unwrap_or(0),
    }
}

#[test]
fn race_loser_aborted_is_clean() {
    sweep(race_aborting_the_loser).run().assert_clean();
}

// ----- 5b. background work: detached, or its handle just dropped -------------

/// The background flush of [`detached_flush`] and [`dropped_flush`]: still
/// sleeping when the root ends, done 10ms later (within the drain budget).
fn spawn_flush(flushed: Rc<Cell<bool>>) -> cancelsim::JoinHandle<()> {
    let flush = async move {
        sleep(ms(10)).await;
        flushed.set(true);
    };
    spawn_named("flusher", flush) // flusher spawned
}

/// Fixed: the flush is meant to outlive the root and says so with
/// `detach()`; the drain lets it finish (the invariant checks that it did).
async fn detached_flush() {
    let flushed = Rc::new(Cell::new(false));
    spawn_flush(Rc::clone(&flushed)).detach();
    yield_now().await; // the flusher starts its sleep
    invariant("the flush ran", move || flushed.get());
}

/// Bug: the same flush with its handle dropped. Dropping a handle detaches
/// nothing: the task is still alive when the root ends, a leak (and the drain
/// does not run it on).
async fn dropped_flush() {
    let flushed = Rc::new(Cell::new(false));
    drop(spawn_flush(Rc::clone(&flushed)));
    yield_now().await; // the flusher starts its sleep
    invariant("the flush ran", move || flushed.get());
}

#[test]
fn a_detached_task_alive_when_the_root_ends_is_not_a_leak() {
    // The baseline only: an injected abort of the flusher would (rightly)
    // break the invariant.
    Check::new(detached_flush).run().assert_clean();
}

#[test]
fn a_task_alive_when_the_root_ends_with_its_handle_dropped_is_a_leaked_task() {
    let report = Check::new(dropped_flush).run();
    assert_eq!(report.failures().len(), 1, "the baseline fails:\n{report}");
    let baseline = &report.failures()[0];
    assert!(baseline.repro().injections.is_empty(), "{report}");
    // The leak, and, since the drain runs detached work only, the flush
    // never ran.
    let codes: Vec<&str> = baseline.violations().iter().map(Violation::code).collect();
    assert_eq!(codes, ["leaked-task", "invariant"], "{report}");
    let leak = &baseline.violations()[0];
    assert_eq!(leak.task_name(), Some("flusher"), "{leak}");
    assert_eq!(leak.await_point(), Some(1), "{leak}");
    // A leak is located at the spawn; `await_point` says where it waits.
    assert_eq!(
        leak.location(),
        Some(location_of("// flusher spawned", "spawn_named")),
        "{leak}"
    );
    assert!(
        leak.message()
            .contains("still alive when the root finished"),
        "{leak}"
    );
}

// ----- 6. a child orphaned when its parent is cancelled ---------------------

/// Fixed: the child is aborted with its parent.
async fn parent_owning_its_child() {
    let parent = spawn_named("parent", async {
        let child = spawn_named("child", async { sleep(ms(50)).await }).abort_on_drop();
        sleep(ms(10)).await;
        let _ = child.await;
    })
    .abort_on_drop();
    let _ = parent.await;
}

#[test]
fn child_aborted_with_its_parent_is_clean() {
    sweep(parent_owning_its_child).run().assert_clean();
}

// ----- 7. a message lost when a receive is cancelled mid-protocol -----------

#[derive(Default)]
struct Mailbox {
    queue: RefCell<VecDeque<u32>>,
    sent: Cell<u32>,
    processed: Cell<u32>,
    closed: Cell<bool>,
}

/// A mailbox whose messages must all be processed or still queued at the end.
fn mailbox() -> Rc<Mailbox> {
    let mailbox = Rc::new(Mailbox::default());
    let check = Rc::clone(&mailbox);
    invariant("no message lost", move || {
        check.sent.get() == check.processed.get() + check.queue.borrow().len() as u32
    });
    mailbox
}

async fn produce(mailbox: &Mailbox) {
    for message in 0..3 {
        mailbox.queue.borrow_mut().push_back(message);
        mailbox.sent.set(mailbox.sent.get() + 1);
        yield_now().await;
    }
    mailbox.closed.set(true);
}

/// Bug: the consumer takes a message out of the queue, then awaits before
/// recording it; a cancel there loses it.
async fn receive_losing_messages() {
    let mailbox = mailbox();
    let inbox = Rc::clone(&mailbox);
    let consumer = spawn_named("consumer", async move {
        loop {
            let next = inbox.queue.borrow_mut().pop_front();
            match next {
                Some(_message) => {
                    sleep(ms(1)).await; // handle it
                    inbox.processed.set(inbox.processed.get() + 1);
                }
                None if inbox.closed.get() => return Ok(()),
                None => checkpoint().await?,
            }
        }
    })
    .abort_on_drop();
    produce(&mailbox).await;
    let _: Result<Result<(), Cancelled>, _> = consumer.await;
}

/// A message taken out of the mailbox; goes back to the front of the queue
/// unless marked done.
struct InFlight {
    message: Option<u32>,
    mailbox: Rc<Mailbox>,
}

impl InFlight {
    fn done(mut self) {
        self.message = None;
        self.mailbox.processed.set(self.mailbox.processed.get() + 1);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(message) = self.message.take() {
            self.mailbox.queue.borrow_mut().push_front(message);
        }
    }
}

/// Fixed: a message in flight goes back to the queue on cancel.
async fn receive_putting_back_on_cancel() {
    let mailbox = mailbox();
    let inbox = Rc::clone(&mailbox);
    let consumer = spawn_named("consumer", async move {
        loop {
            let next = inbox.queue.borrow_mut().pop_front();
            match next {
                Some(message) => {
                    let in_flight = InFlight {
                        message: Some(message),
                        mailbox: Rc::clone(&inbox),
                    };
                    sleep(ms(1)).await;
                    in_flight.done();
                }
                None if inbox.closed.get() => return Ok(()),
                None => checkpoint().await?,
            }
        }
    })
    .abort_on_drop();
    produce(&mailbox).await;
    let _: Result<Result<(), Cancelled>, _> = consumer.await;
}

#[test]
fn message_lost_on_cancel_breaks_the_invariant() {
    let report = sweep(receive_losing_messages).run();
    assert_eq!(codes(&report), BTreeSet::from(["invariant"]));
    for (_, violation) in found(&report, "invariant") {
        assert!(
            violation.message().contains("no message lost"),
            "{violation}"
        );
        assert_eq!(
            violation.location(),
            Some(location_of("invariant(\"no message lost\"", "invariant(")),
        );
    }
    // The consumer dropped at any of its three `handle it` sleeps, or the root
    // dropped while the consumer handles a message (aborting it).
    assert_eq!(
        failing_injections(&report),
        set(&[
            "consumer cancel-drop@1",
            "consumer cancel-drop@2",
            "consumer cancel-drop@3",
            "main cancel-drop@1",
            "main cancel-drop@2",
            "main cancel-drop@3",
            "main cancel-drop@4",
        ])
    );
}

#[test]
fn message_put_back_on_cancel_is_clean() {
    sweep(receive_putting_back_on_cancel).run().assert_clean();
}

// ----- 8. unwrap() on a timeout ---------------------------------------------

/// Bug: the root unwraps its timeout.
async fn unwrap_timeout_in_root() -> u32 {
    timeout(ms(100), async {
        sleep(ms(10)).await;
        7
    })
    .await
    .unwrap() // unwrap in root
}

/// Fixed: `Err(Elapsed)` is a normal outcome.
async fn handle_timeout_in_root() -> u32 {
    timeout(ms(100), async {
        sleep(ms(10)).await;
        7
    })
    .await
    .unwrap_or(0)
}

/// Bug: a detached task unwraps its timeout; nobody sees it panic.
async fn unwrap_timeout_in_detached_task() {
    spawn_named("refresher", async {
        timeout(ms(100), sleep(ms(10))).await.unwrap(); // unwrap in child
    })
    .detach();
    sleep(ms(50)).await;
}

/// Fixed: the detached task handles its timeout.
async fn handle_timeout_in_detached_task() {
    spawn_named("refresher", async {
        if timeout(ms(100), sleep(ms(10))).await.is_err() {
            // Stale until the next refresh: fine.
        }
    })
    .detach();
    sleep(ms(50)).await;
}

#[test]
fn unwrap_of_an_injected_timeout_in_the_root_is_a_panic() {
    let report = sweep(unwrap_timeout_in_root).run();
    assert_eq!(codes(&report), BTreeSet::from(["panic"]));
    assert_eq!(failing_injections(&report), set(&["main timeout@1"]));
    for (_, violation) in found(&report, "panic") {
        assert_eq!(violation.task_name(), Some("main"), "{violation}");
        assert!(violation.message().contains("Elapsed"), "{violation}");
        assert!(
            violation
                .message()
                .contains(&location_of("// unwrap in root", "unwrap")),
            "{violation}"
        );
    }
}

#[test]
fn handled_timeout_in_the_root_is_clean() {
    sweep(handle_timeout_in_root).run().assert_clean();
}

#[test]
fn unwrap_of_an_injected_timeout_in_a_detached_task_is_an_unobserved_panic() {
    let report = sweep(unwrap_timeout_in_detached_task).run();
    assert_eq!(codes(&report), BTreeSet::from(["unobserved-panic"]));
    assert_eq!(failing_injections(&report), set(&["refresher timeout@1"]));
    for (_, violation) in found(&report, "unobserved-panic") {
        assert_eq!(violation.task_name(), Some("refresher"), "{violation}");
        // Expired at await point 1, it waits for the deadline at point 2
        // (its inner sleep no longer polled) and panics there.
        assert_eq!(violation.await_point(), Some(2), "{violation}");
        assert!(violation.message().contains("Elapsed"), "{violation}");
    }
}

#[test]
fn handled_timeout_in_a_detached_task_is_clean() {
    sweep(handle_timeout_in_detached_task).run().assert_clean();
}

// ----- 9. a deadlock only some schedules reach ------------------------------

/// `left` takes `a` then `b`; `right` first yields twice, then takes its two
/// locks in `a`, `b` order, or `b`, `a` when `opposite_order`. Under Fifo `left` is done before `right` locks.
async fn two_locks(opposite_order: bool) {
    let a = Rc::new(futures::lock::Mutex::new(0u32));
    let b = Rc::new(futures::lock::Mutex::new(0u32));
    let (left_a, left_b) = (Rc::clone(&a), Rc::clone(&b));
    let left = spawn_named("left", async move {
        let mut first = left_a.lock().await;
        yield_now().await;
        let mut second = left_b.lock().await;
        *first += 1;
        *second += 1;
    })
    .abort_on_drop();
    let right = spawn_named("right", async move {
        yield_now().await;
        yield_now().await;
        let (x, y) = if opposite_order { (&b, &a) } else { (&a, &b) };
        let mut first = x.lock().await;
        yield_now().await;
        let mut second = y.lock().await;
        *first += 1;
        *second += 1;
    })
    .abort_on_drop();
    let _ = left.await;
    let _ = right.await;
}

async fn locks_in_opposite_orders() {
    two_locks(true).await;
}

async fn locks_in_one_order() {
    two_locks(false).await;
}

fn assert_deadlock(report: &Report) {
    for (failure, violation) in found(report, "deadlock") {
        assert!(failure.repro().injections.is_empty(), "{report}");
        assert_eq!(violation.task_name(), Some("main"), "{violation}");
        let message = violation.message();
        assert!(
            message.contains("left#1 at await point") && message.contains("right#2 at await point"),
            "{violation}"
        );
    }
}

#[test]
fn deadlock_is_missed_by_fifo_alone() {
    Check::new(locks_in_opposite_orders).run().assert_clean();
}

#[test]
fn deadlock_is_found_by_random_schedules() {
    let report = Check::new(locks_in_opposite_orders)
        .seeds(0..64)
        .scheduler(SchedulerKind::Random)
        .run();
    assert_deadlock(&report);
    assert_eq!(codes(&report), BTreeSet::from(["deadlock"]));
}

#[test]
fn deadlock_is_found_by_pct() {
    for depth in [2, 3] {
        let report = Check::new(locks_in_opposite_orders)
            // PCT's change points fall within its horizon: about the number
            // of real choices of the run (4 here), not the default 1000
            // under which one seed in a few hundred preempts in time.
            .config(Config::default().pct_horizon(8))
            .seeds(0..64)
            .scheduler(SchedulerKind::Pct { depth })
            .run();
        assert_deadlock(&report);
    }
}

#[test]
fn one_lock_order_is_clean_under_every_schedule() {
    Check::new(locks_in_one_order)
        .seeds(0..64)
        .scheduler(SchedulerKind::Random)
        .run()
        .assert_clean();
    for depth in [2, 3] {
        Check::new(locks_in_one_order)
            .seeds(0..64)
            .scheduler(SchedulerKind::Pct { depth })
            .run()
            .assert_clean();
    }
    sweep(locks_in_one_order)
        .seeds(0..8)
        .scheduler(SchedulerKind::Random)
        .run()
        .assert_clean();
}

// ----- 10. shield protecting a commit ---------------------------------------

#[derive(Default)]
struct Ledger {
    started: Cell<bool>,
    committed: Cell<bool>,
}

/// A transaction under a 100 ms timeout: prepare, then commit. Once the
/// commit has started it must complete.
async fn transaction(shielded: bool) {
    let ledger = Rc::new(Ledger::default());
    let check = Rc::clone(&ledger);
    invariant("committed", move || {
        !check.started.get() || check.committed.get()
    });
    let txn = spawn_named("txn", async move {
        sleep(ms(5)).await; // prepare
        ledger.started.set(true);
        let commit = async move {
            sleep(ms(5)).await; // write the commit record
            ledger.committed.set(true);
        };
        if shielded {
            shield(commit).await?;
        } else {
            commit.await;
        }
        Ok::<(), Cancelled>(())
    })
    .abort_on_drop();
    let _ = timeout(ms(100), txn).await;
}

async fn commit_unshielded() {
    transaction(false).await;
}

async fn commit_shielded() {
    transaction(true).await;
}

#[test]
fn commit_without_shield_breaks_the_invariant() {
    let report = sweep(commit_unshielded).run();
    assert_eq!(codes(&report), BTreeSet::from(["invariant"]));
    assert_eq!(failing_injections(&report), set(&["txn cancel-drop@2"]));
    for (_, violation) in found(&report, "invariant") {
        assert!(violation.message().contains("`committed`"), "{violation}");
    }
}

#[test]
fn commit_in_a_shield_is_clean_and_always_completes() {
    sweep(commit_shielded).run().assert_clean();
}

// ----- 11. blocking work outliving its awaiter ------------------------------

/// The saver writes to disk on a blocking worker; the caller gives up after
/// 5 ms, aborting the saver while the write (20 ms) is in progress.
async fn save_on_blocking_worker() {
    let started = Rc::new(Cell::new(false));
    let written = Rc::new(Cell::new(false));
    let (check_started, check_written) = (Rc::clone(&started), Rc::clone(&written));
    invariant("a started write reaches the disk", move || {
        !check_started.get() || check_written.get()
    });
    let saver = spawn_named("saver", async move {
        sleep(ms(1)).await;
        started.set(true);
        blocking(ms(20), move || written.set(true)).await; // blocking write
    })
    .abort_on_drop();
    let _ = timeout(ms(5), saver).await;
}

#[test]
fn blocking_work_finishes_in_the_drain() {
    sweep(save_on_blocking_worker).run().assert_clean();
}

// ----- a panic nobody observes ----------------------------------------------

fn parse(text: &str) -> u32 {
    text.parse().expect("a number")
}

/// Bug: the worker's handle is dropped; its panic goes unseen.
async fn panic_nobody_observes() {
    let worker = spawn_named("worker", async {
        yield_now().await;
        parse("forty-two")
    });
    drop(worker);
    sleep(ms(10)).await;
}

/// Fixed: the handle is awaited and the panic handled.
async fn panic_observed_and_handled() -> u32 {
    let worker = spawn_named("worker", async {
        yield_now().await;
        parse("forty-two")
    })
    .abort_on_drop();
    sleep(ms(10)).await;
    match worker.await {
        Ok(value) => value,
        Err(error) if error.is_panic() => 0,
        Err(_) => 0,
    }
}

#[test]
fn panic_with_the_handle_dropped_is_an_unobserved_panic() {
    // The baseline shows it. (The full sweep also drops the root before the
    // worker has run, which leaves it alive: see the leaked-task note.)
    let report = Check::new(panic_nobody_observes).run();
    assert_eq!(codes(&report), BTreeSet::from(["unobserved-panic"]));
    assert!(report.failures()[0].repro().injections.is_empty());
    for (_, violation) in found(&report, "unobserved-panic") {
        assert_eq!(violation.task_name(), Some("worker"), "{violation}");
        assert_eq!(violation.await_point(), Some(1), "{violation}");
        assert!(violation.message().contains("a number"), "{violation}");
    }
}

#[test]
fn panic_observed_through_the_handle_is_clean() {
    // Baseline only: in an injected run the `panic` oracle flags any panic of
    // an awaited task, even one the baseline has too and handles.
    Check::new(panic_observed_and_handled).run().assert_clean();
}

// ----- a retry loop that never stops ----------------------------------------

/// Bug: the retry loop swallows the cancel and retries forever.
async fn retry_swallowing_cancel() {
    let retrier = spawn_named("retrier", async {
        loop {
            sleep(ms(1)).await; // back off; the server stays down
            if checkpoint().await.is_err() {
                // swallowed: retry anyway
                continue;
            }
        }
    })
    .abort_on_drop();
    sleep(ms(10)).await;
    retrier.cancel();
    let _: Result<(), _> = retrier.await;
}

/// Fixed: the retry loop stops on cancel.
async fn retry_stopping_on_cancel() {
    let retrier = spawn_named("retrier", async {
        loop {
            sleep(ms(1)).await;
            checkpoint().await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), Cancelled>(())
    })
    .abort_on_drop();
    sleep(ms(10)).await;
    retrier.cancel();
    let _ = retrier.await;
}

#[test]
fn endless_retry_is_a_step_limit() {
    let report = Check::new(retry_swallowing_cancel)
        .config(Config::default().max_steps(10_000))
        .run();
    let (failure, violation) = found(&report, "step-limit")[0];
    assert!(failure.repro().injections.is_empty());
    assert_eq!(violation.task_name(), Some("main"), "{violation}");
    assert!(violation.message().contains("10000 polls"), "{violation}");
}

#[test]
fn retry_stopping_on_cancel_is_clean() {
    sweep(retry_stopping_on_cancel)
        .config(Config::default().max_steps(10_000))
        .run()
        .assert_clean();
}

// ----- nondeterminism --------------------------------------------------------

static CALLS: AtomicU64 = AtomicU64::new(0);

/// Bug: how many yields it does depends on a process-global counter.
async fn reads_a_global_counter() {
    let yields = CALLS.fetch_add(1, Ordering::Relaxed) % 3;
    for _ in 0..yields {
        yield_now().await;
    }
}

/// Fixed: the choice comes from the world's seeded, recorded stream.
async fn draws_from_the_simulation() {
    let yields = cancelsim::random::<u64>() % 3;
    for _ in 0..yields {
        yield_now().await;
    }
}

#[test]
fn reading_state_outside_the_simulation_is_nondeterminism() {
    let report = Check::new(reads_a_global_counter).run();
    let (failure, violation) = found(&report, "nondeterminism")[0];
    assert!(failure.repro().injections.is_empty());
    assert!(violation.message().contains("differ"), "{violation}");
}

#[test]
fn seeded_randomness_is_deterministic() {
    sweep(draws_from_the_simulation)
        .seeds(0..8)
        .run()
        .assert_clean();
}

// ----- leaks of live tasks, ignored requests and panics -----------------------

/// Bug: two seconds of CPU work that yields but never looks for a cancel.
async fn cpu_loop_without_checkpoint() {
    let hasher = spawn_named("hasher", async {
        for _ in 0..40 {
            work(ms(50));
            yield_now().await; // no cancel check
        }
        Ok::<(), Cancelled>(())
    })
    .abort_on_drop();
    sleep(ms(100)).await;
    hasher.cancel();
    let _ = hasher.await;
}

/// Bug: the slower replica's handle is dropped, which does not stop it.
async fn race_leaving_the_loser() -> u32 {
    let primary = spawn_named("primary", async {
        sleep(ms(10)).await;
        1
    });
    let replica = spawn_named("replica", async {
        sleep(ms(30)).await;
        2
    });
    match select(primary, replica).await {
        Either::Left((won, _loser)) | Either::Right((won, _loser)) => won.unwrap_or(0),
    }
}

/// Bug: the parent's handle to its child is a plain one; dropping the parent
/// at an await point orphans the child.
async fn parent_orphaning_its_child() {
    let parent = spawn_named("parent", async {
        let child = spawn_named("child", async { sleep(ms(50)).await });
        sleep(ms(10)).await;
        let _ = child.await;
    })
    .abort_on_drop();
    let _ = parent.await;
}

#[test]
fn race_loser_left_running_is_a_leaked_task() {
    let report = sweep(race_leaving_the_loser).run();
    let baseline = &report.failures()[0];
    assert!(baseline.repro().injections.is_empty(), "{report}");
    let leaks: Vec<&Violation> = baseline
        .violations()
        .iter()
        .filter(|v| v.code() == "leaked-task")
        .collect();
    assert_eq!(leaks.len(), 1, "{report}");
    assert_eq!(leaks[0].task_name(), Some("replica"), "{}", leaks[0]);
    assert_eq!(leaks[0].await_point(), Some(1), "{}", leaks[0]);
    assert!(codes(&report).contains("leaked-task"), "{report}");
}

#[test]
fn child_orphaned_by_a_cancelled_parent_is_a_leaked_task() {
    let report = sweep(parent_orphaning_its_child).run();
    assert!(
        report
            .failures()
            .iter()
            .all(|f| !f.repro().injections.is_empty()),
        "the baseline is clean:\n{report}"
    );
    assert_eq!(codes(&report), BTreeSet::from(["leaked-task"]));
    for (_, violation) in found(&report, "leaked-task") {
        assert_eq!(violation.task_name(), Some("child"), "{violation}");
        assert_eq!(violation.await_point(), Some(1), "{violation}");
    }
    // Dropping the parent at either of its await points orphans the child.
    assert_eq!(
        failing_injections(&report),
        set(&["parent cancel-drop@1", "parent cancel-drop@2",])
    );
}

#[test]
fn blocking_work_past_the_drain_budget_is_a_leaked_task() {
    let report = Check::new(save_on_blocking_worker)
        .config(Config::default().drain_budget(1_000, ms(5)))
        .run();
    assert_eq!(report.failures().len(), 1, "{report}");
    let (_, leak) = found(&report, "leaked-task")[0];
    assert_eq!(leak.task_name(), Some("blocking"), "{leak}");
    assert!(leak.message().contains("after the drain budget"), "{leak}");
    // The write did not happen either.
    assert_eq!(codes(&report), BTreeSet::from(["invariant", "leaked-task"]));
}

#[test]
fn cpu_loop_ignoring_a_request_is_cancel_ignored() {
    let report = Check::new(cpu_loop_without_checkpoint).run();
    for (_, violation) in found(&report, "cancel-ignored") {
        assert_eq!(violation.task_name(), Some("hasher"), "{violation}");
        assert!(violation.await_point().is_some(), "{violation}");
    }
}

/// Runs that drop the root before the worker ran leave it alive at the end
/// of the run (the end-of-run checks must cope with live tasks).
#[test]
fn panic_with_the_handle_dropped_full_sweep() {
    let report = sweep(panic_nobody_observes).run();
    for (_, violation) in found(&report, "unobserved-panic") {
        assert_eq!(violation.task_name(), Some("worker"), "{violation}");
    }
}

/// A panic the baseline has too (and handles) is the baseline's to judge:
/// injected runs do not report it again.
#[test]
fn panic_observed_and_handled_full_sweep() {
    sweep(panic_observed_and_handled).run().assert_clean();
}

// ----- names in a capped trace ----------------------------------------------

/// A task panics early, unobserved, then two thousand named tasks come and
/// go before the root ends.
async fn early_unobserved_panic_then_many_tasks() {
    drop(cancelsim::spawn_named("crasher", async { panic!("boom") }));
    cancelsim::yield_now().await;
    for _ in 0..2_000 {
        cancelsim::spawn_named("worker", async {}).await.unwrap();
    }
}

/// A capped trace forgets the names of long-ended tasks; a violation found
/// at the end of the run about one of them still names it, as in a full
/// trace.
#[test]
fn a_capped_trace_names_the_task_of_a_late_violation() {
    for mode in [cancelsim::TraceMode::Full, cancelsim::TraceMode::Last(100)] {
        let outcome = cancelsim::check::run_repro(
            &early_unobserved_panic_then_many_tasks,
            &cancelsim::Config::default().trace(mode),
            &cancelsim::Repro::baseline(0, cancelsim::SchedulerKind::Fifo),
        );
        assert!(
            outcome.has(ViolationCode::UnobservedPanic),
            "{:?}",
            outcome.violations
        );
        let text = outcome.trace.to_string();
        assert!(
            text.lines()
                .any(|line| line.contains("crasher#1")
                    && line.contains("violation unobserved-panic")),
            "{mode:?}:\n{text}"
        );
    }
}

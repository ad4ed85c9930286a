//! `invariant`: user invariants broken by a cancel, a message lost when a
//! receive is cancelled mid-protocol and a commit cut short without a
//! shield.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

use cancelsim::cancel::{checkpoint, shield, Cancelled};
use cancelsim::time::{sleep, timeout};
use cancelsim::{invariant, spawn_named, yield_now};

use crate::common::{location_in, ms, sweep};
use crate::{codes, failing_injections, found, set};

/// `tests/oracles/invariants.rs:LINE:COLUMN` of `token` on the first line of
/// this file that contains `marker` (source locations without hard-coded
/// numbers).
fn location_of(marker: &str, token: &str) -> String {
    location_in(
        "tests/oracles/invariants.rs",
        include_str!("invariants.rs"),
        marker,
        token,
    )
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

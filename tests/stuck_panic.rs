//! A task that panics and leaves others waiting on it: the report calls it
//! a `panic` with its message, never the deadlock (or step limit) that
//! follows; the fixed twin is clean.

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use cancelsim::{spawn_named, Check};

/// A one-shot signal: `wait` resolves once `set` was called.
#[derive(Default)]
struct Signal {
    set: bool,
    waiter: Option<Waker>,
}

fn program(panics: bool) -> impl std::future::Future<Output = ()> {
    let signal = Rc::new(RefCell::new(Signal::default()));
    let setter = Rc::clone(&signal);
    async move {
        let _worker = spawn_named("worker", async move {
            cancelsim::time::sleep(Duration::from_millis(10)).await;
            if panics {
                panic!("worker broke its invariant");
            }
            let mut signal = setter.borrow_mut();
            signal.set = true;
            if let Some(waker) = signal.waiter.take() {
                waker.wake();
            }
        });
        poll_fn(|cx| {
            let mut signal = signal.borrow_mut();
            if signal.set {
                Poll::Ready(())
            } else {
                signal.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

#[test]
fn a_panic_that_leaves_the_root_waiting_is_reported_as_a_panic_with_its_message() {
    let report = Check::new(|| program(true)).run();
    let violations: Vec<_> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .collect();
    assert!(!violations.is_empty(), "{report}");
    for violation in &violations {
        assert_eq!(violation.code(), "panic", "{report}");
        assert!(
            violation.to_string().contains("worker broke its invariant"),
            "{violation}"
        );
        assert_eq!(violation.task_name(), Some("worker"), "{violation}");
    }
}

#[test]
fn the_same_program_without_the_panic_is_clean() {
    Check::new(|| program(false)).run().assert_clean();
}

//! The simulated `#[tokio::test]` is a sweep: a bug only an injection finds
//! fails the test with the report, and the correct twin passes. (Both
//! tests also compile and pass on real tokio: there the injection never
//! comes, so the buggy one's `should_panic` is only asserted when simulated.)
#![cfg(cancelsim)]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// A counter decremented after an await: a timeout that drops the call
/// leaves it counted.
async fn counted_call(in_flight: Rc<Cell<i32>>, guarded: bool) {
    struct Guard(Rc<Cell<i32>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(self.0.get() - 1);
        }
    }
    in_flight.set(in_flight.get() + 1);
    let guard = guarded.then(|| Guard(Rc::clone(&in_flight)));
    cancelsim_tokio::time::sleep(Duration::from_millis(5)).await;
    if guard.is_none() {
        in_flight.set(in_flight.get() - 1);
    }
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
#[should_panic(expected = "injected: timeout@")]
async fn a_sweep_fails_the_test_with_the_report() {
    let in_flight = Rc::new(Cell::new(0));
    let call = counted_call(Rc::clone(&in_flight), false);
    let _ = cancelsim_tokio::time::timeout(Duration::from_millis(50), call).await;
    assert_eq!(in_flight.get(), 0, "a call is still counted");
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio", flavor = "multi_thread", worker_threads = 2)]
async fn the_guarded_twin_passes() {
    let in_flight = Rc::new(Cell::new(0));
    let call = counted_call(Rc::clone(&in_flight), true);
    let _ = cancelsim_tokio::time::timeout(Duration::from_millis(50), call).await;
    assert_eq!(in_flight.get(), 0, "a call is still counted");
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio", seeds = 3)]
#[should_panic(
    expected = "test=attr::the_failure_says_how_to_replay_this_test' RUST_BACKTRACE=0 RUSTFLAGS=\"--cfg cancelsim\" RUSTDOCFLAGS=\"--cfg cancelsim\" CARGO_TARGET_DIR=target/sim cargo test -p cancelsim-tokio --test attr -- --exact the_failure_says_how_to_replay_this_test --nocapture"
)]
async fn the_failure_says_how_to_replay_this_test() {
    let in_flight = Rc::new(Cell::new(0));
    let call = counted_call(Rc::clone(&in_flight), false);
    let _ = cancelsim_tokio::time::timeout(Duration::from_millis(50), call).await;
    assert_eq!(in_flight.get(), 0);
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn a_test_may_return_a_result() -> Result<(), std::io::Error> {
    cancelsim_tokio::time::sleep(Duration::from_millis(1)).await;
    Ok(())
}

/// Spawns a task and yields once: tokio's current-thread runtime has run
/// the task by then (it runs tasks in wake order), a multi-thread one may
/// not have.
async fn yields_to_the_spawned_task() {
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    cancelsim_tokio::spawn({
        let ran = std::sync::Arc::clone(&ran);
        async move { ran.store(true, std::sync::atomic::Ordering::SeqCst) }
    });
    cancelsim_tokio::task::yield_now().await;
    assert!(
        ran.load(std::sync::atomic::Ordering::SeqCst),
        "the spawned task ran"
    );
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn a_current_thread_test_keeps_tasks_in_wake_order() {
    yields_to_the_spawned_task().await;
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio", flavor = "multi_thread")]
#[should_panic(expected = "the spawned task ran")]
async fn a_multi_thread_test_explores_task_orders() {
    yields_to_the_spawned_task().await;
}

//! Tasks that do not end when asked: a CPU loop that never looks for a
//! cancel request (`cancel-ignored`) and a retry loop that swallows it and
//! runs on forever (`step-limit`).

use cancelsim::cancel::{checkpoint, Cancelled};
use cancelsim::time::sleep;
use cancelsim::{spawn_named, work, yield_now, Check, Config};

use crate::common::{ms, sweep};
use crate::found;

// ----- 4. a CPU loop ignoring a cancel request ------------------------------

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
fn cpu_loop_ignoring_a_request_is_cancel_ignored() {
    let report = Check::new(cpu_loop_without_checkpoint).run();
    for (_, violation) in found(&report, "cancel-ignored") {
        assert_eq!(violation.task_name(), Some("hasher"), "{violation}");
        assert!(violation.await_point().is_some(), "{violation}");
    }
}

#[test]
fn cpu_loop_with_a_checkpoint_is_clean() {
    sweep(cpu_loop_with_checkpoint).run().assert_clean();
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

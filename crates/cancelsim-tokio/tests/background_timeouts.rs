//! A timeout inside a spawned task: a checkpointer that skips a save when
//! it times out fails a test that loads the last checkpoint the same way
//! when the save never started, so the run is excused by default (the
//! test assumes the happy path), named as a spawned task's; a strict test
//! gets the failure, with the hint about that task's handling of the
//! expiry. The program passes on real tokio (where the save is never
//! slow).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

macro_rules! checkpoints {
    ($rt:ident, $strict:expr) => {
        async move {
            use $rt::sync::mpsc;
            use $rt::time::{sleep, timeout};
            if $strict {
                cancelsim_tokio::cancelsim::strict_timeout_results();
            }
            let disk = Rc::new(Cell::new(0u32));
            let (tx, mut rx) = mpsc::channel::<u32>(4);
            let checkpointer = $rt::task::spawn_local({
                let disk = Rc::clone(&disk);
                async move {
                    while let Some(seq) = rx.recv().await {
                        let save = async {
                            sleep(Duration::from_millis(3)).await;
                            disk.set(seq);
                        };
                        // A slow save is skipped: "the next one catches up".
                        let _ = timeout(Duration::from_millis(100), save).await;
                    }
                }
            });
            for seq in 1..=3 {
                tx.send(seq).await.unwrap();
            }
            drop(tx);
            checkpointer.await.unwrap();
            assert_eq!(disk.get(), 3, "the last checkpoint is on disk");
        }
    };
}

#[test]
fn on_real_tokio_the_last_checkpoint_is_saved() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, checkpoints!(tokio, false));
}

#[cfg(cancelsim)]
mod sim {
    use super::*;

    fn sweep(strict: bool) -> cancelsim::Report {
        cancelsim::Check::new(move || checkpoints!(cancelsim_tokio, strict))
            .tokio_preset()
            .run()
    }

    #[test]
    fn a_skipped_save_fails_a_strict_test_as_the_tasks_handling() {
        let report = sweep(true);
        assert!(!report.is_clean(), "{report}");
        let violation = &report.failures()[0].violations()[0];
        assert!(violation
            .message()
            .contains("the last checkpoint is on disk"));
        assert!(
            violation
                .hint()
                .contains("how that task handles the expiry"),
            "{}",
            violation.hint()
        );
        assert_eq!(report.to_string(), sweep(true).to_string());
    }

    #[test]
    fn by_default_the_skipped_save_is_excused_as_a_spawned_tasks() {
        let report = sweep(false);
        report.assert_clean();
        assert!(report.counts().timeout_results_excused > 0, "{report}");
        assert!(report.to_string().contains("in a spawned task"), "{report}");
    }
}

//! A timeout inside a spawned task is the program's handling, not the
//! test's check: a checkpointer that skips a save when it times out fails
//! a test that loads the last checkpoint, with the hint about that task's
//! handling of the expiry; a test that expects the happy path says so
//! with `excuse_background_timeout_results()`, and the run is excused.
//! The program passes on real tokio (where the save is never slow).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

macro_rules! checkpoints {
    ($rt:ident, $excuse:expr) => {
        async move {
            use $rt::sync::mpsc;
            use $rt::time::{sleep, timeout};
            if $excuse {
                cancelsim_tokio::cancelsim::excuse_background_timeout_results();
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

    fn sweep(excuse: bool) -> cancelsim::Report {
        cancelsim::Check::new(move || checkpoints!(cancelsim_tokio, excuse))
            .tokio_preset()
            .run()
    }

    #[test]
    fn a_skipped_save_fails_the_test_as_the_tasks_handling() {
        let report = sweep(false);
        assert!(!report.is_clean(), "{report}");
        let violation = &report.failures()[0].violations()[0];
        assert!(violation
            .message()
            .contains("the last checkpoint is on disk"));
        assert!(
            violation
                .hint()
                .contains("how that task handles the expiry")
                && violation
                    .hint()
                    .contains("excuse_background_timeout_results()"),
            "{}",
            violation.hint()
        );
        assert_eq!(report.to_string(), sweep(false).to_string());
    }

    #[test]
    fn a_test_expecting_the_happy_path_excuses_it() {
        let report = sweep(true);
        report.assert_clean();
        assert!(report.counts().timeout_results_excused > 0, "{report}");
    }
}

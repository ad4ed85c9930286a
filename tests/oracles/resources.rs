//! `leaked-resource`: cleanup skipped when a task is cancelled between
//! acquiring a resource and releasing it.

use std::collections::BTreeSet;
use std::mem::ManuallyDrop;

use cancelsim::cancel::{checkpoint, Cancelled};
use cancelsim::time::sleep;
use cancelsim::{resource, spawn_named};

use crate::common::{location_in, ms, sweep};
use crate::{codes, failing_injections, found, set};

/// `tests/oracles/resources.rs:LINE:COLUMN` of `token` on the first line of
/// this file that contains `marker` (source locations without hard-coded
/// numbers).
fn location_of(marker: &str, token: &str) -> String {
    location_in(
        "tests/oracles/resources.rs",
        include_str!("resources.rs"),
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

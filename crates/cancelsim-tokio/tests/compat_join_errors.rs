//! Join errors against real tokio: the text of an aborted or panicking
//! task's `JoinError`, and panics propagating through join handles.
//! The same program runs, written once as a macro over the crate it runs
//! on, on tokio's paused current-thread runtime and on the facade (see
//! `compat.rs`); the logs must agree, or differ exactly as documented.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::*;

#[test]
fn join_error_text_of_an_aborted_task_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let task = rt::spawn(async { rt::time::sleep(Duration::from_secs(3600)).await });
        task.abort();
        let error = task.await.unwrap_err();
        note!(
            log,
            start,
            "display {}",
            without_numbers(&error.to_string())
        );
        note!(
            log,
            start,
            "debug {}",
            without_numbers(&format!("{error:?}"))
        );
        let id_in_text = error.to_string().contains(&error.id().to_string());
        note!(log, start, "its id is in the text: {id_in_text}");
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (0, "display task # was cancelled"),
            (0, "debug JoinError::Cancelled(Id(#))"),
            (0, "its id is in the text: true"),
        ])
    );
}

/// tokio's `JoinError` shows the panic payload (`"boom"`), or no message
/// for a payload that is not a string; the facade shows cancelsim's panic
/// message, which has the panic's location appended (`"boom at
/// crates/…/compat_more.rs:L:C"`), and `"Box<dyn Any>"` for other payloads.
/// Also `io::Error::from(JoinError)`: tokio says "task panicked" / "task was
/// cancelled", the facade the whole Display text.
#[test]
fn join_error_text_of_a_panicking_task_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let error = rt::spawn(async { panic!("boom") }).await.unwrap_err();
        note!(
            log,
            start,
            "display {}",
            without_numbers(&error.to_string())
        );
        note!(
            log,
            start,
            "debug {}",
            without_numbers(&format!("{error:?}"))
        );
        let error = rt::spawn(async { std::panic::panic_any(42u32) })
            .await
            .unwrap_err();
        note!(
            log,
            start,
            "display {}",
            without_numbers(&error.to_string())
        );
        note!(
            log,
            start,
            "debug {}",
            without_numbers(&format!("{error:?}"))
        );
        note!(log, start, "io::Error {}", std::io::Error::from(error));
        let task = rt::spawn(async { rt::time::sleep(Duration::from_secs(3600)).await });
        task.abort();
        let error = task.await.unwrap_err();
        note!(log, start, "io::Error {}", std::io::Error::from(error));
    });
    assert_eq!(
        real,
        log_of(&[
            (0, "display task # panicked with message \"boom\""),
            (0, "debug JoinError::Panic(Id(#), \"boom\", ...)"),
            (0, "display task # panicked"),
            (0, "debug JoinError::Panic(Id(#), ...)"),
            (0, "io::Error task panicked"),
            (0, "io::Error task was cancelled"),
        ])
    );
    assert_eq!(real, sim);
}

#[test]
fn panics_propagate_through_join_handles_as_in_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let payloads: Vec<rt::task::JoinHandle<()>> = vec![
            rt::spawn(async { panic!("boom") }),
            rt::spawn(async {
                rt::time::sleep(Duration::from_millis(3)).await;
                std::panic::panic_any(String::from("owned boom"))
            }),
            rt::spawn(async { std::panic::panic_any(42u32) }),
        ];
        for task in payloads {
            let error = task.await.unwrap_err();
            note!(
                log,
                start,
                "panic {} cancelled {}",
                error.is_panic(),
                error.is_cancelled()
            );
            note!(log, start, "payload {}", payload_text(&*error.into_panic()));
        }
        let task = rt::spawn(async { rt::time::sleep(Duration::from_secs(3600)).await });
        task.abort();
        let error = task.await.unwrap_err();
        let back = error.try_into_panic().unwrap_err();
        note!(
            log,
            start,
            "try_into_panic of a cancelled task: cancelled {}",
            back.is_cancelled()
        );
        // A panic in a task leaves the runtime and the other tasks running.
        let after = rt::spawn(async {
            rt::time::sleep(Duration::from_millis(2)).await;
            "still running"
        });
        let after = after.await.unwrap();
        note!(log, start, "{after}");
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (0, "panic true cancelled false"),
            (0, "payload &str \"boom\""),
            (3, "panic true cancelled false"),
            (3, "payload String \"owned boom\""),
            (3, "panic true cancelled false"),
            (3, "payload u32 42"),
            (3, "try_into_panic of a cancelled task: cancelled true"),
            (5, "still running"),
        ])
    );
}

//! `tokio::process::Command`'s `output` and `status`, simulated as blocking
//! work that waits for the real program: against real tokio (paused; the
//! facade's blocking cost set to zero), then what only the simulation can
//! show: a sweep drops or expires the wait at the caller's line and finds
//! a counter left behind. (`spawn` fails to compile: the module's
//! `compile_fail` doctest.)
#![cfg(all(cancelsim, unix))]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::{Check, ViolationCode};

#[macro_use]
mod common;
use common::Log;
use std::sync::Arc;

/// Runs `f` with the facade's blocking cost set to `cost`, then restores
/// the default.
fn at_blocking_cost<R>(cost: Duration, f: impl FnOnce() -> R) -> R {
    cancelsim_tokio::cancelsim::set_blocking_cost(cost);
    let out = f();
    cancelsim_tokio::cancelsim::set_blocking_cost(Duration::from_millis(1));
    out
}

#[test]
fn output_and_status_agree_with_tokio() {
    let (real, sim) = at_blocking_cost(Duration::ZERO, || {
        both!(|rt, log, start| async move {
            use rt::process::Command;
            let out = Command::new("sh")
                .args(["-c", "echo \"out $GREETING\"; pwd; echo err >&2; exit 3"])
                .env("GREETING", "hello")
                .current_dir("/")
                .output()
                .await
                .unwrap();
            note!(
                log,
                start,
                "output {:?} {:?} {:?}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            // `output` pipes stdout even when it was set to inherit.
            let out = Command::new("echo")
                .arg("piped")
                .stdout(std::process::Stdio::inherit())
                .output()
                .await
                .unwrap();
            note!(
                log,
                start,
                "forced {:?}",
                String::from_utf8_lossy(&out.stdout)
            );
            // `output` closes stdin unless it was set.
            let out = Command::new("cat").output().await.unwrap();
            note!(
                log,
                start,
                "stdin {:?} {:?}",
                out.status.success(),
                out.stdout
            );
            let status = Command::new("sh")
                .args(["-c", "exit 7"])
                .stdout(std::process::Stdio::null())
                .status()
                .await
                .unwrap();
            note!(log, start, "status {:?}", status.code());
            let mut cmd = Command::new("true");
            note!(
                log,
                start,
                "kill_on_drop {}",
                cmd.kill_on_drop(true).get_kill_on_drop()
            );
            let missing = Command::new("cancelsim-no-such-program").output().await;
            note!(
                log,
                start,
                "missing {:?}",
                missing.map(|_| ()).unwrap_err().kind()
            );
        })
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 6);
    assert_eq!(
        sim[0].1, r#"output Some(3) "out hello\n/\n" "err\n""#,
        "the program's real output"
    );
}

/// A job runner that counts the jobs in flight around a program's run,
/// under a timeout: with the decrement after the await, an expiry there
/// leaves the count up; with a guard, it is clean.
async fn run_job(guarded: bool) {
    struct Decrement(Rc<Cell<u32>>);
    impl Drop for Decrement {
        fn drop(&mut self) {
            self.0.set(self.0.get() - 1);
        }
    }
    let in_flight = Rc::new(Cell::new(0u32));
    let job = async {
        in_flight.set(in_flight.get() + 1);
        let _guard = guarded.then(|| Decrement(Rc::clone(&in_flight)));
        let out = cancelsim_tokio::process::Command::new("echo")
            .arg("done")
            .output()
            .await;
        if !guarded {
            in_flight.set(in_flight.get() - 1);
        }
        out.map(|out| out.stdout)
    };
    let _ = cancelsim_tokio::time::timeout(Duration::from_secs(1), job).await;
    assert_eq!(in_flight.get(), 0, "a job still counted in flight");
}

#[test]
fn a_count_left_up_by_an_expired_program_wait_is_found_at_the_output_line() {
    let report = Check::new(|| run_job(false)).tokio_preset().run();
    let failures = report.failures();
    assert!(!failures.is_empty(), "{report}");
    let violation = &failures[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    let text = report.to_string();
    assert!(text.contains("a job still counted in flight"), "{text}");
    // The wait is named at the user's `.output()` line.
    let output_line = line_of(".output()\n            .await;\n        if !guarded");
    assert!(
        text.contains(&format!("tests/process.rs:{output_line}")),
        "line {output_line}: {text}"
    );
    // Found by the expiry, and by the program held past the deadline (a
    // stall of the task that waits for it), which the report may show
    // first.
    assert!(
        report
            .failures()
            .iter()
            .any(|f| f.repro().to_string().contains("timeout@")),
        "{text}"
    );
}

#[test]
fn a_count_kept_by_a_guard_is_clean() {
    let report = Check::new(|| run_job(true)).tokio_preset().run();
    report.assert_clean();
    assert!(
        report.counts().per_kind["timeout"] > 0,
        "the program's wait was swept: {report}"
    );
}

/// A future of `output` dropped before its first poll does not leave its
/// program running when `kill_on_drop` is set: the program would create a
/// file a moment later.
#[test]
fn an_output_dropped_before_its_poll_kills_the_program_on_kill_on_drop() {
    let dir = std::env::temp_dir().join(format!("cancelsim-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("marker");
    let script = format!("sleep 0.3; touch {}", marker.display());
    let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    sim.block_on(async {
        let future = cancelsim_tokio::process::Command::new("sh")
            .args(["-c", &script])
            .kill_on_drop(true)
            .output();
        drop(future);
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let created = marker.exists();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!created, "the program ran on after its future was dropped");
}

#[test]
fn same_seed_same_trace_with_programs() {
    let run = |seed: u64| {
        let config = cancelsim::Config::default()
            .seed(seed)
            .scheduler(cancelsim::SchedulerKind::Random);
        let mut sim = cancelsim::Sim::new(config);
        let out = sim
            .block_on(async move {
                let a = cancelsim_tokio::spawn(async {
                    cancelsim_tokio::process::Command::new("echo")
                        .arg("a")
                        .output()
                        .await
                        .unwrap()
                        .stdout
                });
                let b = cancelsim_tokio::process::Command::new("true")
                    .status()
                    .await;
                (b.unwrap().success(), a.await.unwrap())
            })
            .unwrap();
        (sim.trace().to_string(), out)
    };
    let (trace, out) = run(3);
    assert!(trace.contains("blocking"), "{trace}");
    assert_eq!(out, (true, b"a\n".to_vec()));
    assert_eq!(run(3), (trace, out));
}

/// The 1-based line of this file where `needle` starts.
fn line_of(needle: &str) -> usize {
    let source = include_str!("process.rs");
    let at = source.find(needle).expect("needle in this file");
    source[..at].lines().count()
}

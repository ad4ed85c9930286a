//! A real signal that reaches a test process of the simulation build, of a
//! kind the simulation listens to (trial 16: tokio-graceful-shutdown's
//! tests send themselves SIGINT), is announced on stderr with what to do
//! before it ends the process as the signal's default action would —
//! where it used to end the test binary without a word. The test runs
//! itself as a child process that receives the signal. (Only with `--cfg
//! cancelsim`, on unix.)
#![cfg(all(cancelsim, unix))]

use std::process::Command;
use std::time::Duration;

/// Set in the child: it listens, then sends its own process SIGTERM.
const CHILD: &str = "CANCELSIM_TEST_REAL_SIGNAL_CHILD";

#[test]
fn a_real_signal_is_announced_before_it_ends_the_process() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_real_signal_is_announced_before_it_ends_the_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("received a real SIGTERM (signal 15)"),
        "{stderr}"
    );
    assert!(stderr.contains("tokio::cancelsim::fire_signal"), "{stderr}");
    assert!(!stderr.contains("SIGCHLD"), "{stderr}");
    // Ended by the signal, as without a handler.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(output.status.signal(), Some(15), "{:?}", output.status);
}

/// Simulated SIGTERM and SIGCHLD listeners, a real child process that ends,
/// then a real SIGTERM to this process; the process must end before the
/// wait does.
fn child() {
    let runtime = cancelsim_tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let _listener = cancelsim_tokio::signal::unix::signal(
            cancelsim_tokio::signal::unix::SignalKind::terminate(),
        )
        .unwrap();
        let _children = cancelsim_tokio::signal::unix::signal(
            cancelsim_tokio::signal::unix::SignalKind::child(),
        )
        .unwrap();
    });
    // A real child process ends: its SIGCHLD (ignored by default) is no
    // business of the watcher, which must still be there for SIGTERM.
    Command::new("true").status().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let pid = std::process::id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_secs(10));
}

//! Real signals that reach a test process of the simulation build. The
//! simulated `signal::unix` and `ctrl_c` install no OS handler: they see
//! only the test's `fire_signal` and `fire_ctrl_c`. A test that sends its
//! own process a real signal (`kill(getpid(), SIGINT)`, as a test of a
//! service's signal handling on real tokio does) would kill the test
//! binary without a word, losing the reports of the tests that ran before.
//! Once a simulated listener of a kind exists, a real delivery of it is
//! announced on stderr, saying what to do, before the process ends as the
//! signal's default action would end it (a Ctrl-C at the terminal still
//! stops the tests).

use std::collections::BTreeSet;
use std::os::raw::c_int;
use std::sync::Mutex;

use signal_hook::iterator::{Handle, Signals};
use signal_hook::low_level::{emulate_default_handler, signal_name};

/// The kinds watched, and the handle that adds more.
static WATCHED: Mutex<(BTreeSet<c_int>, Option<Handle>)> = Mutex::new((BTreeSet::new(), None));

/// The signals watched: those whose default action ends the process and
/// that a test (or a terminal, or CI) sends. Others are left alone: a
/// handler for a signal whose default is to be ignored (`SIGCHLD` from a
/// real child process, `SIGWINCH`) or that Rust's runtime ignores
/// (`SIGPIPE`) would turn a harmless delivery into the end of the process.
const ENDS_THE_PROCESS: [c_int; 7] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGALRM,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// Watches for real deliveries of `signum` (once per kind and process),
/// when its default action ends the process.
pub(crate) fn watch(signum: c_int) {
    if !ENDS_THE_PROCESS.contains(&signum) {
        return;
    }
    let mut watched = WATCHED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !watched.0.insert(signum) {
        return;
    }
    if let Some(handle) = &watched.1 {
        let _ = handle.add_signal(signum);
        return;
    }
    let Ok(mut signals) = Signals::new([signum]) else {
        return;
    };
    watched.1 = Some(signals.handle());
    let spawned = std::thread::Builder::new()
        .name("cancelsim-real-signals".to_string())
        .spawn(move || {
            for signum in signals.forever() {
                eprintln!("{}", announcement(signum));
                // Ends the process (every watched kind's default does).
                let _ = emulate_default_handler(signum);
            }
        });
    if spawned.is_err() {
        watched.1 = None;
    }
}

/// What a real delivery of `signum` says.
fn announcement(signum: c_int) -> String {
    let name = signal_name(signum).unwrap_or("a signal");
    format!(
        "cancelsim-tokio: the test process received a real {name} (signal {signum}): sent by a \
         test to its own process (`kill(getpid(), ..)`) or from outside (Ctrl-C). In the \
         simulation build `tokio::signal` sees only the signals a test fires with \
         `tokio::cancelsim::fire_signal(..)` / `fire_ctrl_c()`: fire it that way in the test \
         (or keep a test that sends real signals under `#[cfg(not(cancelsim))]`). The process \
         now ends as {name} ends it"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_announcement_names_the_signal_and_the_way_to_fire_it() {
        let text = super::announcement(libc::SIGTERM);
        assert!(text.contains("real SIGTERM (signal 15)"), "{text}");
        assert!(text.contains("tokio::cancelsim::fire_signal"), "{text}");
    }

    #[test]
    fn only_signals_that_end_the_process_are_watched() {
        for ends in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGUSR1] {
            assert!(super::ENDS_THE_PROCESS.contains(&ends), "{ends}");
        }
        for harmless in [libc::SIGCHLD, libc::SIGWINCH, libc::SIGPIPE, libc::SIGCONT] {
            assert!(!super::ENDS_THE_PROCESS.contains(&harmless), "{harmless}");
        }
    }
}

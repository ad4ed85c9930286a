//! `tokio::signal`, simulated: no OS signal reaches a simulation; the test
//! fires them. `ctrl_c()` completes when the test calls
//! [`fire_ctrl_c`](crate::cancelsim::fire_ctrl_c) in the same simulation;
//! on unix, a [`unix::Signal`] receives each
//! [`fire_signal`](crate::cancelsim::fire_signal) of its kind (Ctrl-C is
//! `SIGINT`: either call fires both). A real signal of a kind listened to
//! is announced on stderr before the process ends (`real.rs`).

use std::cell::Cell;
use std::sync::Arc;

use tokio::sync::Notify;

#[cfg(unix)]
mod real;
#[cfg(unix)]
pub mod unix;

thread_local! {
    /// The simulation in which Ctrl-C was last fired.
    static FIRED_IN: Cell<Option<u64>> = const { Cell::new(None) };
    static NOTIFY: Arc<Notify> = Arc::new(Notify::new());
}

/// Fires Ctrl-C in the caller's simulation (and `SIGINT` on unix).
pub(crate) fn fire() {
    fire_ctrl_c_only();
    #[cfg(unix)]
    unix::deliver(unix::SignalKind::interrupt());
}

/// Completes the pending and future `ctrl_c()` of the caller's simulation.
fn fire_ctrl_c_only() {
    FIRED_IN.with(|fired| fired.set(::cancelsim::simulation_id()));
    NOTIFY.with(|notify| notify.notify_waiters());
}

fn fired() -> bool {
    let here = ::cancelsim::simulation_id();
    here.is_some() && FIRED_IN.with(Cell::get) == here
}

/// Completes once the test has called
/// [`fire_ctrl_c`](crate::cancelsim::fire_ctrl_c) (or, on unix,
/// `fire_signal(SignalKind::interrupt())`) in this simulation, before or
/// after this call.
pub async fn ctrl_c() -> std::io::Result<()> {
    crate::task::require_runtime();
    #[cfg(unix)]
    real::watch(libc::SIGINT);
    let notify = NOTIFY.with(Arc::clone);
    loop {
        let notified = notify.notified();
        if fired() {
            return Ok(());
        }
        notified.await;
    }
}

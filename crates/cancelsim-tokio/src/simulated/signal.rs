//! `tokio::signal`, simulated: `ctrl_c()` completes when the test fires it
//! ([`fire_ctrl_c`](crate::cancelsim::fire_ctrl_c)) in the same simulation.

use std::cell::Cell;
use std::sync::Arc;

use tokio::sync::Notify;

thread_local! {
    /// The simulation in which Ctrl-C was last fired.
    static FIRED_IN: Cell<Option<u64>> = const { Cell::new(None) };
    static NOTIFY: Arc<Notify> = Arc::new(Notify::new());
}

pub(crate) fn fire() {
    FIRED_IN.with(|fired| fired.set(::cancelsim::simulation_id()));
    NOTIFY.with(|notify| notify.notify_waiters());
}

fn fired() -> bool {
    let here = ::cancelsim::simulation_id();
    here.is_some() && FIRED_IN.with(Cell::get) == here
}

/// Completes once the test has called
/// [`fire_ctrl_c`](crate::cancelsim::fire_ctrl_c) in this simulation.
pub async fn ctrl_c() -> std::io::Result<()> {
    crate::task::require_runtime();
    let notify = NOTIFY.with(Arc::clone);
    loop {
        let notified = notify.notified();
        if fired() {
            return Ok(());
        }
        notified.await;
    }
}

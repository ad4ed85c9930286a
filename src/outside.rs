//! Timers kept outside the simulation: a clock of another runtime whose
//! timers wake simulated tasks (real tokio's, when a dependency compiled
//! against real tokio makes a timer inside a simulated run).
//!
//! The simulation's clock jumps to its next timer when every task waits.
//! A timer it does not know — one kept by another runtime's driver, armed
//! with a simulated task's waker — would then never fire, or fire at the
//! wrong instant. An [`OutsideTimers`] installed in a run ([`install`]) is
//! asked each time the simulation is idle, before its clock moves: it runs
//! its own timers up to the simulation's next deadline and says when one
//! of them woke a simulated task, which is then the simulation's time.
//! Nothing else changes: every choice is still the scheduler's, and the
//! outside clock only moves when the simulation's would.
//!
//! ```
//! use std::time::Duration;
//! use cancelsim::outside::{Idle, OutsideTimers};
//!
//! /// One outside timer at 7 ms, waking the task that armed it.
//! struct OneTimer(std::rc::Rc<std::cell::RefCell<Option<std::task::Waker>>>);
//!
//! impl OutsideTimers for OneTimer {
//!     fn idle(&mut self, idle: &Idle<'_>) -> Option<Duration> {
//!         let at = Duration::from_millis(7);
//!         if idle.until().is_some_and(|until| until < at) {
//!             return None; // the simulation's own timer comes first
//!         }
//!         self.0.borrow_mut().take()?.wake();
//!         idle.woken().then_some(at)
//!     }
//! }
//!
//! let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
//! let at = sim.block_on(async {
//!     let slot = std::rc::Rc::new(std::cell::RefCell::new(None));
//!     assert!(cancelsim::outside::install(Box::new(OneTimer(slot.clone()))));
//!     // Wait for the outside timer, as a dependency's future would.
//!     let mut armed = false;
//!     std::future::poll_fn(|cx| {
//!         if armed {
//!             return std::task::Poll::Ready(());
//!         }
//!         armed = true;
//!         *slot.borrow_mut() = Some(cx.waker().clone());
//!         std::task::Poll::Pending
//!     })
//!     .await;
//!     cancelsim::time::Instant::now().since_start()
//! });
//! assert_eq!(at.unwrap(), Duration::from_millis(7));
//! ```

pub use crate::vocab::{Idle, OutsideTimers};

/// Installs `timers` in the running simulation, asked each time it is idle
/// until the run's tasks are dropped (it is dropped after them). False
/// outside a simulation, or when one is installed already (`timers` is then
/// dropped).
pub fn install(timers: Box<dyn OutsideTimers>) -> bool {
    crate::world::try_with(|world| world.install_outside(timers)).unwrap_or(false)
}

/// Is an [`OutsideTimers`] installed in the running simulation?
pub fn installed() -> bool {
    crate::world::try_with(|world| world.has_outside()).unwrap_or(false)
}

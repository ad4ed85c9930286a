//! The program's own cooperative cancellation, registered for the harness
//! to fire.

/// Registers the program's own cooperative cancellation — what its code
/// listens to — as the signal a sweep fires
/// ([`Check::signal_at_every_await`](crate::Check::signal_at_every_await)):
/// a closure that calls `token.cancel()` on a tokio-util
/// `CancellationToken`, sends on a shutdown channel, or sets a watch.
/// Code that cannot see cancelsim's own cancel requests (tokio code) is
/// swept for cooperative shutdown this way: one run per await point of
/// every task, the signal fired there, then every user task alive at that
/// moment must finish within the grace budget (`cancel-ignored` names a
/// task that does not, or that the program had to abort).
///
/// The first registration of a run counts; the signal fires at most once
/// per run. A call outside a simulation does nothing, so the same test also
/// runs on a real runtime.
///
/// ```
/// use std::time::Duration;
/// use cancelsim::{cancel::register_signal, time, Check};
/// use futures::channel::oneshot;
///
/// let report = Check::new(|| async {
///     let (stop, stopped) = oneshot::channel::<()>();
///     let stop = std::cell::Cell::new(Some(stop));
///     register_signal(move || drop(stop.take()));
///     let worker = cancelsim::spawn(async move {
///         let mut stopped = stopped;
///         loop {
///             // Correct: the worker listens for the signal while it waits.
///             let tick = std::pin::pin!(time::sleep(Duration::from_millis(10)));
///             match futures::future::select(tick, &mut stopped).await {
///                 futures::future::Either::Left(_) => {}
///                 futures::future::Either::Right(_) => return,
///             }
///         }
///     });
///     time::sleep(Duration::from_millis(35)).await;
///     worker.abort(); // the end of the test: whatever still runs is stopped
/// })
/// .signal_at_every_await(true)
/// .run();
/// report.assert_clean();
/// assert!(report.counts().per_kind["signal"] > 0);
/// ```
pub fn register_signal(signal: impl FnOnce() + 'static) {
    crate::world::try_with(|world| world.register_signal(Box::new(signal)));
}

/// Sets this run's grace time: how long a task may take to end after a
/// cancel request or the program's signal before it is `cancel-ignored`
/// (default [`Config::grace_time`](crate::Config::grace_time), 1 s). A
/// service designed to drain in-flight work within 5 s says so where its
/// test registers the signal. A call outside a simulation does nothing.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use cancelsim::{cancel, time, Check};
///
/// // A worker that takes 3 s to drain after the signal.
/// let drains_in_3s = || async {
///     cancel::set_grace_time(Duration::from_secs(5));
///     let (stop, stopped) = futures::channel::oneshot::channel::<()>();
///     let stop = Rc::new(Cell::new(Some(stop)));
///     cancel::register_signal({
///         let stop = Rc::clone(&stop);
///         move || drop(stop.take())
///     });
///     let worker = cancelsim::spawn(async move {
///         // Until the signal (or an hour, so that the baseline ends).
///         let _ = time::timeout(Duration::from_secs(3600), stopped).await;
///         time::sleep(Duration::from_secs(3)).await; // draining
///     });
///     time::sleep(Duration::from_millis(10)).await;
///     drop(stop.take()); // the test's own shutdown
///     worker.await.unwrap();
/// };
/// Check::new(drains_in_3s).signal_at_every_await(true).run().assert_clean();
/// ```
pub fn set_grace_time(time: std::time::Duration) {
    crate::world::try_with(|world| world.set_grace_time(crate::vocab::nanos(time)));
}

//! `cancelsim::outside`: timers of another runtime, armed with simulated
//! tasks' wakers, fire at their instant on the virtual clock — between the
//! simulation's own timers, never past one — and the world is idle only
//! once they are done. Same seed, same trace; seeds order the tasks they
//! wake together; the outside timers are dropped after the run's tasks.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use cancelsim::outside::{Idle, OutsideTimers};
use cancelsim::time::{sleep, Instant};
use cancelsim::{spawn, Config, SchedulerKind, Sim, SimError};

/// A timer wheel outside the simulation: deadlines since the start, and
/// the wakers armed there.
#[derive(Clone, Default)]
struct Wheel(Rc<RefCell<Vec<(Duration, Waker)>>>);

/// Each `idle` call: (now, until) as the simulation said.
type Calls = Rc<RefCell<Vec<(Duration, Option<Duration>)>>>;

/// Fires the wheel's earliest timers up to the simulation's next own one.
struct Driver {
    wheel: Wheel,
    calls: Calls,
    dropped: Rc<Cell<bool>>,
}

impl OutsideTimers for Driver {
    fn idle(&mut self, idle: &Idle<'_>) -> Option<Duration> {
        self.calls.borrow_mut().push((idle.now(), idle.until()));
        let mut timers = self.wheel.0.borrow_mut();
        let at = timers.iter().map(|(at, _)| *at).min()?;
        if idle.until().is_some_and(|until| until < at) {
            return None;
        }
        let (due, later): (Vec<_>, Vec<_>) = timers.drain(..).partition(|(when, _)| *when == at);
        *timers = later;
        drop(timers);
        for (_, waker) in due {
            waker.wake();
        }
        idle.woken().then_some(at)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.dropped.set(true);
    }
}

/// A dependency's sleep on the outside wheel: ready once its deadline
/// passed on the virtual clock.
struct OutsideSleep {
    wheel: Wheel,
    at: Duration,
}

impl Future for OutsideSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now().since_start() >= self.at {
            return Poll::Ready(());
        }
        self.wheel
            .0
            .borrow_mut()
            .push((self.at, cx.waker().clone()));
        Poll::Pending
    }
}

struct Installed {
    wheel: Wheel,
    calls: Calls,
    dropped: Rc<Cell<bool>>,
}

fn install() -> Installed {
    let wheel = Wheel::default();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let dropped = Rc::new(Cell::new(false));
    assert!(cancelsim::outside::install(Box::new(Driver {
        wheel: wheel.clone(),
        calls: Rc::clone(&calls),
        dropped: Rc::clone(&dropped),
    })));
    assert!(cancelsim::outside::installed());
    Installed {
        wheel,
        calls,
        dropped,
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn outside_timers_fire_between_the_simulations_own_at_their_instant() {
    let mut sim = Sim::new(Config::default());
    let (log, calls) = sim
        .block_on(async {
            let outside = install();
            let log = Rc::new(RefCell::new(Vec::new()));
            let (l, wheel) = (Rc::clone(&log), outside.wheel.clone());
            let dep = spawn(async move {
                OutsideSleep { wheel, at: ms(15) }.await;
                l.borrow_mut()
                    .push(("outside 15", Instant::now().since_start()));
            });
            let l = Rc::clone(&log);
            let own = spawn(async move {
                sleep(ms(10)).await;
                l.borrow_mut()
                    .push(("own 10", Instant::now().since_start()));
                sleep(ms(10)).await;
                l.borrow_mut()
                    .push(("own 20", Instant::now().since_start()));
            });
            let _ = (dep.await, own.await);
            (log.take(), outside.calls.take())
        })
        .unwrap();
    assert_eq!(
        log,
        [
            ("own 10", ms(10)),
            ("outside 15", ms(15)),
            ("own 20", ms(20))
        ]
    );
    // Asked up to the simulation's next own timer each time it was idle.
    assert_eq!(calls[0], (ms(0), Some(ms(10))));
    assert!(calls.contains(&(ms(10), Some(ms(20)))), "{calls:?}");
}

#[test]
fn without_a_wake_from_outside_a_wait_is_still_a_deadlock() {
    let mut sim = Sim::new(Config::default());
    let error = sim
        .block_on(async {
            let outside = install();
            // Armed past nothing: the wheel is empty, nothing wakes it.
            std::future::pending::<()>().await;
            drop(outside);
        })
        .unwrap_err();
    assert!(matches!(error, SimError::Deadlock { .. }), "{error}");
}

#[test]
fn a_second_install_is_refused_and_none_outside_a_simulation() {
    assert!(!cancelsim::outside::installed());
    let refused = cancelsim::outside::install(Box::new(Driver {
        wheel: Wheel::default(),
        calls: Rc::default(),
        dropped: Rc::default(),
    }));
    assert!(!refused);
    let mut sim = Sim::new(Config::default());
    sim.block_on(async {
        let _outside = install();
        let second = Driver {
            wheel: Wheel::default(),
            calls: Rc::default(),
            dropped: Rc::new(Cell::new(false)),
        };
        let dropped = Rc::clone(&second.dropped);
        assert!(!cancelsim::outside::install(Box::new(second)));
        assert!(dropped.get(), "a refused one is dropped at once");
    })
    .unwrap();
}

#[test]
fn the_outside_timers_are_dropped_after_the_runs_tasks() {
    /// Held by a task left waiting: checks, as it is dropped, that the
    /// outside timers were not dropped before it.
    struct Witness(Rc<Cell<bool>>, Rc<Cell<Option<bool>>>);
    impl Drop for Witness {
        fn drop(&mut self) {
            self.1.set(Some(self.0.get()));
        }
    }
    let seen = Rc::new(Cell::new(None));
    let dropped = {
        let mut sim = Sim::new(Config::default());
        let seen = Rc::clone(&seen);
        let dropped = sim
            .block_on(async move {
                let outside = install();
                let witness = Witness(Rc::clone(&outside.dropped), seen);
                let wheel = outside.wheel.clone();
                let _detached = spawn(async move {
                    let _witness = witness;
                    OutsideSleep { wheel, at: ms(50) }.await;
                });
                sleep(ms(1)).await;
                outside.dropped
            })
            .unwrap();
        assert!(!dropped.get(), "alive while the world is");
        dropped
    };
    assert!(dropped.get());
    assert_eq!(seen.get(), Some(false), "the task's future went first");
}

/// Four tasks, each woken by the outside wheel at the same instant, log
/// the order they ran in; with the run's trace.
fn together(seed: u64) -> (Vec<u32>, String) {
    let mut sim = Sim::new(
        Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random),
    );
    let order = sim
        .block_on(async {
            let outside = install();
            let log = Rc::new(RefCell::new(Vec::new()));
            let handles: Vec<_> = (0..4)
                .map(|n| {
                    let (l, wheel) = (Rc::clone(&log), outside.wheel.clone());
                    spawn(async move {
                        OutsideSleep { wheel, at: ms(5) }.await;
                        l.borrow_mut().push(n);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
            log.take()
        })
        .unwrap();
    (order, sim.trace().to_string())
}

#[test]
fn same_seed_same_trace_and_seeds_order_the_tasks_woken_together() {
    assert_eq!(together(3), together(3));
    let orders: std::collections::BTreeSet<Vec<u32>> =
        (0..16).map(|seed| together(seed).0).collect();
    assert!(orders.len() > 1, "every seed ran {orders:?}");
}

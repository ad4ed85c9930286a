//! `tokio::sync::Barrier`, with a deterministic wake order.
//!
//! tokio's barrier waits on its own `watch` channel, whose receivers tokio
//! spreads over eight waiter lists at random (see [`watch`](super::watch)):
//! which waiter of a generation runs first would change from run to run,
//! and the sweep would call correct code nondeterministic. Here the
//! waiting is one `Notify`, which wakes a generation's waiters in the order
//! they arrived; the rest is tokio's algorithm.

use std::sync::Mutex;

use tokio::sync::Notify;

/// A barrier for `n` tasks (tokio's `sync::Barrier`).
#[derive(Debug)]
pub struct Barrier {
    state: Mutex<State>,
    wake: Notify,
    n: usize,
}

#[derive(Debug)]
struct State {
    arrived: usize,
    generation: usize,
}

impl Barrier {
    /// A barrier that releases its waiters when `n` have called
    /// [`wait`](Self::wait); `n == 0` behaves as `n == 1`, as tokio's.
    pub fn new(n: usize) -> Barrier {
        Barrier {
            state: Mutex::new(State {
                arrived: 0,
                generation: 1,
            }),
            wake: Notify::new(),
            n: n.max(1),
        }
    }

    /// Waits until `n` tasks have called `wait` in this generation; the
    /// last to arrive is the leader. As tokio's: it arrives when first
    /// polled, and a `wait` dropped after that still counts.
    pub async fn wait(&self) -> BarrierWaitResult {
        let generation = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let generation = state.generation;
            state.arrived += 1;
            if state.arrived == self.n {
                state.arrived = 0;
                state.generation += 1;
                self.wake.notify_waiters();
                return BarrierWaitResult(true);
            }
            generation
        };
        loop {
            let notified = self.wake.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if state.generation > generation {
                    break;
                }
            }
            notified.await;
        }
        BarrierWaitResult(false)
    }
}

/// What [`Barrier::wait`] returns (tokio's `sync::BarrierWaitResult`).
#[derive(Debug, Clone)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the last to arrive (one per generation).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

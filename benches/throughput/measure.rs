//! Measuring: the plan, the sides alternated rep by rep, the medians, and
//! what a workload is.

use std::time::{Duration, Instant};

use crate::sizes::Sizes;

/// How to measure.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub(crate) sizes: Sizes,
    /// Timed repetitions per side (after one untimed warm-up unless quick).
    pub(crate) reps: usize,
    pub(crate) warm_up: bool,
}

/// Median wall times of `plan.reps` runs of each side, after a warm-up run
/// of each. The sides alternate rep by rep, so load from other processes on
/// the machine hits both alike.
pub(crate) fn measure<'a>(
    plan: Plan,
    cancelsim: Option<&'a mut (dyn FnMut() + 'a)>,
    tokio: Option<&'a mut (dyn FnMut() + 'a)>,
) -> Measured {
    let mut sides = [cancelsim, tokio];
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    if plan.warm_up {
        for run in sides.iter_mut().flatten() {
            run();
        }
    }
    for _ in 0..plan.reps {
        for (run, times) in sides.iter_mut().zip(&mut times) {
            if let Some(run) = run {
                let start = Instant::now();
                run();
                times.push(start.elapsed());
            }
        }
    }
    let [cancelsim, tokio] = times.map(|mut times| {
        times.sort();
        times.get(times.len() / 2).copied()
    });
    Measured { cancelsim, tokio }
}

/// The medians of one workload (None: that side was not run).
pub(crate) struct Measured {
    pub(crate) cancelsim: Option<Duration>,
    pub(crate) tokio: Option<Duration>,
}

/// One workload: its name, its unit and how to run each side once.
pub(crate) struct Workload<'a> {
    pub(crate) name: &'static str,
    pub(crate) what: String,
    /// Operations per run, to report time per operation.
    pub(crate) ops: usize,
    pub(crate) unit: &'static str,
    pub(crate) target: Target,
    pub(crate) cancelsim: Box<dyn FnMut() + 'a>,
    pub(crate) tokio: Box<dyn FnMut() + 'a>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    /// Informational only.
    None,
    /// cancelsim time / tokio time at most this.
    RatioAtMost(f64),
    /// cancelsim runs/s over tokio runs/s at least this.
    SpeedupAtLeast(f64),
}

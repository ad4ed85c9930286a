//! Single runs outside a sweep: one plan, or one baseline's await points.
//!
//! These are the building blocks for property tests
//! (`cancelsim::strategy`, feature `proptest`): a property picks a [`Repro`], runs it in
//! a fresh world with [`run_repro`] and looks at the outcome. The same
//! `Repro` and `Config` always give the same outcome, trace included.

use std::future::Future;

use super::run::run_once;
use super::Repro;
use crate::config::Config;
use crate::inject::{AwaitPoint, Injection};
use crate::oracle::{Violation, ViolationCode};
use crate::schedule::{Schedule, SchedulerKind};
use crate::trace::Trace;

/// What one run of one plan left behind.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunOutcome {
    /// The plan that was run.
    pub repro: Repro,
    /// What the oracles found (empty: the run was clean).
    pub violations: Vec<Violation>,
    /// The trace of the run.
    pub trace: Trace,
    /// Injections of the plan that fired.
    pub fired: Vec<Injection>,
    /// Injections of the plan whose await point was never reached.
    pub unfired: Vec<Injection>,
    /// The decisions the run took, the drain's included: a
    /// [`SchedulerKind::Replay`] of them (with the same injections) runs it
    /// again.
    pub schedule: Schedule,
}

impl RunOutcome {
    /// No violation.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// Does any violation have this code (e.g. [`ViolationCode::LeakedResource`])?
    pub fn has(&self, code: ViolationCode) -> bool {
        self.violations.iter().any(|v| v.kind() == code)
    }
}

/// Runs `body` once, in a fresh world, under `repro` (seed, scheduler,
/// injections) with the budgets of `config` (its seed and scheduler are
/// replaced), then the oracles.
///
/// ```
/// use cancelsim::{check::run_repro, Config, Repro, SchedulerKind};
///
/// let body = || async { cancelsim::yield_now().await };
/// let repro: Repro = "cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@0:1".parse().unwrap();
/// let outcome = run_repro(&body, &Config::default(), &repro);
/// assert!(outcome.is_clean());
/// assert_eq!(outcome.fired.len(), 1);
/// ```
pub fn run_repro<F, Fut>(body: &F, config: &Config, repro: &Repro) -> RunOutcome
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let result = run_once(body, config, repro, false);
    RunOutcome {
        repro: repro.clone(),
        violations: result.violations,
        trace: result.trace,
        fired: result.fired,
        unfired: result.unfired,
        schedule: result.schedule,
    }
}

/// The await points of `body`'s baseline run (no injection) under `seed`
/// and `scheduler`, in the order they were reached.
///
/// ```
/// use cancelsim::{check::await_points, Config, SchedulerKind};
///
/// let body = || async { cancelsim::yield_now().await; cancelsim::yield_now().await };
/// let points = await_points(&body, &Config::default(), 0, SchedulerKind::Fifo);
/// assert_eq!(points.len(), 2);
/// ```
pub fn await_points<F, Fut>(
    body: &F,
    config: &Config,
    seed: u64,
    scheduler: SchedulerKind,
) -> Vec<AwaitPoint>
where
    F: Fn() -> Fut,
    Fut: Future,
{
    run_once(body, config, &Repro::baseline(seed, scheduler), true).points
}

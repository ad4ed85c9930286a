//! proptest strategies for plans, schedulers and injections (feature
//! `proptest`, on by default).
//!
//! A property over cancellation plans reads:
//!
//! ```
//! use cancelsim::strategy::{arb_plan, await_points, run_plan};
//! use cancelsim::SchedulerKind;
//! use proptest::prelude::*;
//!
//! fn body() -> impl std::future::Future<Output = ()> {
//!     async {
//!         let conn = cancelsim::resource::acquire("db");
//!         cancelsim::yield_now().await;
//!         drop(conn);
//!     }
//! }
//!
//! proptest! {
//!     #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]
//!     // `#[test]` here in a test file
//!     fn no_plan_breaks_it(repro in arb_plan(await_points(&body, 0, SchedulerKind::Fifo), 0..64)) {
//!         run_plan(&body, &repro).check()?;
//!     }
//! }
//! # no_plan_breaks_it();
//! ```
//!
//! Shrinking moves toward the simplest failing plan, in this order: fewer
//! injections (the injections are a `vec` strategy, which shrinks by
//! removing elements), earlier await points (an index into the baseline's
//! await points in the order they were reached, which shrinks toward 0),
//! the simplest injection (`cancel-drop`, then `cancel-coop`, then
//! `timeout`; at suspension before on wake), the [`Fifo`](SchedulerKind::Fifo)
//! scheduler (`prop_oneof!` shrinks toward its first arm) and the lowest
//! seed of the range.
//!
//! proptest chooses the whole plan, seed included; cancelsim's seed then
//! drives the schedule of that run. So `PROPTEST_CASES` sets how many plans
//! are tried, `PROPTEST_RNG_SEED` fixes which plans are drawn, and a plan
//! (a [`Repro`]) always replays the same run, trace included, whatever
//! proptest's own seed was.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::check::{Repro, RunOutcome};
use crate::config::Config;
use crate::inject::{AwaitPoint, InjectAt, Injection, InjectionKind};
use crate::schedule::SchedulerKind;

/// The most injections [`arb_plan`] puts in one plan.
pub const MAX_INJECTIONS: usize = 3;

/// The built-in schedulers, shrinking toward `Fifo`: `Fifo`, `Random`,
/// `Pct` with a depth of 1 to 4.
pub fn arb_scheduler() -> impl Strategy<Value = SchedulerKind> {
    prop_oneof![
        Just(SchedulerKind::Fifo),
        Just(SchedulerKind::Random),
        (1u32..=4).prop_map(|depth| SchedulerKind::Pct { depth }),
    ]
}

/// Injection kinds, shrinking toward `CancelDrop`, then `CancelCooperative`,
/// then `Timeout`.
pub fn arb_injection_kind() -> impl Strategy<Value = InjectionKind> {
    prop_oneof![
        Just(InjectionKind::CancelDrop),
        Just(InjectionKind::CancelCooperative),
        Just(InjectionKind::Timeout),
    ]
}

/// When an injection lands, shrinking toward `Suspend`.
pub fn arb_inject_at() -> impl Strategy<Value = InjectAt> {
    prop_oneof![Just(InjectAt::Suspend), Just(InjectAt::Wake)]
}

/// Plans (seed, scheduler, up to [`MAX_INJECTIONS`] injections) over the
/// injectable `points` of a baseline run (see [`await_points`]), with seeds
/// from `seeds`. Shrinks toward no injection, earlier points, `Fifo` and
/// `seeds.start` (see the [module documentation](self)).
///
/// A `Timeout` drawn for a point that no `timeout` encloses becomes a
/// `CancelDrop`, and an injection on wake at a point the task was never woken
/// from lands at suspension instead, so that every injection drawn can fire.
///
/// # Panics
///
/// If `seeds` is empty.
pub fn arb_plan(points: Vec<AwaitPoint>, seeds: Range<u64>) -> impl Strategy<Value = Repro> {
    arb_plan_with(points, seeds, MAX_INJECTIONS)
}

/// [`arb_plan`] with at most `max_injections` injections per plan.
///
/// # Panics
///
/// If `seeds` is empty.
pub fn arb_plan_with(
    points: Vec<AwaitPoint>,
    seeds: Range<u64>,
    max_injections: usize,
) -> impl Strategy<Value = Repro> {
    assert!(
        !seeds.is_empty(),
        "arb_plan: the seed range {seeds:?} is empty; give at least one seed, e.g. 0..1"
    );
    let points: Arc<Vec<AwaitPoint>> =
        Arc::new(points.into_iter().filter(|p| p.injectable).collect());
    let max = if points.is_empty() { 0 } else { max_injections };
    let count = points.len().max(1);
    let injection = (0..count, arb_injection_kind(), arb_inject_at())
        .prop_map(move |(index, kind, at)| injection_at(&points[index], kind, at));
    (
        proptest::collection::vec(injection, 0..=max),
        arb_scheduler(),
        seeds,
    )
        .prop_map(|(injections, scheduler, seed)| Repro {
            seed,
            scheduler,
            injections,
            test: None,
        })
}

fn injection_at(point: &AwaitPoint, kind: InjectionKind, at: InjectAt) -> Injection {
    let kind = match kind {
        InjectionKind::Timeout if point.timeout.is_none() => InjectionKind::CancelDrop,
        InjectionKind::TimeoutOuter if point.outer_timeout.is_none() => InjectionKind::CancelDrop,
        kind => kind,
    };
    let at = if point.resumed { at } else { InjectAt::Suspend };
    Injection {
        task: point.task,
        point: point.ordinal,
        kind,
        at,
    }
}

/// The await points of `body`'s baseline run under `seed` and `scheduler`
/// (default budgets), to feed [`arb_plan`].
pub fn await_points<F, Fut>(body: &F, seed: u64, scheduler: SchedulerKind) -> Vec<AwaitPoint>
where
    F: Fn() -> Fut,
    Fut: Future,
{
    crate::check::await_points(body, &Config::sweep(), seed, scheduler)
}

/// Runs `body` once in a fresh world under `repro`, with the budgets
/// `Check` uses ([`Config::sweep`]), and returns the outcome; `.check()?`
/// it inside `proptest!`. For other budgets,
/// [`check::run_repro`](crate::check::run_repro) takes a [`Config`].
pub fn run_plan<F, Fut>(body: &F, repro: &Repro) -> RunOutcome
where
    F: Fn() -> Fut,
    Fut: Future,
{
    crate::check::run_repro(body, &Config::sweep(), repro)
}

impl RunOutcome {
    /// `Ok` if the run was clean; otherwise a proptest failure with every
    /// violation, the repro line and the run's trace.
    ///
    /// # Errors
    ///
    /// [`TestCaseError::Fail`] when any oracle found a violation.
    pub fn check(&self) -> Result<(), TestCaseError> {
        if self.is_clean() {
            return Ok(());
        }
        Err(TestCaseError::fail(self.failure_text()))
    }

    /// The failure message of [`check`](Self::check): violations, the repro
    /// line, the trace.
    pub fn failure_text(&self) -> String {
        let mut text = format!(
            "cancelsim: {} violation(s) under {}\n",
            self.violations.len(),
            self.repro
        );
        for violation in &self.violations {
            for line in violation.to_string().lines() {
                text.push_str("  ");
                text.push_str(line);
                text.push('\n');
            }
        }
        text.push_str(&format!(
            "replay: CANCELSIM_REPLAY='{}'\n{}",
            self.repro, self.trace
        ));
        text
    }
}

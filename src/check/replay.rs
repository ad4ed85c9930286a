//! `CANCELSIM_REPLAY`: a check runs exactly the one run its repro line
//! names, prints that run's trace and violations, and reports it.

use std::future::Future;

use super::run::{run_once, unfired_violation};
use super::seeds::Seeds;
use super::{counterfactual, failure, junit, report, Check, Report, Repro};
use crate::schedule::SchedulerKind;

/// What a replay that found nothing says: a replay is asked for to see a
/// failure, and one that does not come back is news, not a pass to keep
/// quiet about.
pub(crate) const CLEAN_REPLAY: &str = "the replayed run is clean: if a report gave it as a \
     failure, that failure does not reproduce here (fixed since, or it depended on state outside \
     the run: a `static`, a file, the wall clock, an environment variable); a line written by \
     hand may name a run that never failed";

impl<F, Fut> Check<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future,
{
    /// Runs `repro` once, as a sweep of one run.
    pub(super) fn replay(&self, mut repro: Repro) -> Report {
        // A custom scheduler comes back from a repro line as a name:
        // this check's own scheduler of that name replays it.
        if let (SchedulerKind::Custom(named), SchedulerKind::Custom(own)) =
            (&repro.scheduler, &self.scheduler)
        {
            if named.is_named_only() && named.name() == own.name() {
                repro.scheduler = self.scheduler.clone();
            }
        }
        let mut result = run_once(&*self.body, &self.config, &repro, false);
        // The same verdict as in the sweep, for the hints (a replayed
        // run is shown, never excused).
        let quiet = self.config.clone().trace(crate::config::TraceMode::Off);
        counterfactual::judge_expiry(&*self.body, &quiet, &repro, &[], &mut result, false);
        result.violations.extend(unfired_violation(&result.unfired));
        println!("cancelsim: replaying {repro}\n{}", result.trace);
        for violation in &result.violations {
            println!("{violation}");
        }
        if result.violations.is_empty() {
            println!("cancelsim: {CLEAN_REPLAY}");
        }
        let mut report = self.report_base();
        report.replay = Some(repro.clone());
        report.counts.runs = 1;
        report.counts.replayed = 1;
        report.seeds = Seeds::List(vec![repro.seed]);
        let failure = (!result.violations.is_empty())
            .then(|| report::junit_failure(&repro, &result.violations));
        let mut collector = failure::Collector::default();
        if failure.is_some() {
            collector.add(&repro, result.violations, Some(result.trace), None);
        }
        let (failures, groups, failed, _) = collector.finish(&repro.scheduler, &report.seeds);
        report.failures = failures;
        report.groups = groups;
        report.counts.failed_runs = failed;
        let mut cases = junit::CaseList::default();
        cases.add(format!("replay {repro}"), failure.is_some(), || {
            failure.expect("failed")
        });
        report.cases = cases.finish();
        report
    }
}

//! The counts of a sweep: runs by kind, baselines, failed and excused
//! runs, and what the report's header says about them.

use std::collections::BTreeMap;

/// Counts of a sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Baseline runs (one per seed, plus explored schedules).
    pub baselines: usize,
    /// Of the baselines, the schedules explored besides the seeds' own
    /// ([`Check::explore_schedules`](super::Check::explore_schedules)).
    pub explored: usize,
    /// Of the explored schedules, those whose await points the sweep
    /// also expires timeouts at (each reached waits the seeds' baselines
    /// did not: the schedule's timing, such as an I/O chunk delivered
    /// late, left a wait mid-way).
    pub explored_expiry_schedules: usize,
    /// Baselines run a second time, to check that the same plan gives the
    /// same run (a difference is a `nondeterminism` failure).
    pub determinism_reruns: usize,
    /// The one run of a `CANCELSIM_REPLAY` report (0 in a sweep's).
    pub replayed: usize,
    /// Await points found over all baselines.
    pub await_points: usize,
    /// Injectable await points (in the code under test, not in harness work).
    pub injectable_points: usize,
    /// Runs made in all (baselines included).
    pub runs: usize,
    /// Runs that failed, in all (the report keeps the first of each group
    /// and the first 100 with their traces, see [`Report::failures`](super::Report::failures)).
    pub failed_runs: usize,
    /// Failing runs whose violations belong to no group the report tells
    /// apart (past 1,000 groups).
    pub ungrouped_runs: usize,
    /// Runs per injection kind (single-injection runs).
    pub per_kind: BTreeMap<&'static str, usize>,
    /// Runs with a random multi-injection plan.
    pub random_plans: usize,
    /// Injected runs in the full plan (before the budget sampled it).
    pub planned_runs: usize,
    /// Planned runs left out by the runs budget (`max_runs`).
    pub sampled_out: usize,
    /// (task, await point, injection kind) tuples planned / exercised.
    pub tuples_planned: usize,
    /// Of those, how many fired in some run.
    pub tuples_covered: usize,
    /// Injected runs in which a task panicked only because it awaited a
    /// task the harness had aborted (`handle.await.unwrap()` on the
    /// `JoinError`): what an injected abort does, not a bug of the code, so
    /// not a failure.
    pub abort_consequences: usize,
    /// Injected runs in which the harness expired a `timeout` the test
    /// itself wrote around its own awaits ([`Config::test_file`](crate::Config::test_file))
    /// and the test failed in the same poll, on that `Err(Elapsed)`
    /// (`.expect("finishes in time")`, `assert!(r.is_ok())`): the test's
    /// own assertion about time, not a bug of the code, so not a failure.
    pub assertion_timeouts: usize,
    /// Injected runs whose timeout expiry failed the test, but which fail
    /// the same way when that timeout expires before its operation starts:
    /// the test checks the result the timeout decides, not state the
    /// expiry left half-done, so not a failure
    /// ([`Check::excuse_timeout_results`](super::Check::excuse_timeout_results)).
    pub timeout_results_excused: usize,
    /// The first of those, for the report: its failure's message, under
    /// the timeout at `file:line` (`under select! at file:line` for a
    /// `select!` against a timer).
    pub timeout_result_example: Option<String>,
    /// Counterfactual runs made: failing timeout injections (and stalls)
    /// run again with that timeout expired before its operation started,
    /// failing stalls one wait earlier (counted in [`Counts::runs`]).
    pub counterfactual_runs: usize,
    /// Injection kinds the check asked for by name (its cancel modes).
    pub requested: Vec<&'static str>,
    /// Runs in which an injection of each kind fired.
    pub fired_per_kind: BTreeMap<&'static str, usize>,
    /// (task, await point, injection kind) tuples in the full plan, before
    /// the budget sampled it.
    pub tuples_total: usize,
    /// Planned runs not run because the sweep stopped early (see
    /// [`Counts::stopped`]).
    pub not_run: usize,
    /// Why the sweep stopped before its planned runs ran out: its time
    /// budget, or a stuck poll (reported as a `stuck-poll` failure).
    pub stopped: Option<&'static str>,
    /// Swept seeds whose await points were not injected at: past the
    /// budget's worth of await points, later seeds run their baselines only.
    pub seeds_not_injected: usize,
    /// Seeds of the check's range left out: past the budget
    /// ([`Check::max_runs`](super::Check::max_runs)), a sweep takes the
    /// first seeds only.
    pub seeds_left_out: u64,
    /// Signal injections were asked for, but no baseline registered a
    /// signal (`cancel::register_signal`): cooperative shutdown was not swept.
    pub signal_unregistered: bool,
    /// Baselines in which a spawned task outlived the test body: still
    /// alive when the root ended, or stopped by the root's own locals as
    /// it ended (an abort-on-drop handle, a `JoinSet` dropped). Long-lived
    /// work (a service loop, a background ticker) that a shutdown signal
    /// would stop: the report mentions an unswept signal only then.
    pub long_lived_baselines: usize,
    /// Baselines that took long on the wall clock while their virtual
    /// clock ran far (over a second of wall time, over an hour of virtual
    /// time): the code likely bounds a loop by `std::time::Instant` (the
    /// wall clock) while it sleeps on the virtual one, so the loop spins
    /// through its sleeps until real time passes. A measurement of the
    /// machine, so it differs between machines and runs: it is not in the
    /// report's text or JSON (which a seed fixes); [`Check::run`](super::Check::run)
    /// prints its notice ([`Counts::wall_clock_notice`]) on stderr.
    pub wall_clock_runs: usize,
    /// The slowest of them: its wall-clock and virtual time.
    pub wall_clock_example: Option<(std::time::Duration, std::time::Duration)>,
}

/// A baseline that takes longer than this on the wall clock...
pub(crate) const WALL_CLOCK_RUN: std::time::Duration = std::time::Duration::from_secs(1);
/// ...while its virtual clock runs past this, is noted
/// ([`Counts::wall_clock_runs`]).
pub(crate) const VIRTUAL_RUNAWAY: std::time::Duration = std::time::Duration::from_secs(3600);

impl Counts {
    /// The notice for [`Counts::wall_clock_runs`], if any baseline took
    /// long on the wall clock while its virtual clock ran far.
    pub fn wall_clock_notice(&self) -> Option<String> {
        let (wall, virtual_time) = self.wall_clock_example?;
        Some(format!(
            "{} baseline run(s) took long on the wall clock while the virtual clock ran far \
             (the slowest: {:.1}s of wall time, {:.1}h of virtual time): the code likely bounds \
             a loop by `std::time::Instant` (the wall clock) while it sleeps on tokio's clock \
             (virtual here, as under tokio's paused test clock), so the loop runs through its \
             sleeps until real time passes; measure with `tokio::time::Instant`",
            self.wall_clock_runs,
            wall.as_secs_f64(),
            virtual_time.as_secs_f64() / 3600.0,
        ))
    }

    /// Notes a baseline that took `wall` on the wall clock and ended at
    /// `end` on the virtual one, if it looks as if the code waits on the
    /// wall clock (see [`Counts::wall_clock_runs`]).
    pub(crate) fn note_wall_clock(&mut self, wall: std::time::Duration, end: crate::time::Instant) {
        let virtual_time = std::time::Duration::from_nanos(end.as_nanos());
        if wall < WALL_CLOCK_RUN || virtual_time < VIRTUAL_RUNAWAY {
            return;
        }
        self.wall_clock_runs += 1;
        if self
            .wall_clock_example
            .is_none_or(|(slowest, _)| wall > slowest)
        {
            self.wall_clock_example = Some((wall, virtual_time));
        }
    }

    /// Counts a baseline run (`explored`: of a schedule explored besides
    /// the seeds' own), and its determinism re-run when it had one (a
    /// stuck baseline has none).
    pub(crate) fn add_baseline(&mut self, explored: bool, rerun: bool) {
        self.baselines += 1;
        self.explored += usize::from(explored);
        self.determinism_reruns += usize::from(rerun);
        self.runs += 1 + usize::from(rerun);
    }

    /// Counts an injected run: of a single injection of this kind, or of a
    /// random plan (`None`).
    pub(crate) fn add_injected(&mut self, kind: Option<&'static str>) {
        self.runs += 1;
        match kind {
            Some(kind) => *self.per_kind.entry(kind).or_default() += 1,
            None => self.random_plans += 1,
        }
    }

    /// Counts the counterfactual of a failing timeout injection (if it
    /// had one) and the excuse it gave; the first excuse is the report's
    /// example.
    pub(crate) fn judged(&mut self, judged: super::counterfactual::Judged) {
        self.counterfactual_runs += judged.ran;
        self.runs += judged.ran;
        if let Some(example) = judged.excused {
            self.timeout_results_excused += 1;
            self.timeout_result_example.get_or_insert(example);
        }
    }

    /// The runs of each kind, as the report's header names them: baselines,
    /// determinism re-runs, each injection kind's, random plans. They add
    /// up to [`Counts::runs`].
    pub fn runs_by_kind(&self) -> Vec<(&'static str, usize)> {
        let mut kinds = vec![
            ("baseline", self.baselines),
            ("determinism re-run", self.determinism_reruns),
        ];
        kinds.extend(self.per_kind.iter().map(|(kind, n)| (*kind, *n)));
        kinds.push(("random plan", self.random_plans));
        if self.counterfactual_runs > 0 {
            kinds.push(("counterfactual", self.counterfactual_runs));
        }
        if self.replayed > 0 {
            kinds.push(("replay", self.replayed));
        }
        kinds
    }
}

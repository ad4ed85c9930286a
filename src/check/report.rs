//! The result of a sweep: counts, coverage, failure groups, and the failing
//! runs it keeps with their repros and traces.

use std::fmt;

use serde_json::json;

use super::counts::Counts;
use super::failure::{violation_site, violation_title, FailureGroup};
use super::junit;
use super::seeds::Seeds;
use super::{Exploration, Failure, Repro};
use crate::inject::InjectionKind;
use crate::oracle::Violation;

/// The result of [`Check::run`](super::Check::run).
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) counts: Counts,
    pub(crate) failures: Vec<Failure>,
    pub(crate) groups: Vec<FailureGroup>,
    pub(crate) scheduler: String,
    pub(crate) seeds: Seeds,
    pub(crate) pct_bound: Option<f64>,
    pub(crate) shard: Option<(usize, usize)>,
    /// For JUnit, in plan order.
    pub(crate) cases: Vec<junit::Case>,
    /// Set when the report is of one `CANCELSIM_REPLAY` run.
    pub(crate) replay: Option<Repro>,
    /// What was checked (`Check::name`).
    pub(crate) name: Option<String>,
    /// A check of tokio code (its root ends as a tokio runtime shuts
    /// down, [`Check::tokio_preset`](super::Check::tokio_preset)): advice
    /// names the tokio facade's API, not cancelsim's.
    pub(crate) tokio: bool,
    /// Set by a bounded-exhaustive sweep.
    pub(crate) exploration: Option<Exploration>,
}

impl Report {
    /// No run found anything wrong.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty()
    }

    /// The first violation that is real tokio's "there is no reactor
    /// running" panic: code compiled against real tokio (not the
    /// `cancelsim-tokio` facade) made a timer or spawned a task inside a
    /// run.
    pub fn real_tokio_called(&self) -> Option<&Violation> {
        self.failures
            .iter()
            .flat_map(|failure| failure.violations())
            .find(|violation| crate::vocab::real_tokio::shows_real_tokio(violation))
    }

    /// The run this report replayed (`CANCELSIM_REPLAY`), or `None` for a
    /// sweep's report.
    pub fn replayed(&self) -> Option<&Repro> {
        self.replay.as_ref()
    }

    /// The failing runs the report keeps, in plan order, each with its
    /// trace: every one of the first 100, then the first of each new group
    /// (memory stays bounded however many runs fail; [`Counts::failed_runs`]
    /// counts them all, [`Report::failure_groups`] per group).
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// One entry per bug: failing runs grouped by violation code and where
    /// the violation is, sorted by code and place, with how many runs
    /// (and seeds) showed it and the first of them.
    pub fn failure_groups(&self) -> &[FailureGroup] {
        &self.groups
    }

    /// The counts.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// For a bounded-exhaustive sweep
    /// ([`Check::explore_exhaustively`](super::Check::explore_exhaustively)):
    /// how many schedules it ran and whether that was all of them.
    pub fn exploration(&self) -> Option<&Exploration> {
        self.exploration.as_ref()
    }

    /// For PCT: the probability bound `1/(n·k^(d-1))` per run of finding a
    /// bug of the chosen depth (n tasks, k steps of the largest baseline).
    pub fn pct_bound(&self) -> Option<f64> {
        self.pct_bound
    }

    /// Failures grouped by (violation code, where the violation is), as
    /// [`Report::failure_groups`], each with the indices of its kept
    /// failing runs in [`Report::failures`].
    pub fn groups(&self) -> Vec<(String, String, Vec<usize>)> {
        self.groups
            .iter()
            .map(|group| {
                let kept = self
                    .failures
                    .iter()
                    .enumerate()
                    .filter(|(_, failure)| {
                        failure
                            .violations
                            .iter()
                            .any(|v| v.code() == group.code && violation_site(v) == group.site)
                    })
                    .map(|(index, _)| index)
                    .collect();
                (group.code.clone(), group.site.clone(), kept)
            })
            .collect()
    }

    /// Panics with the report's text unless it is clean — and also when a
    /// cancellation mode the check asked for
    /// ([`Check::cancel_at_every_await`](super::Check::cancel_at_every_await))
    /// fired in no run: a sweep that injected nothing proves nothing.
    #[track_caller]
    pub fn assert_clean(&self) {
        if !self.is_clean() {
            panic!("{self}");
        }
        let silent: Vec<&str> = self
            .counts
            .requested
            .iter()
            .copied()
            .filter(|kind| self.counts.fired_per_kind.get(kind).copied().unwrap_or(0) == 0)
            .collect();
        if self.replay.is_none() && !silent.is_empty() {
            panic!(
                "{self}\ncancelsim: the sweep injected no {} although asked to: {} \
                 (a body that never suspends, or await points the harness cannot reach, \
                 proves nothing about cancellation)",
                silent.join(" and no "),
                if self.counts.injectable_points == 0 {
                    "the body has no await point to inject at"
                } else if self.counts.sampled_out > 0 || self.counts.stopped.is_some() {
                    "the budget left those runs out (raise max_runs / CANCELSIM_MAX_RUNS, or the time budget)"
                } else {
                    "no planned injection of that kind fired"
                }
            );
        }
    }

    /// The report as JSON (for tools and CI): the counts, every failure
    /// group, and the failing runs kept.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.json_value()).expect("JSON of plain values")
    }

    /// [`Report::to_json`] as a value (the CLI embeds it per scenario).
    pub(crate) fn json_value(&self) -> serde_json::Value {
        let failures: Vec<_> = self.failures.iter().map(failure_json).collect();
        json!({
            "clean": self.is_clean(),
            "scheduler": self.scheduler,
            "seeds": self.seeds.to_json(),
            "shard": self.shard.map(|(k, n)| json!({"index": k, "count": n})),
            "counts": {
                "baselines": self.counts.baselines,
                "explored": self.counts.explored,
                "determinism_reruns": self.counts.determinism_reruns,
                "await_points": self.counts.await_points,
                "injectable_points": self.counts.injectable_points,
                "runs": self.counts.runs,
                "failed_runs": self.counts.failed_runs,
                "per_kind": self.counts.per_kind,
                "random_plans": self.counts.random_plans,
                "sampled_out": self.counts.sampled_out,
                "seeds_left_out": self.counts.seeds_left_out,
                "tuples_planned": self.counts.tuples_planned,
                "tuples_covered": self.counts.tuples_covered,
                "abort_consequences": self.counts.abort_consequences,
                "assertion_timeouts": self.counts.assertion_timeouts,
                "counterfactual_runs": self.counts.counterfactual_runs,
                "timeout_results_excused": self.counts.timeout_results_excused,
                "timeout_result_example": self.counts.timeout_result_example,
                "long_lived_baselines": self.counts.long_lived_baselines,
            },
            "pct_bound": self.pct_bound,
            "exploration": self.exploration.as_ref().map(|e| json!({
                "exhausted": e.is_exhausted(),
                "schedules": e.schedules(),
                "max_deviations": e.max_deviations(),
                "programs": e.programs(),
                "programs_explored": e.programs_explored(),
                "stopped_by": e.stopped_by(),
            })),
            "groups": self.groups_json(),
            "failures": failures,
        })
    }

    /// Every failure group: code, place, runs, seeds, and its first
    /// failing run (repro and violations).
    pub(crate) fn groups_json(&self) -> serde_json::Value {
        json!(self
            .groups
            .iter()
            .map(|group| json!({
                "code": group.code,
                "site": group.site,
                "runs": group.runs,
                "seeds": group.seeds,
                "explored_schedules": group.explored,
                "first": failure_json(&self.failures[group.first]),
            }))
            .collect::<Vec<_>>())
    }

    /// The report as JUnit XML: one testcase per await point × injection
    /// kind (plus one per baseline and random plan).
    pub fn to_junit(&self) -> String {
        junit::suite("cancelsim", &self.cases)
    }
}

/// A failing run as a JUnit `<failure>`: its codes, its violations and repro.
pub(crate) fn junit_failure(repro: &Repro, violations: &[Violation]) -> (String, String) {
    let codes: Vec<&str> = violations.iter().map(Violation::code).collect();
    let body: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
    (
        codes.join(", "),
        format!("{}\nrepro: {repro}", body.join("\n")),
    )
}

fn failure_json(failure: &Failure) -> serde_json::Value {
    let races = super::failure::races_after_injection(failure);
    json!({
        "repro": failure.repro.to_string(),
        "await_point": failure.point_label,
        "then": races.first(),
        "then_all": races,
        "violations": failure.violations.iter().map(|v| json!({
            "code": v.code(),
            "task": v.task_label(),
            "await_point": v.await_point(),
            "location": v.location(),
            "injection": v.injection().map(|i| i.to_string()),
            "message": v.message(),
            "hint": v.hint(),
        })).collect::<Vec<_>>(),
    })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        if let Some(repro) = &self.replay {
            writeln!(
                f,
                "cancelsim replay of {repro}: {}",
                if self.is_clean() { "clean" } else { "FAILED" }
            )?;
            for failure in &self.failures {
                for violation in &failure.violations {
                    for line in violation.to_string().lines() {
                        writeln!(f, "  {line}")?;
                    }
                }
            }
            return Ok(());
        }
        let name = match &self.name {
            Some(name) => format!(" {name}"),
            None => String::new(),
        };
        if self.is_clean() {
            writeln!(f, "cancelsim check{name}: clean ({} runs)", c.runs)?;
        } else {
            writeln!(
                f,
                "cancelsim check{name}: FAILED ({} of {} runs failed)",
                c.failed_runs, c.runs
            )?;
        }
        writeln!(
            f,
            "  {} await points ({} injectable) in {} baseline runs; runs: {}{}",
            c.await_points,
            c.injectable_points,
            c.baselines - c.explored,
            runs_breakdown(c),
            if c.sampled_out > 0 {
                format!(" ({} more left out by the budget)", c.sampled_out)
            } else {
                String::new()
            },
        )?;
        writeln!(
            f,
            "  coverage: {}/{} (task, await point, injection) tuples; scheduler {}, seeds {}{}",
            c.tuples_covered,
            c.tuples_planned,
            self.scheduler,
            self.seeds.describe(),
            match self.shard {
                Some((k, n)) => format!(", shard {k} of {n}"),
                None => String::new(),
            }
        )?;
        if c.sampled_out > 0 {
            let total = c.planned_runs;
            writeln!(
                f,
                "  sampled: the runs budget (max_runs, CANCELSIM_MAX_RUNS) took {} of {} planned runs, \
                 covering {} of {} (task, await point, injection) tuples (every tuple once first)",
                total - c.sampled_out,
                total,
                c.tuples_planned,
                c.tuples_total
            )?;
        }
        if let Some(exploration) = &self.exploration {
            writeln!(f, "  exhaustive: {exploration}")?;
        }
        if let Some(reason) = c.stopped {
            writeln!(
                f,
                "  stopped early: {reason}; {} planned run(s) not run",
                c.not_run
            )?;
        }
        if c.seeds_not_injected > 0 {
            writeln!(
                f,
                "  {} seed(s) ran their baselines only (past the budget's worth of await points)",
                c.seeds_not_injected
            )?;
        }
        if c.seeds_left_out > 0 {
            writeln!(
                f,
                "  seeds: the budget ran the first {} ({} more of the range left out; raise max_runs to run them)",
                self.seeds.len(),
                c.seeds_left_out
            )?;
        }
        if c.abort_consequences > 0 {
            writeln!(
                f,
                "  {} injected run(s) ended in a panic on the JoinError of a task the harness aborted \
                 (`handle.await.unwrap()`): what an abort does, not a bug, so not a failure",
                c.abort_consequences
            )?;
        }
        if c.assertion_timeouts > 0 {
            writeln!(
                f,
                "  {} injected run(s) expired a timeout the test itself asserts on (`timeout(..).await.expect(..)` \
                 or `assert!(..is_ok())` in the test): its assertion, not a bug, so not a failure",
                c.assertion_timeouts
            )?;
        }
        if c.timeout_results_excused > 0 {
            writeln!(
                f,
                "  {} timeout expir{} excused: the test fails the same way when the timed-out \
                 operation never started (it checks the result the timeout decides, not state \
                 the expiry left half-done — unless the code mishandles the expiry: keeps a \
                 role or lease it could not renew, loses a message moved into `timeout(.., \
                 tx.send(msg))`, marks a change seen before applying it and never retries it, \
                 stops when it falls behind (a `broadcast` receiver ending on `Lagged`); then \
                 make the test strict), e.g. {}",
                c.timeout_results_excused,
                if c.timeout_results_excused == 1 {
                    "y"
                } else {
                    "ies"
                },
                c.timeout_result_example.as_deref().unwrap_or("?")
            )?;
        }
        // Only where a signal could matter: a spawned task outlived the
        // body (a service loop a shutdown signal would have to stop).
        if c.signal_unregistered && c.long_lived_baselines > 0 {
            writeln!(
                f,
                "  no cancellation signal swept: the body registered none, and a spawned task \
                 outlived it (if the code has a shutdown signal, call {}(|| token.cancel()) in \
                 the test)",
                if self.tokio {
                    "tokio::cancelsim::register_signal"
                } else {
                    "cancelsim::cancel::register_signal"
                }
            )?;
        }
        if let Some(bound) = self.pct_bound {
            writeln!(
                f,
                "  PCT: each run finds a bug of the chosen depth with probability >= {bound:.2e}"
            )?;
        }
        if self.is_clean() {
            return Ok(());
        }
        for group in &self.groups {
            let first = &self.failures[group.first];
            let title = first
                .violations
                .iter()
                .find(|v| v.code() == group.code && violation_site(v) == group.site)
                .map_or_else(|| group.site.clone(), violation_title);
            writeln!(
                f,
                "\n{} in {} ({} run{}{}):",
                group.code,
                title,
                group.runs,
                if group.runs == 1 { "" } else { "s" },
                seen_with(group)
            )?;
            if let Some(point) = &first.point_label {
                // The program's signal is one moment of the run, not a
                // cancel of that task: it fired while the task waited there.
                let signal = first
                    .repro
                    .injections
                    .first()
                    .is_some_and(|injection| injection.kind == InjectionKind::Signal);
                if signal {
                    writeln!(
                        f,
                        "  first found with the program's signal fired at {point}"
                    )?;
                } else {
                    writeln!(f, "  first found at {point}")?;
                }
                for race in super::failure::races_after_injection(first) {
                    writeln!(f, "  then {race}")?;
                }
            }
            for violation in first
                .violations
                .iter()
                .filter(|v| v.code() == group.code && violation_site(v) == group.site)
            {
                for line in violation.to_string().lines() {
                    writeln!(f, "  {line}")?;
                }
            }
            writeln!(f, "  replay: CANCELSIM_REPLAY='{}'", first.repro)?;
        }
        if c.ungrouped_runs > 0 {
            writeln!(
                f,
                "\n{} more failing run(s) in further groups (past 1000 groups, counted only)",
                c.ungrouped_runs
            )?;
        }
        let first = self
            .groups
            .first()
            .map_or(&self.failures[0], |group| &self.failures[group.first]);
        writeln!(f, "\ntrace of the first failing run ({}):", first.repro)?;
        let note = format!(
            "the full trace: CANCELSIM_ARTIFACTS=<dir> writes it to a file, \
             or replay the run with CANCELSIM_REPLAY='{}'",
            first.repro
        );
        write!(f, "{}", first.trace.excerpt(TRACE_HEAD, TRACE_TAIL, &note))
    }
}

/// The header's runs, every kind named, and their sum: `1 baseline,
/// 1 determinism re-run, cancel-drop 6, 0 random plans (8 in all)`.
fn runs_breakdown(c: &Counts) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![if c.explored > 0 {
        format!(
            "{} baseline ({} for the seeds, {})",
            c.baselines,
            c.baselines - c.explored,
            plural(c.explored, "explored schedule", "explored schedules")
        ) + &if c.explored_expiry_schedules > 0 {
            format!(
                "; timeouts expired in {} of them too",
                c.explored_expiry_schedules
            )
        } else {
            String::new()
        }
    } else {
        format!("{} baseline", c.baselines)
    }];
    parts.push(plural(
        c.determinism_reruns,
        "determinism re-run",
        "determinism re-runs",
    ));
    let kinds: Vec<String> = [
        InjectionKind::CancelDrop,
        InjectionKind::CancelCooperative,
        InjectionKind::Timeout,
        InjectionKind::TimeoutOuter,
        InjectionKind::Signal,
        InjectionKind::Stall,
    ]
    .iter()
    .filter_map(|kind| {
        c.per_kind
            .get(kind.name())
            .map(|n| format!("{} {n}", kind.name()))
    })
    .collect();
    if kinds.is_empty() {
        parts.push("no injections".to_string());
    } else {
        parts.extend(kinds);
    }
    parts.push(format!("{} random plans", c.random_plans));
    if c.counterfactual_runs > 0 {
        parts.push(plural(
            c.counterfactual_runs,
            "counterfactual run",
            "counterfactual runs",
        ));
    }
    format!("{} ({} in all)", parts.join(", "), c.runs)
}

/// Events of the first failing run's trace a report shows from its start
/// and from its end: a run that hit the step limit has millions, which a
/// report must not print (the full trace stays in the artifacts and the
/// replay).
pub(crate) const TRACE_HEAD: usize = 200;

/// See [`TRACE_HEAD`].
pub(crate) const TRACE_TAIL: usize = 200;

/// How many seeds and explored schedules found a group, when more than
/// one run of it could differ: `, seen with 17 seeds`, `, seen with
/// 2 seeds and 3 explored schedules`, `, seen in 2 explored schedules`.
fn seen_with(group: &FailureGroup) -> String {
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    match (group.seeds, group.explored) {
        (0 | 1, 0) => String::new(),
        (seeds, 0) => format!(", seen with {seeds} seeds"),
        (0, explored) => format!(", seen in {}", plural(explored, "explored schedule")),
        (seeds, explored) => format!(
            ", seen with {} and {}",
            plural(seeds, "seed"),
            plural(explored, "explored schedule")
        ),
    }
}

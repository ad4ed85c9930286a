//! Failing runs and how a report keeps them: what it shows, in bounded
//! memory whatever the number of failing runs.
//!
//! A failing run belongs to one group per (violation code, where the
//! violation is): the same bug found by several runs — other injection
//! points, other seeds, other schedules — is one group. The report keeps,
//! with its trace, every failing run up to [`KEEP_FAILURES`], and past it
//! the first run of each new group (up to [`MAX_GROUPS`] groups); of every
//! other failing run it keeps only counts.

use std::collections::{BTreeMap, BTreeSet};

use super::Repro;
use crate::oracle::{Violation, ViolationCode};
use crate::trace::Trace;
use crate::vocab::TaskId;

/// Failing runs kept in full (repro, violations, trace) before only the
/// first of each new group is.
pub(crate) const KEEP_FAILURES: usize = 100;

/// Groups a report tells apart; failing runs of further groups are counted.
pub(crate) const MAX_GROUPS: usize = 1000;

/// Distinct seeds counted per group ("seen with N seeds").
const MAX_SEEDS_COUNTED: usize = 10_000;

/// One failing run: how to re-run it, what was wrong, what happened.
#[derive(Clone, Debug)]
pub struct Failure {
    pub(crate) repro: Repro,
    pub(crate) violations: Vec<Violation>,
    pub(crate) trace: Trace,
    pub(crate) point_label: Option<String>,
}

impl Failure {
    /// The one-line repro (`CANCELSIM_REPLAY=<repro>` re-runs it).
    pub fn repro(&self) -> &Repro {
        &self.repro
    }

    /// What the oracles found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The trace of the run.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Does any violation have this code?
    ///
    /// ```
    /// use cancelsim::{Check, ViolationCode};
    ///
    /// let report = Check::new(|| async { std::mem::forget(cancelsim::resource::acquire("db")) }).run();
    /// assert!(report.failures()[0].has(ViolationCode::LeakedResource));
    /// ```
    pub fn has(&self, code: ViolationCode) -> bool {
        self.violations.iter().any(|v| v.kind() == code)
    }
}

/// One bug as a report shows it: the failing runs whose violations share a
/// code and a place.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailureGroup {
    /// The violation code (`leaked-resource`, ...).
    pub code: String,
    /// Where: the task and the await point's source location, or for a
    /// panic, a deadlock or an invariant the task and the message's first
    /// line (digits masked, so runs that differ only in times agree).
    pub site: String,
    /// Failing runs in the group (all of them, kept or not).
    pub runs: usize,
    /// Distinct seeds of the sweep among them, run under its own
    /// scheduler (counted up to 10,000 with `explored`).
    pub seeds: usize,
    /// Distinct other schedules among them: the explored schedules
    /// (`Check::explore_schedules`; every schedule of
    /// `Check::explore_exhaustively`), each its own (seed, scheduler) pair.
    pub explored: usize,
    /// Index in [`Report::failures`](super::Report::failures) of its
    /// first failing run (kept with its trace).
    pub first: usize,
}

#[derive(Debug)]
struct GroupState {
    runs: usize,
    seeds: BTreeSet<(u64, String)>,
    first: usize,
}

/// Folds failing runs, in plan order, into what a report keeps.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    failures: Vec<Failure>,
    groups: BTreeMap<(String, String), GroupState>,
    /// Failing runs in all.
    failed_runs: usize,
    /// Failing runs none of whose violations has a group of its own (past
    /// [`MAX_GROUPS`]).
    ungrouped_runs: usize,
}

impl Collector {
    /// Would a failing run with these violations be kept (so its trace is
    /// worth recording)?
    pub fn keeps(&self, violations: &[Violation]) -> bool {
        self.failures.len() < KEEP_FAILURES
            || (self.groups.len() < MAX_GROUPS
                && violations
                    .iter()
                    .any(|v| !self.groups.contains_key(&group_key(v))))
    }

    /// Adds a failing run (its trace, when [`Collector::keeps`] said so);
    /// returns its index in the kept failures, if kept.
    pub fn add(
        &mut self,
        repro: &Repro,
        mut violations: Vec<Violation>,
        trace: Option<Trace>,
        point_label: Option<String>,
    ) -> Option<usize> {
        self.failed_runs += 1;
        if violations
            .iter()
            .any(crate::vocab::real_tokio::shows_real_tokio)
        {
            for violation in &mut violations {
                violation.real_tokio = true;
            }
        }
        let kept = trace.is_some().then_some(self.failures.len());
        let mut grouped = false;
        let mut seen = BTreeSet::new();
        for violation in &violations {
            let key = group_key(violation);
            if !seen.insert(key.clone()) {
                continue;
            }
            let room = self.groups.len() < MAX_GROUPS;
            let group = match self.groups.get_mut(&key) {
                Some(group) => group,
                None if room => match kept {
                    Some(first) => self.groups.entry(key).or_insert(GroupState {
                        runs: 0,
                        seeds: BTreeSet::new(),
                        first,
                    }),
                    None => continue,
                },
                None => continue,
            };
            grouped = true;
            group.runs += 1;
            if group.seeds.len() < MAX_SEEDS_COUNTED {
                group
                    .seeds
                    .insert((repro.seed, repro.scheduler.to_string()));
            }
        }
        if !grouped {
            self.ungrouped_runs += 1;
        }
        let trace = trace?;
        let mut failure = Failure {
            repro: repro.clone(),
            violations,
            trace,
            point_label,
        };
        let signal = repro
            .injections
            .first()
            .is_some_and(|injection| injection.kind == crate::InjectionKind::Signal);
        // The hint about cancel-safe branches: a branch dropped mid-way.
        if signal && races_after(&failure).1 {
            for violation in &mut failure.violations {
                violation.signal_race = true;
            }
        }
        self.failures.push(failure);
        kept
    }

    /// The kept failures, the groups (sorted by code and site), failing
    /// runs in all, and those in no group. A run of one of `seeds` under
    /// `scheduler` (the sweep's) counts as a seed; any other is an
    /// explored schedule (the sweep explores none that repeats a seed's).
    pub fn finish(
        self,
        scheduler: &crate::schedule::SchedulerKind,
        seeds: &super::seeds::Seeds,
    ) -> (Vec<Failure>, Vec<FailureGroup>, usize, usize) {
        let own = scheduler.to_string();
        let groups = self
            .groups
            .into_iter()
            .map(|((code, site), state)| {
                let seeds = state
                    .seeds
                    .iter()
                    .filter(|(seed, s)| *s == own && seeds.contains(*seed))
                    .count();
                FailureGroup {
                    code,
                    site,
                    runs: state.runs,
                    seeds,
                    explored: state.seeds.len() - seeds,
                    first: state.first,
                }
            })
            .collect();
        (self.failures, groups, self.failed_runs, self.ungrouped_runs)
    }
}

/// When the determinism check found state that outlives a run (a
/// `static` counter, a file), marks every failure's violations so that a
/// failure without an injection does not point only at the program: the
/// state a previous run of the sweep left may be what fails it.
pub(crate) fn note_state_kept(failures: &mut [Failure]) {
    let kept = failures
        .iter()
        .flat_map(|failure| &failure.violations)
        .any(crate::vocab::violation_hint::shows_state_kept);
    if kept {
        for violation in failures.iter_mut().flat_map(|f| &mut f.violations) {
            violation.state_kept = true;
        }
    }
}

pub(crate) fn group_key(violation: &Violation) -> (String, String) {
    (violation.code().to_string(), violation_site(violation))
}

/// Where a violation is, the same in every run that shows it (no task ids
/// of unnamed tasks past the first, no await point ordinals, no times).
pub(crate) fn violation_site(violation: &Violation) -> String {
    site(violation, true)
}

/// A group's title: its site as the first run showed it (numbers kept, so
/// that `no reload within 5s` reads as written).
pub(crate) fn violation_title(violation: &Violation) -> String {
    site(violation, false)
}

fn site(violation: &Violation, masked: bool) -> String {
    let task = match (&violation.task_name, violation.task) {
        (Some(name), _) => name.clone(),
        // Ids of unnamed tasks past the root differ from run to run (the
        // tasks of one spawn site are one group).
        (None, Some(task)) if masked && task != TaskId(0) => "#?".to_string(),
        (None, Some(task)) => task.to_string(),
        (None, None) => "the run".to_string(),
    };
    match violation.code {
        // Times in its message differ; the task is where it is.
        ViolationCode::StuckPoll => format!("{task}: a poll that does not return"),
        // A task deaf to the signal is one bug wherever the signal found
        // it waiting (its report says where); unnamed tasks are named by
        // their spawn site, so the tasks of one spawn are one group.
        ViolationCode::CancelIgnored => task,
        // One assertion is one bug whatever values its message shows
        // (`answer to "GET k0"`, `answer to "SET k1 v1"`): a panic groups
        // by where it was raised.
        ViolationCode::Panic | ViolationCode::UnobservedPanic
            if masked
                && !violation.message.starts_with("the test returned Err(")
                && raised_at(&violation.message).is_some() =>
        {
            format!(
                "{task}: panicked at {}",
                raised_at(&violation.message).unwrap_or_default()
            )
        }
        ViolationCode::Panic
        | ViolationCode::UnobservedPanic
        | ViolationCode::Invariant
        | ViolationCode::Deadlock
        | ViolationCode::StepLimit
        | ViolationCode::Nondeterminism => {
            let first = violation.message.lines().next().unwrap_or("");
            // Times and counts in a message differ from run to run; source
            // locations do not.
            let first: Vec<String> = first
                .split(' ')
                .map(|word| {
                    if !masked {
                        word.to_string()
                    } else if word.contains(".rs:") {
                        // A source location stays; a task named by its
                        // spawn site loses its id (`pool.rs:119#2`).
                        mask_task_id(word)
                    } else {
                        // A run of digits is one `#`: await point 9 and 10
                        // are one site.
                        let mut masked = String::with_capacity(word.len());
                        for c in word.chars() {
                            if !c.is_ascii_digit() {
                                masked.push(c);
                            } else if !masked.ends_with('#') {
                                masked.push('#');
                            }
                        }
                        masked
                    }
                })
                .collect();
            let mut first = first.join(" ");
            if masked && violation.code == ViolationCode::Deadlock {
                // The same tasks stuck the same way are one deadlock,
                // however many of one spawn site are stuck.
                let mut clauses: Vec<&str> = Vec::new();
                for clause in first.split("; ") {
                    if !clauses.contains(&clause) {
                        clauses.push(clause);
                    }
                }
                first = clauses.join("; ");
            }
            if !masked && first.matches('`').count() % 2 == 1 {
                // Cut at its first line, a message quoting code leaves a
                // quote open (`` `left == right` `` on the next line).
                first.push('`');
            }
            format!("{task}: {first}")
        }
        _ => {
            let at = violation
                .wait
                .and_then(|wait| wait.at)
                .or(violation.location)
                .map_or_else(|| "?".to_string(), crate::trace::display_location);
            format!("{task} at {at}")
        }
    }
}

/// `word` with the id of a task named by its spawn site masked:
/// `pool.rs:119#2` reads `pool.rs:119#`; a location stays as it is.
fn mask_task_id(word: &str) -> String {
    match word.rfind('#') {
        Some(hash) => {
            let digits = word[hash + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            format!("{}{}", &word[..=hash], &word[hash + 1 + digits..])
        }
        None => word.to_string(),
    }
}

/// How `select!`s ended after the failure's injection
/// (`main#0: select! at src/flush.rs:70:9: branch 0 won; dropped pending
/// branch 1 (waiting at await point 5)`): the await point names a branch
/// as the task waited, before the injection decided which branch won and
/// which dropped branch held what was lost. A drop or expiry decides the
/// race of the task it hit, at that await point: one line.
///
/// The program's signal may decide any task's race, and the first to
/// complete after it is often not where work was lost: a `select!` whose
/// other branch won first drops only its `cancelled()` branch, and loses
/// the item on its next pass, when `cancelled()` wins (trial 14's
/// forwarder); a handler spawned after the signal drops its request
/// without ever waiting (trial 14's drain). So, after a signal: each
/// `select!` that dropped a pending branch for the last time in its task
/// (where the shutdown branch won and the loop ended), in trace order, at
/// most [`MAX_SIGNAL_RACES`]; else the first that dropped a waiting branch.
pub(crate) fn races_after_injection(failure: &Failure) -> Vec<String> {
    races_after(failure).0
}

/// [`races_after_injection`], and whether one of those `select!`s dropped
/// a branch that had waited at an await point (mid-way through its work,
/// not made and dropped within one poll).
fn races_after(failure: &Failure) -> (Vec<String>, bool) {
    use crate::trace::EventKind;
    let Some(injection) = failure.repro.injections.first() else {
        return (Vec::new(), false);
    };
    let signal = injection.kind == crate::InjectionKind::Signal;
    let after: Vec<_> = failure
        .trace
        .events()
        .skip_while(|event| {
            !matches!(event.kind, EventKind::Injected { point, .. }
                if event.task == injection.task && point == injection.point)
        })
        .filter(|event| matches!(event.kind, EventKind::SelectWon { dropped, .. } if dropped != 0))
        .collect();
    let describe = |event: &crate::trace::Event| {
        format!(
            "{}: {}",
            failure.trace.task_label(event.task),
            failure.trace.describe(event)
        )
    };
    let site = |event: &crate::trace::Event| match event.kind {
        EventKind::SelectWon { at, .. } => Some((event.task, at)),
        _ => None,
    };
    let waited = after.iter().find(|event| match event.kind {
        EventKind::SelectWon { point, .. } => {
            point > 0 && (signal || (event.task == injection.task && point == injection.point))
        }
        _ => false,
    });
    if signal {
        let last_at_site: Vec<String> = after
            .iter()
            .enumerate()
            .filter(|(i, event)| {
                after[i + 1..]
                    .iter()
                    .all(|later| site(later) != site(event))
            })
            .map(|(_, event)| describe(event))
            .take(MAX_SIGNAL_RACES)
            .collect();
        if !last_at_site.is_empty() {
            return (last_at_site, waited.is_some());
        }
    }
    (waited.map(describe).into_iter().collect(), waited.is_some())
}

/// At most this many `then` lines after the program's signal.
const MAX_SIGNAL_RACES: usize = 3;

/// Where a panic was raised, from the end of its message (`... at
/// src/codec.rs:159:17`, as `panic::catch` records it).
fn raised_at(message: &str) -> Option<&str> {
    let at = &message[message.rfind(" at ")? + 4..];
    let mut parts = at.rsplitn(3, ':');
    let column = parts.next()?;
    let line = parts.next()?;
    let file = parts.next()?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (file.ends_with(".rs") && digits(line) && digits(column)).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::{violation_site, violation_title};
    use crate::oracle::{Violation, ViolationCode};
    use crate::vocab::TaskId;

    /// One deadlock at await point 9 or 10 of the root is one site (trial
    /// 13: two groups); a different wait is another; the unnamed tasks of
    /// one spawn are one site.
    /// Trial 15: one lost stop left one, the other or both workers of a
    /// spawn site stuck — one deadlock, not three groups.
    #[test]
    fn a_deadlock_of_tasks_of_one_spawn_site_is_one_site() {
        let stuck = |blocked: &str| {
            Violation::new(
                ViolationCode::Deadlock,
                format!(
                    "no task can run and no timer is pending: main#0 at await point 8 waiting \
                     on join pool.rs:119#1 (src/pool.rs:119:21); {blocked}"
                ),
            )
            .task(TaskId(0), Some("main"))
        };
        let one = "pool.rs:119#1 at await point 8 waiting on select! branch 0 (src/pool.rs:102:17)";
        let other =
            "pool.rs:119#2 at await point 2 waiting on select! branch 0 (src/pool.rs:102:17)";
        let site = violation_site(&stuck(one));
        assert_eq!(site, violation_site(&stuck(other)));
        assert_eq!(site, violation_site(&stuck(&format!("{one}; {other}"))));
        assert_ne!(
            site,
            violation_site(&stuck(
                "pool.rs:119#1 at await point 8 waiting on duplex read (src/pool.rs:90:3)"
            ))
        );
    }

    #[test]
    fn numbers_of_any_width_and_unnamed_task_ids_are_one_site() {
        let deadlock = |point: u32, wait: &str| {
            Violation::new(
                ViolationCode::Deadlock,
                format!(
                    "no task can run: main#0 at await point {point} waiting on join #1 \
                     (tests/a.rs:37:1); #1 at await point 211 waiting on {wait} (src/a.rs:93:22)"
                ),
            )
        };
        assert_eq!(
            violation_site(&deadlock(9, "duplex write")),
            violation_site(&deadlock(10, "duplex write"))
        );
        assert_ne!(
            violation_site(&deadlock(9, "duplex write")),
            violation_site(&deadlock(9, "duplex read"))
        );
        let panicked = |task: u32| {
            Violation::new(
                ViolationCode::UnobservedPanic,
                "panicked and nobody awaited its JoinHandle: gone at src/a.rs:30:32",
            )
            .task(TaskId(task), None)
        };
        assert_eq!(violation_site(&panicked(1)), violation_site(&panicked(3)));
        assert_ne!(violation_site(&panicked(0)), violation_site(&panicked(3)));
    }

    /// A title cut at the first line of a message that quotes code
    /// closes the quote it leaves open (trial 5: the nondeterminism of
    /// a test with a `static`).
    #[test]
    fn a_title_cut_at_its_first_line_closes_its_quote() {
        let violation = Violation::new(
            ViolationCode::Nondeterminism,
            "only the first run had `panic: the root panicked: assertion `left == right` \
             failed\n  left: 3\n right: 1 at src/minimal.rs:84:9`",
        );
        let title = violation_title(&violation);
        assert_eq!(title.matches('`').count() % 2, 0, "{title}");
        assert!(title.ends_with("failed`"), "{title}");
        let plain = Violation::new(ViolationCode::Panic, "assertion `a == b` failed\nleft: 1");
        assert_eq!(
            violation_title(&plain),
            "the run: assertion `a == b` failed"
        );
    }
}

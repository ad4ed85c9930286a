//! The counterfactual of a failing timeout injection: is the failure
//! caused by what the operation had half-done when the timeout expired, or
//! does the test check the result the timeout decides?
//!
//! An injected expiry ([`InjectionKind::Timeout`]) at await point P of a
//! `timeout` stops its inner future at P and gives `Err(Elapsed)` at the
//! deadline. When that run fails, the same seed and scheduler run once
//! more with that timeout expired from its first poll instead: its inner
//! future never starts. If that run fails the same way (the same code,
//! task, message and source location for each violation, whatever
//! injection or await point they name), nothing the operation did up to P
//! matters: the test fails on the timeout's result itself, as it would on
//! real tokio the day the timeout fires (`assert_eq!(lookup().await, 7)`
//! around `timeout(..).await.unwrap_or(0)`). Such a run is excused — not
//! a failure, but counted in the report — unless the check says otherwise
//! ([`Check::excuse_timeout_results`](super::Check::excuse_timeout_results)).
//! If it passes or fails differently, the failure stands, and its
//! violations say that the expiry at P left state half-done. A spawned
//! task's timeout is excused the same way (a server's handler answering
//! 504 to a test that expects 200), and named so in the excused line: the
//! test sees it only through what that task did on the expiry — which may
//! be the bug (a renewer keeping a leader's role it could not renew), so
//! a strict test gets the failure with a hint about that handling.
//!
//! A panic on the `Elapsed` itself (`.unwrap()` or `.expect(..)` of the
//! timeout's result) is never excused: handling the expiry is the code's
//! job, and the counterfactual is not run for it. Nor is a panic nobody
//! observed (work the timed-out operation left running, finding its
//! caller gone): no test checks a result through it. Nor a run that never
//! ends (a deadlock, a time or step limit, a stuck poll): code that waits
//! forever once its deadline passed fails however the test checks it.
//!
//! A stall ([`InjectionKind::Stall`]) that makes a timeout expire by
//! itself (the task it holds is what the timeout waits for) is judged the
//! same way, by that timeout expired from its first poll: a program that
//! goes on with what it got by the deadline, and a test that checks it
//! (`assert_eq!(drain().await, 0)` jobs aborted), fail the same way there.
//!
//! A stall's failing run is also run with the task held one wait earlier
//! (`stall@T:P−1`, holding against its owner's wakes too): failing the
//! same way there says the check does not depend on how far the work cut
//! at P got — it counts on the work finishing before the program's
//! deadline (`assert_eq!(handled, 4)` after a shutdown whose grace aborted
//! a slow request) — and anything else says that the cut at P left it
//! half-done. The verdict picks the hint and shows as the violation's
//! `counterfactual:` line; it never excuses the run (state half-done since
//! P−1 fails the same way at P too).
//!
//! Only failing runs of a single timeout injection (or stall) pay for the
//! extra runs.
//! Timeout scopes are numbered in the order timeouts are first polled,
//! which the injected run shares with its baseline up to P, so the scope
//! number the injection forced names the same timeout in the
//! counterfactual run.

use std::future::Future;

use super::run::{run_expired_from_start, run_stall_held, run_without_own_deadlines, RunResult};
use super::Repro;
use crate::config::Config;
use crate::inject::{Injection, InjectionKind};
use crate::oracle::{Violation, ViolationCode};
use crate::task::TaskId;
use crate::vocab::{display_path, EarlierVerdict, ExpiryVerdict, StallEarlier};

/// What judging a run took and gave.
#[derive(Debug, Default)]
pub(crate) struct Judged {
    /// Counterfactual runs made (up to four: the test's deadlines
    /// lifted, that run's expiry from the first poll, the run's own, a
    /// stall one wait earlier).
    pub ran: usize,
    /// The run is excused: its first violation's message, under the
    /// timeout at `file:line` (for the report's example).
    pub excused: Option<String>,
}

/// Judges a failing run of a single timeout injection by its
/// counterfactual (see the module docs). When the counterfactual fails
/// the same way and `excuse` is set, the run is excused: its violations
/// are cleared; otherwise they are marked with the verdict (for their
/// hints). Any other run is left alone, without an extra run.
///
/// A stall's failing run is also run with the task held one wait earlier
/// ([`judge_stall_earlier`]), unless the first counterfactual excused it.
pub(crate) fn judge_expiry<F, Fut>(
    body: &F,
    config: &Config,
    repro: &Repro,
    baseline_panics: &[TaskId],
    result: &mut RunResult,
    excuse: bool,
) -> Judged
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let lifted_runs = match judge_own_deadline(body, config, repro, baseline_panics, result) {
        OwnDeadline::NotJudged { ran } => usize::from(ran),
        OwnDeadline::Assertion => {
            return Judged {
                ran: 1,
                excused: None,
            }
        }
        OwnDeadline::Fails(lifted) => {
            let (lifted_config, mut lifted) = *lifted;
            // With its own deadlines lifted the test fails anyway, on
            // something else: an assertion on the result the injected
            // expiry decides (`assert!(shutdown.is_ok())`) is excused as
            // that assertion always is, when it fails the same way with
            // the timeout expired from its first poll.
            let judged = judge_by_expiry(
                body,
                &lifted_config,
                repro,
                baseline_panics,
                &mut lifted,
                excuse,
            );
            if judged.excused.is_some() {
                result.violations.clear();
                return Judged {
                    ran: 1 + judged.ran,
                    excused: judged.excused,
                };
            }
            1 + judged.ran
        }
    };
    let mut judged = judge_by_expiry(body, config, repro, baseline_panics, result, excuse);
    judged.ran += lifted_runs
        + usize::from(judge_stall_earlier(
            body,
            config,
            repro,
            baseline_panics,
            result,
        ));
    judged
}

/// The stall one wait earlier, for a failing run of a single stall at
/// await point P > 1 of task T: the same seed and scheduler with
/// `stall@T:P−1` instead, held against the owner's wakes too (the work
/// it sends, its stop: the task slow to take up what it is given, not
/// only slow at what it waits on). What it gives — fails the same way,
/// passes, fails another way — marks the run's violations
/// ([`StallEarlier`]) for their hints: the same failure says the check
/// does not depend on how far the cut work got (it counts on the work
/// finishing before the program's deadline: a count of what was
/// handled), any other that the cut at P left it half-done. Never an
/// excuse: a state half-done since P−1 fails the same way too. Returns
/// whether the run was made.
fn judge_stall_earlier<F, Fut>(
    body: &F,
    config: &Config,
    repro: &Repro,
    baseline_panics: &[TaskId],
    result: &mut RunResult,
) -> bool
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let [injection] = repro.injections[..] else {
        return false;
    };
    if injection.kind != InjectionKind::Stall
        || injection.point <= 1
        || result.violations.is_empty()
        || result.fired != [injection]
        // No deadline cut the task's work: nothing to compare.
        || result.violations.iter().all(|v| v.stall_went_on)
    {
        return false;
    }
    let earlier = Injection {
        point: injection.point - 1,
        ..injection
    };
    let mut shifted = repro.clone();
    shifted.injections = vec![earlier];
    let counterfactual = run_stall_held(body, config, &shifted, baseline_panics);
    if counterfactual.fired != [earlier] {
        // The task never waited there under this plan: no verdict.
        return true;
    }
    let verdict = if counterfactual.violations.is_empty() {
        EarlierVerdict::Passes
    } else if normalised(&counterfactual.violations) == normalised(&result.violations) {
        EarlierVerdict::Same
    } else {
        EarlierVerdict::Differs
    };
    for violation in &mut result.violations {
        violation.stall_earlier = Some(StallEarlier {
            injection: earlier,
            verdict,
        });
    }
    true
}

/// What the test's own deadline counterfactual ([`judge_own_deadline`])
/// gave.
enum OwnDeadline {
    /// Not a run it judges; `ran`: the run with the test's deadlines
    /// lifted was made, but fired other injections (no verdict).
    NotJudged { ran: bool },
    /// The run passes with the test's own timeouts lifted: their expiry is
    /// the test's assertion (its violations are cleared).
    Assertion,
    /// The run fails with them lifted too: that run's config and result.
    Fails(Box<(Config, RunResult)>),
}

/// The test's own deadline, for a run of one injected expiry or stall
/// whose root failed only on the `Elapsed` of the test's own `timeout`
/// expiring by itself: the injection made the operation slower (an expiry
/// holding it to the code's own deadline, a stall), not stuck. The same
/// run with the test's own timeouts lifted (but the one the injection
/// expires) says which: when it passes, the test's deadline is shorter
/// than the code's (`timeout(50ms, ..).unwrap()` around code that may take
/// its 500 ms) — the test's assertion, counted as such (the run's
/// `consequences`), not a failure; when it fails (the operation never
/// ends: a deadlock, a time limit; or an assertion after the wait), the
/// failure stands unless that failure is itself excused
/// ([`judge_expiry`]). Other injections (a drop, a cancel request, a
/// signal) do not make correct code slower: a test deadline they make
/// expire is a failure (a lost wake the code recovers from only through
/// a slow fallback timer). Nor is a strict check's run judged.
fn judge_own_deadline<F, Fut>(
    body: &F,
    config: &Config,
    repro: &Repro,
    baseline_panics: &[TaskId],
    result: &mut RunResult,
) -> OwnDeadline
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let [injection] = repro.injections[..] else {
        return OwnDeadline::NotJudged { ran: false };
    };
    if !matches!(
        injection.kind,
        InjectionKind::Timeout | InjectionKind::TimeoutOuter | InjectionKind::Stall
    ) || result.strict_timeouts
        || !result.own_timeout_natural
        || result.violations.is_empty()
        || !result.violations.iter().all(|violation| {
            violation.task_id() == Some(TaskId(0)) && unwraps_the_elapsed(violation)
        })
    {
        return OwnDeadline::NotJudged { ran: false };
    }
    // The timeout the injection expires keeps its deadline (it is the
    // injection), the test's others are lifted.
    let kept = result.forced_scope.map(|(_, at)| at);
    let (lifted_config, lifted) =
        run_without_own_deadlines(body, config, repro, baseline_panics, kept);
    if lifted.fired != result.fired {
        return OwnDeadline::NotJudged { ran: true };
    }
    if lifted.violations.is_empty() {
        result.violations.clear();
        result.consequences.1 = true;
        return OwnDeadline::Assertion;
    }
    OwnDeadline::Fails(Box::new((lifted_config, lifted)))
}

/// The timeout (or stall's timeout) expired from its first poll.
fn judge_by_expiry<F, Fut>(
    body: &F,
    config: &Config,
    repro: &Repro,
    baseline_panics: &[TaskId],
    result: &mut RunResult,
    excuse: bool,
) -> Judged
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let [injection] = repro.injections[..] else {
        return Judged::default();
    };
    if !matches!(
        injection.kind,
        InjectionKind::Timeout | InjectionKind::TimeoutOuter | InjectionKind::Stall
    ) || result.violations.is_empty()
        || result.fired != [injection]
        || result.violations.iter().any(unwraps_the_elapsed)
        || result.violations.iter().any(|violation| {
            matches!(
                violation.kind(),
                ViolationCode::UnobservedPanic
                    | ViolationCode::Deadlock
                    | ViolationCode::StepLimit
                    | ViolationCode::StuckPoll
            )
        })
    {
        return Judged::default();
    }
    let Some((scope, at)) = result.forced_scope else {
        return Judged::default();
    };
    let counterfactual = run_expired_from_start(
        body,
        config,
        repro,
        baseline_panics,
        scope,
        result.forced_race,
    );
    let ran = Judged {
        ran: 1,
        excused: None,
    };
    if normalised(&counterfactual.violations) != normalised(&result.violations) {
        // Other tasks' timeouts expired too where the operation was held,
        // not where it never started: they waited on it (a shared
        // connection's handshake, a `OnceCell` init).
        let verdict = if injection.kind.is_expiry()
            && result.natural_expiries > counterfactual.natural_expiries
        {
            ExpiryVerdict::SharedSlowness
        } else {
            ExpiryVerdict::HalfDone
        };
        mark(&mut result.violations, verdict);
        return ran;
    }
    // A spawned task's timeout reaches the test only through what that
    // task did on the expiry.
    let in_task = injection.kind.is_expiry() && injection.task != TaskId(0);
    if !excuse || result.strict_timeouts {
        let verdict = if in_task {
            ExpiryVerdict::HandledInTask
        } else {
            ExpiryVerdict::ResultChecked
        };
        mark(&mut result.violations, verdict);
        return ran;
    }
    let message = result.violations[0]
        .message()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    result.violations.clear();
    Judged {
        ran: 1,
        excused: Some(format!(
            "{message} under {} at {}:{}{}",
            if result.forced_race.is_some() {
                "select!"
            } else {
                "timeout"
            },
            display_path(at.file()),
            at.line(),
            if in_task { " in a spawned task" } else { "" }
        )),
    }
}

/// A panic on the timeout's error itself (`.unwrap()`, `.expect(..)` on
/// `Err(Elapsed)`): a bug wherever it is — the code must handle the
/// expiry — so never excused, whatever the counterfactual says (the
/// test's own `timeout(..).await.expect(..)` is its assertion, and no
/// violation at all: [`Counts::assertion_timeouts`](super::Counts::assertion_timeouts)).
/// An assertion that shows an `Err(Elapsed(()))` among its values
/// (`assert_eq!(lookup().await, Ok(7))`) checks the result, as
/// `.ok() == Some(7)` would: not an unwrap.
fn unwraps_the_elapsed(violation: &Violation) -> bool {
    let message = violation.message();
    matches!(
        violation.kind(),
        ViolationCode::Panic | ViolationCode::UnobservedPanic
    ) && (message.contains("`Err` value: Elapsed")
        || message.contains(": Elapsed(()) at ")
        || message.ends_with(": Elapsed(())"))
}

fn mark(violations: &mut [Violation], verdict: ExpiryVerdict) {
    for violation in violations {
        violation.expiry = Some(verdict);
    }
}

/// What "fails the same way" compares: each violation's code, task,
/// message and source location, in a fixed order — not the injection or
/// await point it names, which differ between the two runs by design.
fn normalised(
    violations: &[Violation],
) -> Vec<(&'static str, Option<TaskId>, &str, Option<String>)> {
    let mut keys: Vec<_> = violations
        .iter()
        .map(|v| (v.code(), v.task_id(), v.message(), v.location()))
        .collect();
    keys.sort();
    keys
}

//! One run of one plan: a fresh world, the injections, the oracles.

use std::future::Future;
use std::panic::Location;

use super::Repro;
use crate::config::Config;
use crate::error::SimError;
use crate::inject::AwaitPoint;
use crate::oracle::{Violation, ViolationCode};
use crate::schedule::Schedule;
use crate::sim::{RootRun, Sim};
use crate::task::TaskId;
use crate::trace::Trace;
use crate::world::Enter;

/// What one run left behind.
pub(crate) struct RunResult {
    pub violations: Vec<Violation>,
    pub trace: Trace,
    /// Every await point, when collected (baselines).
    pub points: Vec<AwaitPoint>,
    pub schedule: Schedule,
    pub steps: u64,
    pub tasks: u32,
    pub end_time: crate::time::Instant,
    /// Tasks that panicked.
    pub panicked: Vec<TaskId>,
    /// Injections of the plan that fired / never fired.
    pub fired: Vec<crate::inject::Injection>,
    pub unfired: Vec<crate::inject::Injection>,
    /// Panics that followed only from an injected abort; whether the root
    /// failed on the test's own timeout expired by an injection.
    pub consequences: (u32, bool),
    /// The timeout scope the run's timeout injection forced to expire,
    /// and where its `timeout` was called.
    pub forced_scope: Option<(u32, crate::trace::SourceLocation)>,
    /// When that scope was a race's (`select!` against a timer): the race.
    pub forced_race: Option<crate::world::RaceBranches>,
    /// The body called [`crate::time::strict_timeout_results`].
    pub strict_timeouts: bool,
    /// Timeouts that expired by themselves (no injection forced them).
    pub natural_expiries: u32,
    /// A spawned task outlived the root (see `World::outlived_root`).
    pub outlived_root: bool,
    /// The test's own timeout expired by itself.
    pub own_timeout_natural: bool,
    /// The run's wall-clock time (for the notice of code that waits on
    /// the wall clock: `Counts::wall_clock_runs`).
    pub wall: std::time::Duration,
}

/// Runs `body` once under `repro`, then the oracles.
pub(crate) fn run_once<F, Fut>(body: &F, base: &Config, repro: &Repro, collect: bool) -> RunResult
where
    F: Fn() -> Fut,
    Fut: Future,
{
    run_with_baseline(body, base, repro, collect, &[])
}

/// `run_once` collecting the first `cap` await points.
pub(crate) fn run_collecting<F, Fut>(
    body: &F,
    base: &Config,
    repro: &Repro,
    cap: usize,
) -> RunResult
where
    F: Fn() -> Fut,
    Fut: Future,
{
    run_inner(body, base, repro, Some(cap), &[], None, None)
}

/// Like `run_once`, knowing which tasks panicked in the plan's baseline.
pub(crate) fn run_with_baseline<F, Fut>(
    body: &F,
    base: &Config,
    repro: &Repro,
    collect: bool,
    baseline_panics: &[TaskId],
) -> RunResult
where
    F: Fn() -> Fut,
    Fut: Future,
{
    run_inner(
        body,
        base,
        repro,
        collect.then_some(usize::MAX),
        baseline_panics,
        None,
        None,
    )
}

/// The counterfactual of `repro`'s one timeout injection: the same seed
/// and scheduler, with timeout `scope` (the one the injection forced)
/// expired from its first poll, so the operation it times never starts.
pub(crate) fn run_expired_from_start<F, Fut>(
    body: &F,
    base: &Config,
    repro: &Repro,
    baseline_panics: &[TaskId],
    scope: u32,
    race: Option<crate::world::RaceBranches>,
) -> RunResult
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let injection = repro.injections[0];
    run_inner(
        body,
        base,
        repro,
        None,
        baseline_panics,
        None,
        Some(Variant::ExpiredFromStart(scope, race, injection)),
    )
}

/// `repro` with the test's own `timeout`s lifted
/// ([`Config::own_deadlines_unbounded`]), but the one called at `kept`
/// (the timeout the injection expires); with the config it ran with.
pub(crate) fn run_without_own_deadlines<F, Fut>(
    body: &F,
    base: &Config,
    repro: &Repro,
    baseline_panics: &[TaskId],
    kept: Option<crate::trace::SourceLocation>,
) -> (Config, RunResult)
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let mut config = base.clone();
    config.own_deadlines_unbounded = true;
    config.own_deadline_kept = kept;
    let result = run_with_baseline(body, &config, repro, false, baseline_panics);
    (config, result)
}

/// `repro` (a stall) with its stall holding against the owner's wakes
/// too ([`crate::world::World::hold_stalls_against_owner`]).
pub(crate) fn run_stall_held<F, Fut>(
    body: &F,
    base: &Config,
    repro: &Repro,
    baseline_panics: &[TaskId],
) -> RunResult
where
    F: Fn() -> Fut,
    Fut: Future,
{
    run_inner(
        body,
        base,
        repro,
        None,
        baseline_panics,
        None,
        Some(Variant::StallsHoldOwner),
    )
}

/// A counterfactual run's difference from its plan's run.
enum Variant {
    /// Timeout scope `.0` (a race's, `.1`) expired from its first poll, in
    /// place of the injection `.2`.
    ExpiredFromStart(
        u32,
        Option<crate::world::RaceBranches>,
        crate::inject::Injection,
    ),
    /// The plan's stalls hold against the owner's wakes too.
    StallsHoldOwner,
}

/// The run of a plan that got stuck, again, stopped right before the
/// stuck poll (after `steps` steps, with no drain): its trace, ending in
/// `stuck` (the `stuck-poll` violation) instead of a step limit.
pub(crate) fn run_until_stuck<F, Fut>(
    body: &F,
    base: &Config,
    repro: &Repro,
    baseline_panics: &[TaskId],
    steps: u64,
    stuck: Violation,
) -> crate::trace::Trace
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let config = base
        .clone()
        .max_steps(steps)
        .drain_budget(0, std::time::Duration::ZERO);
    run_inner(
        body,
        &config,
        repro,
        None,
        baseline_panics,
        Some(stuck),
        None,
    )
    .trace
}

fn run_inner<F, Fut>(
    body: &F,
    base: &Config,
    repro: &Repro,
    collect: Option<usize>,
    baseline_panics: &[TaskId],
    stuck: Option<Violation>,
    variant: Option<Variant>,
) -> RunResult
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let config = base
        .clone()
        .seed(repro.seed)
        .scheduler(repro.scheduler.clone());
    let mut sim = Sim::new(config);
    sim.lend_trace();
    let world = std::rc::Rc::clone(sim.world());
    match variant {
        Some(Variant::ExpiredFromStart(scope, race, injection)) => {
            world.expire_from_start(scope, race, injection);
        }
        Some(Variant::StallsHoldOwner) => {
            world.hold_stalls_against_owner();
            world.set_plan(&repro.injections);
        }
        None => world.set_plan(&repro.injections),
    }
    world.set_baseline_panics(baseline_panics.iter().copied());
    if let Some(cap) = collect {
        world.collect_points(cap);
    }
    let started = std::time::Instant::now();
    let outcome = {
        let _enter = Enter::new(&world);
        let future = crate::panic::catch(body);
        match future {
            Ok(future) => sim.run_root(future, Location::caller()),
            Err(caught) => RootRun::Panicked(caught.message),
        }
    };
    let wall = started.elapsed();
    let mut violations = Vec::new();
    let stop = match outcome {
        RootRun::Returned(_) | RootRun::Dropped => None,
        RootRun::Panicked(ref message) if world.panic_is_consequence(TaskId(0), message) => None,
        // The test's own `timeout` (in its file, in the root) expired by an
        // injection, and the root failed in that very poll on what the
        // timeout gave: `.expect(..)` / `.unwrap()` on the `Elapsed`,
        // `assert_eq!(r, Ok(..))`, `assert!(r.is_ok())`. An assertion on
        // anything else (state the expiry left half-done) is the bug the
        // injection is for.
        RootRun::Panicked(message)
            if (message.contains("Elapsed")
                || message.contains("is_ok()")
                || message.contains("is_err()"))
                && world.root_failed_on_assertion_timeout() =>
        {
            None
        }
        // The same for the test's own `select!` whose timer branch won
        // after an injected expiry, when its handler panicked
        // (`_ = sleep(5s) => panic!("timed out")`).
        RootRun::Panicked(_) if world.root_failed_in_expired_race_handler() => None,
        RootRun::Panicked(message) => Some(
            Violation::new(
                ViolationCode::Panic,
                format!("the root panicked: {message}"),
            )
            .task(TaskId(0), Some("main")),
        ),
        RootRun::Stopped(SimError::StepLimit { .. }) if stuck.is_some() => stuck,
        RootRun::Stopped(error) => Some(stop_violation(&error)),
    };
    {
        let _enter = Enter::new(&world);
        match stop {
            // A stuck world (deadlock, livelock) has no meaningful end state.
            Some(violation)
                if matches!(
                    violation.kind(),
                    ViolationCode::Deadlock
                        | ViolationCode::StepLimit
                        | ViolationCode::StuckPoll
                        | ViolationCode::Nondeterminism
                ) =>
            {
                // A task that panicked and left the others waiting on it: the
                // panic is the bug, the stuck world only its consequence.
                if violation.kind() == ViolationCode::Nondeterminism
                    || !report_stuck_panics(&world, &violation)
                {
                    world.push_violation(TaskId(0), violation);
                }
                violations.extend(world.take_violations());
            }
            Some(violation) => {
                world.push_violation(TaskId(0), violation);
                violations.extend(super::end_run::end_run(&world));
                violations.extend(replay_left_over(&world));
            }
            None => {
                violations.extend(super::end_run::end_run(&world));
                violations.extend(replay_left_over(&world));
            }
        }
        // Joins name their task while it may still be alive.
        name_joined_tasks(&world, &mut violations);
        // Teardown, while the trace still records: tasks left alive are
        // dropped now, and a `Drop` that panics is a violation of this run.
        if world.drop_all_tasks() > 0 {
            violations.extend(world.take_violations());
        }
    }
    let plan = world.plan();
    let points = world.take_points();
    let panicked = world.take_panicked_tasks();
    let consequences = world.consequences();
    let forced_scope = world.forced_by_injection();
    let forced_race = world.forced_race();
    if forced_race.is_some() {
        // The timeout injection expired a race: its violations say
        // `select!`, not `timeout`.
        for violation in &mut violations {
            if violation
                .injection()
                .is_some_and(|injection| injection.kind.is_expiry())
            {
                violation.select = true;
                violation.race_at = forced_scope.map(|(_, at)| at);
            }
        }
    }
    if world.abort_pending_at_root_panic() {
        for violation in &mut violations {
            if violation.code == crate::oracle::ViolationCode::Panic
                && violation.task == Some(crate::task::TaskId(0))
            {
                violation.abort_pending = true;
            }
        }
    }
    // How the stall ended for the program: a timeout waiting for the task
    // expired and the program went on without it, or no deadline came at
    // all (the program went on before one) — its violations say so, not
    // that an abort dropped the task.
    let (outran, went_on) = (world.stall_outran_a_timeout(), world.stall_went_on());
    if outran || went_on {
        for violation in &mut violations {
            if violation
                .injection()
                .is_some_and(|injection| injection.kind == crate::inject::InjectionKind::Stall)
            {
                violation.stall_outran = outran;
                violation.stall_went_on = went_on;
            }
        }
    }
    if let Some(partial) = world.partial_read() {
        for violation in &mut violations {
            violation.partial_read = Some(partial);
        }
    }
    let strict_timeouts = world.strict_timeout_results();
    let natural_expiries = world.natural_expiries();
    let outlived_root = world.outlived_root();
    let own_timeout_natural = world.own_timeout_expired_naturally();
    let result = RunResult {
        violations,
        trace: world.take_trace(),
        points,
        schedule: sim.schedule(),
        steps: sim.steps(),
        tasks: world.tasks_spawned(),
        panicked,
        end_time: sim.now(),
        fired: plan.fired().to_vec(),
        unfired: plan.unfired().to_vec(),
        consequences,
        forced_scope,
        forced_race,
        strict_timeouts,
        natural_expiries,
        outlived_root,
        own_timeout_natural,
        wall,
    };
    drop(sim);
    result
}

/// A violation's join names the task it waits on (`on join fetch#1`), as
/// the trace does. (Await points name theirs as they are taken.)
fn name_joined_tasks(world: &crate::world::World, violations: &mut [Violation]) {
    for violation in violations {
        if let Some(crate::trace::WaitKind::Join(task)) = violation.wait.map(|wait| wait.kind) {
            violation.joined = world.named_label(task);
        }
    }
}

/// Reports the panics of a run that then got stuck (`stopped`: the
/// deadlock or budget it stopped on) as `panic` violations with their
/// messages; false when no task panicked. As at the end of a run, an
/// injected run leaves out the panics its baseline has.
fn report_stuck_panics(world: &crate::world::World, stopped: &Violation) -> bool {
    let panics = world.take_panics();
    if panics.is_empty() {
        return false;
    }
    let injected = world.first_injection().is_some();
    for (task, panicked) in panics {
        world.note_panicked(task);
        if injected && world.is_baseline_panic(task) {
            continue;
        }
        let violation = Violation::new(
            ViolationCode::Panic,
            format!(
                "panicked: {} (then the run stopped: {})",
                panicked.message,
                stopped.message()
            ),
        )
        .task(task, panicked.name.as_deref())
        .at_point(panicked.point, None);
        world.push_violation(task, violation);
    }
    true
}

/// A replayed plan whose injections did not all fire replays nothing of what
/// was recorded: the code (or the line) differs from the recording.
pub(crate) fn unfired_violation(unfired: &[crate::inject::Injection]) -> Option<Violation> {
    let first = unfired.first()?;
    let list: Vec<String> = unfired.iter().map(ToString::to_string).collect();
    Some(Violation::new(
        ViolationCode::Nondeterminism,
        format!(
            "injection never fired — the code differs from the recording: {} (task {} never reached await point {} in this run)",
            list.join(", "),
            first.task,
            first.point
        ),
    ))
}

/// After the drain: a divergence the drain met, or recorded decisions a
/// replay never took.
fn replay_left_over(world: &crate::world::World) -> Option<Violation> {
    world.run_finished().map(|error| stop_violation(&error))
}

fn stop_violation(error: &SimError) -> Violation {
    let root = |v: Violation| v.task(TaskId(0), Some("main"));
    match error {
        SimError::Deadlock { blocked, .. } => {
            let mut message = String::from("no task can run and no timer is pending:");
            for task in blocked {
                message.push_str(&format!(" {task};"));
            }
            message.pop();
            let mut violation = root(Violation::new(ViolationCode::Deadlock, message));
            if let Some(main) = blocked.iter().find(|task| task.id == TaskId(0)) {
                violation = violation.at_point(main.await_point, Some(main.wait));
            }
            violation
        }
        SimError::StepLimit { .. } | SimError::TimeLimit { .. } => {
            root(Violation::new(ViolationCode::StepLimit, error.to_string()))
        }
        SimError::Nondeterminism { .. } => {
            Violation::new(ViolationCode::Nondeterminism, error.to_string())
        }
        SimError::RootPanicked { message } => root(Violation::new(
            ViolationCode::Panic,
            format!("the root panicked: {message}"),
        )),
        SimError::RootDropped => root(Violation::new(ViolationCode::Panic, error.to_string())),
    }
}

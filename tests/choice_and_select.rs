//! Recorded choices (`cancelsim::choose`) and races (`select::start` /
//! `select::won`): the `Fifo` baseline takes alternative 0, `Random` and
//! `Pct` explore the others, a recorded schedule replays them, and the trace
//! (text, JSON lines, Chrome) says which alternative was taken, which branch
//! won and what was dropped.

mod common;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use cancelsim::check::run_repro;
use cancelsim::time::sleep;
use cancelsim::{
    choose, select, Check, Config, Decision, SchedulerKind, Sim, SimError, ViolationCode,
};
use common::{location_in, ms};

const PATH: &str = "tests/choice_and_select.rs";
const SOURCE: &str = include_str!("choice_and_select.rs");

/// Three choices of different widths; the alternatives taken.
async fn three_choices() -> Vec<usize> {
    vec![choose(2), choose(3), choose(5)] // marker: three choices
}

fn run_with(seed: u64, scheduler: SchedulerKind) -> (Vec<usize>, String, cancelsim::Schedule) {
    let mut sim = Sim::new(Config::default().seed(seed).scheduler(scheduler));
    let taken = sim.block_on(three_choices()).unwrap();
    (taken, sim.trace().to_string(), sim.schedule())
}

/// The events of a text trace, without its header (seed and scheduler).
fn events_of(trace: &str) -> Vec<&str> {
    trace.lines().skip(2).collect()
}

#[test]
fn the_fifo_baseline_always_takes_the_first_alternative() {
    for seed in 0..8 {
        let (taken, _, schedule) = run_with(seed, SchedulerKind::Fifo);
        assert_eq!(taken, [0, 0, 0], "seed {seed}");
        // Still recorded: a replay of a Fifo run answers the same way.
        assert_eq!(schedule.len(), 3);
        assert!(schedule
            .decisions()
            .iter()
            .all(|d| matches!(d, Decision::Choice { chosen: 0, .. })));
    }
}

#[test]
fn a_choice_of_one_alternative_is_always_zero() {
    for seed in 0..16 {
        let config = Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random);
        let taken = Sim::new(config)
            .block_on(async { (0..4).map(|_| choose(1)).collect::<Vec<_>>() })
            .unwrap();
        assert_eq!(taken, [0, 0, 0, 0]);
    }
}

#[test]
fn the_trace_says_which_alternative_of_how_many_and_where() {
    let (taken, trace, _) = run_with(5, SchedulerKind::Random);
    for (index, (options, token)) in [(2, "choose(2)"), (3, "choose(3)"), (5, "choose(5)")]
        .iter()
        .enumerate()
    {
        let at = location_in(PATH, SOURCE, "marker: three choices", token);
        let expected = format!("choice {} of {options} at {at}", taken[index]);
        assert!(trace.contains(&expected), "{expected} in\n{trace}");
    }
}

#[test]
fn random_and_pct_schedules_explore_every_alternative() {
    for scheduler in [SchedulerKind::Random, SchedulerKind::Pct { depth: 2 }] {
        let mut seen: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); 3];
        for seed in 0..64 {
            let (taken, _, _) = run_with(seed, scheduler.clone());
            for (set, value) in seen.iter_mut().zip(taken) {
                set.insert(value);
            }
        }
        assert_eq!(seen[0], (0..2).collect(), "{scheduler}");
        assert_eq!(seen[1], (0..3).collect(), "{scheduler}");
        assert_eq!(seen[2], (0..5).collect(), "{scheduler}");
    }
}

#[test]
fn same_seed_same_choices_and_identical_trace() {
    for scheduler in [SchedulerKind::Random, SchedulerKind::Pct { depth: 3 }] {
        for seed in [0, 7, 42] {
            let (a, trace_a, schedule_a) = run_with(seed, scheduler.clone());
            let (b, trace_b, schedule_b) = run_with(seed, scheduler.clone());
            assert_eq!(a, b);
            assert_eq!(trace_a, trace_b);
            assert_eq!(schedule_a, schedule_b);
        }
    }
}

#[test]
fn two_seeds_take_different_alternatives() {
    let orders: BTreeSet<Vec<usize>> = (0..16)
        .map(|seed| run_with(seed, SchedulerKind::Random).0)
        .collect();
    assert!(orders.len() > 4, "16 seeds gave only {orders:?}");
    let (a, trace_a, _) = run_with(1, SchedulerKind::Random);
    let differing = (2..64)
        .map(|seed| run_with(seed, SchedulerKind::Random))
        .find(|(taken, _, _)| *taken != a)
        .expect("some seed takes other alternatives than seed 1");
    assert_ne!(trace_a, differing.1);
}

#[test]
fn a_recorded_schedule_replays_the_same_choices() {
    for seed in 0..8 {
        let (taken, trace, schedule) = run_with(seed, SchedulerKind::Random);
        let replayed = run_with(seed, SchedulerKind::Replay(Arc::new(schedule.clone())));
        assert_eq!(replayed.0, taken, "seed {seed}");
        assert_eq!(replayed.2, schedule, "the replay records what it replayed");
        assert_eq!(events_of(&replayed.1), events_of(&trace));
    }
}

#[test]
fn the_schedule_text_of_choices_round_trips_into_a_replay() {
    let (taken, _, schedule) = run_with(11, SchedulerKind::Random);
    let text = schedule.to_string();
    let parsed: cancelsim::Schedule = text.parse().unwrap();
    let replayed = run_with(0, SchedulerKind::Replay(Arc::new(parsed)));
    assert_eq!(replayed.0, taken, "{text}");
}

#[test]
fn a_replay_that_asks_for_more_choices_than_recorded_is_nondeterminism() {
    let (_, _, schedule) = run_with(3, SchedulerKind::Random);
    let config = Config::default().scheduler(SchedulerKind::Replay(Arc::new(schedule)));
    let result = Sim::new(config).block_on(async {
        let mut taken = three_choices().await;
        taken.push(choose(4)); // not in the recording
        taken
    });
    match result {
        Err(SimError::Nondeterminism { divergence, .. }) => {
            assert_eq!(divergence.decision, 3, "{divergence}");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn choose_rejects_zero_alternatives_with_a_clear_message() {
    let result = Sim::new(Config::default()).block_on(async { choose(0) });
    let message = match result {
        Err(SimError::RootPanicked { message }) => message,
        other => panic!("expected a panic, got {other:?}"),
    };
    assert!(
        message.contains("cancelsim::choose: 0 options"),
        "{message}"
    );
}

#[test]
fn choose_outside_a_simulation_panics() {
    let caught = std::panic::catch_unwind(|| choose(2));
    assert!(caught.is_err());
}

/// A bug only one alternative reaches: the connection is released on the
/// path the baseline takes, and leaked on the other.
async fn leaks_on_the_second_alternative(fixed: bool) {
    let conn = cancelsim::resource::acquire("db");
    sleep(ms(1)).await;
    if choose(2) == 1 && !fixed {
        std::mem::forget(conn);
    } else {
        drop(conn);
    }
}

#[test]
fn the_baseline_misses_a_bug_behind_a_choice_and_exploration_finds_it() {
    let baseline = Check::new(|| leaks_on_the_second_alternative(false)).run();
    baseline.assert_clean();
    let explored = Check::new(|| leaks_on_the_second_alternative(false))
        .explore_schedules(SchedulerKind::Random, 16)
        .run();
    let failure = explored
        .failures()
        .first()
        .unwrap_or_else(|| panic!("16 random schedules take alternative 1: {explored}"));
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::LeakedResource);
    assert_eq!(violation.task_name(), Some("main"));
    assert!(failure.trace().to_string().contains("choice 1 of 2 at"));
    // The repro replays the failing alternative.
    let again = run_repro(
        &|| leaks_on_the_second_alternative(false),
        &Config::default(),
        failure.repro(),
    );
    assert!(again.has(ViolationCode::LeakedResource), "{}", again.trace);
    // The fixed twin is clean under the same exploration.
    Check::new(|| leaks_on_the_second_alternative(true))
        .explore_schedules(SchedulerKind::Random, 16)
        .run()
        .assert_clean();
}

// ----- select! ------------------------------------------------------------------

/// A fair race of two futures written on `select::start` / `select::won_in_poll`,
/// as the simulated `tokio::select!` is: the start branch is a recorded
/// choice, the winner and the pending losers are recorded.
async fn race<A: Future, B: Future>(a: A, b: B) -> usize {
    let start = select::start(2); // marker: race start
    let mut a = pin!(a);
    let mut b = pin!(b);
    // Branches that returned `Pending` in some poll: dropped with the race.
    let mut pending = 0u64;
    let mut polls = 0;
    std::future::poll_fn(|cx| {
        polls += 1;
        for offset in 0..2 {
            let branch = (start + offset) % 2;
            let ready = match branch {
                0 => a.as_mut().poll(cx).is_ready(),
                _ => b.as_mut().poll(cx).is_ready(),
            };
            if ready {
                select::won_in_poll(branch, pending & !(1 << branch), polls); // marker: race won
                return Poll::Ready(branch);
            }
            pending |= 1 << branch;
        }
        Poll::Pending
    })
    .await
}

/// Two branches that are both ready at once: only the start branch decides.
async fn both_ready() -> usize {
    race(std::future::ready(()), std::future::ready(())).await
}

fn race_run(seed: u64, scheduler: SchedulerKind) -> (usize, String, cancelsim::Schedule) {
    let mut sim = Sim::new(Config::default().seed(seed).scheduler(scheduler));
    let winner = sim.block_on(both_ready()).unwrap();
    (winner, sim.trace().to_string(), sim.schedule())
}

#[test]
fn the_fifo_baseline_polls_branch_zero_first() {
    for seed in 0..8 {
        assert_eq!(race_run(seed, SchedulerKind::Fifo).0, 0);
    }
}

#[test]
fn random_schedules_let_either_branch_win_a_tie() {
    let winners: BTreeSet<usize> = (0..32)
        .map(|seed| race_run(seed, SchedulerKind::Random).0)
        .collect();
    assert_eq!(winners, [0, 1].into());
}

#[test]
fn a_race_is_the_same_under_the_same_seed_and_replays_from_its_schedule() {
    for seed in 0..8 {
        let (winner, trace, schedule) = race_run(seed, SchedulerKind::Random);
        let again = race_run(seed, SchedulerKind::Random);
        assert_eq!((winner, &trace), (again.0, &again.1));
        let replayed = race_run(seed, SchedulerKind::Replay(Arc::new(schedule)));
        assert_eq!(replayed.0, winner);
        assert_eq!(events_of(&replayed.1), events_of(&trace));
    }
}

#[test]
fn a_race_of_one_branch_asks_nothing() {
    let mut sim = Sim::new(Config::default().scheduler(SchedulerKind::Random));
    let start = sim.block_on(async { select::start(1) }).unwrap();
    assert_eq!(start, 0);
    assert!(sim.schedule().is_empty());
    assert!(!sim.trace().to_string().contains("choice"));
}

#[test]
fn the_trace_names_the_winner_and_the_pending_loser_with_its_await_point() {
    let mut sim = Sim::new(Config::default());
    let winner = sim
        .block_on(async {
            sleep(ms(1)).await; // await point 1
            race(sleep(ms(20)), sleep(ms(10))).await // await point 2
        })
        .unwrap();
    assert_eq!(winner, 1);
    let trace = sim.trace().to_string();
    let start = location_in(PATH, SOURCE, "marker: race start", "select::start");
    let won = location_in(PATH, SOURCE, "marker: race won", "select::won");
    assert!(
        trace.contains(&format!(
            "choice 0 of 2 at {start}: select! polls branch 0 first"
        )),
        "{trace}"
    );
    let line = format!(
        "select! at {won}: branch 1 won; dropped pending branch 0 (waiting at await point 2)"
    );
    assert!(trace.contains(&line), "{line} in\n{trace}");
}

#[test]
fn a_winner_with_nothing_pending_drops_nothing() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(async {
        select::won(0, 0);
    })
    .unwrap();
    let trace = sim.trace().to_string();
    let line = trace
        .lines()
        .find(|line| line.contains("select! at"))
        .unwrap_or_else(|| panic!("{trace}"));
    assert!(line.ends_with("branch 0 won"), "{line}");
}

#[test]
fn several_dropped_branches_are_listed() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(async {
        sleep(ms(1)).await;
        select::won(1, 0b1101);
    })
    .unwrap();
    let trace = sim.trace().to_string();
    assert!(
        trace.contains("branch 1 won; dropped pending branches 0, 2, 3 (waiting at await point 1)"),
        "{trace}"
    );
}

/// A race decided in its first poll drops a loser that never waited at
/// any await point of the task: the event says so with point 0 (its
/// documentation: "0 when the race was decided in its first poll"), even
/// when the task suspended elsewhere before the race.
#[test]
fn a_race_decided_in_its_first_poll_names_no_await_point() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(async {
        sleep(ms(1)).await; // await point 1: before the race
                            // Branch 0 is polled (pending), branch 1 is ready at once.
        race(sleep(ms(20)), std::future::ready(())).await
    })
    .unwrap();
    let trace = sim.trace().to_string();
    let line = trace
        .lines()
        .find(|line| line.contains("select! at"))
        .unwrap_or_else(|| panic!("{trace}"));
    assert!(
        line.ends_with("branch 1 won; dropped pending branch 0"),
        "the loser was created and dropped in this poll, it never waited at await point 1: {line}"
    );
    let json = sim.trace().to_json_lines();
    let event = json.lines().find(|l| l.contains("select_won")).unwrap();
    assert!(event.contains("\"point\":0"), "{event}");
}

#[test]
fn won_outside_a_simulation_does_nothing() {
    select::won(1, 1);
}

#[test]
fn the_json_lines_carry_choice_and_select_won() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(async {
        sleep(ms(1)).await;
        race(sleep(ms(20)), sleep(ms(10))).await
    })
    .unwrap();
    let json = sim.trace().to_json_lines();
    let events: Vec<serde_json::Value> = json
        .lines()
        .skip(1)
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let choice = events
        .iter()
        .find(|e| e["kind"] == "choice")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(choice["value"], 0);
    assert_eq!(choice["options"], 2);
    assert_eq!(
        choice["at"],
        location_in(PATH, SOURCE, "marker: race start", "select::start")
    );
    assert_eq!(choice["task_name"], "main");
    let won = events
        .iter()
        .find(|e| e["kind"] == "select_won")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(won["branch"], 1);
    assert_eq!(won["dropped"], serde_json::json!([0]));
    assert_eq!(won["point"], 2);
    assert_eq!(
        won["at"],
        location_in(PATH, SOURCE, "marker: race won", "select::won")
    );
}

#[test]
fn the_chrome_trace_shows_the_winner_and_leaves_choices_out() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(async { race(sleep(ms(20)), sleep(ms(10))).await })
        .unwrap();
    let chrome: serde_json::Value = serde_json::from_str(&sim.trace().to_chrome_json()).unwrap();
    let names: Vec<String> = chrome["traceEvents"]
        .as_array()
        .expect("traceEvents")
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_string))
        .collect();
    assert!(
        names.iter().any(|n| n == "select! branch 1 won"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("choice")), "{names:?}");
}

/// A cancel-unsafe reader under a race: the branch that loses drops a read
/// half done. Only the explored start order exposes it.
async fn half_read(fixed: bool) {
    let buffered = Rc::new(Cell::new(0u32));
    let read = {
        let buffered = Rc::clone(&buffered);
        async move {
            buffered.set(1); // half of the frame taken from the socket
            cancelsim::yield_now().await;
            buffered.set(0); // the frame handed on
        }
    };
    let guard = cancelsim::resource::acquire("frame");
    // Branch 0 wins at once in the baseline; a start at branch 1 begins
    // the read first and then drops it.
    let winner = race(std::future::ready(()), read).await;
    if buffered.get() == 0 || fixed {
        drop(guard);
    } else {
        std::mem::forget(guard); // the half-read frame is lost
    }
    let _ = winner;
}

#[test]
fn a_race_that_loses_a_half_read_is_found_by_exploring_start_orders() {
    Check::new(|| half_read(false)).run().assert_clean();
    let report = Check::new(|| half_read(false))
        .explore_schedules(SchedulerKind::Random, 16)
        .run();
    let failure = report
        .failures()
        .first()
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(
        failure.violations()[0].kind(),
        ViolationCode::LeakedResource
    );
    let trace = failure.trace().to_string();
    assert!(trace.contains("choice 1 of 2"), "{trace}");
    assert!(
        trace.contains("branch 0 won; dropped pending branch 1"),
        "{trace}"
    );
    Check::new(|| half_read(true))
        .explore_schedules(SchedulerKind::Random, 16)
        .run()
        .assert_clean();
}

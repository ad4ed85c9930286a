//! Labelled choices (`cancelsim::choose_labelled`): the trace line of a
//! recorded choice says what the alternative taken means, in the text and
//! JSON forms; the label is asked for only when a trace is kept; a
//! `select!`'s start branch says which branch it polls first.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;

use cancelsim::{choose_labelled, select, Config, SchedulerKind, Sim, TraceMode};

/// A reply delay chosen among `options`, labelled with its meaning.
async fn reply_delay(options: usize) -> usize {
    let at = std::panic::Location::caller();
    choose_labelled(options, at, |step| format!("the reply waits {step} ms"))
}

fn run(seed: u64, options: usize) -> (usize, Sim) {
    let mut sim = Sim::new(
        Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random),
    );
    let taken = sim.block_on(reply_delay(options)).unwrap();
    (taken, sim)
}

/// The trace's line of its (one) choice.
fn choice_line(trace: &str) -> &str {
    trace
        .lines()
        .find(|line| line.contains("choice "))
        .unwrap_or_else(|| panic!("no choice in\n{trace}"))
}

#[test]
fn the_trace_says_what_the_alternative_taken_means() {
    for seed in 0..8 {
        let (taken, sim) = run(seed, 4);
        let trace = sim.trace().to_string();
        let line = choice_line(&trace);
        assert!(
            line.contains(&format!("choice {taken} of 4 at "))
                && line.ends_with(&format!(": the reply waits {taken} ms")),
            "{line}"
        );
        let json = sim.trace().to_json_lines();
        assert!(
            json.contains(&format!("\"label\":\"the reply waits {taken} ms\"")),
            "{json}"
        );
    }
}

#[test]
fn same_seed_same_trace_and_seeds_explore_every_alternative() {
    let mut seen = BTreeSet::new();
    for seed in 0..32 {
        let (first, a) = run(seed, 4);
        let (second, b) = run(seed, 4);
        assert_eq!(first, second);
        assert_eq!(a.trace().to_string(), b.trace().to_string());
        seen.insert(first);
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
}

#[test]
fn the_label_is_asked_for_only_when_a_trace_is_kept() {
    for (mode, asked) in [(TraceMode::Off, 0), (TraceMode::Full, 1)] {
        let calls = Rc::new(Cell::new(0));
        let counted = Rc::clone(&calls);
        let mut sim = Sim::new(Config::default().trace(mode));
        sim.block_on(async move {
            let at = std::panic::Location::caller();
            choose_labelled(3, at, |_| {
                counted.set(counted.get() + 1);
                String::from("asked")
            })
        })
        .unwrap();
        assert_eq!(calls.get(), asked);
    }
}

#[test]
fn a_choice_among_more_than_255_alternatives_is_traced_without_its_label() {
    let (taken, sim) = run(1, 300);
    let trace = sim.trace().to_string();
    let line = choice_line(&trace);
    assert!(
        line.contains(&format!("choice {taken} of 300 at ")),
        "{line}"
    );
    assert!(!line.contains("the reply waits"), "{line}");
}

#[test]
fn a_select_start_says_which_branch_it_polls_first() {
    let mut firsts = BTreeSet::new();
    for seed in 0..16 {
        let mut sim = Sim::new(
            Config::default()
                .seed(seed)
                .scheduler(SchedulerKind::Random),
        );
        let first = sim.block_on(async { select::start(3) }).unwrap();
        let trace = sim.trace().to_string();
        assert!(
            trace.contains(&format!("choice {first} of 3 at tests/labelled_choice.rs:"))
                && trace.contains(&format!(": select! polls branch {first} first")),
            "{trace}"
        );
        firsts.insert(first);
    }
    assert_eq!(firsts.len(), 3);
}

//! The catalogue of bugs the oracles must find: for each one a buggy program
//! that must fail with the right violation code, naming the right task and
//! await point, and its fixed twin that must pass the full sweep (both cancel
//! modes and timeouts at every await point, plus schedules where they matter).
//!
//! One module per oracle or family of oracles; the helpers that read a
//! report are here.

use std::collections::BTreeSet;

use cancelsim::{Failure, Report, Violation};

#[path = "../common/mod.rs"]
mod common;
use common::named_injections;

mod cancel_ignored;
mod cancel_swallowed;
mod deadlock;
mod invariants;
mod leaked_tasks;
mod nondeterminism;
mod panics;
mod resources;

/// Every violation with `code`, with its failing run; panics with the report
/// when there is none.
fn found<'a>(report: &'a Report, code: &str) -> Vec<(&'a Failure, &'a Violation)> {
    let hits: Vec<_> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations().iter().map(move |v| (failure, v)))
        .filter(|(_, v)| v.code() == code)
        .collect();
    assert!(!hits.is_empty(), "expected a `{code}` violation:\n{report}");
    hits
}

/// The codes of every violation of the report.
fn codes(report: &Report) -> BTreeSet<&'static str> {
    report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations().iter().map(Violation::code))
        .collect()
}

/// The injections of a failing run as `task-name kind@point`, e.g.
/// `writer cancel-drop@2` (the instant, suspend or wake, left out).
fn injections(failure: &Failure) -> Vec<String> {
    named_injections(failure)
        .map(|(name, injection)| format!("{name} {}@{}", injection.kind.name(), injection.point))
        .collect()
}

/// `injections` of every failing run (each run has one injection here).
fn failing_injections(report: &Report) -> BTreeSet<String> {
    report.failures().iter().flat_map(injections).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| item.to_string()).collect()
}

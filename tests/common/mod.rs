//! Helpers shared by the integration tests (`mod common;` in each test file
//! that uses them). Not every test file uses every helper.

#![allow(dead_code)]

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::{CancelMode, Check, Config, Failure, Injection, Sim};

pub fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A simulation with the default configuration and `seed`.
pub fn sim(seed: u64) -> Sim {
    Sim::new(Config::default().seed(seed))
}

/// Sets its flag when dropped: shows exactly when a future is dropped.
pub struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

pub fn drop_flag() -> (DropFlag, Rc<Cell<bool>>) {
    let flag = Rc::new(Cell::new(false));
    (DropFlag(Rc::clone(&flag)), flag)
}

/// The full sweep: both cancel modes and timeouts at every await point.
pub fn sweep<F, Fut>(body: F) -> Check<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future,
{
    Check::new(body)
        .cancel_at_every_await(CancelMode::Both)
        .timeout_at_every_await(true)
}

/// The injections of a failing run, each with the name of the task it hit
/// (`?` for a task the trace does not name).
pub fn named_injections(failure: &Failure) -> impl Iterator<Item = (&str, &Injection)> {
    failure.repro().injections.iter().map(move |injection| {
        let name = failure.trace().task_name(injection.task).unwrap_or("?");
        (name, injection)
    })
}

/// `path:LINE:COLUMN` of `token` on the first line of `source` (the text of
/// the test file at `path`, from `include_str!`) that contains `marker`:
/// source locations without hard-coded numbers.
pub fn location_in(path: &str, source: &str, marker: &str, token: &str) -> String {
    let (index, line) = source
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains(marker) && !line.contains(&format!("\"{marker}")))
        .unwrap_or_else(|| panic!("`{marker}` is not in {path}"));
    let column = line
        .find(token)
        .unwrap_or_else(|| panic!("`{token}` is not on line {}", index + 1));
    format!("{path}:{}:{}", index + 1, column + 1)
}

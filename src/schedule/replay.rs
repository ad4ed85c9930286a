//! Replaying a recorded schedule.
//!
//! Invariant: the cursor never passes the end of the current root's share of
//! the recording. A question asked there, or a root that ends before it gets
//! there, is a [`Divergence`]; so is a run that ends with decisions left.

use std::sync::Arc;

use super::{Decision, Divergence, ReadyTasks, Schedule, Scheduler};

/// Answers every question from a recorded [`Schedule`]. A question the
/// recording does not hold (another number of ready tasks, a random number
/// where a task choice was recorded, or a root or run that goes on past its
/// end), and a root that ends before taking every decision the recording
/// holds for it, is a [`Divergence`]: the code under test is not
/// deterministic, or not the code that was recorded.
#[derive(Clone, Debug)]
pub struct Replay {
    schedule: Arc<Schedule>,
    /// Index of the next decision.
    cursor: usize,
    /// Where that decision is in the run-length encoding: run and offset.
    run: usize,
    offset: u32,
    /// Index of the current root future (roots that ended so far).
    root: usize,
}

impl Replay {
    /// Replays `schedule` from its first decision.
    pub fn new(schedule: Arc<Schedule>) -> Self {
        Replay {
            schedule,
            cursor: 0,
            run: 0,
            offset: 0,
            root: 0,
        }
    }

    /// The next recorded decision, if any (the cursor does not move).
    fn peek(&self) -> Option<Decision> {
        self.schedule.run(self.run).map(|(decision, _)| decision)
    }

    fn advance(&mut self) {
        self.cursor += 1;
        self.offset += 1;
        if let Some((_, count)) = self.schedule.run(self.run) {
            if self.offset >= count {
                self.run += 1;
                self.offset = 0;
            }
        }
    }

    /// Moves the cursor forward to decision `target`.
    fn skip_to(&mut self, target: usize) {
        while self.cursor < target && self.peek().is_some() {
            self.advance();
        }
    }

    /// What the recording holds where the current root ends.
    fn root_end_text(&self, end: usize) -> String {
        if end >= self.schedule.len() {
            "the end of the recording".to_string()
        } else {
            format!(
                "the end of the root future of `block_on` number {}",
                self.root + 1
            )
        }
    }

    fn take(&mut self, found: Decision) -> Result<Decision, Divergence> {
        let decision = self.cursor;
        let end = self.schedule.root_end(self.root);
        let recorded = match self.peek() {
            Some(recorded) if decision < end => recorded,
            _ => {
                return Err(Divergence {
                    decision,
                    expected: self.root_end_text(end),
                    found: describe(found),
                    between_runs: false,
                })
            }
        };
        let same_question = match (recorded, found) {
            (Decision::Task { options: a, .. }, Decision::Task { options: b, .. }) => a == b,
            (Decision::Timer { options: a, .. }, Decision::Timer { options: b, .. }) => a == b,
            (Decision::Random(_), Decision::Random(_)) => true,
            (Decision::Choice { options: a, .. }, Decision::Choice { options: b, .. }) => a == b,
            _ => false,
        };
        if !same_question {
            return Err(Divergence {
                decision,
                expected: describe(recorded),
                found: describe(found),
                between_runs: false,
            });
        }
        self.advance();
        Ok(recorded)
    }
}

/// `n` recorded decisions, in words.
fn decisions(n: usize) -> String {
    match n {
        1 => "1 recorded decision".to_string(),
        n => format!("{n} recorded decisions"),
    }
}

fn describe(decision: Decision) -> String {
    match decision {
        Decision::Task { options, .. } => format!("a choice among {options} ready tasks"),
        Decision::Timer { options, .. } => format!("a choice among {options} due timers"),
        Decision::Random(_) => "a random number".to_string(),
        Decision::Choice { options, .. } => format!("a choice among {options} alternatives"),
    }
}

impl Scheduler for Replay {
    fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
        if ready.len() <= 1 {
            return Ok(0);
        }
        let options = ready.len() as u32;
        match self.take(Decision::Task { options, chosen: 0 })? {
            Decision::Task { chosen, .. } if chosen < options => Ok(chosen as usize),
            other => Err(Divergence {
                decision: self.cursor - 1,
                expected: format!("{other:?}"),
                found: format!("a choice among {options} ready tasks"),
                between_runs: false,
            }),
        }
    }

    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
        let options = due as u32;
        match self.take(Decision::Timer { options, chosen: 0 })? {
            Decision::Timer { chosen, .. } if chosen < options => Ok(chosen as usize),
            other => Err(Divergence {
                decision: self.cursor - 1,
                expected: format!("{other:?}"),
                found: format!("a choice among {options} due timers"),
                between_runs: false,
            }),
        }
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        match self.take(Decision::Random(0))? {
            Decision::Random(value) => Ok(value),
            _ => unreachable!("take checks the kind"),
        }
    }

    fn next_choice(&mut self, options: u32) -> Result<u32, Divergence> {
        match self.take(Decision::Choice { options, chosen: 0 })? {
            Decision::Choice { chosen, .. } if chosen < options => Ok(chosen),
            other => Err(Divergence {
                decision: self.cursor - 1,
                expected: format!("{other:?}"),
                found: format!("a choice among {options} alternatives"),
                between_runs: false,
            }),
        }
    }

    fn root_finished(&mut self) -> Result<(), Divergence> {
        if self.schedule.root_ends().is_empty() {
            // Recorded without root ends (built from a list of decisions, or
            // text from before they were written): the roots' shares are
            // unknown, so the decisions run on into the next root; the end
            // of the run still checks that all were taken.
            return Ok(());
        }
        let end = self.schedule.root_end(self.root);
        self.root += 1;
        let decision = self.cursor;
        match self.peek() {
            Some(recorded) if decision < end => {
                // The next root starts where its share of the recording
                // does, whatever this one left.
                self.skip_to(end);
                Err(Divergence {
                    decision,
                    expected: describe(recorded),
                    found: format!(
                        "the end of its root future, with {} of this `block_on` not taken",
                        decisions(end - decision)
                    ),
                    between_runs: false,
                })
            }
            _ => Ok(()),
        }
    }

    fn run_finished(&mut self) -> Result<(), Divergence> {
        let decision = self.cursor;
        match self.peek() {
            Some(recorded) => Err(Divergence {
                decision,
                expected: describe(recorded),
                found: format!(
                    "the end of the run, with {} not taken",
                    decisions(self.schedule.len() - decision)
                ),
                between_runs: false,
            }),
            None => Ok(()),
        }
    }
}

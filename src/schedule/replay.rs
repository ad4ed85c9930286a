//! Replaying a recorded schedule.

use std::sync::Arc;

use super::{Decision, Divergence, ReadyTasks, Schedule, Scheduler};

/// Answers every question from a recorded [`Schedule`]. A question the
/// recording does not hold (another number of ready tasks, a random number
/// where a task choice was recorded, or a run that goes on past the end) is a
/// [`Divergence`]: the code under test is not deterministic.
#[derive(Clone, Debug)]
pub struct Replay {
    schedule: Arc<Schedule>,
    /// Index of the next decision.
    cursor: usize,
    /// Where that decision is in the run-length encoding: run and offset.
    run: usize,
    offset: u32,
}

impl Replay {
    /// Replays `schedule` from its first decision.
    pub fn new(schedule: Arc<Schedule>) -> Self {
        Replay {
            schedule,
            cursor: 0,
            run: 0,
            offset: 0,
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

    fn take(&mut self, found: Decision) -> Result<Decision, Divergence> {
        let decision = self.cursor;
        let Some(recorded) = self.peek() else {
            return Err(Divergence {
                decision,
                expected: "the end of the recording".to_string(),
                found: describe(found),
            });
        };
        let same_question = match (recorded, found) {
            (Decision::Task { options: a, .. }, Decision::Task { options: b, .. }) => a == b,
            (Decision::Timer { options: a, .. }, Decision::Timer { options: b, .. }) => a == b,
            (Decision::Random(_), Decision::Random(_)) => true,
            _ => false,
        };
        if !same_question {
            return Err(Divergence {
                decision,
                expected: describe(recorded),
                found: describe(found),
            });
        }
        self.advance();
        Ok(recorded)
    }
}

fn describe(decision: Decision) -> String {
    match decision {
        Decision::Task { options, .. } => format!("a choice among {options} ready tasks"),
        Decision::Timer { options, .. } => format!("a choice among {options} due timers"),
        Decision::Random(_) => "a random number".to_string(),
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
            }),
        }
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        match self.take(Decision::Random(0))? {
            Decision::Random(value) => Ok(value),
            _ => unreachable!("take checks the kind"),
        }
    }
}

//! The determinism check: a wrapper scheduler that runs a plan twice and
//! compares every question of the second run, as it is asked, with the
//! first run's.
//!
//! The first run ([`DeterminismRole::Record`]) asks the wrapped scheduler
//! and keeps, for each question, what was offered (the first
//! [`SHOWN`] ready tasks by id and the count, the number of due timers or
//! alternatives, a random number, the end of a root), the answer, and the
//! step and virtual time it was asked at; it hands the recording over when
//! the world drops it. The second run ([`DeterminismRole::Check`]) answers
//! from the recording, never asking the wrapped scheduler, and at the first
//! question that differs answers with a [`Divergence`] naming what each run
//! was offered: the world stops the run there and reports `nondeterminism`.
//!
//! Invariants:
//! * A program that is a deterministic function of its plan asks the same
//!   questions in the same order in both runs; so the first difference is
//!   where something outside the simulation (an unseeded RNG, `HashMap`
//!   order, the wall clock, threads, a `static`) changed what the program
//!   did.
//! * Ready sets are compared by count and by the ids of their first
//!   [`SHOWN`] tasks: the cost per question stays constant however many
//!   tasks are ready.
//! * The wrapper reads the run only through a [`RunView`] the world gives
//!   it (step, time, task labels); it never reaches into the world.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::{Divergence, ReadyTasks, Scheduler};
use crate::vocab::{Instant, TaskId, TaskKey};

/// How many ready tasks of each task question are kept and compared.
const SHOWN: usize = 8;

/// What the check needs to know about the run it is part of.
pub(crate) trait RunView: fmt::Debug {
    /// The step the run is at, and its virtual time.
    fn position(&self) -> (u64, Instant);

    /// `#2 worker (src/pool.rs:37:5)`: the task's id, name and where it
    /// was spawned.
    fn task_label(&self, task: TaskKey) -> String;
}

/// Which of the two runs a [`DeterminismCheck`] wraps the scheduler of.
#[derive(Clone, Debug)]
pub(crate) enum DeterminismRole {
    /// The first run: record into the slot (filled when the run's world
    /// is dropped).
    Record(Arc<Mutex<Option<Recording>>>),
    /// The second run: check against the first run's recording.
    Check(Arc<Recording>),
}

impl DeterminismRole {
    /// A first run's role and the slot its recording will be in.
    pub fn record() -> (DeterminismRole, Arc<Mutex<Option<Recording>>>) {
        let slot = Arc::new(Mutex::new(None));
        (DeterminismRole::Record(Arc::clone(&slot)), slot)
    }
}

/// What one question offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    /// Which of `options` ready tasks runs; the ids of the first
    /// [`SHOWN`] (the rest of the array `u32::MAX`).
    Task { options: u32, first: [u32; SHOWN] },
    /// Which of `options` timers due at one instant fires first.
    Timer { options: u32 },
    /// A random number.
    Random,
    /// Which of `options` alternatives of the code under test.
    Choice { options: u32 },
    /// The root future ended.
    RootEnd,
}

/// One question of the first run.
#[derive(Clone, Copy, Debug)]
struct Entry {
    asked: Asked,
    answer: u64,
    step: u64,
    time: Instant,
}

/// The questions of a first run, with their answers; and the labels of the
/// tasks they offered, by task id.
#[derive(Debug, Default)]
pub(crate) struct Recording {
    entries: Vec<Entry>,
    labels: Vec<Option<Box<str>>>,
}

impl Recording {
    fn label(&self, id: u32) -> String {
        match self.labels.get(id as usize) {
            Some(Some(label)) => label.to_string(),
            _ => TaskId(id).to_string(),
        }
    }

    /// What the first run was offered at `entry`, in words.
    fn describe(&self, entry: &Entry) -> String {
        let offered = match entry.asked {
            Asked::Task { options, first } => {
                let shown: Vec<String> = shown_ids(&first).map(|id| self.label(id)).collect();
                ready_text(options, &shown)
            }
            other => describe_other(other),
        };
        at(offered, entry.step, entry.time)
    }
}

/// The wrapper; see the module docs.
#[derive(Debug)]
pub(crate) struct DeterminismCheck {
    inner: Box<dyn Scheduler>,
    view: Box<dyn RunView>,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    Record {
        recording: Recording,
        slot: Arc<Mutex<Option<Recording>>>,
    },
    Check {
        first: Arc<Recording>,
        /// The next entry to compare.
        cursor: usize,
        /// Decisions (entries other than root ends) passed so far.
        decisions: usize,
        /// The first difference, answered to every question after it.
        parted: Option<Divergence>,
    },
}

impl DeterminismCheck {
    /// Wraps `inner` for the run `role` says, seeing the run through `view`.
    pub fn new(
        inner: Box<dyn Scheduler>,
        role: DeterminismRole,
        view: Box<dyn RunView>,
    ) -> DeterminismCheck {
        let mode = match role {
            DeterminismRole::Record(slot) => Mode::Record {
                recording: Recording::default(),
                slot,
            },
            DeterminismRole::Check(first) => Mode::Check {
                first,
                cursor: 0,
                decisions: 0,
                parted: None,
            },
        };
        DeterminismCheck { inner, view, mode }
    }

    /// Records (first run) or checks (second run) the question `asked`;
    /// `ask` answers it in the first run, `this` describes what this run
    /// was offered (only called on a difference).
    fn question(
        &mut self,
        asked: Asked,
        ask: impl FnOnce(&mut dyn Scheduler) -> Result<u64, Divergence>,
        this: impl FnOnce(&dyn RunView) -> String,
    ) -> Result<u64, Divergence> {
        let (step, time) = self.view.position();
        match &mut self.mode {
            Mode::Record { recording, .. } => {
                let answer = ask(&mut *self.inner)?;
                recording.entries.push(Entry {
                    asked,
                    answer,
                    step,
                    time,
                });
                Ok(answer)
            }
            Mode::Check {
                first,
                cursor,
                decisions,
                parted,
            } => {
                if let Some(divergence) = parted {
                    return Err(divergence.clone());
                }
                match first.entries.get(*cursor) {
                    Some(entry) if entry.asked == asked => {
                        *cursor += 1;
                        if asked != Asked::RootEnd {
                            *decisions += 1;
                        }
                        Ok(entry.answer)
                    }
                    recorded => {
                        let expected = match recorded {
                            Some(entry) => first.describe(entry),
                            None => ended(
                                first
                                    .entries
                                    .iter()
                                    .filter(|entry| entry.asked != Asked::RootEnd)
                                    .count(),
                            ),
                        };
                        let found = at(this(&*self.view), step, time);
                        let divergence = Divergence::between_runs(*decisions, expected, found);
                        *parted = Some(divergence.clone());
                        Err(divergence)
                    }
                }
            }
        }
    }

    /// The labels of the first [`SHOWN`] ready tasks, noted once per task
    /// (first run).
    fn note_labels(&mut self, ready: ReadyTasks<'_>) {
        let Mode::Record { recording, .. } = &mut self.mode else {
            return;
        };
        for key in ready.keys().take(SHOWN) {
            let index = key.id.0 as usize;
            if recording.labels.len() <= index {
                recording.labels.resize(index + 1, None);
            }
            if recording.labels[index].is_none() {
                recording.labels[index] = Some(self.view.task_label(key).into());
            }
        }
    }
}

impl Drop for DeterminismCheck {
    /// Hands a first run's recording over to the second run.
    fn drop(&mut self) {
        if let Mode::Record { recording, slot } = &mut self.mode {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(std::mem::take(recording));
            }
        }
    }
}

impl Scheduler for DeterminismCheck {
    fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
        let mut first = [u32::MAX; SHOWN];
        for (at, id) in first.iter_mut().zip(ready.iter()) {
            *at = id.0;
        }
        let asked = Asked::Task {
            options: ready.len() as u32,
            first,
        };
        self.note_labels(ready);
        let answer = self.question(
            asked,
            |inner| inner.next_task(ready).map(|index| index as u64),
            |view| {
                let shown: Vec<String> = ready
                    .keys()
                    .take(SHOWN)
                    .map(|key| view.task_label(key))
                    .collect();
                ready_text(ready.len() as u32, &shown)
            },
        )?;
        Ok(answer as usize)
    }

    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
        let asked = Asked::Timer {
            options: due as u32,
        };
        let answer = self.question(
            asked,
            |inner| inner.next_timer(due).map(|index| index as u64),
            |_| describe_other(asked),
        )?;
        Ok(answer as usize)
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        self.question(
            Asked::Random,
            |inner| inner.next_u64(),
            |_| describe_other(Asked::Random),
        )
    }

    fn next_choice(&mut self, options: u32) -> Result<u32, Divergence> {
        let asked = Asked::Choice { options };
        let answer = self.question(
            asked,
            |inner| inner.next_choice(options).map(u64::from),
            |_| describe_other(asked),
        )?;
        Ok(answer as u32)
    }

    fn root_finished(&mut self) -> Result<(), Divergence> {
        self.question(
            Asked::RootEnd,
            |inner| inner.root_finished().map(|()| 0),
            |_| describe_other(Asked::RootEnd),
        )
        .map(|_| ())
    }

    fn run_finished(&mut self) -> Result<(), Divergence> {
        let Mode::Check {
            first,
            cursor,
            decisions,
            parted,
        } = &mut self.mode
        else {
            return self.inner.run_finished();
        };
        if let Some(divergence) = parted {
            return Err(divergence.clone());
        }
        match first.entries.get(*cursor) {
            None => Ok(()),
            Some(entry) => {
                let (step, time) = self.view.position();
                let divergence = Divergence::between_runs(
                    *decisions,
                    first.describe(entry),
                    at(ended(*decisions), step, time),
                );
                *parted = Some(divergence.clone());
                Err(divergence)
            }
        }
    }
}

/// The ids kept of a ready set.
fn shown_ids(first: &[u32; SHOWN]) -> impl Iterator<Item = u32> + '_ {
    first.iter().copied().take_while(|&id| id != u32::MAX)
}

/// `could run [#2 worker (src/pool.rs:37:5), #3 (src/pool.rs:40:5)]`, with
/// the number of tasks left out when more were ready than are shown.
fn ready_text(options: u32, shown: &[String]) -> String {
    let more = (options as usize).saturating_sub(shown.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("could run [{}]{more}", shown.join(", "))
}

/// A question other than a task choice, in words.
fn describe_other(asked: Asked) -> String {
    match asked {
        Asked::Task { options, .. } => format!("could run one of {options} tasks"),
        Asked::Timer { options } => format!("had {options} timers due at one instant"),
        Asked::Random => "drew a random number".to_string(),
        Asked::Choice { options } => format!("chose among {options} alternatives"),
        Asked::RootEnd => "ended its root future".to_string(),
    }
}

/// `had ended (after 3 decisions)`.
fn ended(decisions: usize) -> String {
    match decisions {
        1 => "had ended (after 1 decision)".to_string(),
        n => format!("had ended (after {n} decisions)"),
    }
}

/// `what` with the trace position it happened at.
fn at(what: String, step: u64, time: Instant) -> String {
    format!("{what} (step {step}, at {time})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{Fifo, ReadyQueue};

    #[derive(Debug)]
    struct Fixed(u64, Instant);

    impl RunView for Fixed {
        fn position(&self) -> (u64, Instant) {
            (self.0, self.1)
        }
        fn task_label(&self, task: TaskKey) -> String {
            format!("{} t{}", task.id, task.id.0)
        }
    }

    fn queue(ids: &[u32]) -> ReadyQueue {
        let mut queue = ReadyQueue::default();
        for &n in ids {
            queue.push_back(TaskKey {
                index: n,
                id: TaskId(n),
            });
        }
        queue
    }

    fn recorded(questions: impl FnOnce(&mut DeterminismCheck)) -> Arc<Recording> {
        let (role, slot) = DeterminismRole::record();
        let mut first =
            DeterminismCheck::new(Box::new(Fifo::new(0)), role, Box::new(Fixed(3, Instant(0))));
        questions(&mut first);
        drop(first);
        let recording = slot.lock().unwrap().take().unwrap();
        Arc::new(recording)
    }

    /// The same questions get the first run's answers; the first other
    /// question is a divergence naming both ready sets, and every later
    /// question gets the same one.
    #[test]
    fn checks_each_question_against_the_first_run() {
        let first = recorded(|run| {
            assert_eq!(run.next_task(ReadyTasks::new(&queue(&[0, 1]))), Ok(0));
            assert!(run.next_u64().is_ok());
            assert_eq!(run.next_task(ReadyTasks::new(&queue(&[1, 2]))), Ok(0));
        });
        let view = Box::new(Fixed(5, Instant(2_000_000)));
        let mut second = DeterminismCheck::new(
            Box::new(Fifo::new(0)),
            DeterminismRole::Check(first.clone()),
            view,
        );
        assert_eq!(second.next_task(ReadyTasks::new(&queue(&[0, 1]))), Ok(0));
        assert!(second.next_u64().is_ok());
        let parted = second
            .next_task(ReadyTasks::new(&queue(&[1, 2, 3])))
            .unwrap_err();
        assert_eq!(
            parted.to_string(),
            "at decision 2 the first run could run [#1 t1, #2 t2] (step 3, at 0.000s) \
             and this run could run [#1 t1, #2 t2, #3 t3] (step 5, at 0.002s)"
        );
        assert_eq!(second.next_u64(), Err(parted.clone()));
        assert_eq!(second.run_finished(), Err(parted));
    }

    /// A second run that ends early, or asks more than the first, parts too.
    #[test]
    fn an_early_or_a_late_end_is_a_difference() {
        let first = recorded(|run| {
            run.next_timer(2).unwrap();
        });
        let view = || Box::new(Fixed(1, Instant(0)));
        let mut early = DeterminismCheck::new(
            Box::new(Fifo::new(0)),
            DeterminismRole::Check(first.clone()),
            view(),
        );
        let ended = early.run_finished().unwrap_err();
        assert!(
            ended
                .to_string()
                .contains("the first run had 2 timers due at one instant"),
            "{ended}"
        );
        assert!(
            ended
                .to_string()
                .contains("this run had ended (after 0 decisions)"),
            "{ended}"
        );
        let mut late = DeterminismCheck::new(
            Box::new(Fifo::new(0)),
            DeterminismRole::Check(first),
            view(),
        );
        assert_eq!(late.next_timer(2), Ok(0));
        let more = late.next_choice(3).unwrap_err();
        assert!(
            more.to_string()
                .contains("the first run had ended (after 1 decision)"),
            "{more}"
        );
        assert!(
            more.to_string()
                .contains("this run chose among 3 alternatives"),
            "{more}"
        );
    }
}

//! Where each event of a run is written in the scenario file.
//!
//! The core's trace names the interpreter's own source for every await,
//! cancel and spawn; the scenario's reader wants the `.kdl` step. While a
//! run goes, the interpreter notes, for each event it causes, the step it
//! was executing (the innermost step of the task being polled, kept in a
//! thread-local that [`Tracked`] swaps per poll) and a key that finds the
//! event again in the trace: a spawn by its child, a suspension by its task
//! and ordinal, the n-th cancel request, delivery, `work`, `acquire` of a
//! task, a timeout by its scope. Log lines and task ends are noted in the
//! same sequence, so a renderer can put them where they happened.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use miette::SourceSpan;

use super::blocked::Deadlines;
use super::RunRecord;
use crate::scenario::model::TaskOutcome;
use crate::task::TaskId;
use crate::time::Instant;

/// A step: where it is written and its keyword.
pub(crate) type StepAt = (SourceSpan, &'static str);

thread_local! {
    /// The innermost step of the task being polled.
    static STEP: Cell<Option<StepAt>> = const { Cell::new(None) };
    /// The last `work` step of the poll going on.
    static WORKED: Cell<Option<StepAt>> = const { Cell::new(None) };
    /// A step of the poll going on made the task ready again at once.
    static SELF_WAKE: Cell<bool> = const { Cell::new(false) };
    /// The tasks the poll going on spawned or cancelled (their cells'
    /// addresses): what it scheduled.
    static TOUCHED: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The poll going on scheduled the task at `cell` (spawned or cancelled it).
pub(super) fn touched<T>(cell: *const T) {
    TOUCHED.with(|touched| touched.borrow_mut().push(cell as usize));
}

/// The tasks the poll going on scheduled so far.
pub(super) fn take_touched() -> Vec<usize> {
    TOUCHED.with(|touched| std::mem::take(&mut *touched.borrow_mut()))
}

/// The current step suspends only to let the others run (asyncio's
/// `sleep(0)`): the task is ready again at once.
pub(super) fn waking_itself() {
    SELF_WAKE.with(|wake| wake.set(true));
}

/// Did a step of the poll going on make the task ready again at once?
pub(super) fn woke_itself() -> bool {
    SELF_WAKE.with(Cell::get)
}

/// The current step spends CPU time (`work`).
pub(super) fn working() {
    WORKED.with(|worked| worked.set(current_step()));
}

/// The step being executed now.
pub(super) fn current_step() -> Option<StepAt> {
    STEP.with(Cell::get)
}

/// Makes `step` the current one; returns the one it replaces.
pub(super) fn enter_step(step: Option<StepAt>) -> Option<StepAt> {
    STEP.with(|current| current.replace(step))
}

/// One noted event.
#[derive(Clone, Debug)]
pub(crate) enum Note {
    /// A scenario task (or a shield's body, or blocking work) was spawned.
    Spawn {
        parent: Option<TaskId>,
        child: Option<TaskId>,
        kind: SpawnKind,
        /// The instance's name (scenario tasks).
        name: Option<String>,
    },
    Suspend {
        task: TaskId,
        ordinal: u32,
    },
    /// A cancel request the interpreter made of `target`.
    Request {
        target: TaskId,
    },
    /// A cancel request delivered to `task`; inside the cleanup (a handler
    /// or `finally`) of the `try` at `cleanup`, when it interrupts one.
    Delivered {
        task: TaskId,
        cleanup: Option<(StepAt, &'static str)>,
    },
    Work {
        task: TaskId,
    },
    Acquire {
        task: TaskId,
        name: String,
    },
    /// A tracked resource released (an anchor for the log lines around).
    Release {
        task: TaskId,
    },
    /// A timeout scope expired.
    Timeout {
        scope: u32,
    },
    /// The `index`-th log line of the run.
    Log {
        task: Option<TaskId>,
        index: usize,
    },
    /// A task ended with `outcome`.
    Complete {
        task: TaskId,
        outcome: TaskOutcome,
    },
}

/// What a spawn started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SpawnKind {
    Task,
    Shield,
    Blocking,
}

/// The notes of a run, in the order they were made, each with the step
/// that made it.
#[derive(Clone, Debug, Default)]
pub struct Located {
    pub(crate) notes: Vec<(Note, Option<StepAt>)>,
}

/// Where the notes of a run go: its record.
pub(super) type Notes = Rc<RefCell<RunRecord>>;

/// Notes `note`, made by the current step.
pub(super) fn note(notes: &Notes, note: Note) {
    let step = current_step();
    notes.borrow_mut().located.notes.push((note, step));
}

/// A task's future, noting each suspension with the step it happened in
/// and keeping the task's current step across polls.
pub(super) struct Tracked<F> {
    pub(super) future: Pin<Box<F>>,
    pub(super) notes: Notes,
    /// The run's deadlines, for the blocked-loop rule.
    pub(super) deadlines: Rc<Deadlines>,
    /// The task's innermost step when it last suspended.
    pub(super) step: Option<StepAt>,
    pub(super) suspensions: u32,
}

impl<F: Future> Tracked<F> {
    pub(super) fn new(future: F, notes: &Notes, deadlines: &Rc<Deadlines>) -> Self {
        Tracked {
            future: Box::pin(future),
            notes: Rc::clone(notes),
            deadlines: Rc::clone(deadlines),
            step: None,
            suspensions: 0,
        }
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        enter_step(this.step);
        WORKED.with(|worked| worked.set(None));
        SELF_WAKE.with(|wake| wake.set(false));
        TOUCHED.with(|touched| touched.borrow_mut().clear());
        let start = Instant::now().as_nanos();
        let polled = this.future.as_mut().poll(cx);
        let end = Instant::now().as_nanos();
        this.step = enter_step(None);
        if end > start {
            let worked = WORKED.with(|worked| worked.take());
            this.deadlines.check(start, end, worked);
        }
        if polled.is_pending() {
            this.suspensions += 1;
            if let Some(task) = crate::task::current_id() {
                let note = Note::Suspend {
                    task,
                    ordinal: this.suspensions,
                };
                this.notes
                    .borrow_mut()
                    .located
                    .notes
                    .push((note, this.step));
            }
        }
        polled
    }
}

//! `group` steps: asyncio.TaskGroup (3.11), state for state. The first
//! child that fails cancels its siblings and the parent; leaving the block
//! waits for every child; the errors come out as one `ExceptionGroup`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::exc::{CancelledError, Exc, Raise, GROUP_MESSAGE};
use super::future::{await_future, Fut};
use super::located::{current_step, enter_step, StepAt};
use super::step::{exec_block, Exec, Flow};
use super::task::{TaskCell, TaskResult};
use super::task_run::Ctx;
use crate::scenario::model::Block;

/// asyncio.TaskGroup's state.
pub(super) struct Group {
    parent: Rc<TaskCell>,
    /// Children not done yet, in the order they were spawned.
    tasks: RefCell<Vec<Rc<TaskCell>>>,
    errors: RefCell<Vec<Exc>>,
    aborting: Cell<bool>,
    exiting: Cell<bool>,
    parent_cancel_requested: Cell<bool>,
    on_completed: RefCell<Option<Rc<Fut>>>,
    /// The `group` step (what its cancel requests point at).
    step: Option<StepAt>,
}

impl Group {
    /// `create_task` in this group.
    pub(super) fn adopt(self: &Rc<Self>, cell: &Rc<TaskCell>) {
        self.tasks.borrow_mut().push(Rc::clone(cell));
        cell.groups.borrow_mut().push(Rc::clone(self));
    }

    /// `create_task` refuses a group that is shutting down or finished.
    pub(super) fn check_open(&self) -> Result<(), Raise> {
        let state = if self.exiting.get() && self.tasks.borrow().is_empty() {
            "finished"
        } else if self.aborting.get() {
            "shutting down"
        } else {
            return Ok(());
        };
        Err(Raise::Error(Exc::runtime(format!(
            "TaskGroup {} is {state}",
            self.repr()
        ))))
    }

    /// Python's `repr` of the group.
    fn repr(&self) -> String {
        let mut info = String::new();
        let tasks = self.tasks.borrow().len();
        if tasks > 0 {
            info.push_str(&format!(" tasks={tasks}"));
        }
        let errors = self.errors.borrow().len();
        if errors > 0 {
            info.push_str(&format!(" errors={errors}"));
        }
        info.push_str(if self.aborting.get() {
            " cancelling"
        } else {
            " entered"
        });
        format!("<TaskGroup{info}>")
    }

    fn abort(&self) {
        self.aborting.set(true);
        let tasks = self.tasks.borrow().clone();
        for task in tasks {
            if !task.is_done() {
                task.cancel(None);
            }
        }
    }

    /// `_on_task_done` (run as the group's step).
    pub(super) fn child_done(&self, child: &Rc<TaskCell>, result: &TaskResult) {
        let outer = enter_step(self.step);
        self.on_task_done(child, result);
        enter_step(outer);
    }

    fn on_task_done(&self, child: &Rc<TaskCell>, result: &TaskResult) {
        self.tasks
            .borrow_mut()
            .retain(|task| !Rc::ptr_eq(task, child));
        if self.tasks.borrow().is_empty() {
            if let Some(future) = &*self.on_completed.borrow() {
                future.set_done();
            }
        }
        let TaskResult::Error(exc) = result else {
            return;
        };
        self.errors.borrow_mut().push(exc.clone());
        if self.parent.is_done() {
            return;
        }
        if !self.aborting.get() && !self.parent_cancel_requested.get() {
            self.abort();
            self.parent_cancel_requested.set(true);
            self.parent.cancel(None);
        }
    }
}

pub(super) async fn run_group(ctx: &Rc<Ctx>, body: Block) -> Exec {
    let group = Rc::new(Group {
        parent: Rc::clone(&ctx.cell),
        tasks: RefCell::new(Vec::new()),
        errors: RefCell::new(Vec::new()),
        aborting: Cell::new(false),
        exiting: Cell::new(false),
        parent_cancel_requested: Cell::new(false),
        on_completed: RefCell::new(None),
        step: current_step(),
    });
    ctx.groups.borrow_mut().push(Rc::clone(&group));
    let body_result = exec_block(Rc::clone(ctx), body).await;
    ctx.groups.borrow_mut().pop();
    // __aexit__
    group.exiting.set(true);
    let (flow, mut propagate, body_error) = match body_result {
        Ok(flow) => (flow, None, None),
        Err(Raise::Cancelled(cancelled)) => (Flow::Next, Some(cancelled), None),
        Err(Raise::Error(exc)) => (Flow::Next, None, Some(exc)),
    };
    let raised = propagate.is_some() || body_error.is_some();
    if group.parent_cancel_requested.get() && ctx.cell.uncancel() == 0 {
        absorb(ctx, propagate.take());
    }
    if raised && !group.aborting.get() {
        group.abort();
    }
    while !group.tasks.borrow().is_empty() {
        let future = Fut::new();
        *group.on_completed.borrow_mut() = Some(Rc::clone(&future));
        match await_future(ctx, &future).await {
            Ok(()) => {}
            Err(Raise::Cancelled(cancelled)) => {
                if group.aborting.get() {
                    absorb(ctx, Some(cancelled));
                } else {
                    absorb(ctx, propagate.replace(cancelled));
                    group.abort();
                }
            }
            Err(Raise::Error(_)) => unreachable!("awaiting a future raises only CancelledError"),
        }
        *group.on_completed.borrow_mut() = None;
    }
    if group.errors.borrow().is_empty() {
        if let Some(cancelled) = propagate {
            return Err(Raise::Cancelled(cancelled));
        }
    }
    if let Some(exc) = body_error {
        group.errors.borrow_mut().push(exc);
    }
    let errors = std::mem::take(&mut *group.errors.borrow_mut());
    if !errors.is_empty() {
        absorb(ctx, propagate.take());
        return Err(Raise::Error(Exc::group(GROUP_MESSAGE, errors)));
    }
    Ok(flow)
}

/// A `CancelledError` the group consumes (asyncio drops it on purpose).
fn absorb(ctx: &Ctx, cancelled: Option<CancelledError>) {
    ctx.absorb(cancelled.and_then(|cancelled| cancelled.token));
}

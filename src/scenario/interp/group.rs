//! `group` steps (asyncio.TaskGroup): cancel siblings and the parent on the
//! first failure, wait for every child, collect the errors.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::step::{exec_block, Exec, Flow, Raise};
use super::task::{Ctx, TaskCell};
use crate::cancel::OrCancel;
use crate::scenario::model::{Block, Outcome};

/// asyncio.TaskGroup's state.
pub(super) struct Group {
    parent: Option<Rc<TaskCell>>,
    pub(super) children: RefCell<Vec<Rc<TaskCell>>>,
    errors: RefCell<Vec<String>>,
    aborting: Cell<bool>,
    parent_cancel_requested: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Group {
    fn abort(&self) {
        self.aborting.set(true);
        let children = self.children.borrow().clone();
        for child in children {
            if !child.is_done() {
                child.cancel();
            }
        }
    }

    pub(super) fn child_done(&self, outcome: &Outcome) {
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
        let error = match outcome {
            Outcome::Error(message) => message.clone(),
            Outcome::Timeout => "timeout".to_string(),
            _ => return,
        };
        self.errors.borrow_mut().push(error);
        if !self.aborting.get() && !self.parent_cancel_requested.get() {
            self.abort();
            self.parent_cancel_requested.set(true);
            if let Some(parent) = &self.parent {
                parent.cancel();
            }
        }
    }

    fn all_done(&self) -> bool {
        self.children.borrow().iter().all(|child| child.is_done())
    }
}

pub(super) async fn run_group(ctx: &Rc<Ctx>, body: Block) -> Exec {
    let group = Rc::new(Group {
        parent: ctx.cell.clone(),
        children: RefCell::new(Vec::new()),
        errors: RefCell::new(Vec::new()),
        aborting: Cell::new(false),
        parent_cancel_requested: Cell::new(false),
        waker: RefCell::new(None),
    });
    ctx.groups.borrow_mut().push(Rc::clone(&group));
    let body_result = exec_block(Rc::clone(ctx), body).await;
    ctx.groups.borrow_mut().pop();
    let mut propagate = None;
    let mut flow = Flow::Next;
    match body_result {
        Ok(returned) => flow = returned,
        Err(Raise::Cancelled(cancelled)) => {
            if !group.aborting.get() {
                group.abort();
            }
            propagate = Some(cancelled);
        }
        Err(Raise::Error(message)) => {
            group.errors.borrow_mut().push(message);
            group.abort();
        }
        Err(Raise::Timeout(cause)) => {
            ctx.absorb(cause);
            group.errors.borrow_mut().push("timeout".to_string());
            group.abort();
        }
    }
    while !group.all_done() {
        let waiting = Rc::clone(&group);
        let all_done = poll_fn(move |cx| {
            if waiting.all_done() {
                Poll::Ready(())
            } else {
                *waiting.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        });
        if let Err(cancelled) = all_done.or_cancel().await {
            if !group.aborting.get() {
                group.abort();
            }
            ctx.absorb(propagate.replace(cancelled));
        }
    }
    group.children.borrow_mut().clear();
    if group.parent_cancel_requested.get() {
        if let Some(parent) = &group.parent {
            if parent.uncancel() == 0 {
                ctx.absorb(propagate.take());
            }
        }
    }
    let errors = std::mem::take(&mut *group.errors.borrow_mut());
    if !errors.is_empty() {
        ctx.absorb(propagate.take());
        return Err(Raise::Error(format!("group: {}", errors.join("; "))));
    }
    match propagate {
        Some(cancelled) => Err(Raise::Cancelled(cancelled)),
        None => Ok(flow),
    }
}

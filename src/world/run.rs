//! Polling tasks and ending them: one poll of a task or the root, finishing
//! (dropping the future, telling the joiner), aborts, and the end of a run.

use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::grace::PollEnd;
use super::poll_body::PollBody;
use super::run_loop::{RootEnd, RootTask};
use super::waker;
use super::TaskFuture;
use crate::error::BlockedTask;
use crate::inject::InjectAt;
use crate::panic;
use crate::trace::{EventKind, Outcome, SourceLocation, Wait, WaitKind};
use crate::vocab::{JoinError, Violation, ViolationCode};
use crate::vocab::{TaskKey, TaskKind};

use super::World;

impl World {
    // ----- polling ----------------------------------------------------------------

    /// Polls task `key` once and settles what followed: the executor's one
    /// poll path, for spawned tasks (`B` = [`TaskFuture`], `lent` = `None`)
    /// and for the root (`B` = `&mut RootTask`, its body lent by the run
    /// loop).
    #[inline(never)]
    pub(super) fn run_task<B: PollBody>(self: &Rc<World>, key: TaskKey, lent: Option<B>) {
        if self.has_plan.get() && self.inject(key, InjectAt::Wake) {
            return;
        }
        let taken = {
            let mut core = self.core.borrow_mut();
            match core.tasks.get_mut(key) {
                Some(slot) if slot.abort_requested && slot.future.is_some() => {
                    // An abort asked for while the task waited (tokio's way):
                    // its future is dropped now, when it would have run.
                    let future = slot.future.take();
                    drop(core);
                    self.unqueue(key);
                    self.finish(key, future, Outcome::Aborted, None);
                    return;
                }
                Some(slot) => match B::take(slot, key, lent) {
                    Some(body) => {
                        self.polling(key, slot);
                        Some((
                            body,
                            slot.waker.take().expect("a live task has its waker"),
                            slot.meta.suspends,
                        ))
                    }
                    None => None,
                },
                None => None,
            }
        };
        let Some((mut body, waker, resumed_from)) = taken else {
            return;
        };
        let result = self.poll_as(key, &waker, resumed_from, |cx| body.poll_body(cx));
        if let Ok(Poll::Pending) = result {
            let mut core = self.core.borrow_mut();
            let slot = core
                .tasks
                .get_mut(key)
                .expect("a polled task stays in the table");
            let (ordinal, wait) = self.suspended(key, slot);
            self.on_poll_end(key, slot, PollEnd::Suspended);
            if let Some(future) = body.suspend(slot) {
                drop(core);
                drop(waker);
                self.finish(key, Some(future), Outcome::Aborted, None);
                return;
            }
            slot.waker = Some(waker);
            drop(core);
            self.suspension_recorded(key, ordinal, wait);
            return;
        }
        body.settle(self, key, waker, result);
    }

    /// A spawned task's poll returned or unwound: it ends (returned or
    /// panicked), or, stopped by the budget, stays for the loop in force
    /// to stop.
    #[inline(always)]
    pub(super) fn task_polled(
        self: &Rc<World>,
        key: TaskKey,
        future: TaskFuture,
        waker: Waker,
        result: Result<Poll<()>, panic::Caught>,
    ) {
        match result {
            Ok(Poll::Pending) => unreachable!("a suspension is settled by `run_task`"),
            Ok(Poll::Ready(())) => {
                // Our reference to the waker goes first, so that `finish`
                // can recycle it.
                drop(waker);
                self.forget_pending_wait();
                self.finish(key, Some(future), Outcome::Returned, None)
            }
            Err(caught) if super::is_budget_stop(&*caught.payload) => {
                // A `work` loop ran past the budget: the task stays alive
                // (a leak, a step limit, as the loop in force reports it),
                // its future is dropped rather than polled if it is ever
                // picked again, and the loop in force stops.
                self.forget_pending_wait();
                if let Some(slot) = self.core.borrow_mut().tasks.get_mut(key) {
                    slot.future = Some(future);
                    slot.waker = Some(waker);
                    slot.abort_requested = true;
                }
            }
            Err(caught) => {
                drop(waker);
                self.forget_pending_wait();
                let index = self.trace.borrow_mut().add_message(caught.message.clone());
                self.finish(key, Some(future), Outcome::Panicked(index), Some(caught));
            }
        }
    }

    /// The root's poll returned or unwound: it ends (returned or panicked,
    /// noted in `root` for `block_on`), or, stopped by the budget, stays
    /// for the run loop to stop.
    #[inline(never)]
    pub(super) fn root_polled(
        self: &Rc<World>,
        root: &mut RootTask<'_>,
        waker: Waker,
        result: Result<Poll<()>, panic::Caught>,
    ) {
        let key = root.key;
        {
            let mut core = self.core.borrow_mut();
            let slot = core
                .tasks
                .get_mut(key)
                .expect("the root is alive while polled");
            slot.waker = Some(waker);
            slot.meta.returning = true;
        }
        self.forget_pending_wait();
        // Aborts made as the root ends (its locals' `Drop`s: an owner
        // stopping its task) are the end of the test, not something that
        // can happen while the task is still needed.
        if self.aborted_since(self.steps()) {
            self.outlived_root.set(true);
        }
        self.forget_abortable_since(self.steps());
        match result {
            Ok(Poll::Pending) => unreachable!("a suspension is settled by `run_task`"),
            Ok(Poll::Ready(())) => {
                // Ending the root checks a replay's recording ended it
                // here too (a divergence if not).
                self.finish_root(key, Outcome::Returned);
                root.ended = Some(RootEnd::Returned);
            }
            // Stopped by the budget: the run loop's next turn says so.
            Err(caught) if super::is_budget_stop(&*caught.payload) => {}
            Err(caught) => {
                let pending = self.abort_pending();
                self.oracles.borrow_mut().abort_pending_at_root_panic = pending;
                let index = self.add_message(caught.message.clone());
                self.finish_root(key, Outcome::Panicked(index));
                root.ended = Some(RootEnd::Panicked(caught.message));
            }
        }
    }

    /// Is a task the program aborted still to be dropped (its abort asked
    /// for, its future not dropped yet)?
    #[cold]
    fn abort_pending(&self) -> bool {
        let core = self.core.borrow();
        core.tasks.keys().into_iter().any(|key| {
            core.tasks
                .get(key)
                .is_some_and(|slot| slot.abort_requested && slot.future.is_some())
        })
    }

    /// Did the root panic while an abort the program asked for was still
    /// pending?
    pub(crate) fn abort_pending_at_root_panic(&self) -> bool {
        self.oracles.borrow().abort_pending_at_root_panic
    }

    /// One poll of task `key` (its waker `waker`, resumed from await point
    /// `resumed_from`): the step counted, the task current while `poll`
    /// runs, a panic caught. The executor's only poll, for the root and
    /// for every spawned task.
    #[inline(always)]
    fn poll_as<R>(
        &self,
        key: TaskKey,
        waker: &Waker,
        resumed_from: u32,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<R>,
    ) -> Result<Poll<R>, panic::Caught> {
        self.step.set(self.step.get() + 1);
        self.set_current_waker(Some(waker));
        self.record_poll(key.id);
        self.beat_enter(key.id.0, resumed_from);
        let result = self.as_current(key, || poll(&mut Context::from_waker(waker)));
        self.set_current_waker(None);
        result
    }

    /// After a suspension's bookkeeping (the task's slot put back): records
    /// it, and fires the injections due there.
    #[inline(always)]
    fn suspension_recorded(self: &Rc<World>, key: TaskKey, ordinal: u32, wait: Wait) {
        self.record_suspend(key.id, ordinal, wait);
        if self.has_plan.get() {
            self.inject(key, InjectAt::Suspend);
        }
    }

    /// Runs `f` (a poll, a future's drop) with task `key` current, a panic
    /// caught, and the current task restored after: the one place that
    /// makes a task current.
    #[inline(always)]
    fn as_current<R>(&self, key: TaskKey, f: impl FnOnce() -> R) -> Result<R, panic::Caught> {
        let previous = self.current.replace(Some(key));
        let result = panic::catch(f);
        self.current.set(previous);
        result
    }

    /// Ends a task: removes it from the table, drops its future (with the task
    /// current, so its `Drop`s are attributed to it), tells its joiner.
    pub fn finish(
        self: &Rc<World>,
        key: TaskKey,
        future: Option<TaskFuture>,
        outcome: Outcome,
        panicked: Option<panic::Caught>,
    ) {
        // The common end (returned or aborted, no cancel delivered: nothing
        // for the oracles to settle) ends the slot in place.
        let quick = {
            let mut core = self.core.borrow_mut();
            let Some(slot) = core.tasks.get_mut(key) else {
                return;
            };
            if matches!(outcome, Outcome::Panicked(_))
                || slot.meta.cancel_delivered > 0
                || slot.cancel_pending
            {
                None
            } else {
                let parts = (
                    slot.future.take(),
                    slot.completion.take(),
                    std::mem::take(&mut slot.meta.cancel_waiters),
                    slot.meta.name.clone(),
                    (slot.meta.suspends, slot.meta.last_wait),
                );
                core.tasks.vacate(key);
                Some(parts)
            }
        };
        if let Some((own_future, completion, cancel_waiters, name, at)) = quick {
            // Dropped outside the borrow: they may run user code.
            drop(cancel_waiters);
            if let Some(future) = future.or(own_future) {
                self.drop_task_future(key, future, name.as_deref(), at);
            }
            let named = name.is_some();
            self.record(key.id, EventKind::Complete { outcome });
            if named {
                // Only a named task has a name for a capped trace to forget.
                self.trace.borrow_mut().task_ended(key.id);
            }
            if let (Some(completion), Outcome::Aborted) = (completion, outcome) {
                completion.fail(JoinError::cancelled(key.id));
            }
            return;
        }
        let slot = self.core.borrow_mut().tasks.remove(key);
        let Some(mut slot) = slot else { return };
        if !matches!(outcome, Outcome::Aborted) {
            // Returned or panicked: the end of the task's last poll.
            self.on_poll_end(key, &mut slot, PollEnd::Ended);
        }
        self.settle(key, &slot, outcome);
        let future = future.or_else(|| slot.future.take());
        if let Some(future) = future {
            let at = (slot.meta.suspends, slot.meta.last_wait);
            self.drop_task_future(key, future, slot.meta.name.as_deref(), at);
        }
        self.record(key.id, EventKind::Complete { outcome });
        self.trace.borrow_mut().task_ended(key.id);
        if let Some(completion) = slot.completion.take() {
            match (outcome, panicked) {
                (Outcome::Returned, _) => {}
                (Outcome::Aborted, _) => completion.fail(JoinError::cancelled(key.id)),
                (Outcome::Panicked(_), Some(caught)) => {
                    completion.fail(JoinError::panic(key.id, caught.message, caught.payload))
                }
                (Outcome::Panicked(_), None) => completion.fail(JoinError::panic(
                    key.id,
                    "panicked".to_string(),
                    Box::new("panicked"),
                )),
            }
        }
        drop(slot);
    }

    /// Drops an ended task's future with the task current, so that its
    /// `Drop`s are attributed to it. A panicking `Drop` during cleanup is
    /// recorded; the task is gone either way.
    fn drop_task_future(
        &self,
        key: TaskKey,
        future: TaskFuture,
        name: Option<&str>,
        at: (u32, Wait),
    ) {
        self.drop_future_reporting(key, future, name, at, "aborted, cancelled or shut down");
    }

    /// Drops `future` (of task `key`, at its await point `point`) with the
    /// task current; a `Drop` that panics is a `panic` violation saying
    /// `why` the future was dropped. Returns whether one panicked.
    fn drop_future_reporting(
        &self,
        key: TaskKey,
        future: TaskFuture,
        name: Option<&str>,
        (point, wait): (u32, Wait),
        why: &str,
    ) -> bool {
        let outer = self.dropping_future.replace(true);
        let dropped = self.as_current(key, move || drop(future));
        self.dropping_future.set(outer);
        let Err(caught) = dropped else {
            return false;
        };
        if super::is_budget_stop(&*caught.payload) {
            return false;
        }
        let place = if point == 0 {
            "before it first ran".to_string()
        } else {
            format!("at its await point {point}")
        };
        let message = format!(
            "a Drop panicked while the task's future was dropped {place} ({why}): {}",
            caught.message
        );
        self.report_drop_panic(key, name, (point, wait), message, caught.message);
        true
    }

    /// A `Drop` panicked while task `key`'s future was dropped at its await
    /// point `point`: a `panic` violation with `message`, and the task's
    /// end recorded as panicked with `panic`.
    fn report_drop_panic(
        &self,
        key: TaskKey,
        name: Option<&str>,
        (point, wait): (u32, Wait),
        message: String,
        panic: String,
    ) {
        let violation = Violation::new(ViolationCode::Panic, message)
            .task(key.id, name)
            .at_point(point, Some(wait));
        let index = self.add_message(panic);
        self.record(
            key.id,
            EventKind::Complete {
                outcome: Outcome::Panicked(index),
            },
        );
        self.push_violation(key.id, violation);
    }

    /// Drops a task's future at its current await point (`JoinHandle::abort`);
    /// `at`: the call site that asked, when there is one.
    pub fn abort(self: &Rc<World>, key: TaskKey, at: Option<SourceLocation>) {
        if at.is_some() && self.is_alive(key) {
            self.mark_abortable(key);
            self.check_abort_after_signal(key);
        } else if at.is_some() {
            self.mark_aborted_after_end(key.id);
        }
        let by = self.current_id();
        let future = {
            let mut core = self.core.borrow_mut();
            let Some(slot) = core.tasks.get_mut(key) else {
                return;
            };
            match slot.future.take() {
                Some(future) => future,
                None => {
                    // Being polled right now (aborting itself) or the root:
                    // dropped when its poll returns.
                    slot.abort_requested = true;
                    drop(core);
                    self.record(key.id, EventKind::Abort { by, at });
                    return;
                }
            }
        };
        self.unqueue(key);
        self.record(key.id, EventKind::Abort { by, at });
        self.unstall(key, at.is_some());
        self.finish(key, Some(future), Outcome::Aborted, None);
    }

    /// tokio's `abort`: marks the task and schedules it; its future is
    /// dropped when the executor would next run it (a scheduling decision),
    /// not inside this call, so the caller's own locks and borrows are not
    /// held while the task's destructors run.
    pub fn abort_later(self: &Rc<World>, key: TaskKey, at: Option<SourceLocation>) {
        if at.is_some() && self.is_alive(key) {
            self.mark_abortable(key);
            self.check_abort_after_signal(key);
        } else if at.is_some() {
            self.mark_aborted_after_end(key.id);
        }
        let by = self.current_id();
        {
            let mut core = self.core.borrow_mut();
            let Some(slot) = core.tasks.get_mut(key) else {
                return;
            };
            if slot.abort_requested || slot.meta.kind == TaskKind::Root {
                return;
            }
            slot.abort_requested = true;
        }
        self.record(key.id, EventKind::Abort { by, at });
        self.unstall(key, at.is_some());
        self.enqueue(key);
    }

    pub fn detach(&self, key: TaskKey) {
        if let Some(slot) = self.core.borrow_mut().tasks.get_mut(key) {
            slot.meta.detached = true;
        }
    }

    pub fn is_alive(&self, key: TaskKey) -> bool {
        self.core.borrow().tasks.get(key).is_some()
    }

    // ----- end of a run -----------------------------------------------------------

    /// Every live task with where it waits, in id order.
    pub fn blocked_tasks(&self) -> Vec<BlockedTask> {
        let core = self.core.borrow();
        core.tasks
            .keys()
            .into_iter()
            .filter_map(|key| core.tasks.get(key))
            .map(|slot| BlockedTask {
                id: slot.id,
                name: slot.meta.name.as_deref().map(str::to_string),
                await_point: slot.meta.suspends,
                wait: slot.meta.last_wait,
                spawned_at: slot.meta.spawned_at,
                // A join names the task it waits on (`join fetch#1`).
                joined: match slot.meta.last_wait.kind {
                    WaitKind::Join(task) => self.named_label(task),
                    _ => None,
                },
            })
            .collect()
    }

    pub fn record_deadlock(&self, root: TaskKey) {
        self.record(root.id, EventKind::Deadlock);
    }

    /// Drops the root future (a drop injection): its `Drop`s run with the
    /// root current, then the root ends as aborted.
    pub fn drop_root(self: &Rc<World>, key: TaskKey, drop_future: impl FnOnce()) {
        self.record(key.id, EventKind::Abort { by: None, at: None });
        if let Err(caught) = self.as_current(key, drop_future) {
            if !super::is_budget_stop(&*caught.payload) {
                // A panicking `Drop` is a violation here as in any task.
                let (point, wait) = self
                    .core
                    .borrow()
                    .tasks
                    .get(key)
                    .map_or((0, Wait::EXTERNAL), |slot| {
                        (slot.meta.suspends, slot.meta.last_wait)
                    });
                let message = format!(
                    "a Drop panicked while the root's future was dropped at its await point \
                     {point} (an injected cancellation): {}",
                    caught.message
                );
                let name = Some(crate::trace::ROOT_NAME);
                self.report_drop_panic(key, name, (point, wait), message, caught.message);
            }
        }
        self.finish_root(key, Outcome::Aborted);
    }

    /// Removes the root after `block_on` returns or gives up, and marks its
    /// end in the schedule (see [`World::root_finished`]).
    pub fn finish_root(self: &Rc<World>, key: TaskKey, outcome: Outcome) {
        self.unqueue(key);
        self.release_root(key);
        self.finish(key, None, outcome, None);
        self.root_finished();
    }

    /// The world's teardown: drops every task still alive, in id order
    /// (a `Check` run does it before its oracles' results are taken; a
    /// `Sim` when it is dropped). A `Drop` that panics is a `panic`
    /// violation naming the task and the await point it was left at, as
    /// during the run: pushed to the oracles and recorded in the trace.
    /// Returns how many panicked.
    pub fn drop_all_tasks(self: &Rc<World>) -> usize {
        let keys = self.core.borrow().tasks.keys();
        let mut panicked = 0;
        for key in keys {
            let parts = {
                let mut core = self.core.borrow_mut();
                core.tasks.get_mut(key).and_then(|slot| {
                    let future = slot.future.take()?;
                    Some((
                        future,
                        slot.meta.name.clone(),
                        (slot.meta.suspends, slot.meta.last_wait),
                    ))
                })
            };
            if let Some((future, name, at)) = parts {
                let why = "at teardown: the task was still alive when the world ended";
                if self.drop_future_reporting(key, future, name.as_deref(), at, why) {
                    panicked += 1;
                }
            }
            let slot = self.core.borrow_mut().tasks.remove(key);
            drop(slot);
        }
        self.ready.borrow_mut().clear();
        self.release_root(self.root_first.get());
        self.deferred.borrow_mut().clear();
        waker::remote_forget(self.id);
        self.drop_outside();
        panicked
    }

    /// Number of tasks ever spawned (the next task id).
    pub fn tasks_spawned(&self) -> u32 {
        self.core.borrow().tasks.next_id().0
    }

    pub fn live_tasks(&self) -> usize {
        self.core.borrow().tasks.len()
    }
}

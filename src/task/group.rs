//! `TaskGroup`: structured concurrency with asyncio's `TaskGroup` semantics.
//!
//! A group owns the tasks spawned into it (its *children*) and
//! [`join`](TaskGroup::join) waits for all of them. The invariants it keeps:
//!
//! * **Nothing outlives the group.** `join` returns only once every child has
//!   ended; dropping the group, or its `join` future, before that aborts
//!   (drop-cancels) every unfinished child at once, so a parent that is
//!   itself drop-cancelled leaves no orphans.
//! * **The first failure cancels the rest.** The first child to fail
//!   (return `Err`, panic, or be aborted by someone else) makes the group send
//!   a cooperative cancel request to every other unfinished child, at that
//!   moment, even if nobody is awaiting `join` yet. The trace shows
//!   `cancel requested … via group N`. The group still waits for those
//!   children (they may run async cleanup), then returns
//!   [`GroupError::Failed`] with every failure in the order they happened,
//!   the first one first.
//! * **A cancelled joiner cancels the group.** When a cooperative cancel
//!   request of the task awaiting `join` is delivered (at one of `join`'s
//!   suspensions, like [`or_cancel`](super::super::cancel::OrCancel::or_cancel)), the
//!   group asks every unfinished child to cancel, waits for all of them, and
//!   returns [`GroupError::Cancelled`] carrying the delivered
//!   [`Cancelled`](struct@Cancelled), which the joiner must propagate (the
//!   `cancel-swallowed` oracle tracks it).
//! * **Children are owned, not leaked.** While the group lives, its children
//!   are not reported as `leaked-task` when the root ends (the group will
//!   join or abort them); they are treated like detached work, so a child
//!   still alive after the drain is reported. Their panics are observed by
//!   `join`.
//! * Values come back in spawn order; failures in the order they happened.
//!   Group ids (`via group N`) are numbered per world, in creation order of
//!   the first spawn, so traces are reproducible.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::group_error::{ChildFailure, GroupError};
use super::spawn::spawn_as;
use super::{JoinError, JoinHandle, TaskId};
use crate::trace::{CancelVia, SourceLocation, Wait, WaitKind};
use crate::vocab::{TaskKey, TaskKind};
use crate::world;
use crate::world::Cancelled;

/// A set of tasks that succeed together or fail together (asyncio's
/// `TaskGroup`, trio's nursery).
///
/// Spawn children with [`spawn`](TaskGroup::spawn), then
/// [`join`](TaskGroup::join) them all. The contract:
///
/// * `join` returns only once every child has ended: values in spawn order,
///   or a [`GroupError`];
/// * the first child to fail (return `Err`, panic, or be aborted by someone
///   else) makes the group send a cooperative cancel request to every other
///   unfinished child at once (`cancel requested … via group N` in the
///   trace); the group still waits for them, so their async cleanup runs;
/// * a cancel request of the task awaiting `join`, delivered while it waits,
///   cancels every child; once they have ended, `join` returns
///   [`GroupError::Cancelled`] with the delivered token, to be propagated;
/// * dropping the group, or the `join` future, before every child ended
///   aborts (drop-cancels) the rest at once: no orphans;
/// * children are owned by the group, not leaks while it lives (they count
///   as detached work for the `leaked-task` oracle), and their panics are
///   observed by `join`.
///
/// ```
/// use cancelsim::cancel::{checkpoint, Cancelled};
/// use cancelsim::{Config, GroupError, Sim, TaskGroup};
///
/// let mut sim = Sim::new(Config::default());
/// let result = sim
///     .block_on(async {
///         let mut group = TaskGroup::<u32, String>::new();
///         group.spawn(async { Ok(1) });
///         group.spawn(async { Err("no route to host".to_string()) });
///         group.spawn(async {
///             loop {
///                 // The group's cancel request arrives here as Err(Cancelled).
///                 checkpoint().await.map_err(|_| "cancelled".to_string())?;
///             }
///         });
///         group.join().await
///     })
///     .unwrap();
/// let error = result.unwrap_err();
/// assert_eq!(error.errors(), [&"no route to host".to_string()]);
/// assert!(error.failures()[1].is_cancelled_by_group());
/// assert!(sim.trace().to_string().contains("via group 0"));
/// ```
#[must_use = "a group does nothing useful unless joined; dropping it aborts its children"]
pub struct TaskGroup<T, E> {
    shared: Rc<RefCell<GroupState>>,
    handles: Vec<JoinHandle<Result<T, E>>>,
}

/// What the children and the group share: who has finished, who failed in
/// which order, whom the group asked to cancel.
#[derive(Default)]
struct GroupState {
    /// Assigned at the first spawn (spawning needs a world anyway).
    id: Option<u32>,
    keys: Vec<TaskKey>,
    finished: Vec<bool>,
    /// The group asked this child to cancel before it ended.
    cancel_requested: Vec<bool>,
    /// Children that failed, in the order they failed.
    failed: Vec<usize>,
    /// The group has asked every unfinished child to cancel (a child spawned
    /// from now on is asked at once).
    cancelling: bool,
    /// The group is being dropped: children ending now are aborted by it.
    closed: bool,
}

impl GroupState {
    /// Marks every unfinished child as asked to cancel; returns their keys,
    /// to be asked once the state is no longer borrowed.
    fn start_cancelling(&mut self) -> Vec<TaskKey> {
        self.cancelling = true;
        let mut keys = Vec::new();
        for index in 0..self.keys.len() {
            if !self.finished[index] && !self.cancel_requested[index] {
                self.cancel_requested[index] = true;
                keys.push(self.keys[index]);
            }
        }
        keys
    }
}

/// Sends the group's cancel requests (outside any borrow of the state: the
/// world wakes the children).
fn request_cancels(group: u32, keys: Vec<TaskKey>) {
    if keys.is_empty() {
        return;
    }
    world::try_with(|world| {
        for key in keys {
            world.request_cancel(key, CancelVia::Group(group), None);
        }
    });
}

/// Lives inside a child's future: tells the group when and how the child
/// ended, even if the future is dropped (abort) or unwinds (panic) instead of
/// returning.
struct ChildGuard {
    shared: Rc<RefCell<GroupState>>,
    index: usize,
    ended: bool,
}

impl ChildGuard {
    /// The child ended; `failed` when without a value of its own.
    fn ended(&mut self, failed: bool) {
        self.ended = true;
        let (group, keys) = {
            let Ok(mut state) = self.shared.try_borrow_mut() else {
                return;
            };
            state.finished[self.index] = true;
            if !failed || state.closed {
                return;
            }
            state.failed.push(self.index);
            if state.cancelling {
                return;
            }
            let keys = state.start_cancelling();
            (state.id.unwrap_or(0), keys)
        };
        request_cancels(group, keys);
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if !self.ended {
            // Panicked (unwinding) or aborted (dropped at an await point).
            self.ended(true);
        }
    }
}

impl<T: 'static, E: 'static> TaskGroup<T, E> {
    /// An empty group. It may be created outside a simulation; spawning
    /// needs one.
    pub fn new() -> Self {
        TaskGroup {
            shared: Rc::new(RefCell::new(GroupState::default())),
            handles: Vec::new(),
        }
    }

    /// Spawns `future` as a child of the group and returns its task id.
    ///
    /// If the group is already cancelling its children (a child failed), the
    /// new child is asked to cancel at once, like a task started in a
    /// cancelled trio nursery.
    ///
    /// # Panics
    ///
    /// Outside a simulation.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> TaskId
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        self.spawn_inner(future, None)
    }

    /// Like [`spawn`](TaskGroup::spawn), with a name that traces and reports
    /// show (`fetch#3`).
    ///
    /// ```
    /// # let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    /// # sim.block_on(async {
    /// let mut group = cancelsim::TaskGroup::<&str, ()>::new();
    /// group.spawn_named("fetch", async { Ok("page") });
    /// assert_eq!(group.join().await.unwrap(), ["page"]);
    /// # }).unwrap();
    /// # assert!(sim.trace().to_string().contains("fetch#1"));
    /// ```
    #[track_caller]
    pub fn spawn_named<F>(&mut self, name: &str, future: F) -> TaskId
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        self.spawn_inner(future, Some(Rc::from(name)))
    }

    #[track_caller]
    fn spawn_inner<F>(&mut self, future: F, name: Option<Rc<str>>) -> TaskId
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let index = self.handles.len();
        {
            let mut state = self.shared.borrow_mut();
            if state.id.is_none() {
                state.id = Some(world::with(|world| world.new_group()));
            }
        }
        // Built outside the async block so that it is dropped (and reports)
        // even if the child is aborted before its first poll.
        let mut guard = ChildGuard {
            shared: Rc::clone(&self.shared),
            index,
            ended: false,
        };
        let child = async move {
            let output = future.await;
            guard.ended(output.is_err());
            output
        };
        let handle = spawn_as(child, TaskKind::User, name);
        let key = handle.key;
        world::with(|world| world.detach(key));
        let (group, cancel_now) = {
            let mut state = self.shared.borrow_mut();
            state.keys.push(key);
            state.finished.push(false);
            let cancelling = state.cancelling;
            state.cancel_requested.push(cancelling);
            (state.id.unwrap_or(0), state.cancelling)
        };
        if cancel_now {
            request_cancels(group, vec![key]);
        }
        self.handles.push(handle);
        key.id
    }

    /// The group's number in traces (`via group N`), once it has a child.
    pub fn id(&self) -> Option<u32> {
        self.shared.borrow().id
    }

    /// Number of children spawned so far.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// No child spawned yet.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Waits for every child and gives their values in spawn order, or the
    /// group's failure.
    ///
    /// * every child returned `Ok`: `Ok(values)`, in spawn order;
    /// * some child failed: [`GroupError::Failed`] with every failure, once
    ///   all children have ended (the others were asked to cancel when the
    ///   first one failed);
    /// * a cancel request of the awaiting task was delivered while waiting:
    ///   every unfinished child is asked to cancel and drained, then
    ///   [`GroupError::Cancelled`] with the delivered [`Cancelled`](struct@Cancelled).
    ///
    /// Dropping the returned future before it completes aborts the children
    /// still running.
    ///
    /// ```
    /// use cancelsim::{time::sleep, Config, Sim, TaskGroup};
    /// use std::time::Duration;
    ///
    /// let mut sim = Sim::new(Config::default());
    /// let values = sim.block_on(async {
    ///     let mut group = TaskGroup::<u64, ()>::new();
    ///     for millis in [30, 10, 20] {
    ///         group.spawn(async move {
    ///             sleep(Duration::from_millis(millis)).await;
    ///             Ok(millis)
    ///         });
    ///     }
    ///     group.join().await
    /// });
    /// assert_eq!(values.unwrap().unwrap(), [30, 10, 20]);
    /// ```
    #[track_caller]
    pub fn join(self) -> GroupJoin<T, E> {
        let results = self.handles.iter().map(|_| None).collect();
        GroupJoin {
            group: self,
            results,
            parent_cancel: None,
            suspended: false,
            at: Location::caller(),
        }
    }
}

impl<T: 'static, E: 'static> Default for TaskGroup<T, E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        if let Ok(mut state) = self.shared.try_borrow_mut() {
            state.closed = true;
        }
        for handle in &self.handles {
            if !handle.is_finished() {
                handle.abort_at(None);
            }
        }
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.try_borrow();
        f.debug_struct("TaskGroup")
            .field("id", &state.as_ref().ok().and_then(|state| state.id))
            .field(
                "children",
                &self.handles.iter().map(JoinHandle::id).collect::<Vec<_>>(),
            )
            .field(
                "cancelling",
                &state
                    .as_ref()
                    .map(|state| state.cancelling)
                    .unwrap_or(false),
            )
            .finish()
    }
}

/// The future of [`TaskGroup::join`]. Dropping it aborts the children still
/// running.
#[must_use = "futures do nothing unless awaited"]
pub struct GroupJoin<T, E> {
    group: TaskGroup<T, E>,
    results: Vec<Option<Result<Result<T, E>, JoinError>>>,
    parent_cancel: Option<Cancelled>,
    suspended: bool,
    at: SourceLocation,
}

// Nothing in a `GroupJoin` is ever pinned: the children run as their own
// tasks and their handles are `Unpin`.
impl<T, E> Unpin for GroupJoin<T, E> {}

impl<T, E> GroupJoin<T, E> {
    /// Delivers a pending cancel request of the awaiting task, if any, and
    /// then asks every unfinished child to cancel.
    fn deliver_parent_cancel(&mut self) {
        if self.parent_cancel.is_some() {
            return;
        }
        let at = self.at;
        let Some(cancelled) = world::with(|world| world.try_deliver_cancel(at)) else {
            return;
        };
        self.parent_cancel = Some(cancelled);
        let (group, keys) = {
            let mut state = self.group.shared.borrow_mut();
            (state.id.unwrap_or(0), state.start_cancelling())
        };
        request_cancels(group, keys);
    }

    /// Every child has ended: the group's result.
    fn outcome(&mut self) -> Result<Vec<T>, GroupError<E>> {
        if let Some(cancelled) = self.parent_cancel.take() {
            return Err(GroupError::Cancelled(cancelled));
        }
        let (mut order, cancel_requested) = {
            let state = self.group.shared.borrow();
            (state.failed.clone(), state.cancel_requested.clone())
        };
        let mut values = Vec::with_capacity(self.results.len());
        let mut failures: Vec<Option<ChildFailure<E>>> =
            (0..self.results.len()).map(|_| None).collect();
        for (index, result) in self.results.iter_mut().enumerate() {
            let task = self.group.handles[index].id();
            let result = result.take().expect("every child has ended");
            match result {
                Ok(Ok(value)) => values.push(value),
                Ok(Err(error)) if cancel_requested[index] => {
                    failures[index] =
                        Some(ChildFailure::from_cancelled_by_group(task, index, error));
                }
                Ok(Err(error)) => {
                    failures[index] = Some(ChildFailure::from_error(task, index, error))
                }
                Err(join_error) => {
                    failures[index] = Some(ChildFailure::from_join_error(task, index, join_error));
                }
            }
        }
        // Failures the guards did not see (none expected) go last, in spawn
        // order, so that none is lost.
        for (index, failure) in failures.iter().enumerate() {
            if failure.is_some() && !order.contains(&index) {
                order.push(index);
            }
        }
        let failures: Vec<ChildFailure<E>> = order
            .into_iter()
            .filter_map(|index| failures.get_mut(index).and_then(Option::take))
            .collect();
        if failures.is_empty() {
            Ok(values)
        } else {
            Err(GroupError::Failed(failures))
        }
    }
}

impl<T, E> Future for GroupJoin<T, E> {
    type Output = Result<Vec<T>, GroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // A request that arrived while suspended wins over children that
        // finished meanwhile (as with `or_cancel`).
        if this.suspended {
            this.deliver_parent_cancel();
        }
        let first_running = (0..this.results.len()).find(|&index| {
            this.results[index].is_none() && !this.group.handles[index].is_finished()
        });
        if let Some(index) = first_running {
            let wait = Wait {
                kind: WaitKind::Join(this.group.handles[index].id()),
                at: Some(this.at),
            };
            world::with(|world| world.note_wait(wait));
        }
        let mut pending = false;
        for (handle, result) in this.group.handles.iter_mut().zip(this.results.iter_mut()) {
            if result.is_some() {
                continue;
            }
            match Pin::new(handle).poll(cx) {
                Poll::Ready(outcome) => *result = Some(outcome),
                Poll::Pending => pending = true,
            }
        }
        if !pending {
            return Poll::Ready(this.outcome());
        }
        this.deliver_parent_cancel();
        if this.parent_cancel.is_none() {
            world::with(|world| world.register_cancel_waiter(cx.waker()));
        }
        this.suspended = true;
        Poll::Pending
    }
}

impl<T, E> fmt::Debug for GroupJoin<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupJoin")
            .field("group", &self.group)
            .field(
                "finished",
                &self
                    .results
                    .iter()
                    .filter(|result| result.is_some())
                    .count(),
            )
            .field("cancelled", &self.parent_cancel.is_some())
            .field("at", &self.at)
            .finish()
    }
}

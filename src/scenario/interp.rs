//! The interpreter: a scenario compiled into futures that run on `Sim`,
//! with Python asyncio's (3.11+) semantics, built from cancelsim's own
//! public primitives.
//!
//! Invariants:
//!
//! * every await of an interpreted step is cancellable (`or_cancel`,
//!   `checkpoint`, `shield`): a pending cancel request is delivered there as
//!   one `Cancelled`, once per request (edge-triggered, like asyncio);
//! * `work` never awaits, so it delays delivery to the next await;
//! * a `timeout` scope expires through the library's own `time::timeout`
//!   (so the sweep can force it at every await point inside it), then asks
//!   its own task to cancel and lets the body handle that request; when the
//!   cancellation comes out, the scope turns it into a timeout error unless
//!   other requests are outstanding (asyncio's `cancelling()` / `uncancel()`
//!   counter, kept per task in [`TaskCell`]); a body that swallows it ends
//!   the scope normally;
//! * a `group` cancels its siblings and its parent on the first failure and
//!   waits for every child, counting its own request like a timeout does;
//! * a `Cancelled` that the scenario legitimately consumes (turned into a
//!   timeout error, or absorbed by a group) is kept and handed back in the
//!   task's output, so that only a real `swallow` reads as swallowed.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::LocalBoxFuture;

use super::model::{Block, JoinExpect, Outcome, Resolution, Scenario, Step, StepKind};
use crate::cancel::{checkpoint, shield, Cancelled, OrCancel};
use crate::resource::{self, Guard};
use crate::time::{self, Instant};
use crate::JoinHandle;

/// One `log` line of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// When it was logged.
    pub time: Instant,
    /// By which task.
    pub task: String,
    /// What.
    pub text: String,
}

/// What a run of a scenario did, as the scenario sees it.
#[derive(Clone, Debug, Default)]
pub struct RunRecord {
    /// How each task ended, and when (the last instance of each name).
    pub outcomes: BTreeMap<String, (Outcome, Instant)>,
    /// Every `log` line, in order.
    pub logs: Vec<LogLine>,
    /// When `main` ended.
    pub main_end: Option<Instant>,
}

impl RunRecord {
    /// The outcome of `task` (`Running` if it never ended).
    pub fn outcome(&self, task: &str) -> Outcome {
        self.outcomes
            .get(task)
            .map_or(Outcome::Running, |(outcome, _)| outcome.clone())
    }
}

/// What the root returns (the cancellation it got, if any, rides along).
#[derive(Debug)]
pub struct RootEnd {
    /// How `main` ended.
    pub outcome: Outcome,
    _cancelled: Option<Cancelled>,
}

/// Runs `scenario` once: spawns `main`, waits for it, and (with `drain`)
/// waits for the blocking and shielded work still in flight. The root
/// forwards a cancel request it receives to `main`, like `asyncio.run`.
pub async fn run(scenario: Arc<Scenario>, record: Rc<RefCell<RunRecord>>, drain: bool) -> RootEnd {
    {
        let shared = Rc::new(Shared {
            scenario,
            record,
            cells: RefCell::new(BTreeMap::new()),
            locks: RefCell::new(BTreeMap::new()),
            in_flight: Cell::new(0),
            all: RefCell::new(Vec::new()),
            drained: RefCell::new(None),
        });
        let main = spawn_task(&shared, "main", None);
        let (outcome, cancelled) = match main.wait().or_cancel().await {
            Ok(outcome) => (outcome, None),
            Err(cancelled) => {
                main.cancel();
                (main.wait().await, Some(cancelled))
            }
        };
        shared.record.borrow_mut().main_end = Some(Instant::now());
        if drain {
            // Detached work (blocking jobs, shields) runs on; see it end.
            let waiting = Rc::clone(&shared);
            poll_fn(move |cx| {
                if waiting.in_flight.get() == 0 {
                    Poll::Ready(())
                } else {
                    *waiting.drained.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await;
        }
        RootEnd {
            outcome,
            _cancelled: cancelled,
        }
    }
}

struct Shared {
    scenario: Arc<Scenario>,
    record: Rc<RefCell<RunRecord>>,
    /// The latest instance of each task name.
    cells: RefCell<BTreeMap<String, Rc<TaskCell>>>,
    /// Exclusive resources: held?, and who waits.
    locks: RefCell<BTreeMap<String, (bool, Vec<Waker>)>>,
    /// Blocking jobs and shields not yet finished.
    in_flight: Cell<u32>,
    /// Every task instance spawned.
    all: RefCell<Vec<Rc<TaskCell>>>,
    /// Woken when the last in-flight job ends.
    drained: RefCell<Option<Waker>>,
}

impl Shared {
    fn log(&self, task: &str, text: &str) {
        self.record.borrow_mut().logs.push(LogLine {
            time: Instant::now(),
            task: task.to_string(),
            text: text.to_string(),
        });
    }

    fn job_done(&self) {
        self.in_flight.set(self.in_flight.get() - 1);
        if self.in_flight.get() == 0 {
            if let Some(waker) = self.drained.borrow_mut().take() {
                waker.wake();
            }
        }
    }

    fn cell(&self, task: &str) -> Option<Rc<TaskCell>> {
        self.cells.borrow().get(task).cloned()
    }

    fn unlock(&self, name: &str) {
        let waiters = match self.locks.borrow_mut().get_mut(name) {
            Some((held, waiters)) => {
                *held = false;
                std::mem::take(waiters)
            }
            None => Vec::new(),
        };
        for waker in waiters {
            waker.wake();
        }
    }
}

/// One running instance of a scenario task, as seen by the others.
struct TaskCell {
    handle: RefCell<Option<JoinHandle<TaskEnd>>>,
    outcome: RefCell<Option<Outcome>>,
    waiters: RefCell<Vec<Waker>>,
    /// Cancel requests made by the interpreter minus `uncancel`s (asyncio's
    /// `Task.cancelling()`).
    requests: Cell<u32>,
    groups: RefCell<Vec<Rc<Group>>>,
}

impl TaskCell {
    /// asyncio's `Task.cancel()`: one more request.
    fn cancel(self: &Rc<Self>) {
        if self.outcome.borrow().is_some() {
            return;
        }
        self.requests.set(self.requests.get() + 1);
        if let Some(handle) = &*self.handle.borrow() {
            handle.cancel();
        }
    }

    /// asyncio's `Task.uncancel()`: the outstanding requests left.
    fn uncancel(&self) -> u32 {
        self.requests.set(self.requests.get().saturating_sub(1));
        self.requests.get()
    }

    fn is_done(&self) -> bool {
        self.outcome.borrow().is_some()
    }

    fn finish(&self, outcome: Outcome) {
        *self.outcome.borrow_mut() = Some(outcome.clone());
        for waker in std::mem::take(&mut *self.waiters.borrow_mut()) {
            waker.wake();
        }
        for group in std::mem::take(&mut *self.groups.borrow_mut()) {
            group.child_done(&outcome);
        }
    }

    fn register(&self, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push(waker.clone());
        }
    }

    fn wait(self: &Rc<Self>) -> impl Future<Output = Outcome> + Unpin {
        let cell = Rc::clone(self);
        poll_fn(move |cx| match &*cell.outcome.borrow() {
            Some(outcome) => Poll::Ready(outcome.clone()),
            None => {
                cell.register(cx.waker());
                Poll::Pending
            }
        })
    }
}

/// What a task future returns: its outcome, and the `Cancelled` values it
/// ended with or legitimately consumed.
#[derive(Debug)]
struct TaskEnd {
    _outcome: Outcome,
    _tokens: Vec<Cancelled>,
}

/// asyncio.TaskGroup's state.
struct Group {
    parent: Option<Rc<TaskCell>>,
    children: RefCell<Vec<Rc<TaskCell>>>,
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

    fn child_done(&self, outcome: &Outcome) {
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

/// The resources a task holds. Whatever is still held when the task (and
/// any shield it started) is gone stays held: a scenario has no RAII, so a
/// missing `release` is a leak the oracle must see.
#[derive(Default)]
struct Guards(RefCell<Vec<(String, Guard)>>);

impl Drop for Guards {
    fn drop(&mut self) {
        for (_, guard) in self.0.get_mut().drain(..) {
            std::mem::forget(guard);
        }
    }
}

struct Ctx {
    shared: Rc<Shared>,
    task: String,
    /// The task's own cell (`None` inside a shield, which runs as its own
    /// task that nobody can cancel).
    cell: Option<Rc<TaskCell>>,
    guards: Rc<Guards>,
    absorbed: Rc<RefCell<Vec<Cancelled>>>,
    groups: RefCell<Vec<Rc<Group>>>,
}

impl Ctx {
    fn absorb(&self, cancelled: Option<Cancelled>) {
        self.absorbed.borrow_mut().extend(cancelled);
    }
}

/// Why a block stopped early (an exception, in asyncio's words).
enum Raise {
    Cancelled(Cancelled),
    /// A timeout error, with the cancellation it came from (its `__cause__`).
    Timeout(Option<Cancelled>),
    Error(String),
}

enum Flow {
    Next,
    Return(String),
}

type Exec = Result<Flow, Raise>;

fn spawn_task(shared: &Rc<Shared>, name: &str, group: Option<&Rc<Group>>) -> Rc<TaskCell> {
    let cell = Rc::new(TaskCell {
        handle: RefCell::new(None),
        outcome: RefCell::new(None),
        waiters: RefCell::new(Vec::new()),
        requests: Cell::new(0),
        groups: RefCell::new(Vec::new()),
    });
    if let Some(group) = group {
        group.children.borrow_mut().push(Rc::clone(&cell));
        cell.groups.borrow_mut().push(Rc::clone(group));
    }
    let body = shared.scenario.tasks[name].body.clone();
    let ctx = Rc::new(Ctx {
        shared: Rc::clone(shared),
        task: name.to_string(),
        cell: Some(Rc::clone(&cell)),
        guards: Rc::default(),
        absorbed: Rc::default(),
        groups: RefCell::new(Vec::new()),
    });
    let own = Rc::clone(&cell);
    let task = name.to_string();
    let future = async move {
        let result = exec_block(Rc::clone(&ctx), body).await;
        let (outcome, token) = match result {
            Ok(Flow::Next) => (Outcome::Value("none".to_string()), None),
            Ok(Flow::Return(value)) => (Outcome::Value(value), None),
            Err(Raise::Cancelled(cancelled)) => (Outcome::Cancelled, Some(cancelled)),
            Err(Raise::Timeout(cause)) => (Outcome::Timeout, cause),
            Err(Raise::Error(message)) => (Outcome::Error(message), None),
        };
        let mut tokens = std::mem::take(&mut *ctx.absorbed.borrow_mut());
        tokens.extend(token);
        ctx.shared
            .record
            .borrow_mut()
            .outcomes
            .insert(task, (outcome.clone(), Instant::now()));
        own.finish(outcome.clone());
        TaskEnd {
            _outcome: outcome,
            _tokens: tokens,
        }
    };
    let handle = crate::spawn_named(name, future);
    *cell.handle.borrow_mut() = Some(handle);
    shared
        .cells
        .borrow_mut()
        .insert(name.to_string(), Rc::clone(&cell));
    shared.all.borrow_mut().push(Rc::clone(&cell));
    cell
}

fn exec_block(ctx: Rc<Ctx>, block: Block) -> LocalBoxFuture<'static, Exec> {
    Box::pin(async move {
        for step in block.iter() {
            if let Flow::Return(value) = exec_step(&ctx, step).await? {
                return Ok(Flow::Return(value));
            }
        }
        Ok(Flow::Next)
    })
}

async fn exec_step(ctx: &Rc<Ctx>, step: &Step) -> Exec {
    let shared = &ctx.shared;
    match &step.kind {
        StepKind::Sleep(duration) => {
            time::sleep(*duration)
                .or_cancel()
                .await
                .map_err(Raise::Cancelled)?;
        }
        StepKind::Yield => checkpoint().await.map_err(Raise::Cancelled)?,
        StepKind::Work(duration) => crate::work(*duration),
        StepKind::Blocking { cost, log } => {
            let (job_shared, task, log) = (Rc::clone(shared), ctx.task.clone(), log.clone());
            shared.in_flight.set(shared.in_flight.get() + 1);
            crate::blocking(*cost, move || {
                if let Some(text) = log {
                    job_shared.log(&task, &text);
                }
                job_shared.job_done();
            })
            .or_cancel()
            .await
            .map_err(Raise::Cancelled)?;
        }
        StepKind::Acquire(name) => {
            let name = name.clone();
            let locks = Rc::clone(shared);
            poll_fn(|cx| {
                let mut locks = locks.locks.borrow_mut();
                let (held, waiters) = locks.entry(name.clone()).or_default();
                if *held {
                    waiters.push(cx.waker().clone());
                    Poll::Pending
                } else {
                    *held = true;
                    Poll::Ready(())
                }
            })
            .or_cancel()
            .await
            .map_err(Raise::Cancelled)?;
            let guard = resource::acquire(&name);
            ctx.guards.0.borrow_mut().push((name, guard));
        }
        StepKind::Release(name) => {
            let guard = {
                let mut guards = ctx.guards.0.borrow_mut();
                let index = guards.iter().position(|(held, _)| held == name);
                index.map(|index| guards.remove(index).1)
            };
            match guard {
                Some(guard) => {
                    guard.release();
                    shared.unlock(name);
                }
                None => return Err(Raise::Error(format!("release {name}: not held"))),
            }
        }
        StepKind::Log(text) => shared.log(&ctx.task, text),
        StepKind::Spawn(task) => {
            let group = ctx.groups.borrow().last().cloned();
            spawn_task(shared, task, group.as_ref());
        }
        StepKind::Join { task, expect } => {
            let cell = shared
                .cell(task)
                .ok_or_else(|| Raise::Error(format!("join {task}: never spawned")))?;
            let outcome = match cell.wait().or_cancel().await {
                Ok(outcome) => outcome,
                Err(cancelled) => {
                    // asyncio: cancelling a task that awaits another task
                    // cancels the awaited one too; the awaiter sees its
                    // cancellation once that one has ended.
                    cell.cancel();
                    cell.wait().await;
                    return Err(Raise::Cancelled(cancelled));
                }
            };
            if !expect.accepts(&outcome) {
                return Err(Raise::Error(format!(
                    "join {task}: expected {}, got {outcome}",
                    expect_name(*expect)
                )));
            }
        }
        StepKind::Cancel(task) => {
            if let Some(cell) = shared.cell(task) {
                cell.cancel();
            }
        }
        StepKind::Timeout { duration, body } => {
            return run_timeout(ctx, *duration, body.clone()).await;
        }
        StepKind::Shield(body) => {
            let inner = Rc::new(Ctx {
                shared: Rc::clone(shared),
                task: ctx.task.clone(),
                cell: None,
                guards: Rc::clone(&ctx.guards),
                absorbed: Rc::clone(&ctx.absorbed),
                groups: RefCell::new(Vec::new()),
            });
            shared.in_flight.set(shared.in_flight.get() + 1);
            let counter = Rc::clone(shared);
            let body = exec_block(inner, body.clone());
            let work = async move {
                let result = body.await;
                counter.job_done();
                result
            };
            return match shield(work).await {
                Ok(result) => result,
                Err(cancelled) => Err(Raise::Cancelled(cancelled)),
            };
        }
        StepKind::Try {
            body,
            on_cancel,
            on_error,
            finally,
        } => {
            return run_try(
                ctx,
                body,
                on_cancel.as_ref(),
                on_error.as_ref(),
                finally.as_ref(),
            )
            .await
        }
        StepKind::WaitFirst(tasks) => {
            let cells = tasks
                .iter()
                .map(|task| {
                    shared
                        .cell(task)
                        .ok_or_else(|| Raise::Error(format!("wait-first {task}: never spawned")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            poll_fn(|cx| {
                if cells.iter().any(|cell| cell.is_done()) {
                    return Poll::Ready(());
                }
                for cell in &cells {
                    cell.register(cx.waker());
                }
                Poll::Pending
            })
            .or_cancel()
            .await
            .map_err(Raise::Cancelled)?;
        }
        StepKind::Group(body) => return run_group(ctx, body.clone()).await,
        StepKind::Repeat { count, body } => {
            for _ in 0..*count {
                if let Flow::Return(value) = exec_block(Rc::clone(ctx), body.clone()).await? {
                    return Ok(Flow::Return(value));
                }
            }
        }
        StepKind::Fail(message) => return Err(Raise::Error(message.clone())),
        StepKind::Return(value) => return Ok(Flow::Return(value.clone())),
    }
    Ok(Flow::Next)
}

fn expect_name(expect: JoinExpect) -> &'static str {
    match expect {
        JoinExpect::Value => "value",
        JoinExpect::Cancelled => "cancelled",
        JoinExpect::Timeout => "timeout",
        JoinExpect::Error => "error",
        JoinExpect::Any => "any",
    }
}

/// Polls a future that someone else owns, so that the library's `timeout`
/// can wrap the body (and register its scope) without owning it: on expiry
/// the body is not dropped but cancelled cooperatively.
struct Borrowed {
    body: Rc<RefCell<LocalBoxFuture<'static, Exec>>>,
}

impl Future for Borrowed {
    type Output = Exec;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Exec> {
        self.body.borrow_mut().as_mut().poll(cx)
    }
}

async fn run_timeout(ctx: &Rc<Ctx>, duration: Duration, body: Block) -> Exec {
    let Some(cell) = ctx.cell.clone() else {
        return Err(Raise::Error(
            "timeout inside shield is not supported".to_string(),
        ));
    };
    let cancelling_at_enter = cell.requests.get();
    let body = Rc::new(RefCell::new(exec_block(Rc::clone(ctx), body)));
    let nested = Borrowed {
        body: Rc::clone(&body),
    };
    let result = match time::timeout(duration, nested).await {
        Ok(result) => return result,
        Err(_elapsed) => {
            // asyncio.timeout: the deadline cancels the task, the body
            // handles that request like any other.
            cell.cancel();
            Borrowed { body }.await
        }
    };
    let outstanding = cell.uncancel();
    match result {
        Err(Raise::Cancelled(cancelled)) if outstanding <= cancelling_at_enter => {
            Err(Raise::Timeout(Some(cancelled)))
        }
        other => other,
    }
}

async fn run_try(
    ctx: &Rc<Ctx>,
    body: &Block,
    on_cancel: Option<&(Block, Resolution)>,
    on_error: Option<&Block>,
    finally: Option<&Block>,
) -> Exec {
    let result = exec_block(Rc::clone(ctx), body.clone()).await;
    let result = match (result, on_cancel, on_error) {
        (Err(Raise::Cancelled(cancelled)), Some((handler, resolution)), _) => {
            match exec_block(Rc::clone(ctx), handler.clone()).await {
                Ok(Flow::Next) => match resolution {
                    Resolution::Reraise => Err(Raise::Cancelled(cancelled)),
                    Resolution::Swallow => {
                        drop(cancelled);
                        Ok(Flow::Next)
                    }
                },
                other => other,
            }
        }
        (Err(Raise::Error(_)), _, Some(handler)) => {
            exec_block(Rc::clone(ctx), handler.clone()).await
        }
        (Err(Raise::Timeout(cause)), _, Some(handler)) => {
            ctx.absorb(cause);
            exec_block(Rc::clone(ctx), handler.clone()).await
        }
        (other, _, _) => other,
    };
    match finally {
        None => result,
        Some(handler) => match exec_block(Rc::clone(ctx), handler.clone()).await {
            Ok(Flow::Next) => result,
            replaced => replaced,
        },
    }
}

async fn run_group(ctx: &Rc<Ctx>, body: Block) -> Exec {
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

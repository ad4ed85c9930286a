//! What a step does: [`StepKind`], one variant per step keyword.

use std::time::Duration;

use super::{Block, Cond, Handler, JoinExpect, ReturnWhen, Text};

/// What a step does.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum StepKind {
    /// `sleep "250ms"`: `await asyncio.sleep(…)` (an await point).
    Sleep(Duration),
    /// `yield`: `await asyncio.sleep(0)`, let the others run.
    Yield,
    /// `work "2s"`: CPU time inside the poll, no await point.
    Work(Duration),
    /// `blocking "3s" ["log line"]`: `await asyncio.to_thread(…)`: work on a
    /// worker thread that runs on when the awaiter is cancelled, and logs
    /// its line when done.
    Blocking {
        /// How long the work takes.
        cost: Duration,
        /// Logged when the work is done.
        log: Option<Text>,
    },
    /// `acquire NAME`: a tracked resource (an asyncio lock, or a declared
    /// semaphore or condition's lock).
    Acquire(String),
    /// `release NAME`.
    Release(String),
    /// `log "text"`: a line in the run's log, with its virtual time.
    Log(Text),
    /// `let NAME "value"`: sets a variable.
    Let {
        /// The variable.
        var: String,
        /// Its value.
        value: Text,
    },
    /// `spawn TASK [ARG…] [as=NAME]`: `asyncio.create_task` (into the
    /// innermost `group`, if any).
    Spawn {
        /// The task definition.
        task: String,
        /// Its arguments, one per parameter.
        args: Vec<Text>,
        /// The name of this instance (default: the task's name).
        name: Option<String>,
    },
    /// `join TASK [expect=OUTCOME] [into=VAR]`: `await task`.
    Join {
        /// The task (or a set of tasks from `wait`).
        task: String,
        /// The outcome expected; another one raises.
        expect: JoinExpect,
        /// Where its value goes.
        into: Option<String>,
    },
    /// `cancel TASK [msg="…"]`: `task.cancel(msg)`.
    Cancel {
        /// The task (or a set of tasks from `wait`).
        task: String,
        /// The message.
        message: Option<Text>,
    },
    /// `uncancel [into=VAR]`: `current_task().uncancel()`.
    Uncancel {
        /// Where the count left goes.
        into: Option<String>,
    },
    /// `cancelling into=VAR`: `current_task().cancelling()`.
    Cancelling {
        /// Where the count goes.
        into: String,
    },
    /// `result TASK into=VAR`: `task.result()`.
    Result {
        /// The task.
        task: String,
        /// Where the value goes.
        into: String,
    },
    /// `timeout "1s" { … }`: `async with asyncio.timeout(…)`.
    Timeout {
        /// The deadline, from entering the scope.
        duration: Duration,
        /// The body.
        body: Block,
    },
    /// `shield [into=VAR] { … }`: `await asyncio.shield(…)` of the block,
    /// run as its own task; `return` in it is the shield's value.
    Shield {
        /// The body.
        body: Block,
        /// Where its value goes.
        into: Option<String>,
    },
    /// `shield TASK [into=VAR]`: `await asyncio.shield(task)`.
    ShieldTask {
        /// The task.
        task: String,
        /// Where its value goes.
        into: Option<String>,
    },
    /// `try { … }` and its handlers (`except`, `except*`, `on-cancel`,
    /// `on-error`), `else` and `finally`.
    Try {
        /// The body.
        body: Block,
        /// The handlers, in order.
        handlers: Vec<Handler>,
        /// Runs when the body ended without an exception.
        otherwise: Option<Block>,
        /// Runs however the rest ended.
        finally: Option<Block>,
    },
    /// `if COND { … }` and its `else { … }`.
    If {
        /// The condition.
        cond: Cond,
        /// When it holds.
        then: Block,
        /// When it does not.
        otherwise: Option<Block>,
    },
    /// `wait-first A B …`: wait until one of the tasks ends; the others
    /// keep running.
    WaitFirst(Vec<String>),
    /// `wait A B … [return-when=…] [timeout="1s"] [done=VAR] [pending=VAR]`:
    /// `done, pending = await asyncio.wait(…)`.
    Wait {
        /// The tasks.
        tasks: Vec<String>,
        /// When it returns.
        when: ReturnWhen,
        /// Returns then at the latest.
        timeout: Option<Duration>,
        /// The set of tasks done.
        done: Option<String>,
        /// The set of tasks still running.
        pending: Option<String>,
    },
    /// `wait-for TASK "1s" [into=VAR]`: `await asyncio.wait_for(task, …)`.
    WaitFor {
        /// The task.
        task: String,
        /// The timeout.
        timeout: Duration,
        /// Where its value goes.
        into: Option<String>,
    },
    /// `gather A B … [return-exceptions=#true] [into=VAR]`:
    /// `await asyncio.gather(…)`.
    Gather {
        /// The tasks.
        tasks: Vec<String>,
        /// Exceptions are results instead of raised.
        return_exceptions: bool,
        /// Where the results go (as `[a, b]`).
        into: Option<String>,
    },
    /// `group { … }`: `async with asyncio.TaskGroup()`.
    Group(Block),
    /// `repeat N { … }`.
    Repeat {
        /// How many times.
        count: u32,
        /// The body.
        body: Block,
    },
    /// `break`: leaves the innermost `repeat`.
    Break,
    /// `raise [TYPE ["message"]]`: raise an exception of a type; without
    /// one, re-raise the exception being handled.
    Raise {
        /// The type (`None`: re-raise).
        kind: Option<String>,
        /// The message.
        message: Option<Text>,
    },
    /// `fail "message"`: `raise RuntimeError(message)`.
    Fail(Text),
    /// `return VALUE`: end the task (or a shield's body) with a value.
    Return(Text),
    /// `put QUEUE VALUE [nowait=#true]`: `await queue.put(…)`.
    Put {
        /// The queue.
        queue: String,
        /// What.
        value: Text,
        /// `put_nowait` (raises `QueueFull`).
        nowait: bool,
    },
    /// `get QUEUE [into=VAR] [nowait=#true]`: `await queue.get()`.
    Get {
        /// The queue.
        queue: String,
        /// Where the item goes.
        into: Option<String>,
        /// `get_nowait` (raises `QueueEmpty`).
        nowait: bool,
    },
    /// `task-done QUEUE`: `queue.task_done()`.
    TaskDone(String),
    /// `set EVENT`: `event.set()`.
    SetEvent(String),
    /// `clear EVENT`: `event.clear()`.
    ClearEvent(String),
    /// `wait NAME`: `await event.wait()`, `await condition.wait()` or
    /// `await queue.join()`, by what NAME is declared as.
    WaitOn(String),
    /// `notify CONDITION [N]` / `notify-all CONDITION`.
    Notify {
        /// The condition.
        condition: String,
        /// How many (`None`: all).
        count: Option<u32>,
    },
}

impl StepKind {
    /// The step's keyword, as written in files.
    pub fn keyword(&self) -> &'static str {
        match self {
            StepKind::Sleep(_) => "sleep",
            StepKind::Yield => "yield",
            StepKind::Work(_) => "work",
            StepKind::Blocking { .. } => "blocking",
            StepKind::Acquire(_) => "acquire",
            StepKind::Release(_) => "release",
            StepKind::Log(_) => "log",
            StepKind::Let { .. } => "let",
            StepKind::Spawn { .. } => "spawn",
            StepKind::Join { .. } => "join",
            StepKind::Cancel { .. } => "cancel",
            StepKind::Uncancel { .. } => "uncancel",
            StepKind::Cancelling { .. } => "cancelling",
            StepKind::Result { .. } => "result",
            StepKind::Timeout { .. } => "timeout",
            StepKind::Shield { .. } | StepKind::ShieldTask { .. } => "shield",
            StepKind::Try { .. } => "try",
            StepKind::If { .. } => "if",
            StepKind::WaitFirst(_) => "wait-first",
            StepKind::Wait { .. } | StepKind::WaitOn(_) => "wait",
            StepKind::WaitFor { .. } => "wait-for",
            StepKind::Gather { .. } => "gather",
            StepKind::Group(_) => "group",
            StepKind::Repeat { .. } => "repeat",
            StepKind::Break => "break",
            StepKind::Raise { .. } => "raise",
            StepKind::Fail(_) => "fail",
            StepKind::Return(_) => "return",
            StepKind::Put { .. } => "put",
            StepKind::Get { .. } => "get",
            StepKind::TaskDone(_) => "task-done",
            StepKind::SetEvent(_) => "set",
            StepKind::ClearEvent(_) => "clear",
            StepKind::Notify { count: None, .. } => "notify-all",
            StepKind::Notify { .. } => "notify",
        }
    }

    /// The nested blocks of the step, in order.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            StepKind::Timeout { body, .. }
            | StepKind::Shield { body, .. }
            | StepKind::Group(body)
            | StepKind::Repeat { body, .. } => vec![body],
            StepKind::Try {
                body,
                handlers,
                otherwise,
                finally,
            } => {
                let mut blocks = vec![body];
                blocks.extend(handlers.iter().map(|handler| &handler.body));
                blocks.extend(otherwise.as_ref());
                blocks.extend(finally.as_ref());
                blocks
            }
            StepKind::If {
                then, otherwise, ..
            } => {
                let mut blocks = vec![then];
                blocks.extend(otherwise.as_ref());
                blocks
            }
            _ => Vec::new(),
        }
    }

    /// The variable the step assigns, if any.
    pub fn assigns(&self) -> Vec<&str> {
        match self {
            StepKind::Let { var, .. }
            | StepKind::Cancelling { into: var }
            | StepKind::Result { into: var, .. } => vec![var],
            StepKind::Join { into, .. }
            | StepKind::Shield { into, .. }
            | StepKind::ShieldTask { into, .. }
            | StepKind::WaitFor { into, .. }
            | StepKind::Gather { into, .. }
            | StepKind::Get { into, .. }
            | StepKind::Uncancel { into } => into.iter().map(String::as_str).collect(),
            StepKind::Wait { done, pending, .. } => done
                .iter()
                .chain(pending.iter())
                .map(String::as_str)
                .collect(),
            _ => Vec::new(),
        }
    }
}

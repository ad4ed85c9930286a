//! What a [`Violation`] suggests: its hint, read from its code and from
//! what the run and its counterfactuals found (the injection, the expiry
//! and stall verdicts, a `select!`, real tokio, state kept between runs).

use super::violation::{ExpiryVerdict, Violation, ViolationCode};
use super::TaskId;

impl Violation {
    /// The usual fix (for this violation: a cancellation signal ignored,
    /// a panic without any injection, read differently).
    pub fn hint(&self) -> &'static str {
        let signal = self
            .injection
            .is_some_and(|injection| injection.kind == super::InjectionKind::Signal);
        match self.code {
            ViolationCode::CancelIgnored if signal => {
                "the task went on after the program's own cancellation signal: listen for it wherever \
                 the task waits (`select!` on `token.cancelled()`), inside long jobs too. A task \
                 that works for a caller can also stop when the caller goes away (`select!` on \
                 `reply.closed()`, `tx.closed()`): with its caller dropped at shutdown, that \
                 stops it too"
            }
            _ if super::real_tokio::shows_real_tokio(self) => {
                // cancelsim is compiled with the same RUSTFLAGS as the code
                // under test: in a simulation build the `--cfg` is set
                // already, and only a dependency on real tokio is left.
                if cfg!(cancelsim) {
                    super::real_tokio::IN_SIMULATION_BUILD
                } else {
                    super::real_tokio::IN_NORMAL_BUILD
                }
            }
            _ if self.real_tokio => super::real_tokio::ELSEWHERE_IN_RUN,
            // tokio's own message for a `task_local!` read outside its
            // scope: the sweep reached a task that runs without it.
            ViolationCode::Panic | ViolationCode::UnobservedPanic
                if self.message.contains(TASK_LOCAL_UNSET) =>
            {
                "a `task_local!` was read outside its scope: `tokio::spawn` and `spawn_blocking` \
                 do not carry task-locals into the new task (nor does a future polled after its \
                 `scope` ended). Carry the value in: `tokio::spawn(KEY.scope(KEY.get(), fut))` \
                 (`KEY.sync_scope` for a blocking closure), or read it with `KEY.try_with(..)` and \
                 handle its absence. On tokio this panic in a detached task is printed and \
                 otherwise lost"
            }
            // Blocking work (`spawn_blocking`'s closure) runs on the
            // simulation's one thread: a closure that waits for the async
            // side never returns.
            ViolationCode::StuckPoll if self.task_name.as_deref() == Some("blocking") => {
                "blocking work (a `spawn_blocking` closure, `blocking(cost, f)`) runs on the \
                 simulation's one thread, when its virtual cost has passed: a closure that waits \
                 for the async side — `Sender::blocking_send` into a full channel, `blocking_recv`, \
                 `blocking_lock`, `Handle::block_on`, a std channel fed by a task — waits forever \
                 here, where tokio would run it on a thread of its own. Return the results from the \
                 closure (its JoinHandle's value) and send them from the async side, or send with \
                 `try_send`/an unbounded channel"
            }
            ViolationCode::Panic if self.message.starts_with("a Drop panicked") => {
                "a Drop must not panic: it runs whenever the future holding it is dropped (an abort, \
                 a lost select! branch, a timeout, a shutdown); log or record the failure instead"
            }
            ViolationCode::Panic if self.injection.is_none() && self.state_kept => {
                "this run injected nothing: the panic is the program's (or the test's) own — or \
                 state kept from an earlier run of the sweep (a `static`, a file, an environment \
                 variable): see the nondeterminism in this report, reset that state at the start \
                 of the test, and replay this run"
            }
            ViolationCode::Invariant if self.injection.is_none() && self.state_kept => {
                "this run injected nothing: the invariant may be broken by state kept from an \
                 earlier run of the sweep (a `static`, a file, an environment variable): see the \
                 nondeterminism in this report and reset that state at the start of the test"
            }
            ViolationCode::Panic | ViolationCode::Invariant | ViolationCode::Deadlock
                if self.injection.is_none()
                    && self.partial_read == Some(super::violation::PartialRead::ThenDropped) =>
            {
                "this run injected nothing, but a read in it got only part of what its peer wrote \
                 in one call (`N bytes written arrive in two pieces` in the trace), and a \
                 `select!` of that task dropped a pending branch before the rest came (`dropped \
                 pending branch` in the trace): if the dropped branch was reading, the bytes its future had read went \
                 with it and the stream is now mid-message (the next read starts inside it, or \
                 waits for bytes that will never come). Keep what a read takes in a buffer \
                 that outlives the future (`read_buf` into the connection's own `BytesMut`, a \
                 codec's `FramedRead`), or read outside the `select!`. (Or, if nothing was \
                 dropped mid-read: a test or parser that expects one `read` to return a whole \
                 message fails this way too)"
            }
            ViolationCode::Panic | ViolationCode::Invariant
                if self.injection.is_none() && self.partial_read.is_some() =>
            {
                "this run injected nothing, but a read in it returned only part of what its peer \
                 wrote in one call: the chunk arrived in two pieces (`N bytes written arrive in \
                 two pieces` in the trace), as TCP may deliver it however it was written. A test \
                 or a parser that expects one `read` to return a whole message fails this way: \
                 read until the message is whole (`read_exact`, `read_line`, a length prefix, a \
                 codec's `FramedRead`)"
            }
            ViolationCode::Panic if self.injection.is_none() => {
                "this run injected nothing: the panic is the program's (or the test's) own, \
                 under this schedule; replay it and read the trace"
            }
            _ if self.expiry == Some(ExpiryVerdict::SharedSlowness) => {
                "the expiry held an operation other tasks waited on too: their own timeouts \
                 fired in this run, and not when the operation never started — as on tokio when \
                 a shared dependency is slow (a connection's handshake behind a `OnceCell`, a \
                 lock, a cache fill). The failure may come from those expiries rather than from \
                 state left half-done: if the test counts attempts, retries or timeouts, that \
                 count depends on how slow the dependency is — assert what holds either way (at \
                 most one attempt in flight, one success); otherwise the expiry left state \
                 half-done: make the change atomic across the await"
            }
            _ if self.expiry == Some(ExpiryVerdict::HandledInTask) => {
                "the test fails the same way when this timeout expires (or this select!'s timer \
                 branch wins) before its operation starts, in a task the program spawned: what \
                 fails is how that task handles the expiry — it goes on as if the operation had \
                 happened or had not mattered (keeps a leader's role or a lease it could not \
                 renew, drops the message it handed the operation, serves a stale value, marks \
                 a change seen before applying it, stops on `RecvError::Lagged` after falling \
                 behind). Make what the test checks hold either way: give up what the expiry \
                 made stale, keep what was handed over (`reserve()` a slot before sending), \
                 retry, skip what was missed and go on, or report the failure to whoever waits \
                 for it. (If the test expects that task's happy path — \
                 a 200 from a handler whose timeout answers 504 —, it assumes the timeout never \
                 fires: assert what holds either way. A failure because the test asked for \
                 strict timeout results or the check does not excuse such runs.)"
            }
            // A task other than the test's body panicked, after another
            // task's timeout expired.
            ViolationCode::Panic | ViolationCode::UnobservedPanic
                if self.injection.is_some_and(|injection| {
                    injection.kind.is_expiry() && Some(injection.task) != self.task
                }) && self.task != Some(TaskId(0))
                    && !self.message.contains("Elapsed") =>
            {
                "this task panicked after the sweep expired another task's timeout (as a slow \
                 backend would): the timed-out operation was dropped, but work it had started \
                 went on — blocking work, a spawned task — and found the other side gone: a send \
                 to a dropped receiver (`tx.send(..).expect(..)`, `.unwrap()`), a reply nobody \
                 awaits any more. Treat a closed channel as the caller having gone away (`let _ = \
                 tx.send(..)`, or check `tx.is_closed()` first), or stop that work when its \
                 caller stops. (If it is an assertion on shared state instead, the expiry left \
                 that state half-done: make the change atomic across the await.)"
            }
            ViolationCode::Panic | ViolationCode::Invariant
                if self.expiry == Some(ExpiryVerdict::HalfDone) && self.select && !self.stalled() =>
            {
                "the timer branch winning this select! earlier, before its operation started, \
                 does not fail this way: the branch dropped at this await point left state \
                 half-done. Keep only cancel-safe futures in the select! (ones that hold no \
                 half-done state when dropped, e.g. `recv()` on a channel); create the \
                 long-running operation once, outside the loop, and poll it by `&mut` \
                 (`tokio::pin!(op)`, then `_ = &mut op =>`) so that losing a round does not \
                 drop it; or do the rest in the branch body, which runs only for the winner. \
                 (If the assertion checks a result that depends on how far the branch got, the \
                 test assumes the timer never wins: assert what holds either way.)"
            }
            _ if self.expiry == Some(ExpiryVerdict::ResultChecked) && self.select => {
                "the test fails the same way when this select!'s timer branch wins before its \
                 operation starts: what fails is how the code handles the timer winning, not \
                 state left half-done by the branch dropped at this await point. If the \
                 assertion expects the other branch's result, the test assumes the timer never \
                 wins — assert what holds either way; if it is an invariant (nothing lost), keep \
                 what was gathered outside the select!'s branches. (A failure because the test \
                 asked for strict timeout results or the check does not excuse such runs.)"
            }
            ViolationCode::Panic | ViolationCode::Invariant
                if self.expiry == Some(ExpiryVerdict::HalfDone) && !self.stalled() =>
            {
                "expiring this timeout before its operation started does not fail this way: the \
                 expiry at this await point left state half-done — make the change atomic across \
                 the await (a guard whose Drop restores it, or discards what it cannot restore: a \
                 connection with a request on the wire; if a guard's Drop runs here already, check \
                 what it keeps) or commit it only after the last await; but where work done so far \
                 must count (parts already stored, rows already sent), record each step as it \
                 completes, not all at the end, so that a retry redoes none. If the code retries \
                 after the expiry, the other side may have done the first attempt with only its \
                 answer late (a withdrawal applied, its reply held): make the request idempotent \
                 (a request id the other side deduplicates). \
                 (If the assertion checks a result that depends on how far the operation got — \
                 the jobs a drain still had to abort, the items gathered before the deadline — \
                 the test assumes the timeout never fires: assert what holds either way.)"
            }
            _ if self.expiry == Some(ExpiryVerdict::ResultChecked) => {
                "the test fails the same way when this timeout expires before its operation \
                 starts: what fails is how the code handles the expiry itself, not state left \
                 half-done at this await point. If the assertion expects the happy path, the test \
                 assumes the timeout never fires — assert what holds either way; if it is an \
                 invariant (nothing lost, every finished job recorded), keep what was gathered when \
                 the timeout fires (hold it outside the timed future, return the partial result). \
                 (A failure because the test asked for strict timeout results or the check does \
                 not excuse such runs.)"
            }
            ViolationCode::Panic if self.select && self.is_an_assertion() => {
                "an assertion failed after the sweep let this select!'s timer branch win (as a \
                 slow dependency would) and drop the pending branch at this await point: if it \
                 checks state (a counter, a buffer, a queue), that branch left it half-done — \
                 keep only cancel-safe futures in the select! (e.g. `recv()` on a channel), \
                 create the long-running operation once outside the loop and poll it by `&mut`, \
                 or do the rest in the branch body; if it checks the result the race decides, \
                 the test assumes the timer never wins — assert what holds either way"
            }
            ViolationCode::Panic
                if self
                    .injection
                    .is_some_and(|injection| injection.kind.is_expiry())
                    && self.is_an_assertion() =>
            {
                "an assertion failed after the sweep expired this timeout (as a slow dependency \
                 would): if it checks state (a counter, a balance, a queue), the expiry left it \
                 half-done — make the change atomic across the await (a guard whose Drop restores \
                 it, or discards what it cannot restore); if it checks the result the timeout decides (a value, a count of successes, \
                 a duration), the test assumes the timeout never fires — assert what holds either \
                 way"
            }
            // The same stall one wait earlier does not fail this way: the
            // cut at this await point left the state half-done, and
            // waiting for the task's drop changes nothing unless a `Drop`
            // restores it (trial 15's scatter-gather).
            ViolationCode::Panic
                if self.abort_pending
                    && self.is_an_assertion()
                    && self.stall_earlier.is_some_and(|earlier| {
                        earlier.verdict != super::EarlierVerdict::Same
                    }) =>
            {
                "the assertion ran while a task your program aborted was still to be dropped \
                 (tokio's `abort` and `JoinSet::abort_all` only ask for it), but the same stall \
                 one wait earlier does not fail this way (the counterfactual line): the cut at \
                 this await point left state half-done — what the task had done before it (a \
                 row pushed, a counter raised) stays, and waiting for its drop helps only if a \
                 `Drop` takes it back. Make the change atomic across the await (gather in the \
                 task, hand over once at its end; or a guard whose Drop restores it), or make \
                 the check count only what tasks handed over"
            }
            ViolationCode::Panic if self.abort_pending && self.is_an_assertion() => {
                "the assertion ran while a task your program aborted was still to be dropped: \
                 tokio's `abort` (and `JoinSet::abort_all`) only asks for it, and the task's \
                 future — with its guards' `Drop`s — is dropped when the runtime next runs it. \
                 In this run the task was slower than the others (stalled where it waited), \
                 still running when the abort came. If the check reads what the task's `Drop`s \
                 put back (a gauge, a slot), it ran before them: wait for the aborted tasks to \
                 end before checking (`join_set.shutdown().await`, `join_next()` until `None`, \
                 or the handle's `JoinError`). If it reads what only the task's end sets (a \
                 finished flag, an `Ok` from the code that aborted it at its deadline), the test \
                 assumes the task is done before that deadline: on tokio a task that slow is \
                 aborted too — assert what holds either way"
            }
            // A stall that ended by itself while a loop waited for the
            // stalled task's progress.
            ViolationCode::StepLimit if self.stalled() => {
                "a loop that never finishes while a task's wait was stalled: the sweep made the \
                 operation that task waited on much slower than usual (its wakes held back, as a \
                 slow peer, disk or lock would), for up to a minute of virtual time. The loop \
                 likely waits for what the stalled task would do (polls a flag it sets, retries \
                 for its message): wait on something that wakes you (a channel, its JoinHandle) \
                 and bound the wait with a deadline"
            }
            // A stall no deadline met (the program went on without the
            // task before one came); a stall that made a timeout waiting
            // for the task expire, the program going on without the task;
            // or one the program's own deadline (a watchdog, `abort_all` at
            // a deadline) aborted where it held the task. The counterfactual
            // runs pick among the readings (`stall_hint.rs`).
            ViolationCode::Panic | ViolationCode::Invariant
                if self.stalled()
                    && self.stall_went_on
                    && (self.code == ViolationCode::Invariant || self.is_an_assertion()) =>
            {
                super::stall_hint::STALL_WENT_ON
            }
            _ if self.stalled() => super::stall_hint::stall_hint(
                self.stall_outran,
                self.expiry == Some(ExpiryVerdict::HalfDone),
                self.stall_earlier.map(|earlier| earlier.verdict),
            ),
            ViolationCode::Panic | ViolationCode::Invariant
                if self.signal_race
                    && (self.code == ViolationCode::Invariant || self.is_an_assertion()) =>
            {
                "the program's shutdown signal made `select!`s drop pending branches (the `then` \
                 lines name each task's last one: the branch that won, those dropped and the \
                 await point they waited at): one of them held what the check finds missing or \
                 half-done — a future that is not cancel-safe (`send(msg)`, `write_all`), or work \
                 the stop branch abandoned (a request to answer first). Keep \
                 only cancel-safe futures in the select! (ones that hold nothing when dropped: \
                 `recv()`, `reserve()`, `cancelled()`); do the work in the winning branch's body \
                 or after the select! (it then runs to completion), or pin the long-running work \
                 outside the loop and poll it by `&mut`, checking the stop only between items"
            }
            ViolationCode::Panic | ViolationCode::Invariant
                if signal && (self.code == ViolationCode::Invariant || self.is_an_assertion()) =>
            {
                "the program's shutdown signal fired here (one moment of the run: by itself it \
                 cancelled nothing at this await point), and the check failed after it: a task \
                 that stopped on the signal left what the check sees unfinished — work it had \
                 accepted and not done (messages still in its channel, a batch not flushed) or a \
                 change half-made across an await. On shutdown, finish or hand back what was \
                 accepted before exiting (`rx.close()`, then `recv()` until `None`; flush the \
                 batch), and keep changes atomic across awaits (a guard whose Drop restores them)"
            }
            ViolationCode::Panic if signal && !self.is_an_assertion() => {
                "the program's shutdown signal fired here, and the code then unwrapped (or \
                 expected) a result that shutdown makes an error — a send to a task that already \
                 stopped (`SendError`), a `recv` that got `None`, a `JoinError` of an aborted \
                 task: during shutdown these are normal outcomes; handle them (stop quietly, or \
                 log) instead of unwrap(). But a `SendError` also says the receiving task stopped \
                 while senders still sent: if it should take everything sent before they stop, \
                 let it drain on the signal (`rx.close()`, then `recv()` until `None`, then flush \
                 what it gathered) instead of returning — or stop the senders first"
            }
            ViolationCode::Panic if self.is_an_assertion() => {
                "an assertion failed after the injection: the cancel (or expiry) at this await point \
                 left the state it checks half-done; make the change atomic across the await (a \
                 guard whose Drop restores it) or commit it only after the last await — or, where \
                 work done so far must count, record each step as it completes"
            }
            // The injection cancelled another task than the one looping:
            // the loop likely waits on what that task would have done.
            ViolationCode::StepLimit
                if self.injection.is_some_and(|injection| {
                    matches!(
                        injection.kind,
                        super::InjectionKind::CancelDrop
                            | super::InjectionKind::CancelCooperative
                    ) && Some(injection.task) != self.task
                }) =>
            {
                "a loop that never finishes: it may be waiting on the task the injection cancelled \
                 (polling a flag it would have set, retrying for a message it would have sent); a \
                 real abort can come at that await point too, so stop waiting when that task ends \
                 (await or select! on its JoinHandle), and bound the loop"
            }
            ViolationCode::Deadlock if self.select => {
                "after this select!'s timer branch won and dropped the pending branch at this \
                 await point, every task waits on something nobody will do any more: the dropped \
                 branch may have held half-done work its peer still counts on — part of a line a \
                 `read_line` had read (the rest then reads as a bad command, and the peers wait \
                 on each other), a message taken from a channel, a lock or permit. Keep only \
                 cancel-safe futures in the select! (a reader that keeps its buffer across \
                 rounds: `FramedRead`, `lines()` outside the loop), or create the operation once \
                 and poll it by `&mut`"
            }
            // Every task waits after the program's own stop: the stop was
            // missed (trial 15's `notify_waiters` sent while the worker
            // was busy), not a lock held by cancelled code.
            ViolationCode::Deadlock if signal => {
                "after the program's shutdown signal every task waits on something nobody will \
                 do any more: a task missed the stop — `Notify::notify_waiters()` wakes only the \
                 tasks waiting at that moment (one busy then, or that makes a fresh `notified()` \
                 after it, waits forever), a stop sent on a channel before the receiver's loop \
                 listened. Use a stop that stays set: a `CancellationToken`, a `watch` value, \
                 `notify_one` (it keeps a permit), or `Notified::enable()` before checking the \
                 condition; and let the shutdown code await the task under a deadline"
            }
            ViolationCode::Deadlock if self.injection.is_some() => {
                "after the injection every task waits on something nobody will do any more: a \
                 message the cancelled code would have sent, a lock or permit it held, a task it \
                 would have woken; release and signal in Drop (RAII) so a cancel cannot strand \
                 the others"
            }
            // Tasks stuck writing into full pipes (trial 14's relay): no
            // lock involved.
            ViolationCode::Deadlock
                if self.message.contains("waiting on duplex write")
                    || self.message.contains("waiting on simplex write")
                    || self.message.contains("waiting on tcp write") =>
            {
                "a write waits for room in a full pipe (an `io::duplex(n)`'s buffer of n bytes, \
                 a simulated TCP stream's 64 KiB send buffer) \
                 that nobody reads: a task writes all it has before it reads what comes back, or \
                 a relay (`io::copy`) stops reading while its own write is pending. Real sockets \
                 and pipes have such buffers too, and deliver in pieces. Read while writing (a \
                 task per direction, `join!` of the two halves, `copy_bidirectional`)"
            }
            ViolationCode::Nondeterminism if self.message.starts_with(SAME_SCHEDULE) => {
                SHARED_STATE_HINT
            }
            ViolationCode::Nondeterminism if self.message.starts_with(PARTED) => PARTED_HINT,
            _ => self.code.hint(),
        }
    }
}

/// tokio's panic message for a `task_local!` read outside its scope.
const TASK_LOCAL_UNSET: &str = "task-local storage value without setting it first";

/// How the determinism check's message starts when the two runs of a
/// plan parted: a question asked differently, or a different step count or
/// end time.
pub(crate) const PARTED: &str = "two runs of the same plan differ";

/// How the determinism check's message starts when the two runs of a plan
/// did the same thing and only their violations differ.
pub(crate) const SAME_SCHEDULE: &str = "two runs of the same plan took the same decisions";

/// Does this `nondeterminism` violation say that state outlives a run
/// (the determinism check's two runs did the same and were judged
/// differently)?
pub(crate) fn shows_state_kept(violation: &Violation) -> bool {
    violation.code == ViolationCode::Nondeterminism && violation.message.starts_with(SAME_SCHEDULE)
}

/// The hint of [`PARTED`].
const PARTED_HINT: &str =
    "the program chose differently in the second run with the same seed: it reads something \
     the simulation does not control — an unseeded RNG (`rand::thread_rng`, `RandomState`; \
     a retry crate's jitter too: backoff's `ExponentialBackoff::randomization_factor`, \
     tokio-retry's `jitter` — set it to 0 in tests), HashMap/HashSet iteration order, \
     `futures::select!` (it shuffles its branches with a generator of its own: use \
     `tokio::select!`, which the simulation records, or `futures::select_biased!`), the wall \
     clock (`std::time::Instant`, `SystemTime`), real threads, real tokio (a crate compiled against it: build with RUSTFLAGS=\"--cfg cancelsim\"), \
     or a `static` (counter, cache, OnceLock) that decides what to spawn or which branch to take; \
     draw from `cancelsim::random`, use BTreeMap or a fixed hasher, and reset statics at the \
     start of the test";

/// The hint of [`SAME_SCHEDULE`].
const SHARED_STATE_HINT: &str =
    "both runs did the same thing, but an assertion or oracle judged them differently: state \
     outlives a run and the second starts from what the first left — a `static` (a counter, \
     a OnceLock, a cache), a file, an environment variable. Reset it at the start of the test \
     (or keep it in the test's own values), use a temp dir per run; CANCELSIM_THREADS=1 does \
     not help, a `static` outlives a run on one thread too";

impl Violation {
    /// The run's injection was a stall ([`InjectionKind::Stall`](super::InjectionKind::Stall)).
    fn stalled(&self) -> bool {
        self.injection
            .is_some_and(|injection| injection.kind == super::InjectionKind::Stall)
    }

    /// A panic that is an assertion on the program's state, not an
    /// unwrap of the injected outcome (`Elapsed`, a `JoinError`, a
    /// `Cancelled`).
    fn is_an_assertion(&self) -> bool {
        !["Elapsed", "JoinError", "Cancelled", "unwrap()", "expect("]
            .iter()
            .any(|word| self.message.contains(word))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{InjectAt, Injection, InjectionKind};
    use super::*;

    fn deadlock(select: bool) -> Violation {
        let mut violation =
            Violation::new(ViolationCode::Deadlock, "no task can run").task(TaskId(0), None);
        violation.injection = Some(Injection::new(
            TaskId(1),
            9,
            InjectionKind::Timeout,
            InjectAt::Suspend,
        ));
        violation.select = select;
        violation
    }

    /// Trial 14: a `task_local!` read in a spawned task names the scope
    /// it lacks, not a gone receiver; tasks stuck on full pipes get the
    /// pipe's hint, not the lock order's.
    #[test]
    fn a_task_local_panic_and_a_pipe_deadlock_get_their_own_hints() {
        let unset =
            "cannot access a task-local storage value without setting it first at src/a.rs:5:9";
        for code in [ViolationCode::Panic, ViolationCode::UnobservedPanic] {
            let mut violation = Violation::new(code, format!("panicked: {unset}"));
            violation.injection = deadlock(false).injection;
            assert!(
                violation.hint().contains("KEY.scope(KEY.get(), fut)"),
                "{code:?}"
            );
        }
        let pipes = Violation::new(
            ViolationCode::Deadlock,
            "no task can run: main#0 at await point 3 waiting on duplex write (tests/a.rs:110:18)",
        );
        assert!(pipes.hint().contains("Read while writing"));
        let locks = Violation::new(ViolationCode::Deadlock, "no task can run: main#0 at await point 3 waiting on a channel, lock, Notify or other future");
        assert!(locks.hint().contains("one global order"));
    }

    /// Trial 15: a check right after `abort_all` whose stall one wait
    /// earlier passes names the half-done cut, not only the lazy drop; a
    /// deadlock after the program's own signal names a missed stop.
    #[test]
    fn a_half_done_cut_and_a_missed_stop_get_their_own_hints() {
        let injection = |kind| Injection::new(TaskId(1), 3, kind, InjectAt::Suspend);
        let pending = |verdict| {
            let mut violation = Violation::new(
                ViolationCode::Panic,
                "the root panicked: shard 0 is reported missing",
            );
            violation.injection = Some(injection(InjectionKind::Stall));
            violation.abort_pending = true;
            violation.stall_earlier = Some(crate::vocab::StallEarlier {
                injection: injection(InjectionKind::Stall),
                verdict,
            });
            violation.hint()
        };
        assert!(pending(crate::vocab::EarlierVerdict::Passes)
            .contains("helps only if a `Drop` takes it back"));
        assert!(pending(crate::vocab::EarlierVerdict::Same)
            .contains("wait for the aborted tasks to end"));
        let mut missed = Violation::new(ViolationCode::Deadlock, "no task can run");
        missed.injection = Some(injection(InjectionKind::Signal));
        assert!(missed.hint().contains("notify_waiters()"));
        assert!(deadlock(false)
            .hint()
            .contains("release and signal in Drop"));
    }

    /// A deadlock after a select!'s timer branch won names the dropped
    /// branch's half-done work (trial 13: a `read_line` losing part of a
    /// command, the peers then waiting on each other); one after another
    /// injection keeps the hint about what the cancelled code held.
    #[test]
    fn a_deadlock_after_a_select_timer_win_names_the_dropped_branch() {
        assert!(deadlock(true)
            .hint()
            .contains("part of a line a `read_line` had read"));
        assert!(deadlock(false)
            .hint()
            .contains("a message the cancelled code would have sent"));
    }
}

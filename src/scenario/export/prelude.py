# ---------------------------------------------------------------------------
# The runtime of an exported scenario: CPython's own asyncio event loop on a
# virtual clock (one unit of loop time = UNIT_NS nanoseconds), and the few
# helpers the scenario's steps use. What it prints, one JSON object a line:
# every `log` line with its loop time, then the outcome and end time of each
# task and when `main` ended.
# ---------------------------------------------------------------------------
import asyncio
import contextvars
import heapq
import itertools
import json
import selectors


class _Deadlock(Exception):
    """No task can run and no timer is pending."""


class _Selector(selectors._BaseSelectorImpl):
    """A selector that never waits: the loop's clock jumps to its next timer."""

    loop = None

    def select(self, timeout=None):
        if timeout is None:
            raise _Deadlock()
        self.loop._now += timeout
        return []


class _Timer(asyncio.TimerHandle):
    """A timer that, due at the same time as another, comes after it if it
    was armed later. (asyncio's timer heap leaves such ties to heapq, which
    is not stable; the interpreter's baseline fires them in arming order.)"""

    __slots__ = ["_seq"]

    def __lt__(self, other):
        return (self._when, self._seq) < (other._when, other._seq)

    def __le__(self, other):
        return (self._when, self._seq) <= (other._when, other._seq)

    def __gt__(self, other):
        return (self._when, self._seq) > (other._when, other._seq)

    def __ge__(self, other):
        return (self._when, self._seq) >= (other._when, other._seq)


class VirtualLoop(asyncio.SelectorEventLoop):
    """asyncio's event loop, unchanged but for its clock and for the order
    of timers due at the same time (the order they were armed)."""

    def __init__(self):
        self._now = 0
        self._armed = itertools.count()
        selector = _Selector()
        super().__init__(selector)
        selector.loop = self
        self._clock_resolution = 0.5
        self.created = []
        self.set_task_factory(self._new_task)

    def time(self):
        return self._now

    def call_soon(self, callback, *args, context=None):
        scheduled = getattr(callback, "scheduled", None)
        if scheduled is not None:
            scheduled.append(self._now)
        return super().call_soon(callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        self._check_closed()
        timer = _Timer(when, callback, args, self, context)
        timer._seq = next(self._armed)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer

    @staticmethod
    def _new_task(loop, coro, context=None):
        task = asyncio.Task(coro, loop=loop, context=context)
        task.created = len(loop.created)
        loop.created.append(task)
        return task


class TaskGroup(asyncio.TaskGroup):
    """asyncio.TaskGroup, cancelling its children in the order they were
    created (asyncio's own order is that of a set)."""

    def _abort(self):
        self._aborting = True
        for task in sorted(self._tasks, key=lambda task: task.created):
            if not task.done():
                task.cancel()


TASKS = {}
OUTCOMES = {}
JOBS = []
LOCKS = {}
HELD = {}
P = {}
MAIN_END = [None]
_NAME = contextvars.ContextVar("name")


def _name():
    """The name of the scenario task running (a shield's body is its
    task's: the context is inherited)."""
    return _NAME.get()


def _now():
    return asyncio.get_event_loop()._now


def log(task, text):
    print(json.dumps({"log": text, "task": task, "t": _now()}))


def _work(units):
    asyncio.get_running_loop()._now += units


def _detail(exc):
    name = type(exc).__name__
    if name == "RuntimeError":
        return str(exc)
    return f"{name}: {exc}" if str(exc) else name


def _s(value):
    """A value in a text: a set of tasks shows its names, sorted."""
    if isinstance(value, (set, list)):
        return ", ".join(sorted(task.get_name() for task in value))
    return "None" if value is None else str(value)


def _results(results):
    """gather's results as the interpreter shows them."""
    return "[" + ", ".join(
        result if isinstance(result, str) else _detail(result) for result in results
    ) + "]"


def _tasks(tasks):
    """A set of tasks in the order they were created."""
    return sorted(tasks, key=lambda task: task.created)


def _outcome(task):
    if task.cancelled():
        return ["cancelled", None]
    exc = task.exception()
    if exc is None:
        result = task.result()
        return ["value", "none" if result is None else str(result)]
    if isinstance(exc, TimeoutError):
        return ["timeout", None]
    return ["error", _detail(exc)]


def _record(name):
    def record(task):
        # When the task ended: when this callback was scheduled (it runs
        # one loop iteration later, maybe after another task's CPU work).
        end = record.scheduled[-1] if record.scheduled else _now()
        OUTCOMES[name] = _outcome(task) + [end]
        if name == "main" and task is TASKS.get("main"):
            MAIN_END[0] = end

    record.scheduled = []
    return record


def _spawn(name, coro, group=None):
    context = contextvars.copy_context()
    context.run(_NAME.set, name)
    if group is not None:
        task = group.create_task(coro, name=name, context=context)
    else:
        task = asyncio.get_event_loop().create_task(coro, name=name, context=context)
    task.add_done_callback(_record(name))
    TASKS[name] = task
    return task


def _task(name, keyword):
    task = TASKS.get(name)
    if task is None:
        raise RuntimeError(f"{keyword} {name}: never spawned")
    return task


def _cancel(name, message):
    task = TASKS.get(name)
    if task is not None:
        task.cancel(message)


async def _join_task(task, expect):
    """`await task`, taking the exception `expect` names (not the
    awaiter's own cancellation)."""
    try:
        value = await task
    except asyncio.CancelledError:
        if (
            expect in ("cancelled", "any")
            and task.cancelled()
            and not asyncio.current_task().cancelling()
        ):
            return "none"
        raise
    except TimeoutError:
        if expect in ("timeout", "any"):
            return "none"
        raise
    except Exception:
        if expect in ("error", "any"):
            return "none"
        raise
    if expect not in ("value", "any"):
        raise RuntimeError(f"join {task.get_name()}: expected {expect}, got value")
    return value


async def _blocking(task, cost, text):
    """asyncio.to_thread: the work runs on when its awaiter is cancelled."""
    loop = asyncio.get_running_loop()
    job = loop.create_future()
    waiter = loop.create_future()

    def done():
        if text is not None:
            log(task, text)
        job.set_result(None)
        if not waiter.done():
            waiter.set_result(None)

    JOBS.append(job)
    loop.call_later(cost, done)
    await waiter


def _lock(name):
    """A declared semaphore or condition, or a tracked asyncio.Lock (any
    task may release it)."""
    if name in P:
        return P[name]
    return LOCKS.setdefault(name, asyncio.Lock())


async def _acquire(name):
    await _lock(name).acquire()
    HELD[name] = HELD.get(name, 0) + 1


def _release(name):
    if not HELD.get(name):
        raise RuntimeError(f"release {name}: not held")
    HELD[name] -= 1
    _lock(name).release()


def run(main):
    """asyncio.run(main()) on the virtual loop: run main, cancel the tasks
    still running (in the order they were created) and wait for them, then
    for the blocking work still running; print what happened."""
    loop = VirtualLoop()
    asyncio.set_event_loop(loop)
    error = None
    try:
        task = _spawn("main", main())

        try:
            loop.run_until_complete(task)
        except _Deadlock:
            raise
        except BaseException:
            pass
        leftovers = [task for task in loop.created if not task.done()]
        for task in leftovers:
            task.cancel()
        if leftovers:
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        # shutdown_default_executor: the blocking work still running ends.
        while any(not job.done() for job in JOBS):
            loop.run_until_complete(asyncio.gather(*JOBS))
        loop.run_until_complete(loop.shutdown_default_executor())
    except _Deadlock:
        error = "deadlock"
    print(json.dumps({"outcomes": OUTCOMES, "end": MAIN_END[0], "error": error}))

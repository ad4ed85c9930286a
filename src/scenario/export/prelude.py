# ---------------------------------------------------------------------------
# The runtime of an exported scenario: CPython's own asyncio event loop on a
# virtual clock (one unit of loop time = UNIT_NS nanoseconds), and the few
# helpers the scenario's steps use. What it prints, one JSON object a line:
# every `log` line with its loop time, then the outcome and end time of each
# task and when `main` ended.
# ---------------------------------------------------------------------------
import asyncio
import json
import selectors
import sys


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


class VirtualLoop(asyncio.SelectorEventLoop):
    """asyncio's event loop, unchanged but for its clock."""

    def __init__(self):
        self._now = 0
        selector = _Selector()
        super().__init__(selector)
        selector.loop = self
        self._clock_resolution = 0.5
        self.created = []
        self.set_task_factory(self._new_task)

    def time(self):
        return self._now

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
MAIN_END = [None]


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
        OUTCOMES[name] = _outcome(task) + [_now()]
        if name == "main" and task is TASKS.get("main"):
            MAIN_END[0] = _now()

    return record


def _spawn(name, coro, group=None):
    if group is not None:
        task = group.create_task(coro, name=name)
    else:
        task = asyncio.get_event_loop().create_task(coro, name=name)
    task.add_done_callback(_record(name))
    TASKS[name] = task
    return task


def _task(name, keyword):
    task = TASKS.get(name)
    if task is None:
        raise RuntimeError(f"{keyword} {name}: never spawned")
    return task


def _cancel(name):
    task = TASKS.get(name)
    if task is not None:
        task.cancel()


async def _join(name, expect):
    task = _task(name, "join")
    try:
        await task
    except asyncio.CancelledError:
        if (
            expect in ("cancelled", "any")
            and task.cancelled()
            and not asyncio.current_task().cancelling()
        ):
            return
        raise
    except TimeoutError:
        if expect in ("timeout", "any"):
            return
        raise
    except Exception:
        if expect in ("error", "any"):
            return
        raise
    if expect not in ("value", "any"):
        raise RuntimeError(f"join {name}: expected {expect}, got value")


async def _wait_first(*names):
    tasks = [_task(name, "wait-first") for name in names]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)


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


class _Resource:
    """A tracked exclusive resource: an asyncio.Lock (any task may release
    it), and whether it is held."""

    def __init__(self):
        self.lock = asyncio.Lock()
        self.held = 0


async def _acquire(name):
    resource = LOCKS.setdefault(name, _Resource())
    await resource.lock.acquire()
    resource.held += 1


def _release(name):
    resource = LOCKS.setdefault(name, _Resource())
    if not resource.held:
        raise RuntimeError(f"release {name}: not held")
    resource.held -= 1
    resource.lock.release()


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
        while any(not job.done() for job in JOBS):
            loop.run_until_complete(asyncio.gather(*JOBS))
    except _Deadlock:
        error = "deadlock"
    print(json.dumps({"outcomes": OUTCOMES, "end": MAIN_END[0], "error": error}))

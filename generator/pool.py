"""Worker processes for a batch: each takes one job at a time from the parent.

Why not concurrent.futures.ProcessPoolExecutor: with max_tasks_per_child it
deadlocks when a worker retires (CPython 3.11 to 3.13; a batch of 51 on two
workers stopped after 50). Why not multiprocessing.Pool: a task whose worker
dies is lost and the pool waits for it forever. Here the parent sends each
worker one job over its own pipe and waits for the answer, so it always knows
which job a worker holds. A worker that has done its share is told to stop
and is replaced, which bounds memory however long the batch; one that dies
has its job reported as failed and the others go on; and workers die with
the build, so a killed build leaves nothing running.

Why workers watch the build's process itself: a worker's parent is the fork
server, which lives on while any worker holds its "alive" pipe (each does), so
its death cannot be what stops them; and the build's end of a worker's pipe
may have copies in processes the build's program forked (a program that
builds in a thread and forks for its own work), so its closing cannot either.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import multiprocessing.forkserver
import multiprocessing.reduction
import os
import queue
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# The modules every worker needs, imported once by the fork server, not once a worker.
PRELOAD = ["generator.server_exit", "generator.build", "generator.markup.html", "generator.typeset.pdf",
           "generator.typeset.render"]
# And those a run of handout mail's workers need (start_early): they make the messages too.
MAIL_PRELOAD = ("generator.mail", "generator.typeset.warmup")
PR_SET_PDEATHSIG = 1
# Held while a worker starts: runs in two threads at once (mail builds the article beside its
# recipients' lines) must not both hide and restore the main script (main_script_hidden).
LAUNCHING = threading.Lock()
# What a worker sends once it is set up: the time a job may take starts when it gets one.
READY = "ready"
# The environment workers read (the PDF's and the messages' dates, the font cache): each worker
# has these exactly as the process that started it, set or not.
SHARED_ENVIRONMENT = ("SOURCE_DATE_EPOCH", "HANDOUT_CACHE_DIR", "XDG_CACHE_HOME")


@dataclass
class Worker:
    process: Any
    connection: multiprocessing.connection.Connection
    done: int = 0
    # Set up and waiting for work (a worker says so once its start() has run).
    ready: bool = False
    # The key of the job it holds, or None when idle, and when it was handed out.
    holds: object = None
    since: float = 0.0


@dataclass(frozen=True)
class Lifeline:
    """A pidfd of the build's process, given to each worker: it becomes readable when the
    build's process has ended, however it ended, and no other process can hold it open."""

    fd: int

    def __reduce__(self):
        # Sent to the worker as a file descriptor, as multiprocessing sends a Pipe's end.
        return lifeline_received, (multiprocessing.reduction.DupFd(self.fd),)


def lifeline_received(duplicate) -> Lifeline:
    return Lifeline(duplicate.detach())


def lifeline() -> Lifeline | None:
    """A Lifeline of this process; None where Linux has no pidfd (before 5.3, or not Linux)."""
    try:
        return Lifeline(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return None


@dataclass(frozen=True)
class SetupFailed:
    """What a worker sends when start(setup) raised."""

    error: Exception


def run(jobs: dict, work: Callable, start: Callable, setup: object, workers: int, jobs_per_worker: int,
        lost: Callable[[Any, str], object], overran: Callable[[Any], object],
        seconds: float | None = None) -> Generator[tuple[object, object], None, None]:
    """(key, work(job)) for each of `jobs`, as each finishes, in `workers` processes.

    Each process calls start(setup) once, then work(state, job), with the
    state start returned, for at most `jobs_per_worker` jobs. A job whose process dies gives lost(job, why);
    one that runs for more than `seconds` has its process killed and gives
    overran(job): a process that is killed stops whatever it is doing, which
    no exception raised inside a library's code can promise. Jobs are handed
    out in the order of `jobs`.
    """
    pool = Pool(jobs, work, start, setup, jobs_per_worker, lost, overran, seconds)
    try:
        for _ in range(min(workers, len(jobs))):
            pool.launch()
        while pool.waiting or pool.busy():
            pool.hand_out()
            ready = multiprocessing.connection.wait(pool.waitables(), pool.time_left())
            for worker in list(pool.running):
                yield from pool.answers(worker, ready)
                if pool.finished(worker):
                    yield from pool.retire(worker)
    finally:
        # Ctrl-C, or the caller stopped early: nothing may run on without us.
        for worker in list(pool.running):
            pool.stop(worker, kill=True)
        if pool.lifeline:
            os.close(pool.lifeline.fd)


def ahead(items: Generator, most: int) -> Generator:
    """`items`, taken in a thread of their own, at most `most` ahead of the caller.

    run() hands a worker its next job only when asked for the next answer: a
    caller that writes each answer (handout mail's messages) would leave the
    workers waiting while it writes. Taken ahead, their answers wait instead.
    Closed, it stops taking and closes `items` (run() then stops its workers).
    """
    taken: queue.Queue = queue.Queue(most)
    stop = threading.Event()

    def offer(entry: tuple) -> bool:
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                taken.put(entry, timeout=0.1)
                return True
        return False

    def take() -> None:
        try:
            for item in items:
                if not offer((True, item)):
                    return
            offer((False, None))
        except BaseException as exc:  # the caller's to raise
            offer((False, exc))
        finally:
            items.close()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    try:
        while True:
            more, item = taken.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        # A worker in the middle of a job answers first; one that never does dies with this process.
        thread.join(timeout=10)


class Pool:
    """The state of run(): the jobs not yet handed out and the workers running."""

    def __init__(self, jobs: dict, work: Callable, start: Callable, setup: object, jobs_per_worker: int,
                 lost: Callable[[Any, str], object], overran: Callable[[Any], object], seconds: float | None):
        self.context = fork_server()
        self.jobs, self.work, self.start, self.setup = jobs, work, start, setup
        self.jobs_per_worker, self.lost, self.overran, self.seconds = jobs_per_worker, lost, overran, seconds
        self.waiting = list(jobs)
        self.running: list[Worker] = []
        self.lifeline = lifeline()

    def launch(self) -> None:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=serve, args=(theirs, self.lifeline, self.start, self.setup, self.work),
                                       daemon=True)
        with LAUNCHING, main_script_hidden():
            process.start()
        theirs.close()
        self.running.append(Worker(process, ours))

    def busy(self) -> bool:
        return any(worker.holds is not None for worker in self.running)

    def hand_out(self) -> None:
        """The next jobs to the workers that are set up and idle."""
        for worker in self.running:
            if worker.ready and worker.holds is None and self.waiting:
                worker.holds, worker.since = self.waiting.pop(0), time.monotonic()
                with contextlib.suppress(OSError):  # a dead worker: its sentinel says so next
                    worker.connection.send((worker.holds, self.jobs[worker.holds]))

    def waitables(self) -> list:
        return [w.connection for w in self.running] + [w.process.sentinel for w in self.running]

    def time_left(self) -> float | None:
        """Until the first busy worker runs out of time; None: no limit."""
        if self.seconds is None:
            return None
        busy = [w.since + self.seconds - time.monotonic() for w in self.running if w.holds is not None]
        return max(0.0, min(busy)) if busy else None

    def answers(self, worker: Worker, ready: list) -> Iterator[tuple[object, object]]:
        """What `worker` sent, if anything: that it is set up, or a job's result."""
        answer = None
        if worker.connection in ready:
            with contextlib.suppress(EOFError, OSError):
                answer = worker.connection.recv()
        if isinstance(answer, SetupFailed):
            raise answer.error
        if answer == READY:
            worker.ready = True
        elif answer is not None:
            worker.holds, worker.done = None, worker.done + 1
            yield answer

    def late(self, worker: Worker) -> bool:
        return (self.seconds is not None and worker.holds is not None
                and time.monotonic() - worker.since > self.seconds)

    def finished(self, worker: Worker) -> bool:
        """Whether `worker` is done for: dead, its share of jobs done, or out of time."""
        return not worker.process.is_alive() or worker.done >= self.jobs_per_worker or self.late(worker)

    def retire(self, worker: Worker) -> Iterator[tuple[object, object]]:
        """Stop `worker`, account for the job it held, and start its successor if work is left."""
        held, late, never_ready = worker.holds, self.late(worker), not worker.ready
        self.stop(worker, kill=held is not None)
        if late:
            yield held, self.overran(self.jobs[held])
        elif held is not None:
            yield held, self.lost(self.jobs[held], stopped_because(worker.process.exitcode))
        elif never_ready:
            # It died setting up: so would the next one. The jobs fail, the batch ends.
            why = stopped_because(worker.process.exitcode)
            while self.waiting:
                key = self.waiting.pop(0)
                yield key, self.lost(self.jobs[key], why)
        if self.waiting:
            self.launch()

    def stop(self, worker: Worker, *, kill: bool = False) -> None:
        self.running.remove(worker)
        if kill:
            worker.process.kill()
        else:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        worker.process.join()
        worker.connection.close()


def serve(connection, build: Lifeline | None, start: Callable, setup: object, work: Callable) -> None:
    """A worker's life: set up once, say so, then answer jobs until told to stop; what it set
    up is passed to each job, so nothing of a worker lives in a module's globals."""
    die_with_parent()
    if build:
        threading.Thread(target=die_with_build, args=(build,), daemon=True).start()
    # Ctrl-C reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        state = start(setup)
    except Exception as exc:  # the parent raises it: a broken theme is the whole build's error
        connection.send(SetupFailed(exc))
        return
    connection.send(READY)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message is None:
            return
        key, job = message
        connection.send((key, work(state, job)))


@contextlib.contextmanager
def cycle_collection_paused():
    """Run a job with Python's cycle collector paused, and collect once after.

    A job makes many objects (WeasyPrint millions while it typesets a handout;
    the email package thousands for ten messages), and the collector would scan
    the live ones again and again: a tenth of the time. All the job's objects
    are still in the youngest generation after, so collecting that one frees
    what the job left in reference cycles without scanning the rest of the
    process (16 ms a handout, not 41).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def fork_server(also: Sequence[str] = ()) -> multiprocessing.context.ForkServerContext:
    """The context workers start in; the fork server imports PRELOAD and `also` when it starts
    (once a process: what later calls ask it to import is not)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, *also])
    return context


def start_early(also: Sequence[str] = ()) -> None:
    """Start the fork server now, so that it imports PRELOAD and `also` (half a second) while
    this process reads its input, not when the first worker is asked for."""
    fork_server(also)
    with LAUNCHING, main_script_hidden():
        multiprocessing.forkserver.ensure_running()


@contextlib.contextmanager
def main_script_hidden():
    """Start processes that do not import the caller's script.

    multiprocessing runs the main script again in each new process when the
    script has a __file__ (and was not run with -m). A script that calls
    build() without `if __name__ == "__main__":` would then start a build in
    every worker, which fails. Workers run only handout's own code on plain
    data, so they need nothing from the script.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def environment() -> dict[str, str | None]:
    """Each of SHARED_ENVIRONMENT: its value here, or None where it is not set."""
    return {name: os.environ.get(name) for name in SHARED_ENVIRONMENT}


def mirror_environment(environment: dict[str, str | None]) -> None:
    """Set each variable as the starting process has it, and unset the ones it has not: a
    worker comes from a fork server that may have started under another run's environment."""
    for name, value in environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent (the fork server) dies: it is killed,
    or it stops because the build and all its workers are gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the closed pipe still stops an idle worker


def die_with_build(build: Lifeline) -> None:
    """Wait, beside the jobs, for the build's process to end, then end this worker: busy or
    idle, nothing of a build runs on without it."""
    select.select([build.fd], [], [])
    os.kill(os.getpid(), signal.SIGKILL)


def stopped_because(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"the process typesetting it was stopped by {name}{hint}; the other handouts still built"
    return f"the process typesetting it stopped (exit code {exitcode}); the other handouts still built"

"""A small pool of worker processes that run every query, so a timeout can really stop one.

A Python thread cannot be stopped in the middle of a SPARQL evaluation (rdflib or pyoxigraph),
so each query runs in a worker *process*. Workers are forked from the server after the graph is
loaded, so they share it copy-on-write and start in milliseconds. A worker that overruns the
timeout is killed with SIGKILL (its CPU is freed at once) and replaced by a fresh fork.

The server process itself never evaluates a query; it waits on the workers' pipes from the
event loop (no threads), so forking a replacement is safe.
"""
import asyncio
import multiprocessing
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field

_FORK = multiprocessing.get_context("fork")


class PoolTimeout(Exception):
    """The job ran longer than the time limit; its worker was killed."""

    def __init__(self, seconds, pid):
        super().__init__(f"stopped after {seconds:g} s")
        self.seconds, self.pid = seconds, pid


class PoolBusy(Exception):
    """No worker became free in time."""


class WorkerDied(Exception):
    """The worker exited while running the job (crash or out of memory)."""


@dataclass
class PoolStats:
    jobs: int = 0
    timeouts: int = 0
    crashes: int = 0
    busy: int = 0
    started: float = field(default_factory=time.time)


class _Worker:
    def __init__(self, target, state, setup, others=()):
        """``others``: the pipes of the workers already running, which the fork copies into this
        one; it closes them (and its copy of its own pipe's server end), so that each worker sees
        end-of-file, and exits, as soon as the server closes its pipe."""
        parent_end, child_end = _FORK.Pipe(duplex=True)
        self.conn = parent_end
        self.process = _FORK.Process(target=_worker_main, args=(child_end, target, state, setup,
                                                                 [parent_end, *others]),
                                     daemon=True, name="hrkg-worker")
        self.process.start()
        child_end.close()

    @property
    def pid(self):
        return self.process.pid

    async def call(self, job, timeout):
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = self.conn.fileno()
        self.conn.send(job)    # before add_reader, while the pipe is blocking; the worker is waiting for it
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        try:
            await asyncio.wait_for(ready, timeout)
        finally:
            loop.remove_reader(fd)
            os.set_blocking(fd, True)   # uvloop's add_reader makes it non-blocking; recv needs whole messages
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            raise WorkerDied(f"worker {self.pid} exited with code {self.process.exitcode}") from None

    def kill(self):
        try:
            self.conn.close()
        except OSError:
            pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


def _worker_main(conn, target, state, setup, server_ends=()):
    """Loop of one worker: receive a job, run ``target(state, job)``, send back its reply."""
    for end in server_ends:
        end.close()
    try:
        signal.set_wakeup_fd(-1)   # the server's event loop owns the inherited wakeup fd
    except ValueError:  # pragma: no cover - not the main thread
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the server's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if setup is not None:
        setup()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        try:
            reply = target(state, job)
        except Exception:  # a bug: say so in the reply, keep the worker
            traceback.print_exc(file=sys.stderr)
            reply = None
        try:
            conn.send(reply)
        except (OSError, ValueError):
            break
    os._exit(0)


class WorkerPool:
    """``size`` forked workers running ``target(state, job) -> reply``.

    ``state`` (the loaded KnowledgeGraph) is inherited by fork, never pickled; jobs and replies are
    small picklable values. ``setup`` runs once in each new worker (e.g. to block network access).
    """

    def __init__(self, target, state, *, size=2, setup=None):
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.target, self.state, self.size, self.setup = target, state, size, setup
        self.stats = PoolStats()
        self._idle = None
        self._workers = []

    def start(self):
        self._idle = asyncio.Queue()
        for _ in range(self.size):
            self._add()

    def _add(self):
        worker = _Worker(self.target, self.state, self.setup, [w.conn for w in self._workers])
        self._workers.append(worker)
        self._idle.put_nowait(worker)

    def _replace(self, worker):
        worker.kill()
        if worker in self._workers:
            self._workers.remove(worker)
        if self._idle is not None:
            self._add()

    def pids(self):
        return [w.pid for w in self._workers]

    async def run(self, job, *, timeout, wait=None):
        """The worker's reply to ``job``. Raises PoolTimeout (the worker was killed and
        replaced), PoolBusy when no worker is free within ``wait`` seconds, WorkerDied."""
        try:
            worker = await asyncio.wait_for(self._idle.get(), wait if wait is not None else timeout)
        except asyncio.TimeoutError:
            self.stats.busy += 1
            raise PoolBusy() from None
        self.stats.jobs += 1
        try:
            reply = await worker.call(job, timeout)
        except asyncio.TimeoutError:
            self.stats.timeouts += 1
            pid = worker.pid
            self._replace(worker)
            raise PoolTimeout(timeout, pid) from None
        except WorkerDied:
            self.stats.crashes += 1
            self._replace(worker)
            raise
        except BaseException:  # cancelled mid-job: the worker may still be busy, so replace it
            self._replace(worker)
            raise
        self._idle.put_nowait(worker)
        return reply

    def close(self):
        """Stop every worker: idle ones exit on EOF, busy ones are killed."""
        workers, self._workers, self._idle = self._workers, [], None
        for w in workers:
            try:
                w.conn.close()
            except OSError:
                pass
        deadline = time.monotonic() + 2
        for w in workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(2)

"""The worker pool: task batches run in forked worker processes (or in this
process when there are few), a bounded number in flight, results in the
order the batches were given.

Each worker has a pipe of its own and holds at most one batch. Nothing is
shared between processes — no queue, no lock — which is why this is not
``multiprocessing.Pool``: a worker that dies while holding the lock of that
pool's shared task or result queue (SIGTERM to the process group, the
out-of-memory killer) deadlocks ``Pool.terminate()``, and the batch it held
is silently lost while the pool starts a replacement (found by
``tests/build/test_interrupts.py``: builds that hung forever).

Interrupts: workers ignore SIGINT (a terminal sends it to the whole process
group), so only this process sees Ctrl-C; SIGTERM ends a worker at once.
Waiting never blocks for more than :data:`POLL` seconds. A worker that
exits while it holds a batch raises :class:`WorkerDied`; an exception raised
in a worker is raised again here. Leaving the pool — normally or by any
exception — stops every worker (SIGKILL if it does not exit when asked) and
reaps it, so no process outlives the build.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import pickle
import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sitegen.errors import SitegenError

__all__ = ["WorkerPool", "WorkerDied", "batched", "POLL"]

#: Seconds the main process waits for results before it looks at its workers.
POLL = 0.5
#: Seconds a worker asked to stop gets before it is killed.
_GRACE = 5.0
#: prctl(2) option: the signal a process gets when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


class WorkerDied(SitegenError):
    """A worker process ended while it held a batch (killed by a signal or the
    out-of-memory killer); the build stops and publishes nothing."""


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the parent dies (a build killed with
    SIGKILL must not leave workers writing into its abandoned staging tree)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the worker stops at its next message instead
        pass


def _serve(conn: multiprocessing.connection.Connection, init: Callable[..., None] | None,
           init_args: tuple[Any, ...], run_batch: Callable[[list[Any]], list[Any]], parent: int) -> None:
    """A worker's life: ``init``, then one batch at a time until told to stop
    or the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler is not for workers
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        return
    if init is not None:
        init(*init_args)
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", run_batch(batch))
        except Exception as e:  # raised again in the parent, as multiprocessing.Pool does
            reply = ("error", e)
        try:
            conn.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            conn.send(("error", RuntimeError(f"a worker's result could not be sent: {e!r}")))
        except OSError:  # the parent is gone
            return


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    batch: int | None = None  # the sequence number of the batch it holds


@dataclass
class _Run:
    """The batches of one :meth:`WorkerPool.run` in flight and finished."""

    next_to_yield: int = 0
    given: int = 0
    done: dict[int, list[Any]] = field(default_factory=dict)


class WorkerPool:
    """``jobs`` forked workers made with ``init(*init_args)``; ``run_batch``
    runs one batch in a worker, ``run_local`` one task in this process.
    Workers start on the first :meth:`run` that needs them and serve every
    later one."""

    def __init__(self, jobs: int, *, init: Callable[..., None] | None = None, init_args: tuple[Any, ...] = (),
                 run_batch: Callable[[list[Any]], list[Any]], run_local: Callable[[Any], Any]) -> None:
        self.jobs, self.init, self.init_args = jobs, init, init_args
        self.run_batch, self.run_local = run_batch, run_local
        self._workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, batches: Iterable[list[Any]], *, inline: bool) -> Iterator[Any]:
        """Results of every task of ``batches``, in order (at most 4 × jobs
        batches in flight or waiting to be yielded). Raises
        :class:`WorkerDied`, or what a worker raised."""
        if inline or self.jobs <= 1:
            for batch in batches:
                yield from map(self.run_local, batch)
            return
        if not self._workers:
            self._start()
        state, source = _Run(), iter(batches)
        exhausted = False
        while True:
            while not exhausted and state.given - state.next_to_yield < 4 * self.jobs:
                idle = next((w for w in self._workers if w.batch is None), None)
                if idle is None:
                    break
                try:
                    batch = next(source)
                except StopIteration:
                    exhausted = True
                    break
                try:
                    idle.conn.send(batch)
                except OSError:  # it died while idle
                    raise self._died(idle) from None
                idle.batch, state.given = state.given, state.given + 1
            while state.next_to_yield in state.done:
                yield from state.done.pop(state.next_to_yield)
                state.next_to_yield += 1
            if exhausted and state.next_to_yield == state.given:
                return
            self._collect(state)

    def _start(self) -> None:
        context = multiprocessing.get_context("fork")
        for _ in range(self.jobs):
            mine, theirs = context.Pipe()
            process = context.Process(target=_serve, daemon=True,
                                      args=(theirs, self.init, self.init_args, self.run_batch, os.getpid()))
            process.start()
            theirs.close()
            self._workers.append(_Worker(process, mine))

    def _collect(self, state: _Run) -> None:
        """Wait up to :data:`POLL` seconds for finished batches."""
        busy = [w for w in self._workers if w.batch is not None]
        ready = multiprocessing.connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                                                timeout=POLL)
        for worker in busy:
            if worker.conn in ready or worker.conn.poll():
                try:
                    kind, value = worker.conn.recv()
                except (EOFError, OSError):
                    raise self._died(worker) from None
                assert worker.batch is not None
                state.done[worker.batch] = value
                worker.batch = None
                if kind == "error":
                    raise value
            elif worker.process.sentinel in ready or not worker.process.is_alive():
                raise self._died(worker)

    @staticmethod
    def _died(worker: _Worker) -> WorkerDied:
        worker.process.join(0.1)
        code = worker.process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        return WorkerDied(f"a worker process ended before finishing its documents ({how}; the system kills "
                          "processes when memory runs out — try fewer --jobs); nothing was published")

    def close(self) -> None:
        """Stop every worker: asked first, killed after a grace period (at
        once when a batch is still running: this is an abandoned build)."""
        workers, self._workers = self._workers, []
        abandoned = any(w.batch is not None for w in workers)
        for worker in workers:
            if worker.batch is None and worker.process.is_alive():
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
        for worker in workers:
            worker.process.join(0 if abandoned else _GRACE)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()

"""The worker pool: task batches run in forked worker processes (or in this
process when there are few), a bounded number in flight, results as they
finish.

Interrupts: workers ignore SIGINT (a terminal sends it to the whole process
group), so only this process sees Ctrl-C; leaving the pool — normally or by
an exception such as ``KeyboardInterrupt`` — terminates and joins the
workers. Waiting for a result never blocks for more than :data:`POLL`
seconds at a time, for two reasons: a signal the kernel delivers to one of
the pool's helper threads only runs its Python handler when the main thread
wakes, and a worker that dies (SIGTERM to the process group, the
out-of-memory killer) takes its batch with it — ``multiprocessing.Pool``
replaces the worker but the result never arrives. Each wake-up checks that
every worker the pool started is still alive; one that is not raises
:class:`WorkerDied` instead of waiting forever.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import signal
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from sitegen.errors import SitegenError

__all__ = ["WorkerPool", "WorkerDied", "batched", "quiet_worker", "POLL"]

#: Seconds the main process waits for a result before it looks at its workers.
POLL = 0.5


class WorkerDied(SitegenError):
    """A worker process ended while it held a batch (killed by a signal or the
    out-of-memory killer); the build stops and publishes nothing."""


def quiet_worker(init: Callable[..., None] | None = None, *args: Any) -> None:
    """Pool initializer: ignore SIGINT (the parent handles it), let SIGTERM
    end the process quietly (the parent's handler is not inherited), then
    ``init(*args)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if init is not None:
        init(*args)


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


class WorkerPool:
    """``jobs`` forked workers made with ``init(*init_args)``; ``run_batch``
    runs one batch in a worker, ``run_local`` one task in this process."""

    def __init__(self, jobs: int, *, init: Callable[..., None], init_args: tuple[Any, ...],
                 run_batch: Callable[[list[Any]], list[Any]], run_local: Callable[[Any], Any]) -> None:
        self.jobs, self.init, self.init_args = jobs, init, init_args
        self.run_batch, self.run_local = run_batch, run_local
        self._pool: multiprocessing.pool.Pool | None = None
        self._workers: set[int | None] = set()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, batches: Iterable[list[Any]], *, inline: bool) -> Iterator[Any]:
        """Results of every task of ``batches``, batch by batch as they finish
        (at most 4 × jobs batches in flight)."""
        if inline or self.jobs <= 1:
            for batch in batches:
                yield from map(self.run_local, batch)
            return
        if self._pool is None:
            others = {p.pid for p in multiprocessing.active_children()}
            self._pool = multiprocessing.get_context("fork").Pool(
                self.jobs, quiet_worker, (self.init, *self.init_args))
            self._workers = {p.pid for p in multiprocessing.active_children()} - others
        pending: deque[multiprocessing.pool.AsyncResult[list[Any]]] = deque()
        for batch in batches:
            pending.append(self._pool.apply_async(self.run_batch, (batch,)))
            while len(pending) >= 4 * self.jobs:
                yield from self._wait(pending.popleft())
        while pending:
            yield from self._wait(pending.popleft())

    def _wait(self, result: multiprocessing.pool.AsyncResult[list[Any]]) -> list[Any]:
        while True:
            try:
                return result.get(timeout=POLL)
            except multiprocessing.TimeoutError:
                if not self._workers <= {p.pid for p in multiprocessing.active_children()}:
                    raise WorkerDied("a worker process ended before finishing its documents (killed by a signal, "
                                     "or by the system for lack of memory — try fewer --jobs); nothing was "
                                     "published") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

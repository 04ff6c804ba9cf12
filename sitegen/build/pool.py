"""The worker pool: task batches run in forked worker processes (or in this
process when there are few), a bounded number in flight, results as they
finish.

Interrupts: workers ignore SIGINT (a terminal sends it to the whole process
group), so only this process sees Ctrl-C; leaving the pool — normally or by
an exception such as ``KeyboardInterrupt`` — terminates and joins the
workers, so an interrupted build never hangs waiting for a worker that died.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import signal
from collections import deque
from typing import Any, Callable, Iterable, Iterator

__all__ = ["WorkerPool", "batched", "quiet_worker"]


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
            self._pool = multiprocessing.get_context("fork").Pool(
                self.jobs, quiet_worker, (self.init, *self.init_args))
        pending: deque[multiprocessing.pool.AsyncResult[list[Any]]] = deque()
        for batch in batches:
            pending.append(self._pool.apply_async(self.run_batch, (batch,)))
            while len(pending) >= 4 * self.jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

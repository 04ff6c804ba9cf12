"""The worker pool: results in order whatever finishes first, errors raised
again in the parent, a dead worker a named error (never a hang), and no
process left behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from sitegen.build.pool import WorkerDied, WorkerPool, batched


def _slow_square_batch(batch: list[int]) -> list[int]:
    time.sleep(0.01 * (batch[0] % 3))  # later batches often finish first
    return [n * n for n in batch]


def _failing_batch(batch: list[int]) -> list[int]:
    if 13 in batch:
        raise ValueError("unlucky batch")
    return batch


def _pid_batch(batch: list[int]) -> list[int]:
    return [os.getpid() for _ in batch]


def _pool(run_batch, jobs: int = 2) -> WorkerPool:
    return WorkerPool(jobs, run_batch=run_batch, run_local=lambda n: run_batch([n])[0])


def test_results_come_in_the_order_the_batches_were_given():
    with _pool(_slow_square_batch) as pool:
        got = list(pool.run(batched(range(200), 3), inline=False))
        again = list(pool.run(batched(range(10), 4), inline=False))  # the same workers serve a second run
    assert got == [n * n for n in range(200)]
    assert again == [n * n for n in range(10)]
    assert not multiprocessing.active_children()


def test_an_exception_in_a_worker_is_raised_in_the_parent():
    with pytest.raises(ValueError, match="unlucky batch"), _pool(_failing_batch) as pool:
        list(pool.run(batched(range(40), 2), inline=False))
    assert not multiprocessing.active_children()


def test_a_worker_killed_while_idle_is_a_named_error_not_a_hang():
    with _pool(_pid_batch) as pool:
        pids = set(pool.run(batched(range(8), 1), inline=False))
        os.kill(sorted(pids)[0], signal.SIGKILL)
        time.sleep(0.2)
        with pytest.raises(WorkerDied, match="killed by signal 9"):
            list(pool.run(batched(range(40), 1), inline=False))
    assert not multiprocessing.active_children()


def test_leaving_early_stops_workers_that_still_hold_batches():
    with _pool(_slow_square_batch) as pool:
        for n in pool.run(batched(range(400), 1), inline=False):
            if n > 100:
                break
    assert not multiprocessing.active_children()

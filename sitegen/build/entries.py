"""Verify + render stage: run the planned entry tasks on the worker pool and
record what each published.

Stage contract: takes the :class:`~sitegen.build.plan.Plan`; records every
verified entry (summary, listing memberships, files) in the store and the
ledger; returns a frozen :class:`EntriesOutcome` with the counts and every
problem. Nothing is published here — files go to the staging tree or the
pending directory — so :meth:`EntriesOutcome.raise_for_problems` can still
stop the build with the published tree untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitegen.build.ledger import Ledger
from sitegen.build.plan import Plan, facets_of, lookup_positions
from sitegen.build.pool import WorkerPool, batched
from sitegen.build.progress import Progress
from sitegen.build.store import Store, parse_summary
from sitegen.build.workers import EntryResult
from sitegen.errors import BuildFailed, Problem
from sitegen.site.listings import starts_page

__all__ = ["EntriesOutcome", "build_entries"]

#: Entries per task batch sent to a worker.
BATCH = 64
#: Below this many entries, work runs in this process (a pool costs ~0.1 s).
INLINE_BELOW = 256


@dataclass(frozen=True)
class EntriesOutcome:
    """What the stage did: ``files`` content files seen, documents of each
    kind verified this run, checks passed/failed, ``problems`` (sorted by
    file; skipped with ``--skip-invalid``), ``rollbacks`` (never skipped),
    ``rebuilt`` entries, ``written`` files written anew."""

    files: int
    records: int
    bundles: int
    passed: int
    failed: int
    problems: tuple[Problem, ...]
    rollbacks: tuple[Problem, ...]
    rebuilt: int
    written: int

    def raise_for_problems(self, *, skip_invalid: bool) -> None:
        """Raise :class:`BuildFailed` for a rollback, or for any problem
        unless ``skip_invalid``."""
        if self.rollbacks:
            raise BuildFailed(self.rollbacks, len({p.file for p in self.rollbacks}), self.files)
        if self.problems and not skip_invalid:
            raise BuildFailed(self.problems, len({p.file for p in self.problems}), self.files)


def build_entries(plan: Plan, pool: WorkerPool, store: Store, ledger: Ledger, *, page_size: int,
                  progress: Progress) -> EntriesOutcome:
    """Run ``plan``'s entry tasks (see the module docstring)."""
    docs = {"record": 0, "bundle": 0}
    passed = failed = written = 0
    problems: list[Problem] = list(plan.problems)
    rollbacks: list[Problem] = []
    released = dict(plan.released)
    with progress.stage("verify+render", plan.count, unit=" Pith Numbers") as bar:
        for result in pool.run(batched(plan.tasks, BATCH), inline=plan.count < INLINE_BELOW):
            assert isinstance(result, EntryResult)
            for d in result.docs:
                if d.kind:
                    docs[d.kind] += 1
                passed += d.passed
                failed += d.failed
            problems.extend(result.problems)
            rollbacks.extend(result.rollbacks)
            bar.update(1)
            if result.summary is None:
                continue
            summary = parse_summary(result.summary)
            store.add_entry(summary, result.summary, inputs=result.inputs, updated_at=result.updated_at,
                            facets=facets_of(summary), page_start=starts_page(summary.suffix, page_size),
                            lookup=lookup_positions(summary), terms=result.terms)
            ledger.claim(summary.suffix, result.files, released.pop(summary.suffix, ()))
            if ledger.tracks_changes:
                plan.touched.add(summary, gone=False)
            written += result.written
    for old in released.values():  # entries gone, or no longer verifying (--skip-invalid)
        ledger.drop(old)
    problems.sort(key=lambda p: p.file)
    return EntriesOutcome(plan.files, docs["record"], docs["bundle"], passed, failed, tuple(problems),
                          tuple(rollbacks), plan.count, written)

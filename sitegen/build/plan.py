"""Scan and plan: list ``content/``, identify what changed since the last
build, and decide which Pith Numbers to verify and render again.

A full build plans every entry, streamed from the store in suffix order. An
incremental build plans the entries whose inputs changed — a content file
added, removed or edited (stat signature), a key they name, the record
template — plus every entry that did not verify last time (so its problems
are reported again). For each replanned entry it releases what the entry
published and notes the site pages that listed its old version
(:class:`Touched`), so only those are rendered again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from sitegen.build.inputs import SiteInputs, fingerprint
from sitegen.build.ledger import Ledger
from sitegen.build.pool import WorkerPool, batched
from sitegen.build.progress import Progress
from sitegen.build.scan import Identity, discover_paths, identify, stat_signature
from sitegen.build.store import SourceRow, Store
from sitegen.build.workers import EntryTask
from sitegen.errors import Problem
from sitegen.site.lookup import top16
from sitegen.site.search import doc_key, entry_terms
from sitegen.site.summary import Summary

__all__ = ["Plan", "Touched", "plan_build", "facets_of", "lookup_positions"]

#: Below this many files, identification runs in this process (a pool costs ~0.1 s).
INLINE_BELOW = 256


@dataclass
class Touched:
    """The entries whose pages changed: each old version (``gone``) and new
    version of a replanned entry. Filled by the plan and by the verify +
    render stage; the indexes stage re-renders only the listing pages,
    alias-map and search shards and sitemap parts that hold them."""

    changes: list[tuple[Summary, bool]] = field(default_factory=list)

    def add(self, summary: Summary, *, gone: bool) -> None:
        self.changes.append((summary, gone))

    @property
    def summaries(self) -> list[Summary]:
        return [s for s, _ in self.changes]

    @property
    def facets(self) -> set[str]:
        return {facet for s in self.summaries for facet, _ in facets_of(s)}

    @property
    def arxiv_ids(self) -> set[str]:
        return {s.arxiv_id for s in self.summaries}

    @property
    def short_prefixes(self) -> set[str]:
        return {s.suffix[:8] for s in self.summaries}


def lookup_positions(summary: Summary) -> tuple[int, int, int]:
    """Where an entry sits in the static lookup files: ``(arxiv_top16,
    url_top16, search_key)`` (the store keeps them to find shards by range)."""
    return top16(summary.arxiv_id), top16(f"pith/{summary.suffix}/"), doc_key(summary)


def facets_of(summary: Summary) -> list[tuple[str, str]]:
    """``(facet, label)`` listings a record appears in: its year and every
    category. Category paths are lower-cased — ``cs.LG`` and ``cs.lg`` are one
    listing, so no two output paths differ only in letter case (case-insensitive
    hosts would keep one) — and the label keeps the record's spelling."""
    return [(f"year/{summary.year}", summary.year),
            *((f"category/{c.lower()}", c) for c in summary.categories)]


@dataclass
class Plan:
    """What this build verifies and renders: ``count`` entry tasks in
    ``tasks``; ``files`` content files seen; ``problems`` found while
    listing; ``released`` the files each replanned entry published before;
    ``touched`` the site pages that listed their old versions."""

    files: int
    problems: list[Problem]
    count: int
    tasks: Iterator[EntryTask]
    released: dict[str, list[tuple[str, str]]]
    touched: Touched


def _identify_batch(batch: list[tuple[str, int]]) -> list[Identity]:
    return [identify(path, max_bytes) for path, max_bytes in batch]


def _identify_one(args: tuple[str, int]) -> Identity:
    return identify(*args)


def _identify(paths: list[str], *, max_bytes: int, jobs: int, progress: Progress) -> Iterator[Identity]:
    """Identify ``paths``, on every core when there are many."""
    if not paths:
        return
    with progress.stage("scan", len(paths)) as bar:
        if len(paths) < INLINE_BELOW or jobs <= 1:
            for p in paths:
                yield identify(p, max_bytes)
                bar.update(1)
            return
        with WorkerPool(jobs, run_batch=_identify_batch, run_local=_identify_one) as pool:
            for ident in pool.run(batched(((p, max_bytes) for p in paths), 256), inline=False):
                yield ident
                bar.update(1)


def _inputs(inputs: SiteInputs, members: list[SourceRow]) -> str:
    """The fingerprint of an entry's inputs: the record template (with
    settings and sitegen version), its files' bytes and the keys they name."""
    keys = inputs.fingerprints.keys
    kids = sorted({k for m in members for k in m.key_ids.split()})
    return fingerprint(inputs.fingerprints.record, [(m.path, m.sha256) for m in members],
                       [(k, keys.get(k)) for k in kids])


def plan_build(inputs: SiteInputs, store: Store, ledger: Ledger, *, progress: Progress) -> Plan:
    """Scan ``content/`` and plan the build (see the module docstring)."""
    s = inputs.settings
    paths, problems = discover_paths(s.content_dir, s.site_dir)
    files = len(paths) + len(problems)
    jobs = s.jobs or os.cpu_count() or 1
    touched = Touched()
    if not store.reused:
        for batch in batched(_identify(paths, max_bytes=s.max_document_bytes, jobs=jobs, progress=progress), 1024):
            store.remember_sources(SourceRow(i.path, i.sig, i.sha256, i.suffix, i.key_ids) for i in batch)
        return Plan(files, problems, store.entry_task_count(), _all_entries(inputs, store), {}, touched)

    dirty: set[str | None] = set()
    changed: list[str] = []
    # Merge-join of the sorted listing with the stored rows (path order): O(1) memory.
    rows = store.sources_by_path()
    row, removed = next(rows, None), []
    for path in paths:
        while row is not None and row[0] < path:
            removed.append(row)
            row = next(rows, None)
        if row is not None and row[0] == path:
            if row[1] != stat_signature(path):
                changed.append(path)
                dirty.add(row[2])
            row = next(rows, None)
        else:
            changed.append(path)
    removed.extend(([row] if row is not None else []) + list(rows))
    for path, _, suffix in removed:
        dirty.add(suffix)
        store.forget_source(path)
    old_keys = store.meta_json("keys_fp", {})
    new_keys = inputs.fingerprints.keys
    if not isinstance(old_keys, dict):
        old_keys = {}
    for kid in {k for k in set(old_keys) | set(new_keys) if old_keys.get(k) != new_keys.get(k)}:
        dirty.update(store.suffixes_naming_key(kid))
    if store.meta("record_fp") != inputs.fingerprints.record:
        dirty.update(store.all_suffixes())
    dirty.update(store.suffixes_not_published())  # reported again, and perhaps they verify now
    for batch in batched(_identify(changed, max_bytes=s.max_document_bytes, jobs=jobs, progress=progress), 1024):
        store.remember_sources(SourceRow(i.path, i.sig, i.sha256, i.suffix, i.key_ids) for i in batch)
        dirty.update(i.suffix for i in batch)

    tasks: list[EntryTask] = []
    released: dict[str, list[tuple[str, str]]] = {}
    for suffix in sorted(s for s in dirty if s is not None):
        old = store.entry_summary(suffix)
        if old is not None:
            touched.add(old, gone=True)
            store.drop_entry(suffix, doc_key(old), entry_terms(old))
        released[suffix] = ledger.release(suffix)
        members = store.members(suffix)
        if members:
            tasks.append(EntryTask(suffix, tuple(m.path for m in members), tuple(released[suffix]),
                                   _inputs(inputs, members)))
    tasks += [EntryTask(None, (path,), (), "") for path in store.unidentified_paths()]
    return Plan(files, problems, len(tasks), iter(tasks), released, touched)


def _all_entries(inputs: SiteInputs, store: Store) -> Iterator[EntryTask]:
    """Every entry, streamed from the store in suffix order (none held in memory)."""
    group: list[SourceRow] = []
    for row in store.source_groups():
        if group and group[0].suffix != row.suffix:
            yield EntryTask(group[0].suffix, tuple(m.path for m in group), (), _inputs(inputs, group))
            group = []
        if row.suffix is None:  # unidentified files come last, one task each
            yield EntryTask(None, (row.path,), (), "")
            continue
        group.append(row)
    if group:
        yield EntryTask(group[0].suffix, tuple(m.path for m in group), (), _inputs(inputs, group))

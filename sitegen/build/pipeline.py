"""The build: scan → verify + render + write (workers) → site pages → seal →
publish, each stage timed.

Full build (no usable store, ``--full``): every entry is verified and rendered
into a new staging tree beside the output tree, which is swapped in with one
atomic exchange (:mod:`sitegen.write`). Incremental build (the store describes
the published tree): only entries whose inputs changed — document bytes, the
keys they name, the record template and what it includes, settings, sitegen
version — are verified and rendered again, and only the site pages that list
them; changed files are staged, then moved in by a journaled apply.

In both, every document is verified before anything is published; a failed
build leaves the published tree and the store as they were. Output bytes do
not depend on the number of workers or the order they finish in: every file
is a function of its entry, and site pages come from sorted queries on the
store (:mod:`sitegen.store`).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import sqlite3
import tempfile
import time
from collections import deque
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from itertools import groupby
from pathlib import Path
from typing import Iterable, Iterator

import jinja2.meta
import orjson

from sitegen import __version__
from sitegen.config import Settings
from sitegen.errors import BuildFailed, ConfigError, Problem, WriteError
from sitegen.verify.keyring import load_keyring
from sitegen.reader import display_path
from sitegen.mirror.key import load_secret
from sitegen.model import FileEntry, Keyring, OutputFile
from sitegen.site.pages import load_pages
from sitegen.build.progress import Progress
from sitegen.site.render import Renderer, format_when, listing_paths, site_files
from sitegen.site.theme import find_theme, make_environment, static_files
from sitegen.build.scan import Identity, discover_paths, identify, stat_signature
from sitegen.site.search import buckets, index_bucket, stub_path
from sitegen.mirror.snapshot import (SHARD_DIR, mirror_key_file, path_hash, prefix_length,
                              read_previous, shard_file, snapshot_file)
from sitegen.build.store import cache_dir_for, open_store
from sitegen.site.summary import Summary
from sitegen.pith.routes import ARXIV_ALIAS_KINDS, SHORT_ALIAS_KINDS
from sitegen.build.workers import (AliasTask, ListingTask, EntryResult, EntryTask,
                           WorkContext, Worker, init_process, run_batch)
from sitegen.build.publish import OutputLock, PendingSink, StagingSink, WriteStats, apply_delta, staging_dir, swap_in

__all__ = ["build", "BuildResult"]

#: Entries per task batch sent to a worker, and listing pages per task.
_BATCH, _LISTING_PAGES = 64, 20
#: Below this many entries, work runs in this process (a pool costs ~0.1 s).
_INLINE_BELOW = 256


@dataclass(frozen=True)
class BuildResult:
    """What a successful build published.

    ``documents``: content files seen; ``records``/``bundles``: documents of
    each kind processed this run (all of them in a full build);
    ``published``: Pith Numbers in the tree; ``checks_passed``/``failed``:
    over the documents verified this run; ``problems``: why each skipped file
    was skipped (``--skip-invalid``); ``timings``: ``(stage, seconds)``;
    ``mode``: ``"full"`` or ``"incremental"`` and ``reason`` for a full one;
    ``rebuilt``: entries verified and rendered this run."""

    documents: int
    records: int
    bundles: int
    published: int
    checks_passed: int
    checks_failed: int
    problems: tuple[Problem, ...]
    write: WriteStats
    timings: tuple[tuple[str, float], ...]
    mode: str
    reason: str
    rebuilt: int

    @property
    def skipped(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.file for p in self.problems))


class _Timer:
    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings.append((name, time.perf_counter() - start))


def _sha(*parts: object) -> str:
    return hashlib.sha256(orjson.dumps(parts, default=str)).hexdigest()


def _template_closure(env: jinja2.Environment, name: str) -> list[tuple[str, str]]:
    """``(name, source)`` of ``name`` and every template it extends, includes or imports."""
    seen: dict[str, str] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        source = env.loader.get_source(env, current)[0]
        seen[current] = source
        todo.extend(t for t in jinja2.meta.find_referenced_templates(env.parse(source)) if t)
    return sorted(seen.items())


@dataclass(frozen=True)
class _Fingerprints:
    """What each kind of output is made from, besides its own records."""

    record: str
    alias: str
    listing: str
    keys: dict[str, str]

    @classmethod
    def of(cls, settings: Settings, theme, nav: tuple, keyring: Keyring) -> "_Fingerprints":
        env = make_environment(theme, settings)
        base = (__version__, {k: v for k, v in asdict(settings).items()
                              if k not in ("output_dir", "mirror_key", "jobs")}, nav)
        try:
            fps = [_sha(base, _template_closure(env, name)) for name in ("record.html", "alias.html", "listing.html")]
        except jinja2.TemplateError as e:
            raise ConfigError(f"template {getattr(e, 'name', '') or ''}: {e}") from e
        keys = {k.key_id: hashlib.sha256(k.source.data).hexdigest() for k in keyring.keys()}
        return cls(*fps, keys)


class _CacheDamaged(Exception):
    """The store turned out damaged during an incremental build; :func:`build`
    starts over with a full build."""


class _Pool:
    """Runs task batches in worker processes (or in this process when small),
    at most ``window`` batches in flight, results as they finish."""

    def __init__(self, ctx: WorkContext, jobs: int) -> None:
        self.ctx, self.jobs = ctx, jobs
        self.pool = None
        self.local: Worker | None = None

    def run(self, batches: Iterable[list], inline: bool) -> Iterator:
        if inline or self.jobs <= 1:
            if self.local is None:
                self.local = Worker(self.ctx)
            for batch in batches:
                yield from map(self.local.run, batch)
            return
        if self.pool is None:
            self.pool = multiprocessing.get_context("fork").Pool(self.jobs, init_process, (self.ctx,))
        pending: deque = deque()
        for batch in batches:
            pending.append(self.pool.apply_async(run_batch, (batch,)))
            while len(pending) >= 4 * self.jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Build:
    """One run of :func:`build` (kept in one object so the stages share the
    store, the pool and the sink without module state)."""

    def __init__(self, settings: Settings, *, skip_invalid: bool, allow_rollback: bool, discard: str | None,
                 progress: Progress) -> None:
        self.settings, self.skip_invalid, self.allow_rollback = settings, skip_invalid, allow_rollback
        self.discard, self.progress = discard, progress  # discard: build in full, for this reason
        self.timer = _Timer()
        self.out = settings.output_dir.absolute()
        self.cache = cache_dir_for(self.out)
        self.problems: list[Problem] = []
        self.rollbacks: list[Problem] = []
        self.docs = {"record": 0, "bundle": 0}
        self.passed = self.failed = self.rebuilt = 0
        self.puts: list[tuple[str, str]] = []     # incremental: (path, sha256) to move into place
        self.deletes: list[str] = []              # incremental: paths to remove
        self.written = 0
        self.changed_hashes: set[str] = set()     # path_hash of every added/changed/removed path
        self.dirty_facets: set[str] = set()
        self.dirty_arxiv: set[str] = set()
        self.dirty_short: set[str] = set()
        self.dirty_years: set[str] = set()
        self.new_stubs: list[tuple[str, str, str]] = []   # (year, suffix, html)
        self.gone_stubs: list[tuple[str, str]] = []
        self._old_for_unit: dict[str, list] = {}  # incremental: the files each rebuilt entry published before

    # -- setup ---------------------------------------------------------------------------------

    def run(self) -> BuildResult:
        s = self.settings
        _require_content_dir(s)
        self.theme = find_theme(s.site_dir)
        self.mirror_key = load_secret(s.mirror_key, s.site_dir) if s.mirror_key else None
        self.pages = load_pages(s.content_dir)
        self.nav = tuple((md.path, md.title) for md in self.pages)
        with self.timer.stage("load"):
            self.keyring, key_problems = load_keyring(s.keys_dir, s.site_dir)
        if key_problems:
            raise BuildFailed(tuple(key_problems), len({p.file for p in key_problems}), 0)
        self.fps = _Fingerprints.of(s, self.theme, self.nav, self.keyring)
        try:
            self.cache.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise WriteError(f"{self.cache.parent}: cannot prepare the output directory: {e.strerror}") from e
        with OutputLock(self.out, self.cache):
            try:
                return self._locked()
            except sqlite3.DatabaseError as e:
                if type(e) is sqlite3.DatabaseError and self.incremental:  # damage, not disk full or I/O
                    raise _CacheDamaged(f"cache is damaged ({e}); rebuilt") from e
                raise WriteError(f"{self.cache / 'store.sqlite'}: the build cache failed ({e}); "
                                 "the published tree is unchanged unless this build said otherwise") from e
            except sqlite3.Error as e:
                raise WriteError(f"{self.cache / 'store.sqlite'}: the build cache failed ({e}); "
                                 "the published tree is unchanged unless this build said otherwise") from e

    def _locked(self) -> BuildResult:
        previous = read_previous(self.out) if self.out.is_dir() else None
        self.dirty_marker = self.cache / "stubs.dirty"
        discard = self.discard or ("an earlier build was interrupted while updating search stubs"
                                   if self.dirty_marker.exists() else None)
        store = open_store(self.cache / "store.sqlite", output_dir=self.out, discard=discard,
                           published_tree=previous.get("tree_sha256") if previous else None)
        self.store, self.previous = store, previous
        self.incremental = store.reused
        self.mode = "incremental" if self.incremental else "full"
        self.stubs_root = self.cache / "stubs"
        if self.incremental:
            self.target = self.cache / "pending"
            shutil.rmtree(self.target, ignore_errors=True)
            self.target.mkdir()
            self.stubs_dir = None
        else:
            self.target = staging_dir(self.out)
            self.stubs_dir = self.cache / "stubs.new"
            shutil.rmtree(self.stubs_dir, ignore_errors=True)
        when_pages = format_when(self.settings, None) if self.settings.source_date_epoch is not None else None
        ctx = WorkContext(self.settings, self.keyring, self.theme, self.nav, when_pages,
                          "pending" if self.incremental else "staging", self.target, self.out,
                          self.stubs_dir, self.allow_rollback)
        jobs = self.settings.jobs or os.cpu_count() or 1
        self.pool = _Pool(ctx, jobs)
        self.renderer = Renderer(self.theme, self.settings, self.nav, when_pages)
        self.sink = (PendingSink if self.incremental else StagingSink)(self.target, self.out)
        try:
            result = self._stages()
        except BaseException:
            with suppress(sqlite3.Error):  # a damaged store may fail to roll back too
                store.db.rollback()
                store.close()
            self.pool.close()
            if not self.incremental:
                shutil.rmtree(self.target, ignore_errors=True)
            raise
        self.pool.close()
        self.dirty_marker.unlink(missing_ok=True)
        return result

    # -- stages --------------------------------------------------------------------------------

    def _stages(self) -> BuildResult:
        db = self.store.db
        with self.timer.stage("scan"):
            total, tasks = self._scan()
        with self.timer.stage("verify+render"):
            self._units(tasks)
        self.problems.sort(key=lambda p: p.file)
        if self.rollbacks:
            raise BuildFailed(tuple(self.rollbacks), len({p.file for p in self.rollbacks}), total)
        if self.problems and not self.skip_invalid:
            raise BuildFailed(tuple(self.problems), len({p.file for p in self.problems}), total)
        if not self.incremental:
            self.store.create_indexes()
        with self.timer.stage("indexes"):
            if self.settings.aliases:
                self._aliases()
            counts = dict(db.execute("SELECT facet, count(*) FROM facets GROUP BY facet").fetchall())
            self._listings(counts)
            when = format_when(self.settings, db.execute("SELECT max(updated_at) FROM entries").fetchone()[0])
            self._site_pages(when, counts)
            self._search()
        with self.timer.stage("write"):
            stats = self._seal_and_publish(when)
        return BuildResult(documents=total, records=self.docs["record"], bundles=self.docs["bundle"],
                           published=db.execute("SELECT count(*) FROM entries").fetchone()[0],
                           checks_passed=self.passed, checks_failed=self.failed, problems=tuple(self.problems),
                           write=stats, timings=tuple(self.timer.timings), mode=self.mode,
                           reason=self.store.reason, rebuilt=self.rebuilt)

    def _scan(self) -> tuple[int, tuple[int, Iterator[EntryTask]]]:
        """Pass 1: list content files, identify the new and changed ones, and
        return the entries to (re)build."""
        s, db = self.settings, self.store.db
        if not s.content_dir.is_dir():
            raise BuildFailed((Problem(display_path(s.content_dir, s.site_dir), "", "content directory not found",
                                       "load.file"),), 1, 0)
        paths, discover_problems = discover_paths(s.content_dir, s.site_dir)
        self.problems.extend(discover_problems)
        total = len(paths) + len(discover_problems)
        dirty: set[str | None] = set()
        changed: list[str] = []
        if self.incremental:
            # Merge-join of the sorted listing with the stored rows (path order): O(1) memory.
            # Were the two orders ever to disagree, a file would be seen as removed and
            # re-added — more work, same output.
            rows = db.execute("SELECT path, sig, suffix FROM sources ORDER BY path")
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
            removed.extend(([row] if row is not None else []) + rows.fetchall())
            for path, _, suffix in removed:  # removed files
                dirty.add(suffix)
                db.execute("DELETE FROM sources WHERE path = ?", (path,))
            old_keys = orjson.loads(self.store.meta("keys_fp", "{}"))
            changed_keys = {k for k in set(old_keys) | set(self.fps.keys) if old_keys.get(k) != self.fps.keys.get(k)}
            for kid in changed_keys:
                dirty.update(r[0] for r in db.execute(
                    "SELECT suffix FROM sources WHERE ' ' || key_ids || ' ' LIKE ?", (f"% {kid} %",)))
            if self.store.meta("record_fp") != self.fps.record:
                dirty.update(r[0] for r in db.execute("SELECT suffix FROM entries"))
            # Documents that did not verify last time are verified again (and reported again).
            dirty.update(r[0] for r in db.execute(
                "SELECT DISTINCT suffix FROM sources WHERE suffix IS NULL OR suffix NOT IN (SELECT suffix FROM entries)"))
        else:
            changed = paths
        for batch in _batched(self._identify(changed), 1024):  # streamed into the store, never all in memory
            db.executemany("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?)",
                           [(i.path, i.sig, i.sha256, i.suffix, i.key_ids) for i in batch])
            if self.incremental:
                dirty.update(i.suffix for i in batch)
        if not self.incremental:
            return total, self._all_units()
        tasks = self._some_units(dirty)
        return total, (len(tasks), iter(tasks))

    def _identify(self, paths: list[str]) -> Iterator[Identity]:
        """Pass 1 over ``paths``, on every core when there are many."""
        if not paths:
            return
        max_bytes = self.settings.max_document_bytes
        jobs = self.settings.jobs or os.cpu_count() or 1
        with self.progress.stage("scan", len(paths)) as bar:
            if len(paths) < _INLINE_BELOW or jobs <= 1:
                for p in paths:
                    yield identify(p, max_bytes)
                    bar.update(1)
                return
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for ident in pool.imap(_identify_one, ((p, max_bytes) for p in paths), chunksize=256):
                    yield ident
                    bar.update(1)

    def _inputs(self, members: list[tuple]) -> str:
        """The fingerprint of a entry's inputs: the record template (with
        settings and sitegen version), its files' bytes and the keys they name."""
        kids = sorted({k for m in members for k in m[2].split()})
        return _sha(self.fps.record, [(m[0], m[1]) for m in members], [(k, self.fps.keys.get(k)) for k in kids])

    def _all_units(self) -> tuple[int, Iterator[EntryTask]]:
        """Every entry, streamed from the store in suffix order (none held in memory)."""
        db = self.store.db
        count = db.execute("SELECT count(DISTINCT suffix) + (SELECT count(*) FROM sources WHERE suffix IS NULL) "
                           "FROM sources").fetchone()[0]

        def tasks() -> Iterator[EntryTask]:
            rows = db.execute("SELECT suffix, path, sha256, key_ids FROM sources ORDER BY suffix IS NULL, suffix, path")
            for suffix, group in groupby(rows, key=lambda r: r[0]):
                members = [r[1:] for r in group]
                if suffix is None:
                    yield from (EntryTask(None, (m[0],), (), "") for m in members)
                else:
                    yield EntryTask(suffix, tuple(m[0] for m in members), (), self._inputs(members))
        return count, tasks()

    def _some_units(self, dirty: set) -> list:
        db = self.store.db
        tasks = []
        for suffix in sorted(s for s in dirty if s is not None):
            old_row = db.execute("SELECT summary FROM entries WHERE suffix = ?", (suffix,)).fetchone()
            old_files = db.execute("SELECT path, sha256 FROM outputs WHERE owner = ?", (suffix,)).fetchall()
            if old_row is not None:
                self._mark_dirty(Summary.from_json(old_row[0]), gone=True)
                db.execute("DELETE FROM entries WHERE suffix = ?", (suffix,))
                db.execute("DELETE FROM facets WHERE suffix = ?", (suffix,))
            db.execute("DELETE FROM outputs WHERE owner = ?", (suffix,))
            members = db.execute("SELECT path, sha256, key_ids FROM sources WHERE suffix = ? ORDER BY path",
                                 (suffix,)).fetchall()
            self._old_for_unit[suffix] = old_files
            if members:
                tasks.append(EntryTask(suffix, tuple(m[0] for m in members), tuple(old_files), self._inputs(members)))
        for (path,) in db.execute("SELECT path FROM sources WHERE suffix IS NULL ORDER BY path").fetchall():
            tasks.append(EntryTask(None, (path,), (), ""))
        return tasks

    def _mark_dirty(self, summary: Summary, *, gone: bool) -> None:
        """Note the site pages that list ``summary`` (before or after a change)."""
        self.dirty_facets.update([f"year/{summary.year}", *(f"category/{c}" for c in summary.categories)])
        self.dirty_arxiv.add(summary.arxiv_id)
        self.dirty_short.add(summary.suffix[:8])
        self.dirty_years.add(summary.year)
        if gone:
            self.gone_stubs.append((summary.year, summary.suffix))

    def _remove(self, old_files: Iterable[tuple[str, str]]) -> None:
        for path, _ in old_files:
            self.deletes.append(path)
            self.changed_hashes.add(path_hash(path))

    def _record(self, owner: str, files: Iterable[FileEntry], old: Iterable[tuple[str, str]]) -> None:
        """Store the files ``owner`` produced; in an incremental build, queue
        the changed ones and delete the ones it no longer produces."""
        old_map = dict(old)
        rows = []
        for f in files:
            rows.append((f.path, owner, f.size, f.sha256, path_hash(f.path)))
            if self.incremental and old_map.pop(f.path, None) != f.sha256:
                self.puts.append((f.path, f.sha256))
                self.changed_hashes.add(path_hash(f.path))
        if self.incremental:
            self._remove(old_map.items())
        try:
            self.store.db.executemany("INSERT INTO outputs VALUES (?, ?, ?, ?, ?)", rows)
        except sqlite3.IntegrityError:
            seen = set()
            for row in rows:
                if row[0] in seen or self.store.db.execute("SELECT 1 FROM outputs WHERE path = ? AND owner != ?",
                                                           (row[0], owner)).fetchone():
                    raise ConfigError(f"{row[0]}: two files map to this output path (a static file collides "
                                      "with a generated page or document)") from None
                seen.add(row[0])
            raise

    def _units(self, tasks: tuple[int, Iterator[EntryTask]]) -> None:
        db = self.store.db
        count, stream = tasks
        self.rebuilt = count
        with self.progress.stage("verify+render", count, unit=" Pith Numbers") as bar:
            for result in self.pool.run(_batched(stream, _BATCH), inline=count < _INLINE_BELOW):
                self._unit_result(db, result)
                bar.update(1)
        for old in self._old_for_unit.values():  # entries gone, or no longer verifying (--skip-invalid)
            self._remove(old)

    def _unit_result(self, db: sqlite3.Connection, r: EntryResult) -> None:
        for d in r.docs:
            if d.kind:
                self.docs[d.kind] += 1
            self.passed += d.passed
            self.failed += d.failed
        self.problems.extend(r.problems)
        self.rollbacks.extend(r.rollbacks)
        if r.summary is None:
            return
        summary = Summary.from_json(r.summary)
        old = self._old_for_unit.pop(summary.suffix, ())
        db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (summary.suffix, r.inputs, r.summary.decode(), summary.submitted_at, summary.arxiv_id,
                    summary.version, r.updated_at))
        db.executemany("INSERT INTO facets VALUES (?, ?, ?)",
                       [(f, summary.submitted_at, summary.suffix) for f in
                        (f"year/{summary.year}", *(f"category/{c}" for c in summary.categories))])
        self._record(summary.suffix, r.files, old)
        if self.incremental:
            self._mark_dirty(summary, gone=False)
            if r.stub is not None:
                self.new_stubs.append((summary.year, summary.suffix, r.stub))
        self.written += r.written

    # -- site pages ----------------------------------------------------------------------------

    def _pages(self, tasks: Iterable, olds: dict[str, list]) -> None:
        """Run cluster/listing tasks and record their files per owner. A full
        build streams (records each result as it comes); an incremental one
        also deletes what an owner in ``olds`` no longer produces."""
        produced: dict[str, list[FileEntry]] = {owner: [] for owner in olds}
        if self.incremental:
            tasks = list(tasks)
        for result in self.pool.run(_batched(tasks, 16), inline=self.incremental and len(tasks) < 64):
            self.written += result.written
            if self.incremental:
                produced.setdefault(result.owner, []).extend(result.files)
            else:
                self._record(result.owner, result.files, ())
        for owner, files in produced.items():
            self._record(owner, files, olds.get(owner, ()))

    def _old_outputs(self, owner: str) -> list[tuple[str, str]]:
        db = self.store.db
        old = db.execute("SELECT path, sha256 FROM outputs WHERE owner = ?", (owner,)).fetchall()
        db.execute("DELETE FROM outputs WHERE owner = ?", (owner,))
        return old

    def _aliases(self) -> None:
        """Alias pages, by cluster: all versions of one arXiv id (``arxiv:<id>``),
        all suffixes sharing an 8-character prefix (``short:<prefix>``)."""
        db = self.store.db
        every = not self.incremental or self.store.meta("alias_fp") != self.fps.alias
        olds: dict[str, list] = {}
        if self.incremental:
            owners = ([r[0] for r in db.execute("SELECT DISTINCT owner FROM outputs WHERE owner LIKE 'arxiv:%' "
                                                "OR owner LIKE 'short:%'")] if every or not self.settings.aliases
                      else [f"arxiv:{a}" for a in self.dirty_arxiv] + [f"short:{p}" for p in self.dirty_short])
            olds = {owner: self._old_outputs(owner) for owner in sorted(owners)}
        if self.settings.aliases:
            if every:
                arxiv = groupby(db.execute("SELECT arxiv_id, summary FROM entries ORDER BY arxiv_id, version, suffix"),
                                key=lambda r: r[0])
                short = groupby(db.execute("SELECT substr(suffix, 1, 8), summary FROM entries ORDER BY suffix"),
                                key=lambda r: r[0])
            else:
                arxiv = ((a, db.execute("SELECT arxiv_id, summary FROM entries WHERE arxiv_id = ? "
                                        "ORDER BY version, suffix", (a,))) for a in sorted(self.dirty_arxiv))
                short = ((p, db.execute("SELECT suffix, summary FROM entries WHERE suffix >= ? AND suffix < ? "
                                        "ORDER BY suffix", (p, p + "\x7f"))) for p in sorted(self.dirty_short))

            def tasks() -> Iterator[AliasTask]:
                for kind, kinds, clusters in (("arxiv", ARXIV_ALIAS_KINDS, arxiv), ("short", SHORT_ALIAS_KINDS, short)):
                    for key, rows in clusters:
                        owner = f"{kind}:{key}"
                        members = tuple(r[1] for r in rows)
                        if members:
                            yield AliasTask(owner, kinds, members, tuple(olds.get(owner, ())))
            self._pages(tasks(), olds)
        else:
            self._pages((), olds)

    def _listings(self, counts: dict[str, int]) -> None:
        """Year and category listings, a window of pages per task."""
        db = self.store.db
        every = not self.incremental or self.store.meta("listing_fp") != self.fps.listing
        if every and self.incremental:
            self.dirty_facets.update(r[0][len("facet:"):] for r in db.execute(
                "SELECT DISTINCT owner FROM outputs WHERE owner LIKE 'facet:%'"))
        facets = sorted(counts) if not self.incremental else sorted(self.dirty_facets | (set(counts) if every else set()))
        per_task = _LISTING_PAGES * self.settings.page_size
        olds = {f"facet:{f}": self._old_outputs(f"facet:{f}") for f in facets} if self.incremental else {}

        def tasks() -> Iterator[ListingTask]:
            for facet in facets:
                owner, total = f"facet:{facet}", counts.get(facet, 0)
                rows = db.execute("SELECT u.summary FROM facets f JOIN entries u ON u.suffix = f.suffix "
                                  "WHERE f.facet = ? ORDER BY f.submitted_at DESC, f.suffix DESC", (facet,))
                for i, chunk in enumerate(_batched((r[0] for r in rows), per_task)):
                    yield ListingTask(owner, facet, total, 1 + i * _LISTING_PAGES, tuple(chunk),
                                      tuple(olds.get(owner, ())))
        self._pages(tasks(), olds)

    def _site_pages(self, when: str, counts: dict[str, int]) -> None:
        """Everything written by this process: static files, the home page,
        facet indexes, Markdown pages, the feed and the sitemaps."""
        s, db, r = self.settings, self.store.db, self.renderer
        old = self._old_outputs("site") if self.incremental else []
        old_map = dict(old)
        files: list[FileEntry] = []

        def put(f: OutputFile) -> None:
            files.append(self.sink.put(f.path, f.data, old_map.get(f.path)))

        for f in static_files(self.theme):
            put(f)
        for f in site_files(s, self.keyring, r, when):
            put(f)
        if self.mirror_key is not None:
            put(mirror_key_file(self.mirror_key))
        by_kind: dict[str, list[tuple[str, int]]] = {"year": [], "category": []}
        for facet, n in counts.items():
            kind, name = facet.split("/", 1)
            by_kind[kind].append((name, n))
        for kind in ("year", "category"):
            put(r.facet_index(kind, by_kind[kind]))
        for md in self.pages:
            put(OutputFile(md.path + "index.html", r.page("page.html", path=md.path, page_title=md.title, body=md.html)))
        newest = "SELECT summary FROM entries ORDER BY submitted_at DESC, suffix DESC LIMIT ?"
        top = [Summary.from_json(x[0]) for x in db.execute(newest, (max(s.page_size, s.feed_size) + 1,))]
        published = db.execute("SELECT count(*) FROM entries").fetchone()[0]
        stats = {"records": published,
                 "bundles": db.execute("SELECT count(*) FROM entries WHERE json_extract(summary, '$.has_bundle')").fetchone()[0],
                 "years": len(by_kind["year"]), "categories": len(by_kind["category"])}
        put(OutputFile("index.html", r.page("index.html", records=top[:s.page_size], counts=stats,
                                            more=published > s.page_size)))
        put(OutputFile("feed.xml", r.page("feed.xml", records=top[:s.feed_size], generated_at=when)))
        if s.search:
            years = dict((f.split("/", 1)[1], n) for f, n in counts.items() if f.startswith("year/"))
            self.buckets = buckets(years, s.search_split_above)
            put(OutputFile("search/index.html", r.page("search.html", bundles=tuple(self.buckets))))
        # Sitemaps: the home page, every record page (newest first), every listing page, every Markdown page.
        urls = self._sitemap_urls(when, by_kind)
        children = []
        for n, chunk in enumerate(_batched(urls, s.sitemap_max_urls), 1):
            children.append(f"sitemap-{n}.xml")
            put(OutputFile(children[-1], r.page("sitemap-urls.xml", urls=chunk)))
        put(OutputFile("sitemap.xml", r.page("sitemap.xml", children=children, generated_at=when)))
        self._record("site", files, old)

    def _sitemap_urls(self, when: str, by_kind: dict) -> Iterator[tuple[str, str | None]]:
        s, db = self.settings, self.store.db
        yield "", when
        for suffix, updated in db.execute("SELECT suffix, json_extract(summary, '$.updated_at') FROM entries "
                                          "ORDER BY submitted_at DESC, suffix DESC"):
            yield f"pith/{suffix}/", updated
        for kind, root in (("year", "years/"), ("category", "categories/")):
            yield root, None
            for name, n in sorted(by_kind[kind]):
                for path in listing_paths(f"{kind}/{name}", n, s.page_size):
                    yield path, None
        for md in self.pages:
            yield md.path, None

    def _search(self) -> None:
        if not self.settings.search:
            return
        if self.incremental:
            self.dirty_marker.touch()  # stubs now run ahead of the store until it commits
            for year, suffix in self.gone_stubs:
                stub_path(self.stubs_root, year, suffix).unlink(missing_ok=True)
            for year, suffix, html in self.new_stubs:
                target = stub_path(self.stubs_root, year, suffix)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(html, encoding="utf-8")
        previous = orjson.loads(self.store.meta("search_buckets", "[]"))
        current = sorted(self.buckets)
        if not self.incremental or previous != current:
            todo = current
        else:
            todo = sorted(p for p in current if p == "" and (self.dirty_years or self.gone_stubs)
                          or p.rstrip("/") in self.dirty_years)
        stale = [p for p in previous if p not in current]
        for prefix in stale:
            self._record(f"search:{prefix}", (), self._old_outputs(f"search:{prefix}") if self.incremental else ())
        with tempfile.TemporaryDirectory(prefix="search-", dir=self.cache) as tmp:
            for prefix in todo:
                owner = f"search:{prefix}"
                old = self._old_outputs(owner) if self.incremental else []
                year = self.buckets[prefix]
                stubs = self.stubs_root if self.incremental else self.stubs_dir
                if year is not None and not (stubs / year).is_dir():
                    files = []
                else:
                    stubs.mkdir(parents=True, exist_ok=True)
                    old_map = dict(old)
                    files = [self.sink.put(f.path, f.data, old_map.get(f.path))
                             for f in index_bucket(stubs, year, prefix, Path(tmp))]
                self._record(owner, files, old)
        self.store.set_meta(search_buckets=orjson.dumps(current).decode())

    # -- seal and publish ----------------------------------------------------------------------

    def _seal_and_publish(self, when: str) -> WriteStats:
        s, db, store = self.settings, self.store.db, self.store
        count, total_bytes = db.execute("SELECT count(*), coalesce(sum(size), 0) FROM outputs").fetchone()
        length = prefix_length(count)
        old_length = int(store.meta("shard_length", "-1"))
        old_shards = {row[0]: row for row in db.execute("SELECT prefix, count, bytes, size, sha256 FROM shards")}
        if not self.incremental or length != old_length:
            affected = None
        else:
            affected = sorted({h[:length] for h in self.changed_hashes})
        def put(f: OutputFile, old_sha: str | None) -> None:
            entry = self.sink.put(f.path, f.data, old_sha)
            if self.incremental and entry.sha256 != old_sha:
                self.puts.append((f.path, entry.sha256))
        if affected is None:
            db.execute("DELETE FROM shards")
            rows = db.execute("SELECT substr(shard, 1, ?), path, size, sha256 FROM outputs ORDER BY substr(shard, 1, ?), path",
                              (length, length))
            groups = groupby(rows, key=lambda r: r[0])
        else:
            def some():
                for p in affected:
                    db.execute("DELETE FROM shards WHERE prefix = ?", (p,))
                    hi = p[:-1] + chr(ord(p[-1]) + 1) if p else "\x7f"
                    rows = db.execute("SELECT ?, path, size, sha256 FROM outputs WHERE shard >= ? AND shard < ? "
                                      "ORDER BY path", (p, p, hi)).fetchall()
                    yield p, iter(rows)
            groups = some()
        for prefix, rows in groups:
            rows = list(rows)
            if not rows:
                continue
            f, desc = shard_file(prefix, ((r[1], r[2], r[3]) for r in rows))
            db.execute("INSERT INTO shards VALUES (?, ?, ?, ?, ?)",
                       (prefix, desc["count"], sum(r[2] for r in rows), desc["size"], desc["sha256"]))
            old = old_shards.get(prefix)
            put(f, old[4] if old and self.incremental else None)  # written now: never all shards in memory
        shards = [{"prefix": p, "path": f"{SHARD_DIR}files-{p or 'all'}.json", "count": c, "size": z, "sha256": h}
                  for p, c, _, z, h in db.execute("SELECT prefix, count, bytes, size, sha256 FROM shards ORDER BY prefix")]
        snap = snapshot_file(shards, file_count=count, total_bytes=total_bytes, length=length,
                             previous=self.previous, generated_at=when, base_url=s.base_url,
                             mirror_key=self.mirror_key, valid_days=s.snapshot_valid_days)
        new_prefixes = {sh["prefix"] for sh in shards}
        gone_shards = [f"{SHARD_DIR}files-{p or 'all'}.json" for p in old_shards if p not in new_prefixes]
        put(snap, _published_sha(self.out, snap.path) if self.incremental else None)
        store.set_meta(tree_sha256=orjson.loads(snap.data)["tree_sha256"], shard_length=str(length),
                       record_fp=self.fps.record, alias_fp=self.fps.alias, listing_fp=self.fps.listing,
                       keys_fp=orjson.dumps(self.fps.keys).decode())
        files_total = count + len(shards) + 1
        bytes_total = total_bytes + sum(sh["size"] for sh in shards) + len(snap.data)
        if self.incremental:
            self.deletes.extend(gone_shards)
            store.commit()
            apply_delta(self.out, self.cache, self.puts, sorted(set(self.deletes) - {p for p, _ in self.puts}))
            return WriteStats(len(self.puts), files_total - len(self.puts), bytes_total)
        shutil.rmtree(self.stubs_root, ignore_errors=True)
        if self.stubs_dir.is_dir():
            os.replace(self.stubs_dir, self.stubs_root)
        swap_in(self.target, self.out)
        store.commit()
        return WriteStats(self.sink.written + self.written, files_total - self.sink.written - self.written,
                          bytes_total)


def _require_content_dir(s: Settings) -> None:
    """A site directory must hold ``content/``; say what to do when it does not."""
    if s.content_dir.is_dir():
        return
    if (s.site_dir / "keys").is_dir() or s.site_dir.name == "content":
        raise ConfigError(f"{s.site_dir}: this looks like a content/ folder itself; pass the site directory "
                          f"that holds it: sitegen build {s.site_dir.parent}")
    raise ConfigError(f"{s.content_dir}: content directory not found; pass the site directory that holds "
                      "content/, or start a new site with `sitegen init`")


def _published_sha(out: Path, rel: str) -> str | None:
    try:
        return hashlib.sha256((out / rel).read_bytes()).hexdigest()
    except OSError:
        return None


def _identify_one(args: tuple[str, int]) -> Identity:
    return identify(*args)


def build(settings: Settings, *, skip_invalid: bool = False, allow_rollback: bool = False, full: bool = False,
          progress: Progress | None = None) -> BuildResult:
    """Verify ``settings.content_dir`` and publish the mirror to ``settings.output_dir``.

    Incremental when the store beside the output tree describes the published
    tree, else (or with ``full``) a full build swapped in atomically.

    Raises :class:`BuildFailed` listing every problem if the keyring is
    unusable, or if any document fails and ``skip_invalid`` is False;
    :class:`~sitegen.errors.ConfigError` for a theme or settings problem;
    :class:`~sitegen.errors.WriteError` if the tree cannot be written. With
    ``skip_invalid``, failed documents are left out and listed in
    ``problems``. Raises :class:`BuildFailed` (check ``mirror.rollback``) if a
    document is older than the one already published, unless ``allow_rollback``.
    """
    def attempt(discard: str | None) -> BuildResult:
        return _Build(settings, skip_invalid=skip_invalid, allow_rollback=allow_rollback, discard=discard,
                      progress=progress or Progress("off")).run()
    try:
        return attempt("--full" if full else None)
    except _CacheDamaged as e:  # found mid-way through an incremental build: nothing was published
        return attempt(str(e))

"""The build, as a list of stages: load → scan + plan → verify + render →
indexes → seal → publish, each timed (docs/scaling.md).

Every document is verified before anything is published; a failed build
leaves the published tree and the store as they were. A full build (no
usable store, ``--full``, or an earlier build interrupted mid-publish)
writes a complete new tree and swaps it in atomically; an incremental one
renders only what changed and moves those files in (:mod:`sitegen.build.publish`).
Output bytes do not depend on the number of workers or the order they
finish in. The output directory is the user's (:mod:`sitegen.build.outdir`).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.build.entries import build_entries
from sitegen.build.indexes import Indexes
from sitegen.build.inputs import SiteInputs
from sitegen.build.ledger import Ledger
from sitegen.build.links import check_site
from sitegen.build.outdir import OutputDirectory
from sitegen.build.plan import plan_build
from sitegen.build.pool import WorkerPool
from sitegen.build.progress import Progress
from sitegen.build.publish import Publisher, WriteStats
from sitegen.build.safetree import TreeAltered
from sitegen.build.seal import seal
from sitegen.build.store import CacheDamaged, Store, cache_dir_for, is_io_failure, open_store
from sitegen.build.workers import WorkContext, Worker, init_process, run_batch
from sitegen.config import Settings
from sitegen.errors import ConfigError, Problem, WriteError
from sitegen.mirror.snapshot import SNAPSHOT_PATH
from sitegen.site.hosts import limit_warnings
from sitegen.site.render import Renderer, build_timestamp

__all__ = ["build", "BuildResult", "BuildOptions"]


@dataclass(frozen=True)
class BuildOptions:
    """``skip_invalid``: publish what verifies and list the rest;
    ``allow_rollback``: publish documents older than the published ones;
    ``force``: publish into an output directory sitegen did not make;
    ``full``: ignore the build cache."""

    skip_invalid: bool = False
    allow_rollback: bool = False
    force: bool = False
    full: bool = False


@dataclass(frozen=True)
class BuildResult:
    """What a successful build published.

    ``documents``: content files seen; ``records``/``bundles``: documents of
    each kind verified this run; ``published``: Pith Numbers in the tree;
    ``checks_passed``/``failed``: over the documents verified this run;
    ``problems``: why each skipped file was skipped (``--skip-invalid``);
    ``timings``: ``(stage, seconds)``; ``mode``: ``"full"`` or
    ``"incremental"``, ``reason`` for a full one; ``rebuilt``: entries
    verified and rendered this run; ``warnings``: foreign files kept aside
    and the host's limits the tree exceeds (one line each); ``kinds``:
    ``(kind, files, bytes)`` of the published tree by what made the files
    (:data:`KINDS`), for full builds (an incremental one leaves it empty)."""

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
    warnings: tuple[str, ...] = ()
    kinds: tuple[tuple[str, int, int], ...] = ()

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


class _Restart(Exception):
    """Start over with a full build, for this reason (nothing was published)."""


def build(settings: Settings, options: BuildOptions = BuildOptions(), *, progress: Progress | None = None
          ) -> BuildResult:
    """Verify ``settings.content_dir`` and publish the mirror to ``settings.output_dir``.

    Raises :class:`~sitegen.errors.BuildFailed` listing every problem (an
    unusable keyring; any document that fails, unless ``skip_invalid``; a
    rollback, unless ``allow_rollback``), :class:`~sitegen.errors.ConfigError`
    for settings, theme or output-directory problems, and
    :class:`~sitegen.errors.WriteError` if the tree cannot be written. On any
    of them the published tree is as it was.
    """
    progress = progress or Progress("off")
    reason: str | None = "--full" if options.full else None
    for _ in range(3):
        try:
            return _build_once(settings, options, progress, reason)
        except _Restart as e:
            reason = str(e)
    raise WriteError(f"{settings.output_dir}: the build cache keeps failing ({reason}); "
                     f"remove {cache_dir_for(settings.output_dir)} and build again")


def _build_once(settings: Settings, options: BuildOptions, progress: Progress, reason: str | None) -> BuildResult:
    _require_content_dir(settings)
    timer = _Timer()
    with timer.stage("load"):
        inputs = SiteInputs.load(settings)
    out = settings.output_dir.absolute()
    cache = cache_dir_for(out)
    with OutputDirectory(out, cache, force=options.force) as state:
        try:
            store = open_store(cache / "store.sqlite", output_dir=out,
                               published_tree=state.previous["tree_sha256"] if state.previous else None,
                               discard=reason or state.interrupted)
        except sqlite3.Error as e:
            raise WriteError(f"{cache / 'store.sqlite'}: the build cache failed ({e}); "
                             "the published tree is unchanged") from e
        publisher = Publisher.incremental(out, cache) if store.reused else Publisher.full(out, cache)
        ledger = Ledger.incremental(store) if store.reused else Ledger.full(store)
        try:
            result = _stages(inputs, options, progress, timer, store, publisher, ledger, state.previous,
                             state.previous_sha256, cache)
        except BaseException as e:
            store.abandon()
            publisher.abandon()
            if isinstance(e, (CacheDamaged, TreeAltered)) or (isinstance(e, sqlite3.DatabaseError) and store.reused
                                                                and not is_io_failure(e)):
                raise _Restart(f"{_why(e)}; rebuilt in full") from e
            if isinstance(e, sqlite3.Error):
                raise WriteError(f"{store.path}: the build cache failed ({e}); "
                                 "the published tree is unchanged") from e
            raise
    return BuildResult(**{**result.__dict__, "warnings": state.warnings + result.warnings})


def _why(e: BaseException) -> str:
    if isinstance(e, TreeAltered):
        return f"the published tree was changed outside sitegen ({e})"
    return f"the build cache is damaged ({e})"


def _stages(inputs: SiteInputs, options: BuildOptions, progress: Progress, timer: _Timer, store: Store,
            publisher: Publisher, ledger: Ledger, previous: dict[str, Any] | None, previous_sha: str | None,
            cache: Path) -> BuildResult:
    s = inputs.settings
    page_time = build_timestamp(s, None) if s.source_date_epoch is not None else None
    ctx = WorkContext(s, inputs.keyring, inputs.theme, inputs.nav, page_time, publisher.spec, options.allow_rollback)
    jobs = s.jobs or os.cpu_count() or 1
    with WorkerPool(jobs, init=init_process, init_args=(ctx,), run_batch=run_batch,
                    run_local=_LocalWorker(ctx)) as pool:
        with timer.stage("scan"):
            plan = plan_build(inputs, store, ledger, progress=progress)
        with timer.stage("verify+render"):
            outcome = build_entries(plan, pool, store, ledger, page_size=s.page_size, progress=progress)
        outcome.raise_for_problems(skip_invalid=options.skip_invalid)
        if not ledger.tracks_changes:
            store.create_indexes()
        build_time = build_timestamp(s, store.newest_updated_at())
        with timer.stage("indexes"):
            renderer = Renderer(inputs.theme, s, inputs.nav, page_time)
            indexes = Indexes(inputs, store, ledger, pool, publisher.sink, renderer, plan.touched, progress)
            written = indexes.build(build_time)
            _refuse_case_collisions(store, ledger)
            link_warnings = check_site(s, inputs.pages, indexes.rendered, _published(store, s.aliases))
    with timer.stage("write"):
        progress.note("write: snapshot and publish")
        sealed = seal(inputs, store, ledger, publisher.sink, previous=previous, build_time=build_time,
                      published_snapshot_sha=previous_sha if ledger.tracks_changes else None)
        if ledger.tracks_changes:
            store.commit()
            puts = _ordered(ledger.puts) + list(sealed.shard_puts)
            written_paths = {p for p, _ in puts}
            deletes = [p for p in [*ledger.deletes, *sealed.gone_shards] if p not in written_paths]
            old_shards = {sh["path"] for sh in previous["shards"]} if previous else set()
            fresh = ledger.fresh(ledger.puts) | {p for p, _ in sealed.shard_puts if p not in old_shards}
            warnings = publisher.publish(puts, deletes, sealed.snapshot if sealed.snapshot_changed else None,
                                         fresh=frozenset(fresh))
            changed = len(puts) + sealed.snapshot_changed
            stats = WriteStats(changed, sealed.files - changed, sealed.total_bytes)
        else:
            warnings = publisher.publish()
            store.commit()
            for leftover in ("stubs", "stubs.new", "stubs.dirty"):  # an earlier sitegen's Pagefind stubs
                shutil.rmtree(cache / leftover, ignore_errors=True) if (cache / leftover).is_dir() else \
                    (cache / leftover).unlink(missing_ok=True)
            new = publisher.sink.written + written + outcome.written
            stats = WriteStats(new, sealed.files - new, sealed.total_bytes)
    return BuildResult(documents=outcome.files, records=outcome.records, bundles=outcome.bundles,
                       published=store.entry_count(), checks_passed=outcome.passed, checks_failed=outcome.failed,
                       problems=outcome.problems, write=stats, timings=tuple(timer.timings),
                       mode="incremental" if ledger.tracks_changes else "full", reason=store.reason,
                       rebuilt=outcome.rebuilt, warnings=tuple(warnings) + link_warnings
                       + limit_warnings(s.host, store, files=sealed.files, total_bytes=sealed.total_bytes),
                       kinds=() if ledger.tracks_changes else _kinds(store, sealed.files, sealed.total_bytes))


#: What made a file of the tree (the ledger's owner prefixes), as the summary names it.
KINDS = {"entry": "records and bundles", "facet": "listings", "aliasmap": "alias maps", "arxiv": "alias pages",
         "short": "alias pages", "search": "search index", "sitemap": "sitemaps", "site": "site pages and assets"}


def _kinds(store: Store, files: int, total_bytes: int) -> tuple[tuple[str, int, int], ...]:
    """The published tree by kind; the snapshot and its shards (not owned) are what is left."""
    merged: dict[str, list[int]] = {}
    for kind, n, size in store.outputs_by_kind():
        row = merged.setdefault(KINDS.get(kind, kind), [0, 0])
        row[0] += n
        row[1] += size
    snapshot = [files - sum(r[0] for r in merged.values()), total_bytes - sum(r[1] for r in merged.values())]
    if snapshot[0] > 0:
        merged["mirror snapshot"] = snapshot
    order = list(dict.fromkeys(KINDS.values()))
    return tuple((k, n, b) for k, (n, b) in sorted(merged.items(), key=lambda kv: (
        order.index(kv[0]) if kv[0] in order else len(order), kv[0])))


class _LocalWorker:
    """Runs tasks in this process (small builds), making its Worker on first use."""

    def __init__(self, ctx: WorkContext) -> None:
        self.ctx = ctx
        self.worker: Worker | None = None

    def __call__(self, task: object) -> object:
        if self.worker is None:
            self.worker = Worker(self.ctx)
        return self.worker.run(task)  # type: ignore[arg-type]


#: Apply order: leaf files before the pages that link to them (docs/decisions/0004-atomicity.md).
_INDEX_PREFIXES = ("index.html", "years/", "categories/", "arxiv/", "doi/", "paper/", "search/", "api/aliases/",
                   "sitemap", "feed.xml")


def _ordered(puts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(puts, key=lambda p: (p[0].startswith(_INDEX_PREFIXES), p[0]))


_ALIAS_LINK = re.compile(r"\A(?:arxiv/(?P<id>.+?)|doi/10\.48550/arxiv\.(?P<doi>.+?)"
                         r"|paper/(?P<prefix>[A-Za-z2-7]{8,26}))"
                         r"/?(?:index\.html)?\Z", re.IGNORECASE)
_ARXIV_VERSION = re.compile(r"\A(?P<id>.+?)(?:v(?P<version>[0-9]+))?\Z")


def _published(store: Store, aliases: bool) -> Callable[[str], bool]:
    """Whether an output path will be served: a file of the tree, or (with the
    alias maps) an alias the 404 router resolves."""
    def exists(path: str) -> bool:
        if path == SNAPSHOT_PATH or store.owner_of(path) is not None:
            return True
        m = _ALIAS_LINK.match(path) if aliases else None
        if m is None:
            return False
        if m.group("prefix"):
            return bool(store.suffixes_with_prefix(m.group("prefix").upper()))
        v = _ARXIV_VERSION.match(m.group("id") or m.group("doi"))
        assert v is not None
        return store.has_arxiv(v.group("id"), int(v.group("version")) if v.group("version") else None)
    return exists


def _refuse_case_collisions(store: Store, ledger: Ledger) -> None:
    """No two published paths may differ only in letter case: case-insensitive
    hosts and file systems (macOS, Windows, some object stores) keep one."""
    pairs = store.case_collisions([p for p, _ in ledger.puts] if ledger.tracks_changes else None)
    if pairs:
        shown = "; ".join(f"{a} (from {_owner(oa)}) and {b} (from {_owner(ob)})" for a, oa, b, ob in pairs[:5])
        raise ConfigError(f"output paths that differ only in letter case: {shown}; case-insensitive hosts keep "
                          "only one of each — rename the static file or page")


def _owner(owner: str) -> str:
    if owner == "site":
        return "a static file or site page"
    kind, _, name = owner.partition(":")
    return {"facet": f"the listing {name}", "arxiv": f"the alias pages of arXiv {name}",
            "short": f"the short links {name}", "search": "the search index"}.get(kind, f"Pith Number {owner}")


def _require_content_dir(s: Settings) -> None:
    """A site directory must hold ``content/``; say what to do when it does not."""
    if s.content_dir.is_dir():
        return
    if (s.site_dir / "keys").is_dir() or s.site_dir.name == "content":
        raise ConfigError(f"{s.site_dir}: this looks like a content/ folder itself — pass the site directory "
                          f"that holds it: sitegen build {s.site_dir.parent}")
    raise ConfigError(f"{s.content_dir}: content directory not found — pass the site directory that holds "
                      "content/, or start a new site with `sitegen init`")

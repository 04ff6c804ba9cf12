"""``sitegen pull``: the orchestrator — a page of calls.

lock the workspace → read the state → find out what the source is (its
snapshot answers: a sitegen mirror; a 404: the resolver's layout) → plan →
(``dry_run``: stop and say what would be fetched) → process the items on
``jobs`` threads, recording each outcome in the state (saved every few
seconds, so a killed pull loses little) → save the state → report.

Contract: :func:`pull` returns a :class:`PullReport` and raises only
:class:`~sitegen.errors.SitegenError` for what stops the pull as a whole
before it starts (a usage error, the workspace locked, the source unreachable
at its first request). Everything a source serves is reported, per document.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sitegen.errors import Problem, SitegenError
from sitegen.model import Keyring, TrustedKey
from sitegen.pull.fetch import Fetcher, FetchError, Limits, Response
from sitegen.pull.filters import Selection
from sitegen.pull.landing import WORKSPACE, LocalContent, Workspace
from sitegen.pull.names import Name, UsageError
from sitegen.pull.process import Context, ItemResult, process_item
from sitegen.pull.sources import Item, Plan, fetch_snapshot, plan_mirror, plan_named, resolve_arxiv
from sitegen.pull.state import PullState, SourceState, load_state, save_state

__all__ = ["PullOptions", "PullReport", "pull"]

#: Seconds between state saves during a pull.
SAVE_EVERY = 2.0


@dataclass(frozen=True)
class PullOptions:
    """``source``: base URL (http or https); ``site_dir``: holds ``content/``;
    ``names``: what ``--only``/``--from-file`` named; ``layout``: ``auto``,
    ``mirror`` or ``resolver``; ``max_count``: Pith Numbers fetched at most
    this run; ``full``: forget which shards earlier pulls finished."""

    source: str
    site_dir: Path
    names: tuple[Name, ...] = ()
    selection: Selection = Selection()
    layout: str = "auto"
    mirror_key: TrustedKey | None = None
    max_count: int | None = None
    replace: bool = False
    allow_rollback: bool = False
    dry_run: bool = False
    full: bool = False
    jobs: int = 4
    limits: Limits = Limits()
    state_file: Path | None = None
    max_bytes: int = 8 * 1024 * 1024
    max_depth: int = 64


@dataclass
class PullReport:
    """What a pull did. ``counts`` per outcome status (``new``, ``updated``,
    ``unchanged``, ``not_modified``, ``absent``, ``filtered``, ``failed``,
    ``conflict``); ``would_fetch``: the URLs of a dry run."""

    source: str
    kind: str = "?"
    version: int | None = None
    listed: int = 0
    planned: int = 0
    left: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    would_fetch: list[str] = field(default_factory=list)
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0
    complete: bool = False
    unchanged: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _base(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"SOURCE must be an http:// or https:// URL, not {url!r}")
    return url.split("#")[0].split("?")[0].rstrip("/") + "/"


def _detect(opts: PullOptions, fetcher: Fetcher, base: str, src: SourceState,
            conditional: bool) -> tuple[str, Response | None]:
    """``("mirror", response)`` or ``("resolver", None)``."""
    if opts.layout == "resolver":
        return "resolver", None
    try:
        r = fetch_snapshot(fetcher, base, src, conditional=conditional)
    except FetchError as e:
        hint = (" — if SOURCE has the resolver's layout, pass --layout resolver"
                if e.problem.check == "fetch.type" and opts.layout == "auto" else "")
        raise SitegenError(f"{e.problem}{hint}") from None
    if r.status == 404:
        if opts.layout == "mirror" or opts.mirror_key is not None:
            raise SitegenError(f"{base}pith-mirror-snapshot.json: missing (HTTP 404) — not a sitegen mirror, "
                               "or its upload is incomplete")
        return "resolver", None
    return "mirror", r


def _only(opts: PullOptions, fetcher: Fetcher, base: str, report: PullReport) -> tuple[Selection, dict[str, Item]]:
    """Resolve the named arXiv ids; the selection and what each suffix must be."""
    expect: dict[str, Item] = {}
    for name in opts.names:
        if name.suffix is not None:
            expect.setdefault(name.suffix, Item(name.suffix, (), pith_number=name.pith_number))
            continue
        found, problem = resolve_arxiv(fetcher, base, name)
        if problem:
            report.problems.append(problem)
        for pn in found:
            s = pn.split(":")[-1]
            expect.setdefault(s, Item(s, (), pith_number=pn if pn.startswith("pith:") else None, arxiv=name.arxiv))
    return replace(opts.selection, only=frozenset(expect)), expect


def _plan(opts: PullOptions, fetcher: Fetcher, base: str, src: SourceState, local: LocalContent,
          report: PullReport) -> Plan:
    previous_filter = src.filter
    conditional = not opts.full and not opts.names and src.filter == opts.selection.id
    kind, snap = _detect(opts, fetcher, base, src, conditional)
    report.kind = kind
    if kind == "resolver":
        if not opts.names:
            raise UsageError("this source has no mirror snapshot (the resolver's layout has no listing): name what "
                             "to fetch with --only or --from-file")
        selection = replace(opts.selection, only=frozenset(n.key for n in opts.names))
        src.select(selection.id)
        return plan_named(list(opts.names), fetcher=fetcher, base=base, src=src,
                          resume=previous_filter == selection.id)
    assert snap is not None  # the mirror layout comes with its snapshot's response
    selection, expect = (opts.selection, {}) if not opts.names else _only(opts, fetcher, base, report)
    if opts.full:
        src.select("")
    src.select(selection.id)
    plan = plan_mirror(snap, fetcher=fetcher, base=base, src=src, selection=selection, local=local,
                       mirror_key=opts.mirror_key, now=datetime.now(UTC), allow_rollback=opts.allow_rollback,
                       jobs=max(1, opts.jobs))
    plan.items = [replace(i, pith_number=expect[i.suffix].pith_number, arxiv=expect[i.suffix].arxiv)
                  if i.suffix in expect else i for i in plan.items]
    return plan


def _record(state: PullState, src: SourceState, plan: Plan, res: ItemResult, report: PullReport) -> None:
    report.problems.extend(res.problems)
    for o in res.outcomes:
        status = "not_modified" if o.not_modified else o.status
        report.counts[status] = report.counts.get(status, 0) + 1
        if o.status in ("new", "updated", "unchanged") and o.sha256:
            state.landed[o.dest] = o.sha256
            if plan.kind == "resolver":
                src.documents[o.doc.path] = {"sha256": o.sha256, "etag": o.etag, "last_modified": o.last_modified}
        elif o.status == "filtered" and plan.kind == "mirror" and o.sha256:
            src.filtered[o.doc.path] = o.sha256
        if o.doc.shard is not None and plan.shard_pending.get(o.doc.shard, -1) >= 0:
            if o.status in ("failed", "conflict"):
                plan.shard_pending[o.doc.shard] = -1
            else:
                plan.shard_pending[o.doc.shard] -= 1
    if res.ok and plan.kind == "resolver":
        src.resume.add(res.item.suffix)


class Stages(Protocol):
    """What :func:`pull` needs of a progress display
    (:class:`sitegen.build.progress.Progress` is one)."""

    def stage(self, name: str, total: int) -> AbstractContextManager[Any]: ...


def _bounded(pool: ThreadPoolExecutor, ctx: Context, items: list[Item], window: int) -> Iterator[ItemResult]:
    """Results of ``items`` as they complete, with at most ``window`` in flight."""
    pending: set[Future[ItemResult]] = set()
    for item in items:
        pending.add(pool.submit(process_item, ctx, item))
        if len(pending) >= window:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
    for fut in pending:
        yield fut.result()


def pull(opts: PullOptions, keyring: Keyring, *, progress: Stages | None = None) -> PullReport:
    """Run one pull (see the module docstring). ``progress``: a
    :class:`sitegen.build.progress.Progress` or None."""
    base = _base(opts.source)
    report = PullReport(base)
    start = time.monotonic()
    state_file = opts.state_file or opts.site_dir / WORKSPACE / "state.json"
    local = LocalContent(opts.site_dir / "content", max_bytes=opts.max_bytes)
    fetcher = Fetcher(opts.limits, pool_size=opts.jobs)
    workspace = Workspace(opts.site_dir)
    try:
        with (nullcontext() if opts.dry_run else workspace):
            state, damaged = load_state(state_file)
            if damaged:
                report.notes.append(damaged)
            src = state.source(base)
            plan = _plan(opts, fetcher, base, src, local, report)
            report.problems.extend(plan.problems)
            report.notes.extend(plan.notes)
            report.listed, report.unchanged = plan.listed, plan.unchanged
            if plan.snapshot is not None:
                report.version = plan.snapshot.version
            items = plan.items if opts.max_count is None else plan.items[:opts.max_count]
            report.planned, report.left = len(items), len(plan.items) - len(items)
            if opts.dry_run or plan.fatal:
                report.would_fetch = [base + d.path for i in items for d in i.docs] if opts.dry_run else []
                return report
            if plan.snapshot is not None:  # a snapshot that passed every check is the newest seen
                src.seen = {"version": plan.snapshot.version, "snapshot_sha256": plan.snapshot_digest}
            for dest, sha in plan.up_to_date:
                state.landed[dest] = sha
            report.counts["unchanged"] = len(plan.up_to_date)
            ctx = Context(base, plan.kind, fetcher, workspace, local, keyring, opts.selection, opts.max_bytes,
                          opts.max_depth, dict(state.landed), dict(src.documents), opts.replace, opts.allow_rollback)
            saved = time.monotonic()
            stage = progress.stage("pull", len(items)) if progress is not None else nullcontext()
            try:
                with stage as bar, ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
                    for res in _bounded(pool, ctx, items, window=4 * max(1, opts.jobs)):
                        _record(state, src, plan, res, report)
                        if bar is not None:
                            bar.update(1)
                        if time.monotonic() - saved >= SAVE_EVERY:
                            save_state(state_file, state)
                            saved = time.monotonic()
            except BaseException:  # interrupted: keep what was done for the next pull
                save_state(state_file, state)
                raise
            if plan.shard_sha:  # forget shards the snapshot no longer lists; remember the ones finished
                src.shards = {p: h for p, h in src.shards.items() if plan.shard_sha.get(p) == h}
                src.shards.update((p, plan.shard_sha[p]) for p, n in plan.shard_pending.items()
                                  if n == 0 and not report.left)
            report.complete = not report.problems and not report.left
            if report.complete:
                src.resume.clear()
                if plan.snapshot is not None:
                    etag, modified = plan.validators
                    src.snapshot = {"version": plan.snapshot.version, "snapshot_sha256": plan.snapshot_digest,
                                    "etag": etag, "last_modified": modified}
            elif plan.kind == "mirror" and plan.snapshot_digest and src.snapshot \
                    and src.snapshot["snapshot_sha256"] != plan.snapshot_digest:
                src.snapshot = None
            save_state(state_file, state)
            return report
    finally:
        report.requests, report.bytes = fetcher.requests, fetcher.bytes
        report.seconds = time.monotonic() - start
        fetcher.close()

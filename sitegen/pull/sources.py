"""The two kinds of source, and what each says should be fetched.

* **A sitegen mirror** (any tree ``sitegen build`` wrote, on any static host):
  its snapshot lists every file with size and SHA-256 (:mod:`sitegen.pull.listing`),
  so :func:`plan_mirror` fetches only the shards that changed since the last
  pull and picks the documents whose listed bytes differ from the local ones.
* **The resolver's layout** (docs/protocol.md §5: ``/pith/<S>.json``,
  ``/.well-known/pith/<S>/bundle.json``): no listing, so :func:`plan_named`
  fetches what the user named. A missing bundle is normal there.

arXiv ids are resolved by :func:`resolve_arxiv`: the resolver's
``/api/pith-number/resolve?arxiv=<id>&json=true`` (docs/protocol.md §5; its
answer's shape is not published — we read ``resolved``, ``pith_number`` or
``pith_numbers[].pith_number``, inferred), then a sitegen mirror's alias maps
(``/api/aliases/``, docs/protocol.md §9), then its optional alias page
``/arxiv/<id>/pith.json``. What they answer only names what to fetch (a full
Pith Number, or a suffix from the maps); the fetched document must verify and
be that arXiv id's.

Planning never raises for what a source serves: problems are collected.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sitegen.errors import Problem, quote
from sitegen.model import TrustedKey
from sitegen.pith.numbers import PITH_NUMBER_RE, SUFFIX_RE
from sitegen.pith.routes import routes_for
from sitegen.pith.strict_json import parse_strict_json
from sitegen.pull.fetch import Fetcher, FetchError, Response
from sitegen.pull.filters import Selection
from sitegen.pull.landing import LocalContent
from sitegen.pull.listing import SNAPSHOT_PATH, Listed, ShardRef, Snapshot, parse_shard, parse_snapshot
from sitegen.pull.names import Name
from sitegen.pull.state import SourceState
from sitegen.pull.trust import check_snapshot
from sitegen.site.lookup import shard_of

__all__ = ["RemoteDoc", "Item", "Plan", "fetch_snapshot", "plan_mirror", "plan_named", "resolve_arxiv",
           "MAX_SNAPSHOT_BYTES", "MAX_SHARD_BYTES"]

#: Size caps of the snapshot (4,096 shards ≈ 1 MB) and of one shard (~10,000 files ≈ 1.5 MB).
MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
MAX_SHARD_BYTES = 64 * 1024 * 1024
MAX_RESOLVE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RemoteDoc:
    """One document to fetch: ``path`` under the source's base URL; ``sha256``
    and ``size`` as a snapshot lists them (None from the resolver layout);
    ``shard``: the shard that listed it."""

    kind: str
    path: str
    sha256: str | None = None
    size: int | None = None
    shard: str | None = None


@dataclass(frozen=True)
class Item:
    """The documents of one Pith Number to fetch. ``pith_number``: the full
    Pith Number the user named (the document must be it); ``arxiv``: the
    ``(id, version)`` it was resolved from (the document must be that paper's)."""

    suffix: str
    docs: tuple[RemoteDoc, ...]
    pith_number: str | None = None
    arxiv: tuple[str, int | None] | None = None


@dataclass
class Plan:
    """What to fetch, and what is known before fetching. ``fatal``: nothing
    may be fetched (e.g. a refused snapshot). ``shard_pending``: per shard
    path, how many of its documents are still to be handled; ``shard_sha``:
    the shards' hashes (a shard is remembered as done when its count is 0)."""

    kind: str
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fatal: bool = False
    unchanged: bool = False
    listed: int = 0
    up_to_date: list[tuple[str, str]] = field(default_factory=list)  # (content path, sha256) equal upstream
    snapshot: Snapshot | None = None
    snapshot_digest: str | None = None
    validators: tuple[str | None, str | None] = (None, None)
    shard_pending: dict[str, int] = field(default_factory=dict)
    shard_sha: dict[str, str] = field(default_factory=dict)
    skipped: int = 0


def fetch_snapshot(fetcher: Fetcher, base: str, src: SourceState, *, conditional: bool) -> Response:
    """GET the snapshot (conditional on the validators of the last complete
    pull, if ``conditional``); raises :class:`FetchError`."""
    last = (src.snapshot or {}) if conditional else {}
    return fetcher.get(base + SNAPSHOT_PATH, max_bytes=MAX_SNAPSHOT_BYTES, etag=last.get("etag"),
                       last_modified=last.get("last_modified"))


def _shard(fetcher: Fetcher, base: str, ref: ShardRef) -> tuple[list[Listed], list[str], int, Problem | None]:
    """``(documents, unsafe paths, unsafe count, None)`` of one shard, or ``([], [], 0, problem)``."""
    url = base + ref.path
    try:
        r = fetcher.get(url, max_bytes=min(ref.size, MAX_SHARD_BYTES))
        if r.status != 200:
            raise FetchError(url, "listed in the snapshot, but missing (HTTP 404)", "snapshot.shard")
        if hashlib.sha256(r.data).hexdigest() != ref.sha256:
            raise FetchError(url, "does not match the SHA-256 the snapshot lists", "snapshot.shard")
        listed, unsafe, n_unsafe = parse_shard(r.data, ref.prefix)
    except FetchError as e:
        return [], [], 0, e.problem
    except ValueError as e:
        return [], [], 0, Problem(url, "", f"unreadable shard: {e}", "snapshot.shard")
    return listed, unsafe, n_unsafe, None


def _shards(fetcher: Fetcher, base: str, refs: list[ShardRef],
            jobs: int) -> Iterator[tuple[ShardRef, tuple[list[Listed], list[str], int, Problem | None]]]:
    """Each shard of ``refs`` with what :func:`_shard` made of it, fetched on
    ``jobs`` threads a window at a time: at most ``2 × jobs`` parsed shards
    are held at once, whatever the snapshot lists."""
    window = max(1, 2 * jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for start in range(0, len(refs), window):
            part = refs[start:start + window]
            yield from zip(part, pool.map(lambda ref: _shard(fetcher, base, ref), part), strict=True)


def plan_mirror(response: Response, *, fetcher: Fetcher, base: str, src: SourceState, selection: Selection,
                local: LocalContent, mirror_key: TrustedKey | None, now: datetime,
                allow_rollback: bool, jobs: int = 4) -> Plan:
    """Plan a pull from a sitegen mirror whose snapshot answered ``response``
    (200 or 304), fetching the shards that changed on ``jobs`` threads.
    Updates nothing; the caller records the outcome."""
    plan = Plan("mirror")
    url = base + SNAPSHOT_PATH
    if response.status == 304:
        plan.unchanged = True
        plan.notes.append("snapshot: not modified since the last complete pull")
        return plan
    plan.validators = (response.etag, response.last_modified)
    try:
        snap = parse_snapshot(response.data)
    except ValueError as e:
        plan.problems.append(Problem(url, "", f"unreadable snapshot: {e}", "snapshot.format"))
        plan.fatal = True
        return plan
    verdict = check_snapshot(snap.body, mirror_key=mirror_key, seen=src.seen, now=now, allow_rollback=allow_rollback)
    plan.snapshot, plan.snapshot_digest = snap, verdict.digest
    plan.notes.extend(verdict.notes)
    if not verdict.ok:
        plan.problems.extend(Problem(url, f, m, c) for f, m, c in verdict.problems)
        plan.fatal = True
        return plan
    if src.snapshot and src.snapshot["snapshot_sha256"] == verdict.digest:
        plan.unchanged = True
        plan.notes.append(f"snapshot: version {snap.version}, unchanged since the last complete pull")
        return plan

    wanted: dict[str, list[RemoteDoc]] = defaultdict(list)
    seen: set[str] = set()
    plan.shard_sha = {ref.path: ref.sha256 for ref in snap.shards}
    changed = [ref for ref in snap.shards if src.shards.get(ref.path) != ref.sha256]  # others: handled before
    every_shard = len(changed) == len(snap.shards)
    for ref, (listed, unsafe, n_unsafe, problem) in _shards(fetcher, base, changed, jobs):
        plan.shard_pending[ref.path] = 0
        if problem is not None:
            plan.problems.append(problem)
            plan.shard_pending[ref.path] = -1  # never done in this run
            continue
        for path in unsafe:
            plan.problems.append(Problem(base + ref.path, "files", f"lists {quote(path)}, which is not a path "
                                         "inside the mirror; ignored", "snapshot.path"))
        if n_unsafe > len(unsafe):
            plan.problems.append(Problem(base + ref.path, "files", f"lists {n_unsafe - len(unsafe)} more paths "
                                         "outside the mirror; ignored", "snapshot.path"))
        if n_unsafe:
            plan.shard_pending[ref.path] = -1  # a hostile shard is never remembered as done
        for doc in listed:
            plan.listed += 1
            seen.add(doc.suffix)
            if not selection.wants_suffix(doc.suffix) or src.filtered.get(doc.path) == doc.sha256:
                plan.skipped += 1
                continue
            dest = local.find(doc.kind, doc.suffix)
            if local.sha256(dest) == doc.sha256:
                plan.up_to_date.append((dest, doc.sha256))
                continue
            wanted[doc.suffix].append(RemoteDoc(doc.kind, doc.path, doc.sha256, doc.size, ref.path))
            if plan.shard_pending[ref.path] >= 0:
                plan.shard_pending[ref.path] += 1
    plan.items = [Item(s, tuple(sorted(wanted[s], key=lambda d: d.kind, reverse=True))) for s in sorted(wanted)]
    if selection.only is not None and every_shard and not any(v < 0 for v in plan.shard_pending.values()):
        for suffix in sorted(selection.only - seen):
            plan.problems.append(Problem(url, "", f"{suffix} is not listed by this mirror", "fetch.missing"))
    return plan


def _pith_numbers(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    for key in ("resolved", "pith_number"):
        if isinstance(body.get(key), str) and PITH_NUMBER_RE.match(body[key]):
            return [body[key]]
    listed = body.get("pith_numbers")
    if isinstance(listed, list):
        found = [t if isinstance(t, str) else t.get("pith_number") if isinstance(t, dict) else None for t in listed]
        return [p for p in found if isinstance(p, str) and PITH_NUMBER_RE.match(p)]
    return []


def _from_alias_maps(fetcher: Fetcher, base: str, arxiv_id: str, version: int | None) -> list[str]:
    """Suffixes a sitegen mirror's alias maps give for an arXiv id (newest version first)."""
    try:
        index = parse_strict_json(fetcher.get(base + "api/aliases/index.json", max_bytes=MAX_RESOLVE_BYTES).data)
        digits = index["arxiv_shard_digits"] if isinstance(index, dict) else None
        if not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 4:
            return []
        shard = shard_of(arxiv_id, digits) or "_"
        r = fetcher.get(f"{base}api/aliases/arxiv/{shard}.json", max_bytes=MAX_RESOLVE_BYTES)
        versions = parse_strict_json(r.data).get(arxiv_id, []) if r.status == 200 else []
    except (FetchError, ValueError, AttributeError, KeyError, TypeError):
        return []
    if not isinstance(versions, list):  # from the source: any type
        return []
    return [v[1] for v in versions if isinstance(v, list) and len(v) == 2 and isinstance(v[1], str)
            and SUFFIX_RE.match(v[1]) and (version is None or v[0] == version)]


def resolve_arxiv(fetcher: Fetcher, base: str, name: Name) -> tuple[list[str], Problem | None]:
    """What the source gives for the arXiv id ``name`` (see the module
    docstring): full Pith Numbers or suffixes, ``(found, None)`` or ``([], problem)``."""
    assert name.arxiv is not None, "only arXiv ids are resolved"
    ident = name.arxiv[0] + (f"v{name.arxiv[1]}" if name.arxiv[1] else "")
    candidates = [f"api/pith-number/resolve?{urlencode({'arxiv': ident, 'json': 'true'})}", "api/aliases/",
                  f"arxiv/{ident}/pith.json"]
    last: Problem | None = None
    for path in candidates:
        if path == "api/aliases/":
            mapped = _from_alias_maps(fetcher, base, name.arxiv[0], name.arxiv[1])
            if mapped:
                return mapped, None
            continue
        try:
            r = fetcher.get(base + path, max_bytes=MAX_RESOLVE_BYTES)
        except FetchError as e:
            last = e.problem
            continue
        if r.status != 200:
            continue
        try:
            found = _pith_numbers(parse_strict_json(r.data))
        except ValueError as e:
            last = Problem(base + path, "", f"unreadable answer: {e}", "pull.resolve")
            continue
        if found:
            return found, None
        last = Problem(base + path, "", f"names no Pith Number for arXiv {ident}", "pull.resolve")
    return [], last or Problem(base + candidates[0], "", f"this source does not resolve arXiv {ident} (HTTP 404)",
                               "pull.resolve")


def plan_named(names: list[Name], *, fetcher: Fetcher, base: str, src: SourceState, resume: bool) -> Plan:
    """Plan a pull of the named documents from the resolver's layout. With
    ``resume``, Pith Numbers an interrupted pull of the same selection
    finished are skipped."""
    plan = Plan("resolver")
    items: dict[str, Item] = {}
    for name in names:
        if name.suffix is not None:
            items.setdefault(name.suffix, Item(name.suffix, (), pith_number=name.pith_number))
            continue
        found, problem = resolve_arxiv(fetcher, base, name)
        if problem is not None:
            plan.problems.append(problem)
        for pn in found:
            suffix = pn.split(":")[-1]
            items.setdefault(suffix, Item(suffix, (), pith_number=pn if pn.startswith("pith:") else None,
                                          arxiv=name.arxiv))
    plan.listed = len(items)
    for suffix in sorted(items):
        if resume and suffix in src.resume:
            plan.skipped += 1
            continue
        routes = routes_for(suffix)
        item = items[suffix]
        plan.items.append(Item(suffix, (RemoteDoc("record", routes.record_json),
                                        RemoteDoc("bundle", routes.well_known_bundle)),
                               pith_number=item.pith_number, arxiv=item.arxiv))
    if resume and plan.skipped:
        done = f"{plan.skipped} Pith Number" + ("" if plan.skipped == 1 else "s")
        plan.notes.append(f"resuming an interrupted pull: {done} already done")
    return plan

"""One Pith Number through the pull: fetch → quarantine → verify → land.

:func:`process_item` runs in a worker thread, one per Pith Number at a time
(so no two workers touch the same files); it never raises for what the source
serves, and returns an :class:`ItemResult` the orchestrator records.

For each document of the item, in order, cheapest first:

1. fetch within the caps (a conditional request when the local bytes are still
   those the validators were stored with); a mirror's document must have
   exactly the size and SHA-256 its snapshot lists (threat: a host serving
   other bytes than the snapshot it publishes — mix-and-match);
2. the bytes go to quarantine; strict JSON; the document type must be the one
   its path promises;
3. the content filters (:mod:`sitegen.pull.filters`);
4. :func:`sitegen.verify.verify_documents` — the build's own verifier, with
   the keys in ``content/keys/`` only — over the fetched documents together
   with the local document of the other type, if any; if only one of a
   fetched record and bundle may land, it is verified again beside the local
   document of the other type (so a record and bundle that disagree never
   land side by side);
5. the verified Pith Number must be the one at whose path it was served
   (threat: an authentic document served under another Pith Number), the one
   the user named, and the named arXiv paper's;
6. a local document of the same Pith Number with other bytes is replaced only
   if the last pull wrote exactly those bytes (an upstream update) — otherwise
   it is a conflict, kept unless ``--replace``; and never by an older
   document (rollback, :func:`sitegen.verify.rollback.is_older`) unless
   ``--allow-rollback``;
7. one ``rename()`` from quarantine into ``content/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.errors import InputError, Problem, os_problem, safe_text
from sitegen.model import Keyring, ParsedDocument, SourceFile, VerifiedBundle, VerifiedRecord
from sitegen.pith.strict_json import parse_document, parse_strict_json
from sitegen.pull.fetch import Fetcher, FetchError
from sitegen.pull.filters import Selection
from sitegen.pull.landing import LocalContent, Workspace
from sitegen.pull.sources import Item, RemoteDoc
from sitegen.verify import verify_documents
from sitegen.verify.rollback import is_older

__all__ = ["Context", "Outcome", "ItemResult", "process_item"]


@dataclass(frozen=True)
class Context:
    """Everything a worker needs; shared read-only between threads.
    ``landed``/``validators`` are copies of the state taken before the run."""

    base: str
    kind: str
    fetcher: Fetcher
    workspace: Workspace
    local: LocalContent
    keyring: Keyring
    selection: Selection
    max_bytes: int
    max_depth: int
    landed: Mapping[str, str]
    validators: Mapping[str, Mapping[str, Any]]
    replace: bool = False
    allow_rollback: bool = False


@dataclass
class Outcome:
    """What became of one document. ``status``: ``new``, ``updated``,
    ``unchanged`` (the local bytes are the upstream's; ``not_modified`` if the
    server said so), ``absent`` (404 where that is normal), ``filtered``,
    ``failed``, ``conflict``. ``dest``: its path under ``content/``."""

    doc: RemoteDoc
    status: str
    dest: str
    sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


@dataclass
class ItemResult:
    item: Item
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Fetched:
    doc: RemoteDoc
    url: str
    dest: str
    data: bytes
    sha256: str
    quarantined: Path
    etag: str | None
    last_modified: str | None


def _fetch(ctx: Context, doc: RemoteDoc, dest: str, local_sha: str | None, result: ItemResult) -> _Fetched | None:
    url = ctx.base + doc.path
    old = ctx.validators.get(doc.path) or {}
    conditional = local_sha is not None and old.get("sha256") == local_sha  # else the 304 would not be true
    cap = ctx.max_bytes if doc.size is None else min(doc.size, ctx.max_bytes)
    if doc.size is not None and doc.size > ctx.max_bytes:
        result.problems.append(Problem(url, "", f"listed at {doc.size} bytes, over the {ctx.max_bytes}-byte cap "
                                       "(max_document_bytes)", "fetch.size"))
        result.outcomes.append(Outcome(doc, "failed", dest))
        return None
    try:
        r = ctx.fetcher.get(url, max_bytes=cap, etag=old.get("etag") if conditional else None,
                            last_modified=old.get("last_modified") if conditional else None)
    except FetchError as e:
        problem = e.problem
        if problem.check == "fetch.size" and cap == doc.size:
            problem = Problem(url, "", f"longer than the {doc.size} bytes the snapshot lists", "pull.snapshot")
        result.problems.append(problem)
        result.outcomes.append(Outcome(doc, "failed", dest))
        return None
    if r.status == 304:
        result.outcomes.append(Outcome(doc, "unchanged", dest, local_sha, r.etag, r.last_modified, not_modified=True))
        return None
    if r.status == 404:
        if doc.sha256 is not None:  # a snapshot listed it
            result.problems.append(Problem(url, "", "listed in the snapshot, but missing (HTTP 404)", "fetch.missing"))
            result.outcomes.append(Outcome(doc, "failed", dest))
        else:
            result.outcomes.append(Outcome(doc, "absent", dest))
        return None
    sha = hashlib.sha256(r.data).hexdigest()
    if doc.sha256 is not None and (sha != doc.sha256 or len(r.data) != doc.size):
        result.problems.append(Problem(url, "", f"{len(r.data)} bytes that do not match the size and SHA-256 the "
                                       "snapshot lists", "pull.snapshot"))
        result.outcomes.append(Outcome(doc, "failed", dest))
        return None
    if sha == local_sha:
        result.outcomes.append(Outcome(doc, "unchanged", dest, sha, r.etag, r.last_modified))
        return None
    try:
        quarantined = ctx.workspace.quarantine(r.data)
    except OSError as e:
        result.problems.append(Problem(url, "", f"cannot write to quarantine: {os_problem(e)}", "pull.write"))
        result.outcomes.append(Outcome(doc, "failed", dest))
        return None
    return _Fetched(doc, url, dest, r.data, sha, quarantined, r.etag, r.last_modified)


def _local_counterpart(ctx: Context, kind: str, suffix: str) -> ParsedDocument | None:
    rel = ctx.local.find(kind, suffix)
    data = ctx.local.read(rel)
    if data is None:
        return None
    try:
        return parse_document(SourceFile(ctx.local.dir / rel, f"content/{rel}", data), max_depth=ctx.max_depth)
    except InputError:
        return None  # the build reports it; it cannot vouch for or against a pulled document


def _identity_problem(item: Item, verified: VerifiedRecord | VerifiedBundle) -> str | None:
    if verified.suffix != item.suffix:
        return f"the document is {verified.pith_number}, served at the path of {item.suffix}"
    if item.pith_number is not None and verified.pith_number != item.pith_number:
        return f"the document is {verified.pith_number}, not {item.pith_number} as named"
    if item.arxiv is not None:
        source = verified.body["source"]
        ident, version = item.arxiv
        if source["id"] != ident or (version is not None and source["version"] != version):
            return (f"the document is arXiv {safe_text(str(source['id']), 80)}v{source['version']}, not "
                    f"{ident}{f'v{version}' if version else ''} as named")
    return None


def _admit(ctx: Context, f: _Fetched, verified: VerifiedRecord | VerifiedBundle, result: ItemResult) -> str | None:
    """Rule 6 of the module docstring: may ``f`` take its place in ``content/``?
    ``"new"``, ``"updated"``, or None (refused, and the problem recorded)."""
    local = ctx.local.read(f.dest)
    if local is None:
        return "new"
    local_sha = hashlib.sha256(local).hexdigest()
    if ctx.landed.get(f.dest) != local_sha and not ctx.replace:
        result.problems.append(Problem(f.url, "pith_number", f"content/{f.dest} holds other bytes for "
                                       f"{verified.pith_number}, not written by sitegen pull; kept (pass --replace "
                                       "to take the upstream document)", "pull.conflict"))
        result.outcomes.append(Outcome(f.doc, "conflict", f.dest))
        return None
    try:
        old = parse_strict_json(local, max_depth=ctx.max_depth)
    except ValueError:
        old = None
    if not ctx.allow_rollback and is_older(f.doc.kind, verified.body, old):
        field_ = "built_at" if f.doc.kind == "bundle" else "updated_at"
        result.problems.append(Problem(f.url, field_, f"is older than content/{f.dest} (a rollback of "
                                       f"{verified.pith_number}); kept the local one (pass --allow-rollback to take "
                                       "it)", "pull.rollback"))
        result.outcomes.append(Outcome(f.doc, "failed", f.dest))
        return None
    return "updated"


def _check(ctx: Context, item: Item, candidates: list[tuple[_Fetched, ParsedDocument]],
           result: ItemResult) -> list[tuple[_Fetched, str]]:
    """Rules 4–6 for ``candidates``, verified together with the local
    documents of the types not among them: ``[(fetched, "new"|"updated")]``
    for those that may land; the others' problems are recorded."""
    kinds = {f.doc.kind for f, _ in candidates}
    others = [p for k in ("record", "bundle") if k not in kinds
              for p in [_local_counterpart(ctx, k, item.suffix)] if p is not None]
    reports, entries, _ = verify_documents([p for _, p in candidates] + others, ctx.keyring)
    verified = {v.source.rel: v for e in entries for v in (e.record, e.bundle) if v is not None}
    passed = []
    for (f, _), report in zip(candidates, reports[:len(candidates)], strict=True):
        v = verified.get(f.url)
        if not report.ok or v is None:
            result.problems.extend(Problem(f.url, c.field, c.detail, c.name) for c in report.failures)
            result.outcomes.append(Outcome(f.doc, "failed", f.dest))
            continue
        wrong = _identity_problem(item, v)
        if wrong:
            result.problems.append(Problem(f.url, "pith_number", wrong, "pull.path"))
            result.outcomes.append(Outcome(f.doc, "failed", f.dest))
            continue
        status = _admit(ctx, f, v, result)
        if status is not None:
            passed.append((f, status))
    return passed


def process_item(ctx: Context, item: Item) -> ItemResult:
    """Fetch, verify and land the documents of ``item`` (see the module docstring)."""
    result = ItemResult(item)
    fetched: list[_Fetched] = []
    try:
        for doc in item.docs:
            dest = ctx.local.find(doc.kind, item.suffix)
            f = _fetch(ctx, doc, dest, ctx.local.sha256(dest), result)
            if f is not None:
                fetched.append(f)
        if ctx.kind == "resolver" and all(o.status == "absent" for o in result.outcomes) and not fetched:
            result.problems.append(Problem(ctx.base + item.docs[0].path, "", f"no record or bundle of {item.suffix} "
                                           "at this source (HTTP 404)", "fetch.missing"))
            return result
        ready: list[tuple[_Fetched, ParsedDocument]] = []
        for f in fetched:
            try:
                parsed = parse_document(SourceFile(f.quarantined, f.url, f.data), max_depth=ctx.max_depth)
            except InputError as e:
                result.problems.append(e.problem)
                result.outcomes.append(Outcome(f.doc, "failed", f.dest))
                continue
            if parsed.kind != f.doc.kind:
                result.problems.append(Problem(f.url, "", f"is a {parsed.kind}, served at the path of a "
                                               f"{f.doc.kind}", "pull.path"))
                result.outcomes.append(Outcome(f.doc, "failed", f.dest))
            elif ctx.selection.by_content and not ctx.selection.wants(parsed.body):
                result.outcomes.append(Outcome(f.doc, "filtered", f.dest, f.sha256))
            else:
                ready.append((f, parsed))
        if not ready:
            return result
        passed = _check(ctx, item, ready, result)
        if passed and len(passed) < len(ready):
            # One of the two stays out: the other must agree with the local document it will sit beside.
            landing = {id(f) for f, _ in passed}
            passed = _check(ctx, item, [(f, p) for f, p in ready if id(f) in landing], result)
        for f, status in passed:
            try:
                ctx.workspace.land(f.quarantined, ctx.local.dir, f.dest)
            except OSError as e:
                result.problems.append(Problem(f.url, "", f"cannot write content/{f.dest}: {os_problem(e)}",
                                               "pull.write"))
                result.outcomes.append(Outcome(f.doc, "failed", f.dest))
                continue
            result.outcomes.append(Outcome(f.doc, status, f.dest, f.sha256, f.etag, f.last_modified))
        return result
    finally:
        for f in fetched:
            ctx.workspace.discard(f.quarantined)

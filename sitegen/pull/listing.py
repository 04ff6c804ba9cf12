"""The mirror snapshot as ``sitegen pull`` reads it — every detail of its
format in this one module, so a format change is a change here only.

A sitegen mirror publishes ``/pith-mirror-snapshot.json`` listing its shards,
and each shard lists files with size and SHA-256 (:mod:`sitegen.mirror.snapshot`
writes them). A puller needs only the Pith documents among those files: the
record at ``pith/<S>.json`` and the bundle at ``pith/<S>/bundle.json``
(docs/protocol.md §5). Every path is untrusted and confined:

* a shard path must be ``.well-known/pith-mirror/files-<prefix>.json``, all
  prefixes of one length, at most :data:`MAX_SHARDS` of them, or the whole
  snapshot is refused (threat: a snapshot sending the puller to arbitrary
  URLs, or many times to the same ones);
* a document a shard lists must belong to that shard (the first digits of
  SHA-256 of its path are the shard's prefix), or the shard is refused
  (threat: shards repeating each other, multiplying requests and memory);
* a listed file is used only if it is exactly one of the two document paths of
  a well-formed suffix; other site files are skipped, and a path that is
  absolute, climbs (``..``), holds a backslash or a control character is
  reported (threat: path traversal — nothing is ever written at a listed path:
  documents land at names made from the verified suffix).

:func:`parse_snapshot` and :func:`parse_shard` raise ``ValueError`` with a
short reason; they never trust a type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sitegen.errors import quote
from sitegen.mirror.snapshot import MAX_PREFIX_LENGTH, SNAPSHOT_PATH, shard_of, shard_prefix
from sitegen.pith.numbers import HEX64_RE
from sitegen.pith.routes import routes_for
from sitegen.pith.strict_json import parse_strict_json

__all__ = ["SNAPSHOT_PATH", "Snapshot", "ShardRef", "Listed", "parse_snapshot", "parse_shard", "document_kind",
           "MAX_SHARDS", "MAX_REPORTED_UNSAFE"]

#: Shards a snapshot may list: the most a sitegen mirror makes.
MAX_SHARDS = 16**MAX_PREFIX_LENGTH
#: Unsafe paths of one shard kept for the report (the rest are counted).
MAX_REPORTED_UNSAFE = 20
_DOCUMENT_PATH = re.compile(r"\Apith/([A-Z2-7]{26})(\.json|/bundle\.json)\Z")
_INT_MAX = 2**63 - 1


@dataclass(frozen=True)
class ShardRef:
    """One shard as the snapshot describes it; ``prefix`` is the one in its
    path (``""`` for ``files-all.json``)."""

    path: str
    sha256: str
    size: int
    prefix: str = ""


@dataclass(frozen=True)
class Snapshot:
    """The parts of a snapshot a puller uses. ``body`` is the whole parsed
    document (its hash and signature cover all of it); ``claimed_sha256`` is
    the ``snapshot_sha256`` it states (checked by :mod:`sitegen.pull.trust`)."""

    body: dict[str, Any]
    version: int
    claimed_sha256: Any
    generated_at: Any
    expires: Any
    shards: tuple[ShardRef, ...]


@dataclass(frozen=True)
class Listed:
    """A Pith document a shard lists: ``kind`` ``"record"`` or ``"bundle"``."""

    kind: str
    suffix: str
    path: str
    size: int
    sha256: str


def _int(value: Any, name: str) -> int:
    if type(value) is not int or not 0 <= value <= _INT_MAX:
        raise ValueError(f"{name}: not a non-negative integer")
    return value


def _hex(value: Any, name: str) -> str:
    if not isinstance(value, str) or not HEX64_RE.match(value):
        raise ValueError(f"{name}: not a SHA-256 in hex")
    return value


def parse_snapshot(data: bytes) -> Snapshot:
    """The snapshot in ``data``; raises ``ValueError`` if it is not a usable
    ``pith_mirror_snapshot`` (format ``1.x``) or names a shard outside the
    shard directory."""
    body = parse_strict_json(data)
    if not isinstance(body, dict) or body.get("snapshot_type") != "pith_mirror_snapshot":
        raise ValueError("not a pith_mirror_snapshot")
    fmt = body.get("snapshot_format")
    if not isinstance(fmt, str) or not fmt.startswith("1."):
        raise ValueError(f"snapshot_format: {quote(fmt)} is not a format this sitegen reads (1.x)")
    version = _int(body.get("version"), "version")
    shards = body.get("shards")
    if not isinstance(shards, list):
        raise ValueError("shards: not a list")
    if len(shards) > MAX_SHARDS:
        raise ValueError(f"shards: {len(shards)} listed, more than the {MAX_SHARDS} a sitegen mirror makes")
    refs, paths, lengths = [], set(), set()
    for i, shard in enumerate(shards):
        if not isinstance(shard, dict):
            raise ValueError(f"shards[{i}]: not an object")
        path = shard.get("path")
        prefix = shard_prefix(path) if isinstance(path, str) else None
        if prefix is None or not isinstance(path, str):
            raise ValueError(f"shards[{i}].path: {quote(path)} is not a shard path of a sitegen mirror")
        if path in paths:
            raise ValueError(f"shards[{i}].path: {quote(path)} is listed twice")
        paths.add(path)
        lengths.add(len(prefix))
        if len(lengths) > 1:
            raise ValueError(f"shards[{i}].path: {quote(path)} has a prefix of another length than the shards "
                             "before it (shards of one snapshot never overlap)")
        refs.append(ShardRef(path, _hex(shard.get("sha256"), f"shards[{i}].sha256"),
                             _int(shard.get("size"), f"shards[{i}].size"), prefix))
    return Snapshot(body, version, body.get("snapshot_sha256"), body.get("generated_at"), body.get("expires"),
                    tuple(refs))


def _unsafe(path: str) -> bool:
    return (path.startswith("/") or "\\" in path or not path.isprintable()
            or any(part in ("", ".", "..") for part in path.split("/")))


def document_kind(path: str) -> tuple[str, str] | None:
    """``(kind, suffix)`` if ``path`` is the record or bundle path of a suffix."""
    m = _DOCUMENT_PATH.match(path)
    if not m:
        return None
    routes = routes_for(m.group(1))
    if path == routes.record_json:
        return "record", m.group(1)
    return ("bundle", m.group(1)) if path == routes.bundle_json else None


def parse_shard(data: bytes, prefix: str = "") -> tuple[list[Listed], list[str], int]:
    """``(documents, unsafe_paths, unsafe_count)`` of the shard of ``prefix``:
    the first :data:`MAX_REPORTED_UNSAFE` unsafe paths and how many there
    were. Raises ``ValueError`` if the shard is malformed: a path listed twice
    (threat: two sizes or hashes for one file) or a document outside the
    shard's prefix (threat: shards repeating each other)."""
    body = parse_strict_json(data)
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, list):
        raise ValueError("files: not a list")
    documents: list[Listed] = []
    unsafe: list[str] = []
    n_unsafe, seen = 0, set()
    for i, entry in enumerate(files):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ValueError(f"files[{i}]: not an object with a path")
        path = entry["path"]
        if path in seen:
            raise ValueError(f"files[{i}].path: {quote(path)} is listed twice")
        seen.add(path)
        found = document_kind(path)
        if found is not None:
            if shard_of(path, len(prefix)) != prefix:
                raise ValueError(f"files[{i}].path: {quote(path)} does not belong to the shard of prefix "
                                 f"{quote(prefix)}")
            documents.append(Listed(found[0], found[1], path, _int(entry.get("size"), f"files[{i}].size"),
                                    _hex(entry.get("sha256"), f"files[{i}].sha256")))
        elif _unsafe(path):
            n_unsafe += 1
            if len(unsafe) < MAX_REPORTED_UNSAFE:
                unsafe.append(path)
    return documents, unsafe, n_unsafe

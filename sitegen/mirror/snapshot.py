"""The mirror snapshot: what this mirror published, in one signed document.

Per-document signatures do not stop a mirror from serving old documents
(rollback), stale ones forever (freeze) or a mix of versions (mix-and-match)
(docs/protocol.md §10). Like TUF's snapshot metadata, every build
publishes at a fixed path a document listing every file of the output tree
with its size and SHA-256, a monotonically increasing version, and optionally
an Ed25519 signature by the mirror operator's key. Format (ours):

``/pith-mirror-snapshot.json``::

    {snapshot_type: "pith_mirror_snapshot", snapshot_format: "1.0", version, generated_at,
     expires (or null), base_url, generator, file_count, total_bytes, tree_sha256,
     shard_prefix_length, shards: [{prefix, path, count, size, sha256}], snapshot_sha256, signature?}

``/.well-known/pith-mirror/files-<prefix>.json`` (``files-all.json`` when one
shard suffices): files grouped by the first ``shard_prefix_length`` hex digits
of SHA-256(path), the length chosen so a shard holds about 10,000 files at most::

    {shard: prefix, files: [{path, size, sha256}, …sorted by path]}

* ``snapshot_sha256`` = SHA-256 of the canonical JSON of the snapshot without
  ``snapshot_sha256`` and ``signature``; ``signature`` is Ed25519 over its raw
  bytes (``signed_message: "snapshot_sha256_bytes"``), like Pith receipts.
* ``tree_sha256`` = SHA-256 of the canonical JSON of ``[[prefix, sha256], …]``
  of the shards, sorted by prefix: the identity of the published content (each
  shard lists its files' paths, sizes and hashes; a Merkle tree of depth two,
  so an incremental build rehashes only the shards it touched).
* ``version`` is 1 for a first build, stays the same when a rebuild publishes
  the same tree, and is the previous version + 1 otherwise — so two builds of
  the same input are byte-identical, and any change is a newer snapshot.
* The snapshot and its shards list every other file; the shards are covered by
  their hashes in the snapshot.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from sitegen import __version__
from sitegen.mirror.key import MirrorKey, public_document
from sitegen.model import FileEntry, OutputFile
from sitegen.pith import canonical, keys, shapes
from sitegen.pith.routes import check_route
from sitegen.pith.strict_json import parse_strict_json

__all__ = ["SNAPSHOT_PATH", "SHARD_DIR", "MIRROR_KEY_PATH", "SNAPSHOT_SHAPE", "SHARD_SHAPE", "shard_of",
           "prefix_length", "seal_tree", "snapshot_sha256", "tree_sha256", "parse_snapshot", "parse_shard",
           "shard_path", "MAX_SNAPSHOT_BYTES", "path_hash", "shard_file", "snapshot_file",
           "mirror_key_file"]

SNAPSHOT_PATH = "pith-mirror-snapshot.json"
SHARD_DIR = ".well-known/pith-mirror/"
MIRROR_KEY_PATH = "pith-mirror-key.json"


#: The snapshot as a reader accepts it (shape language of :mod:`sitegen.pith.shapes`):
#: exact types at every level, so a checker never indexes into a wrong type.
SNAPSHOT_SHAPE = {
    "snapshot_type": shapes.Const("pith_mirror_snapshot"),
    "snapshot_format": shapes.Const("1.0"),
    "version": int,
    "generated_at": shapes.TIMESTAMP,
    "expires": shapes.Nullable(shapes.TIMESTAMP),
    "base_url": str,
    "generator": str,
    "file_count": int,
    "total_bytes": int,
    "tree_sha256": shapes.HEX64,
    "shard_prefix_length": int,
    "shards": [{"prefix": shapes.Regex(re.compile(r"\A[0-9a-f]{0,64}\Z"), "hex digits"),
                "path": str, "count": int, "size": int, "sha256": shapes.HEX64}],
    "snapshot_sha256": shapes.HEX64,
    "signature": shapes.Opt(dict),
}
#: A shard document ``files-<prefix>.json``.
SHARD_SHAPE = {"shard": str, "files": [{"path": str, "size": int, "sha256": shapes.HEX64}]}

#: Files per shard the prefix length aims for: 1 shard up to 10k files, 16 up
#: to 160k, 256 up to 2.56M, 4096 beyond (a full arXiv mirror, ~8M files).
SHARD_TARGET = 10_000


def prefix_length(file_count: int) -> int:
    """Hex digits of SHA-256(path) that name a shard, for ``file_count`` files."""
    length = 0
    while file_count > SHARD_TARGET * 16 ** length:
        length += 1
    return length


def shard_of(path: str, length: int) -> str:
    """The shard prefix of ``path``: the first ``length`` hex digits of SHA-256(path)."""
    return hashlib.sha256(path.encode("utf-8")).hexdigest()[:length]


def snapshot_sha256(snapshot: dict[str, Any]) -> str:
    return canonical.canonical_sha256({k: v for k, v in snapshot.items() if k not in ("snapshot_sha256", "signature")})


def tree_sha256(shards: Iterable[dict[str, Any]]) -> str:
    """The tree identity from the shard descriptions (``prefix``, ``sha256``)."""
    return canonical.canonical_sha256(sorted([sh["prefix"], sh["sha256"]] for sh in shards))


#: The longest shard prefix, in hex digits: 16**4 shards of ~10,000 files cover 655M files.
MAX_PREFIX_LENGTH = 4


def path_hash(path: str) -> str:
    """The first :data:`MAX_PREFIX_LENGTH` hex digits of SHA-256(path) —
    :func:`shard_of` at its longest; the store keeps it per file."""
    return shard_of(path, MAX_PREFIX_LENGTH)


def shard_file(prefix: str, files: Iterable[tuple[str, int, str]]) -> tuple[OutputFile, dict[str, Any]]:
    """The shard document for ``files`` (``(path, size, sha256)`` sorted by
    path) and its description in the snapshot."""
    listed = [{"path": p, "size": n, "sha256": h} for p, n, h in files]
    # Canonical JSON (docs/protocol.md §1) via orjson: identical for strings and integers, 20× faster.
    data = orjson.dumps({"shard": prefix, "files": listed}, option=orjson.OPT_SORT_KEYS) + b"\n"
    path = shard_path(prefix)
    return OutputFile(path, data), {"prefix": prefix, "path": path, "count": len(listed), "size": len(data),
                                    "sha256": hashlib.sha256(data).hexdigest()}


def snapshot_file(shards: list[dict[str, Any]], *, file_count: int, total_bytes: int, length: int,
                  previous: dict[str, Any] | None, generated_at: str, base_url: str,
                  mirror_key: MirrorKey | None, valid_days: int | None) -> OutputFile:
    """``pith-mirror-snapshot.json`` for a tree described by ``shards``."""
    shards = sorted(shards, key=lambda sh: sh["prefix"])
    tree = tree_sha256(shards)
    version = 1
    if previous is not None:
        version = previous["version"] if previous.get("tree_sha256") == tree else previous["version"] + 1
    expires = None
    if valid_days is not None:
        start = datetime.strptime(generated_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        expires = (start + timedelta(days=valid_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    snapshot: dict[str, Any] = {
        "snapshot_type": "pith_mirror_snapshot",
        "snapshot_format": "1.0",
        "version": version,
        "generated_at": generated_at,
        "expires": expires,
        "base_url": base_url,
        "generator": f"sitegen {__version__}",
        "file_count": file_count,
        "total_bytes": total_bytes,
        "tree_sha256": tree,
        "shard_prefix_length": length,
        "shards": shards,
    }
    digest = snapshot_sha256(snapshot)
    snapshot["snapshot_sha256"] = digest
    if mirror_key is not None:
        snapshot["signature"] = {"key_id": mirror_key.key_id, "algorithm": "ed25519",
                                 "public_key_fingerprint": keys.key_fingerprint(mirror_key.public_key),
                                 "signature_b64": mirror_key.sign_digest(digest),
                                 "signed_message": "snapshot_sha256_bytes"}
    return OutputFile(SNAPSHOT_PATH, (json.dumps(snapshot, indent=2) + "\n").encode())


def mirror_key_file(mirror_key: MirrorKey) -> OutputFile:
    """The operator's public key document, published at ``/pith-mirror-key.json``."""
    return OutputFile(MIRROR_KEY_PATH, (json.dumps(public_document(mirror_key), indent=2) + "\n").encode())


#: Size cap for reading a snapshot or one shard (a shard lists ~10,000 files, ~1.2 MB).
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024


def shard_path(prefix: str) -> str:
    """Where the shard of ``prefix`` is published."""
    return f"{SHARD_DIR}files-{prefix or 'all'}.json"


_SHARD_PATH = re.compile(rf"\A{re.escape(SHARD_DIR)}files-(all|[0-9a-f]{{1,{MAX_PREFIX_LENGTH}}})\.json\Z")


def shard_prefix(path: str) -> str | None:
    """The inverse of :func:`shard_path`: the prefix of a shard's path, or
    None if ``path`` is not where sitegen publishes a shard."""
    m = _SHARD_PATH.match(path)
    return None if m is None else "" if m.group(1) == "all" else m.group(1)


def _first_problem(problems: list[tuple[str, str]]) -> None:
    if problems:
        field, message = problems[0]
        raise ValueError(f"{field}: {message}" if field else message)


def parse_snapshot(data: bytes) -> dict[str, Any]:
    """A snapshot document, parsed strictly and checked against
    :data:`SNAPSHOT_SHAPE`, with its shards where sitegen puts them (one
    prefix length, the path :func:`shard_path` gives) and a matching
    ``snapshot_sha256``. Raises ``ValueError`` naming the first problem. (The
    signature is :mod:`sitegen.mirror.audit`'s business.)"""
    doc: dict[str, Any] = parse_strict_json(data)
    _first_problem(shapes.validate(doc, SNAPSHOT_SHAPE))
    length = doc["shard_prefix_length"]
    if not 0 <= length <= MAX_PREFIX_LENGTH or doc["version"] < 1:
        raise ValueError("version or shard_prefix_length: out of range")
    for i, sh in enumerate(doc["shards"]):
        if len(sh["prefix"]) != length or sh["path"] != shard_path(sh["prefix"]) or min(sh["count"], sh["size"]) < 0:
            raise ValueError(f"shards[{i}]: not a shard description sitegen writes")
    if doc["snapshot_sha256"] != snapshot_sha256(doc):
        raise ValueError("snapshot_sha256: does not match the snapshot's content")
    return doc


def parse_shard(data: bytes, prefix: str) -> list[tuple[str, int, str]]:
    """The ``(path, size, sha256)`` a shard lists, checked against
    :data:`SHARD_SHAPE`: paths are routes (relative, confined,
    :func:`sitegen.pith.routes.check_route`) in the shard their hash names,
    sizes are not negative. Raises ``ValueError``."""
    doc = parse_strict_json(data)
    _first_problem(shapes.validate(doc, SHARD_SHAPE))
    if doc["shard"] != prefix:
        raise ValueError("shard: not the shard this file should hold")
    out: list[tuple[str, int, str]] = []
    for i, f in enumerate(doc["files"]):
        check_route(f["path"])
        if shard_of(f["path"], len(prefix)) != prefix or f["size"] < 0:
            raise ValueError(f"files[{i}]: listed in the wrong shard, or a negative size")
        out.append((f["path"], f["size"], f["sha256"]))
    return out


def _compact(obj: Any) -> bytes:
    return canonical.canonical_json(obj) + b"\n"


def seal_tree(entries: list[FileEntry], *, previous: dict[str, Any] | None, generated_at: str, base_url: str,
              mirror_key: MirrorKey | None, valid_days: int | None) -> list[OutputFile]:
    """The snapshot, its shards and (with a key) the public mirror key
    document, for a tree whose other files are ``entries`` (all in memory;
    a build seals from its store instead, :mod:`sitegen.build`)."""
    extra = [mirror_key_file(mirror_key)] if mirror_key is not None else []
    listed = [*entries, *(FileEntry(f.path, len(f.data), hashlib.sha256(f.data).hexdigest()) for f in extra)]
    length = prefix_length(len(listed))
    by_shard: dict[str, list[FileEntry]] = {}
    for e in listed:
        by_shard.setdefault(shard_of(e.path, length), []).append(e)
    shards, shard_files = [], []
    for prefix in sorted(by_shard):
        rows = ((e.path, e.size, e.sha256) for e in sorted(by_shard[prefix], key=lambda e: e.path))
        f, desc = shard_file(prefix, rows)
        shard_files.append(f)
        shards.append(desc)
    snap = snapshot_file(shards, file_count=len(listed), total_bytes=sum(e.size for e in listed), length=length,
                         previous=previous, generated_at=generated_at, base_url=base_url, mirror_key=mirror_key,
                         valid_days=valid_days)
    return [*extra, *shard_files, snap]

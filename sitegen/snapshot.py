"""The mirror snapshot: what this mirror published, in one signed document.

Per-document signatures do not stop a mirror from serving old documents
(rollback), stale ones forever (freeze) or a mix of versions (mix-and-match)
(REFERENCE.md, mirror security). Like TUF's snapshot metadata, every build
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
* ``tree_sha256`` = SHA-256 of the canonical JSON of the sorted
  ``[path, size, sha256]`` list: the identity of the published content.
* ``version`` is 1 for a first build, stays the same when a rebuild publishes
  the same tree, and is the previous version + 1 otherwise — so two builds of
  the same input are byte-identical, and any change is a newer snapshot.
* The snapshot and its shards list every other file; the shards are covered by
  their hashes in the snapshot.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from sitegen import __version__, protocol
from sitegen.mirrorkey import MirrorKey, public_document
from sitegen.model import FileEntry, OutputFile

__all__ = ["SNAPSHOT_PATH", "SHARD_DIR", "MIRROR_KEY_PATH", "shard_of", "prefix_length", "seal_tree",
           "snapshot_sha256", "tree_sha256", "read_previous"]

SNAPSHOT_PATH = "pith-mirror-snapshot.json"
SHARD_DIR = ".well-known/pith-mirror/"
MIRROR_KEY_PATH = "pith-mirror-key.json"


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
    return protocol.canonical_sha256({k: v for k, v in snapshot.items() if k not in ("snapshot_sha256", "signature")})


def tree_sha256(entries: Iterable[FileEntry]) -> str:
    return protocol.canonical_sha256([[e.path, e.size, e.sha256] for e in sorted(entries, key=lambda e: e.path)])


def read_previous(output_dir: Path) -> dict[str, Any] | None:
    """The snapshot the current output tree publishes, if any and readable."""
    try:
        doc = json.loads((output_dir / SNAPSHOT_PATH).read_bytes())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("version"), int) else None


def _compact(obj: Any) -> bytes:
    return protocol.canonical_json(obj) + b"\n"


def seal_tree(entries: list[FileEntry], *, previous: dict[str, Any] | None, generated_at: str, base_url: str,
              mirror_key: MirrorKey | None, valid_days: int | None) -> list[OutputFile]:
    """The snapshot, its shards and (with a key) the public mirror key
    document, for a tree whose other files are ``entries``."""
    extra: list[OutputFile] = []
    if mirror_key is not None:
        data = (json.dumps(public_document(mirror_key), indent=2) + "\n").encode()
        extra.append(OutputFile(MIRROR_KEY_PATH, data))
    listed = [*entries, *(FileEntry(f.path, len(f.data), hashlib.sha256(f.data).hexdigest()) for f in extra)]
    tree = tree_sha256(listed)
    version = 1
    if previous is not None:
        version = previous["version"] if previous.get("tree_sha256") == tree else previous["version"] + 1

    length = prefix_length(len(listed))
    by_shard: dict[str, list[FileEntry]] = {}
    for e in listed:
        by_shard.setdefault(shard_of(e.path, length), []).append(e)
    shards, shard_files = [], []
    for prefix in sorted(by_shard):
        files = sorted(by_shard[prefix], key=lambda e: e.path)
        data = _compact({"shard": prefix, "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in files]})
        path = f"{SHARD_DIR}files-{prefix or 'all'}.json"
        shard_files.append(OutputFile(path, data))
        shards.append({"prefix": prefix, "path": path, "count": len(files), "size": len(data),
                       "sha256": hashlib.sha256(data).hexdigest()})

    expires = None
    if valid_days is not None:
        start = datetime.strptime(generated_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        expires = (start + timedelta(days=valid_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    snapshot: dict[str, Any] = {
        "snapshot_type": "pith_mirror_snapshot",
        "snapshot_format": "1.0",
        "version": version,
        "generated_at": generated_at,
        "expires": expires,
        "base_url": base_url,
        "generator": f"sitegen {__version__}",
        "file_count": len(listed),
        "total_bytes": sum(e.size for e in listed),
        "tree_sha256": tree,
        "shard_prefix_length": length,
        "shards": shards,
    }
    digest = snapshot_sha256(snapshot)
    snapshot["snapshot_sha256"] = digest
    if mirror_key is not None:
        snapshot["signature"] = {"key_id": mirror_key.key_id, "algorithm": "ed25519",
                                 "public_key_fingerprint": protocol.key_fingerprint(mirror_key.public_key),
                                 "signature_b64": mirror_key.sign_digest(digest),
                                 "signed_message": "snapshot_sha256_bytes"}
    return [*extra, *shard_files, OutputFile(SNAPSHOT_PATH, (json.dumps(snapshot, indent=2) + "\n").encode())]

"""Seal stage: the mirror snapshot and its shards, made from the store's
record of every output (:mod:`sitegen.mirror.snapshot` defines the format).

A full build writes every shard; an incremental one rewrites only the shards
whose files changed (``tree_sha256`` is a hash over the shard hashes, so the
rest need no rehashing). Shards are written as they are made, never all held
in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from sitegen.build.inputs import SiteInputs
from sitegen.build.ledger import Ledger
from sitegen.build.publish import PendingSink, StagingSink
from sitegen.build.store import Store
from sitegen.mirror.snapshot import prefix_length, shard_file, shard_path, snapshot_file

__all__ = ["Seal", "seal"]


@dataclass(frozen=True)
class Seal:
    """The sealed tree: ``files`` and ``total_bytes`` of the whole tree
    (snapshot and shards included), ``snapshot`` its ``(path, sha256)``,
    ``shard_puts`` the changed shards ``(path, sha256)``, ``gone_shards``
    the shard paths no longer published, ``tree_sha256``."""

    files: int
    total_bytes: int
    snapshot: tuple[str, str]
    snapshot_changed: bool
    shard_puts: tuple[tuple[str, str], ...]
    gone_shards: tuple[str, ...]
    tree_sha256: str


def seal(inputs: SiteInputs, store: Store, ledger: Ledger, sink: StagingSink | PendingSink, *,
         previous: dict[str, Any] | None, build_time: str, published_snapshot_sha: str | None) -> Seal:
    """Write the shards and the snapshot through ``sink``; record the shard
    table and the fingerprints in the store (committed by the caller)."""
    s = inputs.settings
    count, total_bytes = store.output_totals()
    length = prefix_length(count)
    old_length = int(store.meta("shard_length", "-1") or "-1")
    old_shards = store.shards()
    incremental = ledger.tracks_changes and length == old_length
    shard_puts: list[tuple[str, str]] = []
    groups: Iterator[tuple[str, Iterator[tuple[str, int, str]]]]
    if incremental:
        affected = sorted({h[:length] for h in ledger.changed_hashes})
        store.forget_shards(affected)
        groups = ((p, iter(store.shard_rows(p))) for p in affected)
    else:
        store.forget_shards()
        groups = store.seal_rows(length)
    for prefix, rows in groups:
        listed = list(rows)
        if not listed:
            continue
        f, desc = shard_file(prefix, listed)
        store.remember_shard(prefix, desc["count"], sum(r[1] for r in listed), desc["size"], desc["sha256"])
        old = old_shards.get(prefix)
        entry = sink.put(f.path, f.data, old[3] if old and ledger.tracks_changes else None)
        if ledger.tracks_changes and (old is None or old[3] != entry.sha256):
            shard_puts.append((f.path, entry.sha256))
    shards: list[dict[str, Any]] = [{"prefix": p, "path": shard_path(p), "count": c, "size": z, "sha256": h}
              for p, (c, _, z, h) in sorted(store.shards().items())]
    snap = snapshot_file(shards, file_count=count, total_bytes=total_bytes, length=length, previous=previous,
                         generated_at=build_time, base_url=s.base_url, mirror_key=inputs.mirror_key,
                         valid_days=s.snapshot_valid_days)
    snap_entry = sink.put(snap.path, snap.data, published_snapshot_sha)
    tree = orjson.loads(snap.data)["tree_sha256"]
    fps = inputs.fingerprints
    store.set_meta(tree_sha256=tree, shard_length=str(length), record_fp=fps.record, alias_fp=fps.alias,
                   listing_fp=fps.listing, keys_fp=orjson.dumps(fps.keys).decode())
    new_prefixes = {sh["prefix"] for sh in shards}
    gone = tuple(shard_path(p) for p in old_shards if p not in new_prefixes)
    return Seal(count + len(shards) + 1, total_bytes + sum(sh["size"] for sh in shards) + len(snap.data),
                (snap.path, snap_entry.sha256), snap_entry.sha256 != published_snapshot_sha, tuple(shard_puts),
                gone, tree)

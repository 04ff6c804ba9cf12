"""The build store: what the last successful build verified and published,
kept in SQLite (stdlib) beside the output tree so the next build redoes only
what changed (docs/scaling.md).

Plain data only — text, integers and JSON; never pickle. Tables:

* ``meta(key, value)`` — store format, sitegen version, output directory, the
  ``tree_sha256`` and ``version`` of the snapshot it describes, fingerprints.
* ``sources(path, sig, sha256, suffix, key_ids)`` — one row per content file:
  its stat signature (size, mtime, ctime, inode), the SHA-256 of its bytes,
  the suffix it claims and the key ids it names.
* ``entries(suffix, inputs, summary, submitted_at, arxiv_id, version)`` — one
  row per published Pith Number: the fingerprint of everything its files were
  made from, and its :class:`~sitegen.summary.Summary` as JSON.
* ``facets(facet, submitted_at, suffix)`` — listing memberships
  (``year/2024``, ``category/cs.LG``).
* ``outputs(path, owner, size, sha256, shard)`` — every published file and what
  made it (a suffix, ``alias:<path>``, ``facet:<name>``, ``site``).
* ``shards(prefix, count, bytes, size, sha256)`` — the snapshot shards.

:func:`open_store` returns an empty store — and says why — when the file is
missing, damaged (``sqlite3.DatabaseError`` on opening; damage found later
makes :mod:`sitegen.build` start over with a full build), of
another format or sitegen version, made for another output directory, or
describes another tree than the one published: a cache is never trusted
blindly, it is rebuilt.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sitegen import __version__

__all__ = ["Store", "open_store", "STORE_FORMAT", "cache_dir_for"]

STORE_FORMAT = "sitegen-store-2"

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(path TEXT PRIMARY KEY, sig TEXT NOT NULL, sha256 TEXT NOT NULL,
                     suffix TEXT, key_ids TEXT NOT NULL);
CREATE TABLE entries(suffix TEXT PRIMARY KEY, inputs TEXT NOT NULL, summary BLOB NOT NULL,
                   submitted_at TEXT NOT NULL, arxiv_id TEXT NOT NULL, version INTEGER NOT NULL,
                   updated_at TEXT NOT NULL);
CREATE TABLE facets(facet TEXT NOT NULL, submitted_at TEXT NOT NULL, suffix TEXT NOT NULL);
CREATE TABLE outputs(path TEXT PRIMARY KEY, owner TEXT NOT NULL, size INTEGER NOT NULL,
                     sha256 TEXT NOT NULL, shard TEXT NOT NULL);
CREATE TABLE shards(prefix TEXT PRIMARY KEY, count INTEGER NOT NULL, bytes INTEGER NOT NULL,
                    size INTEGER NOT NULL, sha256 TEXT NOT NULL);
"""

#: Secondary indexes, created after a full build's bulk insert (faster than
#: maintaining them row by row).
_INDEXES = """
CREATE INDEX IF NOT EXISTS units_newest ON entries(submitted_at DESC, suffix DESC);
CREATE INDEX IF NOT EXISTS units_arxiv ON entries(arxiv_id, version);
CREATE INDEX IF NOT EXISTS facets_order ON facets(facet, submitted_at DESC, suffix DESC);
CREATE INDEX IF NOT EXISTS facets_suffix ON facets(suffix);
CREATE INDEX IF NOT EXISTS outputs_owner ON outputs(owner);
CREATE INDEX IF NOT EXISTS outputs_shard ON outputs(shard, path);
"""


def cache_dir_for(output_dir: Path) -> Path:
    """Where the store, the search stubs and the write journal live: a hidden
    directory beside the output tree (never inside it, so never published)."""
    output_dir = output_dir.absolute()
    return output_dir.parent / f".{output_dir.name}.sitegen-cache"


@dataclass
class Store:
    """An open store. ``reused`` is False for a new, empty store; ``reason``
    then says why the previous one was not used."""

    db: sqlite3.Connection
    path: Path
    reused: bool
    reason: str

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, **values: str) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    def create_indexes(self) -> None:
        for statement in _INDEXES.strip().split(";"):
            if statement.strip():
                self.db.execute(statement)

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.close()


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level="DEFERRED")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache, bounded whatever the site size
    db.execute("PRAGMA temp_store = FILE")
    return db


def _new(path: Path, identity: dict[str, str], reason: str) -> Store:
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
    db = _connect(path)
    db.executescript(_SCHEMA)
    store = Store(db, path, reused=False, reason=reason)
    store.set_meta(**identity)
    db.commit()
    return store


def open_store(path: Path, *, output_dir: Path, published_tree: str | None, discard: str | None = None) -> Store:
    """Open the store at ``path`` for a build of ``output_dir`` whose published
    snapshot has ``tree_sha256 == published_tree`` (None: nothing published).
    ``discard``: start empty anyway, for this reason. Never raises for a bad
    store: it is replaced by an empty one."""
    identity = {"format": STORE_FORMAT, "sitegen": __version__, "output_dir": str(output_dir.absolute())}
    if discard:
        return _new(path, identity, discard)
    if not path.exists():
        return _new(path, identity, "no cache yet")
    try:
        db = _connect(path)  # no quick_check: it reads the whole file (5 s at 100k records);
        found = dict(db.execute("SELECT key, value FROM meta").fetchall())  # damage found later restarts the build
    except sqlite3.DatabaseError as e:
        try:
            db.close()
        except Exception:  # noqa: BLE001 - a damaged handle; we are replacing it
            pass
        return _new(path, identity, f"cache is damaged ({e}); rebuilt")
    for key, want in identity.items():
        if found.get(key) != want:
            db.close()
            return _new(path, identity, f"cache was made for {key} {found.get(key)!r}, not {want!r}; rebuilt")
    if published_tree is None or found.get("tree_sha256") != published_tree:
        db.close()
        return _new(path, identity, "cache does not describe the published tree; rebuilt")
    return Store(db, path, reused=True, reason="")

"""The ledger: which files each *owner* (a Pith Number, a listing page, a
shard of the alias maps or of the search index, a sitemap part, the site; an
alias cluster with ``alias_pages = true``) publishes, kept in the build store —
and, for an incremental build, the changes to apply.

One type, two constructors: :meth:`Ledger.full` records what a complete new
tree holds; :meth:`Ledger.incremental` also compares each owner's files with
what it published before and queues the paths to put and to delete.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from sitegen.build.store import Store
from sitegen.errors import ConfigError
from sitegen.mirror.snapshot import path_hash
from sitegen.model import FileEntry

__all__ = ["Ledger"]


class Ledger:
    """Output bookkeeping for one build (see the module docstring)."""

    def __init__(self, store: Store, *, incremental: bool) -> None:
        self.store = store
        self.tracks_changes = incremental
        self.puts: list[tuple[str, str]] = []  # (path, sha256) to move into place, in order
        self.deletes: list[str] = []
        self.changed_hashes: set[str] = set()  # path_hash of every put or deleted path
        self.released: set[str] = set()  # every path an owner published before this build

    @classmethod
    def full(cls, store: Store) -> Ledger:
        return cls(store, incremental=False)

    @classmethod
    def incremental(cls, store: Store) -> Ledger:
        return cls(store, incremental=True)

    def release(self, owner: str) -> list[tuple[str, str]]:
        """Forget what ``owner`` published (``(path, sha256)``), to be claimed again."""
        if not self.tracks_changes:
            return []
        old = self.store.release_outputs(owner)
        self.released.update(path for path, _ in old)
        return old

    def fresh(self, puts: Iterable[tuple[str, str]]) -> frozenset[str]:
        """The paths among ``puts`` that no owner published before this build."""
        return frozenset(path for path, _ in puts if path not in self.released)

    def drop(self, old: Iterable[tuple[str, str]]) -> None:
        """Files no owner publishes any more."""
        if not self.tracks_changes:
            return
        for path, _ in old:
            self.deletes.append(path)
            self.changed_hashes.add(path_hash(path))

    def claim(self, owner: str, files: Iterable[FileEntry], old: Iterable[tuple[str, str]] = ()) -> None:
        """Record that ``owner`` publishes ``files``; for an incremental build,
        queue the changed ones and drop what ``owner`` published before
        (``old``) and no longer does. Raises :class:`ConfigError` when a path
        is claimed twice (a static file colliding with a generated one)."""
        old_map = dict(old)
        rows = []
        for f in files:
            rows.append((f.path, owner, f.size, f.sha256, path_hash(f.path)))
            if self.tracks_changes and old_map.pop(f.path, None) != f.sha256:
                self.puts.append((f.path, f.sha256))
                self.changed_hashes.add(path_hash(f.path))
        self.drop(old_map.items())
        try:
            self.store.add_outputs(rows)
        except sqlite3.IntegrityError:
            seen: set[str] = set()
            for row in rows:
                other = self.store.owner_of(row[0])
                if row[0] in seen or (other is not None and other != owner):
                    raise ConfigError(f"{row[0]}: two files map to this output path (a static file collides "
                                      "with a generated page or document)") from None
                seen.add(row[0])
            raise

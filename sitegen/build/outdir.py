"""The output directory is the user's: sitegen edits only a tree it made, and
never deletes what it did not write.

* **Ownership.** A tree sitegen made publishes ``pith-mirror-snapshot.json``
  (a snapshot sitegen can parse, :func:`sitegen.mirror.snapshot.parse_snapshot`).
  An output directory that exists, is not empty, and has no such snapshot is
  refused with a message naming it — unless the user passes ``--force``. A
  directory holding only ``.git`` (a fresh ``git worktree`` for gh-pages) is
  treated as empty.
* **What sitegen wrote** is what the published snapshot lists (plus the
  snapshot and its shards). Everything else in the output directory — ``.git``,
  a ``CNAME``, notes — is *foreign*: every build leaves it in place. An
  incremental build only touches the paths it publishes; a full build swaps a
  new tree in and then :func:`retire_tree` moves each foreign file of the old
  tree into the new one (same path) and deletes the rest — a file only if
  its bytes are the ones the snapshot lists (size and SHA-256), so a forged
  snapshot cannot make a build delete the user's files. A foreign file whose
  path the new tree needs for itself is kept aside in the cache (``kept/``,
  under a free name: nothing kept earlier is replaced) with a warning, never
  deleted; so is one an incremental build finds where a new page goes
  (:mod:`sitegen.build.publish`). Sitegen owns the paths its snapshot lists:
  an incremental build writes over those.
* **Leftovers** are recognised by the exact names sitegen gives them
  (``.<out>.staging-<pid>``, ``.<out>.old-<pid>``); a staging tree is deleted
  only if it holds its marker or nothing at all.
* **Recovery.** :class:`OutputDirectory` takes the lock (one build per output
  directory) and repairs what a killed build left: a staging tree that was
  never published (it holds :data:`STAGING_MARKER`) is deleted; an old tree
  that was swapped out but not yet retired is retired now; an incremental
  apply that did not finish (its marker :data:`JOURNAL` is in the cache) makes
  this build a full one. Nothing in the cache or the old tree is trusted: the
  journal is never replayed, its paths are only used to recognise sitegen's
  own files, and a damaged snapshot means "nothing here is sitegen's" (so
  nothing is deleted).

Raises :class:`~sitegen.errors.WriteError` / :class:`~sitegen.errors.ConfigError`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from sitegen.errors import ConfigError, InputError, WriteError, os_problem, safe_text
from sitegen.mirror.snapshot import MAX_SNAPSHOT_BYTES, SNAPSHOT_PATH, parse_shard, parse_snapshot
from sitegen.pith.routes import check_route
from sitegen.reader import read_untrusted

__all__ = ["OutputDirectory", "OutputState", "retire_tree", "read_snapshot", "kept_aside", "STAGING_MARKER",
           "JOURNAL"]

#: A file in every staging tree, removed once it is published: a leftover
#: tree holding it was never published and is deleted whole.
STAGING_MARKER = ".sitegen-staging"
#: The marker of an incremental apply in progress (in the cache directory).
JOURNAL = "journal.json"
#: Entries a directory may hold and still count as empty for a first build.
_VCS_ONLY = frozenset({".git"})


def read_snapshot(tree: Path) -> tuple[dict[str, Any], str] | None:
    """The snapshot ``tree`` publishes, strictly parsed, and the SHA-256 of
    its bytes; None if missing, unreadable, a symlink, or not what sitegen writes."""
    try:
        data = read_untrusted(tree / SNAPSHOT_PATH, root=tree, max_bytes=MAX_SNAPSHOT_BYTES, rel=SNAPSHOT_PATH,
                              root_name="the output directory")
        return parse_snapshot(data), hashlib.sha256(data).hexdigest()
    except (InputError, ValueError):
        return None


@dataclass(frozen=True)
class OutputState:
    """What the lock-holder found: ``previous`` (the published snapshot, or
    None) and ``previous_sha256`` (of its bytes), ``interrupted`` (why the
    tree may be mixed, forcing a full build), ``warnings`` (files kept aside
    while repairing)."""

    previous: dict[str, Any] | None
    previous_sha256: str | None
    interrupted: str | None
    warnings: tuple[str, ...] = field(default=())


class OutputDirectory:
    """The exclusive right to change ``out`` (a POSIX ``lockf`` on a file
    beside it), with recovery and the ownership check done on entry; see the
    module docstring. A POSIX lock, not ``flock``: worker processes forked by
    the build do not inherit it, so a build killed with SIGKILL releases it
    at once even while a worker of it is still finishing a batch."""

    def __init__(self, out: Path, cache: Path, *, force: bool) -> None:
        self.out, self.cache, self.force = out.absolute(), cache, force
        self._lock: IO[str] | None = None

    def __enter__(self) -> OutputState:
        parent, name = self.out.parent, self.out.name
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.cache.mkdir(parents=True, exist_ok=True)
            self._lock = open(parent / f".{name}.lock", "a")
        except FileExistsError as e:  # mkdir(exist_ok=True) found a file where a directory must be
            raise WriteError(f"{safe_text(str(e.filename or parent))}: is a file, not a directory — move it, or "
                             "choose another output directory") from e
        except OSError as e:
            raise WriteError(f"{parent}: cannot prepare the output directory: {os_problem(e)}") from e
        try:
            fcntl.lockf(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            self._release()
            raise WriteError(f"{self.out}: another sitegen build is writing it") from e
        try:
            return self._enter()
        except BaseException:
            self._release()
            raise

    def __exit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _enter(self) -> OutputState:
        out = self.out
        if out.is_symlink():
            raise ConfigError(f"{out}: the output directory is a symlink; pass the real directory with -o")
        if os.path.lexists(out) and not out.is_dir():
            raise ConfigError(f"{out}: exists and is not a directory")
        try:
            warnings = self._recover()
        except OSError as e:
            raise WriteError(f"{out}: cannot repair an interrupted build: {os_problem(e)}") from e
        interrupted = self._interrupted_apply()
        found = read_snapshot(out) if out.is_dir() else None
        if found is None and out.is_dir() and not self.force:
            foreign = sorted(n for n in os.listdir(out) if n not in _VCS_ONLY)
            if foreign:
                shown = ", ".join(safe_text(n, 40) for n in foreign[:5]) + (", …" if len(foreign) > 5 else "")
                raise ConfigError(
                    f"{out}: this directory was not made by sitegen (it has no readable pith-mirror-snapshot.json) "
                    f"and holds {len(foreign)} {'entry' if len(foreign) == 1 else 'entries'} ({shown}). "
                    "Choose an empty or new output directory with -o, or pass --force to publish into it: "
                    "sitegen then keeps every file it did not write, except ones at paths the mirror needs.")
        previous, sha = found if found else (None, None)
        return OutputState(previous, sha, interrupted, tuple(warnings))

    def _recover(self) -> list[str]:
        out, parent, name = self.out, self.out.parent, self.out.name
        warnings: list[str] = []
        # Only the exact names sitegen gives its trees (a user's `.site.old-notes` is not one).
        ours = re.compile(rf"\.{re.escape(name)}\.(old|staging)-[0-9]+")
        leftovers = sorted((m.group(1), parent / n) for n in os.listdir(parent) if (m := ours.fullmatch(n)))
        olds = [path for kind, path in leftovers if kind == "old"]
        if not os.path.lexists(out) and olds:  # an interrupted two-rename swap: restore the old tree
            os.rename(olds[-1], out)
            olds = olds[:-1]
        if out.is_dir() and os.path.lexists(out / STAGING_MARKER):
            os.unlink(out / STAGING_MARKER)  # published, then killed before the marker was removed
        for leftover in [path for kind, path in leftovers if kind == "staging"]:
            if os.path.lexists(leftover / STAGING_MARKER) or not os.listdir(leftover):
                shutil.rmtree(leftover, ignore_errors=True)  # never published
            elif out.is_dir():
                olds.append(leftover)  # swapped out, not yet retired
            else:
                warnings.append(f"{leftover}: left as it is — it looks like a sitegen tree but holds no "
                                "staging marker, and there is no output directory to retire it into")
        for old in olds:
            warnings += retire_tree(old, out, self.cache)
        return warnings

    def _interrupted_apply(self) -> str | None:
        journal = self.cache / JOURNAL
        if not os.path.lexists(journal):
            return None
        _journal_paths(self.cache)  # validated now; read again when the old tree is retired
        return "an earlier incremental build was interrupted while publishing; rebuilt in full"


def _journal_paths(cache: Path) -> frozenset[str]:
    """Paths an interrupted apply may have written (they are sitegen's, not
    foreign). The journal is untrusted: anything malformed yields none."""
    try:
        data = read_untrusted(cache / JOURNAL, root=cache, max_bytes=256 * 1024 * 1024, rel=JOURNAL,
                              root_name="the build cache")
        doc = orjson.loads(data)
        paths = doc["paths"] if isinstance(doc, dict) and doc.get("journal") == "sitegen-apply-1" else None
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            return frozenset()
        return frozenset(check_route(p) for p in paths)
    except (InputError, ValueError, KeyError, orjson.JSONDecodeError):
        return frozenset()


class _Listing:
    """Which paths a (retired) tree's own snapshot says sitegen wrote. Shards
    are loaded on the first question only, into a temporary SQLite table
    (memory stays flat at any size); a snapshot or shard that does not parse
    or does not match its hash makes the answer "not sitegen's" everywhere."""

    def __init__(self, tree: Path, cache: Path, extra: frozenset[str]) -> None:
        self.tree, self.cache, self.extra = tree, cache, extra
        found = read_snapshot(tree)
        self.snapshot = found[0] if found else None
        self.meta = {SNAPSHOT_PATH} | ({sh["path"] for sh in self.snapshot["shards"]} if self.snapshot else set())
        self._db: sqlite3.Connection | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._broken = self.snapshot is None

    def _load(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="listing-", dir=self.cache)
        self._db = sqlite3.connect(Path(self._tmp.name) / "listing.sqlite")
        self._db.execute("CREATE TABLE listed(path TEXT PRIMARY KEY, size INTEGER, sha256 TEXT)")
        assert self.snapshot is not None
        for sh in self.snapshot["shards"]:
            try:
                data = read_untrusted(self.tree / sh["path"], root=self.tree, max_bytes=MAX_SNAPSHOT_BYTES,
                                      rel=sh["path"], root_name="the old tree")
                if hashlib.sha256(data).hexdigest() != sh["sha256"]:
                    raise ValueError("shard does not match its hash")
                rows = parse_shard(data, sh["prefix"])
            except (InputError, ValueError):
                self._broken = True
                return
            self._db.executemany("INSERT OR IGNORE INTO listed VALUES (?, ?, ?)", rows)

    def _listed(self, rel: str) -> tuple[int, str] | None:
        if self._db is None:
            self._load()
            if self._broken or self._db is None:
                return None
        row = self._db.execute("SELECT size, sha256 FROM listed WHERE path = ?", (rel,)).fetchone()
        return (row[0], row[1]) if row else None

    def ours(self, rel: str) -> bool:
        """True if the snapshot (or the journal) names ``rel``."""
        if rel in self.extra:
            return True
        if self._broken:
            return False
        return rel in self.meta or self._listed(rel) is not None

    def wrote(self, rel: str, st: os.stat_result) -> bool:
        """True if ``rel`` (``st``: its ``lstat``) is a file sitegen wrote: a
        regular file the snapshot lists with these very bytes (size, then
        SHA-256), a snapshot file, or a path the journal names. A listed path
        holding other bytes is not sitegen's (threat: a forged snapshot
        listing the user's ``CNAME`` to have a build delete it)."""
        if rel in self.extra:
            return True
        if self._broken:
            return False
        if rel in self.meta:
            return True
        listed = self._listed(rel)
        if listed is None or not stat.S_ISREG(st.st_mode) or st.st_size != listed[0]:
            return False
        try:
            data = read_untrusted(self.tree / rel, root=self.tree, max_bytes=listed[0], rel=rel,
                                  root_name="the old tree")
        except InputError:
            return False
        return hashlib.sha256(data).hexdigest() == listed[1]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def retire_tree(old: Path, new: Path, cache: Path) -> list[str]:
    """Retire the swapped-out tree ``old``: move every file sitegen did not
    write into ``new`` at the same path, delete the rest, then remove ``old``.
    Idempotent (a killed retirement is finished by the next build). Returns
    warnings for foreign files kept aside in ``cache/kept/``. Raises ``OSError``."""
    listing = _Listing(old, cache, _journal_paths(cache))
    warnings: list[str] = []
    try:
        top = sorted(os.listdir(old))
        # Foreign dot-entries first (sitegen writes no dot names but these): .git is back at once.
        first = [n for n in top if n.startswith(".") and n not in (".well-known", ".nojekyll", STAGING_MARKER)]
        last = [n for n in (".well-known", SNAPSHOT_PATH) if n in top]  # the listing itself goes last
        rest = [n for n in top if n not in first and n not in last]
        for name in first + rest + last:
            _retire_entry(old, new, name, listing, cache, warnings)
    finally:
        listing.close()
    shutil.rmtree(old, ignore_errors=True)
    return warnings


def _lexists(path: Path) -> bool:
    return os.path.lexists(path)


def _same_inode(path: Path, st: os.stat_result) -> bool:
    try:
        other = os.lstat(path)
    except OSError:
        return False
    return (other.st_ino, other.st_dev) == (st.st_ino, st.st_dev)


def _all_foreign(old: Path, rel: str, listing: _Listing) -> bool:
    for folder, dirs, files in os.walk(old / rel):
        base = Path(folder).relative_to(old).as_posix()
        for name in files + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            if listing.ours(f"{base}/{name}"):
                return False
    return True


def _retire_entry(old: Path, new: Path, rel: str, listing: _Listing, cache: Path, warnings: list[str]) -> None:
    source = old / rel
    st = os.lstat(source)
    if stat.S_ISDIR(st.st_mode):
        target = new / rel
        if not _lexists(target) and ((rel.startswith(".") and rel != ".well-known") or _all_foreign(old, rel, listing)):
            _place(source, new, rel, cache, warnings)  # a whole foreign directory, in one rename
            return
        names = sorted(os.listdir(source))
        if rel == ".well-known" and "pith-mirror" in names:  # the shards the listing reads go last
            names = [n for n in names if n != "pith-mirror"] + ["pith-mirror"]
        for name in names:
            _retire_entry(old, new, f"{rel}/{name}", listing, cache, warnings)
        return
    if rel == STAGING_MARKER or _same_inode(new / rel, st) or listing.wrote(rel, st):
        os.unlink(source)  # sitegen's own file (linked into the new tree when unchanged)
        return
    _place(source, new, rel, cache, warnings)


def kept_aside(cache: Path, rel: str) -> Path:
    """A free place for a foreign entry of path ``rel`` in ``cache/kept/``:
    ``kept/<rel>``, or ``<rel>.1``, ``.2``… when that is taken, flattened
    (``a%2Fb``) when a file blocks its folder — never over anything kept before."""
    kept = cache / "kept"
    candidate = kept / rel
    try:
        candidate.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        kept.mkdir(parents=True, exist_ok=True)
        candidate = kept / rel.replace("/", "%2F")
    base, n = candidate, 1
    while os.path.lexists(candidate):
        candidate = base.with_name(f"{base.name}.{n}")
        n += 1
    return candidate


def _place(source: Path, new: Path, rel: str, cache: Path, warnings: list[str]) -> None:
    """Move a foreign entry into the new tree, or aside when its path is taken."""
    target = new / rel
    parent = target.parent
    try:
        for ancestor in reversed([parent, *parent.parents]):  # never through a symlink or a file
            if ancestor == new or new not in ancestor.parents:
                continue
            if _lexists(ancestor) and (ancestor.is_symlink() or not ancestor.is_dir()):
                raise NotADirectoryError(rel)
        parent.mkdir(parents=True, exist_ok=True)
        if _lexists(target):
            raise FileExistsError(rel)
        os.rename(source, target)
    except (NotADirectoryError, FileExistsError):
        aside = kept_aside(cache, rel)
        os.rename(source, aside)
        warnings.append(f"{safe_text(rel)}: a file sitegen did not write was in the way of the new tree; "
                        f"kept at {aside}")

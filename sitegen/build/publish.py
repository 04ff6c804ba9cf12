"""Publication: the sinks workers write through, and the two ways a verified
build becomes the published tree — one type, two constructors.

* :meth:`Publisher.full` — every file is written into a new staging tree
  beside the output directory (unchanged files hard-linked from the
  published tree, keeping their inode and mtime); the staging tree is swapped
  in with one ``renameat2(RENAME_EXCHANGE)``, so readers see the complete old
  tree or the complete new one; then the old tree is retired
  (:func:`sitegen.build.outdir.retire_tree`): files sitegen did not write are
  moved into the new tree, the rest deleted.
* :meth:`Publisher.incremental` — only changed files are staged,
  content-addressed, in the cache; the apply moves them in one ``rename()``
  each — leaf files first, then index pages, the snapshot shards, the
  snapshot, and the deletions last — so a reader sees every file whole, and
  an index never points at a file that is not there yet. A marker written
  before the first change makes the next build, if this one is killed mid-way,
  a full one (it is never replayed: the cache is untrusted).

Nothing is published before every document verified. Every write into the
published tree goes through :class:`~sitegen.build.safetree.SafeTree` (no
symlink is followed); paths are checked lexically first
(:func:`check_output_path`). Raises :class:`~sitegen.errors.WriteError` for
an OS error, :class:`~sitegen.build.safetree.TreeAltered` when the published
tree holds a symlink where sitegen keeps a directory.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

from sitegen.build.outdir import JOURNAL, STAGING_MARKER, kept_aside, retire_tree
from sitegen.build.safetree import SafeTree, TreeAltered
from sitegen.errors import ConfigError, WriteError, os_problem, quote, safe_text
from sitegen.model import FileEntry
from sitegen.pith.routes import check_route

__all__ = ["WriteStats", "SinkSpec", "StagingSink", "PendingSink", "Publisher", "exchange"]

_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class WriteStats:
    """What a publish did: files written anew, files kept (hard-linked or
    untouched: unchanged bytes and mtime), and total bytes of the tree."""

    written: int
    unchanged: int
    total_bytes: int


def _checked(rel: str) -> str:
    try:
        return check_route(rel)
    except ValueError as e:
        raise RuntimeError(f"refusing to write {quote(rel)}: {e}") from None  # a bug: routes validate


@dataclass(frozen=True)
class SinkSpec:
    """How a process writes its files (picklable, handed to workers):
    ``staging`` (a complete new tree in ``target``) or ``pending`` (changed
    files only, content-addressed, in ``target``); ``published`` is the tree
    unchanged files are linked from."""

    kind: str
    target: Path
    published: Path

    def open(self) -> StagingSink | PendingSink:
        return StagingSink(self.target, self.published) if self.kind == "staging" else \
            PendingSink(self.target, self.published)


class StagingSink:
    """Writes a complete tree into ``staging``. A file whose bytes equal the
    published one (``old_sha256`` when the caller knows it, else compared byte
    for byte) is hard-linked from ``published`` — opened without following any
    symlink, and only if it is a regular file. Safe from several processes at
    once on disjoint paths. Raises :class:`ConfigError` when a path is written
    twice and :class:`WriteError` for an OS error."""

    def __init__(self, staging: Path, published: Path) -> None:
        self.staging, self.published = staging, published
        self.made_dirs: set[str] = set()
        self.written = self.unchanged = self.total = 0
        self._old: SafeTree | None = None
        self._old_missing = False

    def _old_tree(self) -> SafeTree | None:
        if self._old is None and not self._old_missing:
            try:
                self._old = SafeTree(self.published)
            except (OSError, TreeAltered):
                self._old_missing = True
        return self._old

    def put(self, rel: str, data: bytes, old_sha256: str | None = None) -> FileEntry:
        rel = _checked(rel)
        sha = hashlib.sha256(data).hexdigest()
        target = self.staging / rel
        folder = rel.rpartition("/")[0]
        try:
            if folder and folder not in self.made_dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                self.made_dirs.add(folder)
            if not self._link_unchanged(rel, target, data, old_sha256 == sha):
                with open(target, "xb") as out:
                    out.write(data)
                self.written += 1
        except FileExistsError:
            raise ConfigError(f"{rel}: two files map to this output path (a static file "
                              "collides with a generated page or document)") from None
        except OSError as e:
            raise WriteError(f"{self.published}: cannot write {rel}: {os_problem(e)}; "
                             "the published tree is unchanged") from e
        self.total += len(data)
        return FileEntry(rel, len(data), sha)

    def _link_unchanged(self, rel: str, target: Path, data: bytes, known_same: bool) -> bool:
        """Hard-link the published file at ``rel`` to ``target`` if it is a
        regular file holding exactly ``data``; False when it is not."""
        tree = self._old_tree()
        if tree is None:
            return False
        try:
            folder_fd, name = tree.split(rel)
            if folder_fd is None:
                return False
            fd = os.open(name, _FILE_FLAGS, dir_fd=folder_fd)
        except (OSError, TreeAltered):
            return False
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
                return False
            if not known_same:
                with os.fdopen(os.dup(fd), "rb") as f:
                    if f.read(len(data) + 1) != data:
                        return False
            try:
                os.link(name, target, src_dir_fd=folder_fd, follow_symlinks=False)
            except FileNotFoundError:
                return False
            if os.lstat(target).st_ino != st.st_ino:  # swapped under us: write it fresh instead
                os.unlink(target)
                return False
        finally:
            os.close(fd)
        self.unchanged += 1
        return True


class PendingSink:
    """For an incremental build: stores only the files whose bytes differ from
    the published ones, content-addressed (``pending/<sha256>``), for the
    apply to move into place. Raises :class:`WriteError`."""

    def __init__(self, pending: Path, published: Path) -> None:
        self.pending, self.published = pending, published
        self.written = self.unchanged = self.total = 0

    def put(self, rel: str, data: bytes, old_sha256: str | None = None) -> FileEntry:
        rel = _checked(rel)
        sha = hashlib.sha256(data).hexdigest()
        self.total += len(data)
        if sha == old_sha256:
            self.unchanged += 1
            return FileEntry(rel, len(data), sha)
        try:
            with open(self.pending / sha, "xb") as out:
                out.write(data)
        except FileExistsError:
            pass  # same bytes already pending for another path
        except OSError as e:
            raise WriteError(f"{self.published}: cannot stage {rel}: {os_problem(e)}; "
                             "the published tree is unchanged") from e
        self.written += 1
        return FileEntry(rel, len(data), sha)


def exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two directories (Linux ``renameat2``); False if
    the OS cannot. Raises ``OSError`` for another failure."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


#: Paths sitegen never writes: a deletion of one is refused whatever the
#: cache says (threat: a forged cache row deleting ``.git``).
_NEVER_OURS = re.compile(r"\A\.(?!well-known/|nojekyll\Z)")


class Publisher:
    """Publishes one build; made by :meth:`full` or :meth:`incremental`.

    ``sink`` is what this process writes through, ``spec`` what workers
    open; :meth:`publish` makes the verified tree the published one."""

    def __init__(self, kind: str, out: Path, cache: Path, target: Path) -> None:
        self.kind, self.out, self.cache, self.target = kind, out, cache, target
        self.spec = SinkSpec("staging" if kind == "full" else "pending", target, out)
        self.sink = self.spec.open()

    @classmethod
    def full(cls, out: Path, cache: Path) -> Publisher:
        """A new staging tree beside ``out`` (holding :data:`STAGING_MARKER`)."""
        out = out.absolute()
        staging = out.parent / f".{out.name}.staging-{os.getpid()}"
        try:
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir()
            (staging / STAGING_MARKER).write_bytes(b"")
        except OSError as e:
            raise WriteError(f"{staging.parent}: cannot create a staging directory: {os_problem(e)}") from e
        return cls("full", out, cache, staging)

    @classmethod
    def incremental(cls, out: Path, cache: Path) -> Publisher:
        """A fresh ``pending/`` directory in the cache for changed files."""
        pending = cache / "pending"
        try:
            shutil.rmtree(pending, ignore_errors=True)
            pending.mkdir()
        except OSError as e:
            raise WriteError(f"{cache}: cannot prepare the build cache: {os_problem(e)}") from e
        return cls("incremental", out.absolute(), cache, pending)

    @property
    def is_full(self) -> bool:
        return self.kind == "full"

    def abandon(self) -> None:
        """Remove what this build staged, if it was not published: a staging
        tree that lost its marker has been swapped in (the old tree is at its
        path now) and is left for the next build to retire."""
        if not self.is_full or os.path.lexists(self.target / STAGING_MARKER):
            shutil.rmtree(self.target, ignore_errors=True)

    def publish(self, puts: Iterable[tuple[str, str]] = (), deletes: Iterable[str] = (),
                snapshot: tuple[str, str] | None = None, fresh: frozenset[str] = frozenset()) -> list[str]:
        """Make the staged tree the published one. For an incremental build,
        ``puts`` are ``(path, sha256)`` staged in ``pending/`` (leaves first,
        in the order to apply), ``snapshot`` the snapshot's ``(path, sha256)``,
        ``deletes`` the paths sitegen no longer publishes, ``fresh`` the puts
        at paths the published tree does not list (whatever stands there is
        not sitegen's, and is kept aside). Returns warnings (files kept
        aside). Raises :class:`WriteError`, :class:`TreeAltered` (before
        anything changed)."""
        if self.is_full:
            warnings = _swap_in(self.target, self.out, self.cache)
            # An interrupted apply's marker is done with: the new tree replaced the mixed one.
            (self.cache / JOURNAL).unlink(missing_ok=True)
            shutil.rmtree(self.cache / "pending", ignore_errors=True)
            return warnings
        return _apply(self.out, self.cache, self.target, list(puts), snapshot, sorted(set(deletes)), fresh)


def _swap_in(staging: Path, out: Path, cache: Path) -> list[str]:
    try:
        if not os.path.lexists(out):
            os.rename(staging, out)
            os.unlink(out / STAGING_MARKER)
            return []
        if exchange(staging, out):
            os.unlink(out / STAGING_MARKER)
        else:  # no RENAME_EXCHANGE: two renames; an interrupted swap is repaired on the next run
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
            os.rename(staging, out)
            os.unlink(out / STAGING_MARKER)
            staging = old
        retired = out.parent / f".{out.name}.old-{os.getpid()}"
        if staging != retired:
            os.rename(staging, retired)
    except OSError as e:
        raise WriteError(f"{out}: cannot swap in the new tree: {os_problem(e)}") from e
    return retire_tree(retired, out, cache)


def _write_journal(cache: Path, paths: list[str]) -> None:
    journal, tmp = cache / JOURNAL, cache / (JOURNAL + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(orjson.dumps({"journal": "sitegen-apply-1", "paths": paths}))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, journal)
    except OSError as e:
        raise WriteError(f"{journal}: cannot write the journal: {os_problem(e)}; "
                         "the published tree is unchanged") from e


def _apply(out: Path, cache: Path, pending: Path, puts: list[tuple[str, str]], snapshot: tuple[str, str] | None,
           deletes: list[str], fresh: frozenset[str]) -> list[str]:
    warnings: list[str] = []
    ordered = [*puts, *([snapshot] if snapshot else [])]
    for rel, _ in ordered:
        _checked(rel)
    for rel in deletes:
        if _NEVER_OURS.match(_checked(rel)):  # the store checks this on read; a second line of defence
            raise RuntimeError(f"refusing to delete {quote(rel)}: sitegen never writes such a path")
    with SafeTree(out) as tree:
        for rel in [r for r, _ in ordered] + deletes:  # every directory on the way must be real before any change
            tree.split(rel)
        pending_fd = os.open(pending, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        _write_journal(cache, [rel for rel, _ in ordered] + deletes)
        try:
            for rel, sha in ordered:
                folder_fd, name = tree.split(rel, create=True)
                assert folder_fd is not None
                if rel in fresh and _exists_at(folder_fd, name):
                    # Not a path the published tree lists: what stands there is the user's (threat: an
                    # incremental build replacing a page written by hand at a path a new page takes).
                    aside = kept_aside(cache, rel)
                    os.rename(name, aside, src_dir_fd=folder_fd)
                    warnings.append(f"{safe_text(rel)}: a file sitegen did not write was in the way of a new "
                                    f"page; kept at {aside}")
                tmp = f".{name}.sitegen-new"
                try:
                    os.unlink(tmp, dir_fd=folder_fd)
                except FileNotFoundError:
                    pass
                os.link(sha, tmp, src_dir_fd=pending_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
                os.rename(tmp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            for rel in deletes:
                folder_fd, name = tree.split(rel)
                if folder_fd is None:
                    continue
                try:
                    os.unlink(name, dir_fd=folder_fd)
                except FileNotFoundError:
                    pass
                except IsADirectoryError:
                    continue
                tree.remove_empty_parents(rel)
        except OSError as e:
            raise WriteError(f"{out}: cannot apply the incremental build: {os_problem(e)}; "
                             "the next build rebuilds the tree in full") from e
        finally:
            os.close(pending_fd)
    (cache / JOURNAL).unlink()
    shutil.rmtree(pending, ignore_errors=True)
    return warnings


def _exists_at(folder_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True

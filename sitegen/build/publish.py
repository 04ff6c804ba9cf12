"""Write stage: the sinks workers write through, and the two ways a build
is published.

Contract: a full build writes a complete tree through :class:`StagingSink`
and :func:`swap_in` replaces ``output_dir`` with it; an incremental build
stages changed files through :class:`PendingSink` and :func:`apply_delta`
moves them in. On :class:`~sitegen.errors.WriteError` or
:class:`~sitegen.errors.ConfigError` before that point, ``output_dir`` is
exactly as it was.

* Paths are checked lexically before any write: relative, no ``..``, no
  backslash, NUL or control characters (threat: writing outside the tree).
  The staging directory is new and holds only what we create, so no symlink
  can redirect a write.
* A file whose bytes equal the published one is hard-linked from the old tree,
  so its mtime is kept (rsync and CDNs see no change).
* The swap uses Linux ``renameat2(RENAME_EXCHANGE)``: at every instant
  ``output_dir`` is the complete old tree or the complete new one. Elsewhere
  it falls back to two renames and repairs an interrupted swap on the next run.
* One build at a time per output directory (an ``flock`` on a lock file beside it).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import orjson

from sitegen.errors import ConfigError, WriteError, quote
from sitegen.model import FileEntry

__all__ = ["WriteStats", "check_output_path", "OutputLock", "StagingSink", "PendingSink",
           "apply_delta", "redo_journal", "swap_in", "staging_dir"]

_BAD_SEGMENT = re.compile(r'[\x00-\x1f\x7f\\:*?"<>|]')
_MAX_SEGMENT, _MAX_PATH = 255, 1024


@dataclass(frozen=True)
class WriteStats:
    """What a publish did: files written anew, files kept (hard-linked,
    unchanged bytes and mtime), and total bytes of the tree."""

    written: int
    unchanged: int
    total_bytes: int


def check_output_path(rel: str) -> str:
    """Return ``rel`` if it is a safe relative POSIX path; raise ``ValueError``."""
    if not isinstance(rel, str) or not rel or len(rel) > _MAX_PATH:
        raise ValueError("empty or overlong output path")
    if rel.startswith("/"):
        raise ValueError("absolute output path")
    for segment in rel.split("/"):
        if segment in ("", ".", "..") or len(segment) > _MAX_SEGMENT or _BAD_SEGMENT.search(segment):
            raise ValueError(f"unsafe path segment {quote(segment, 40)}")
    return rel


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two directories; False if the OS cannot."""
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


def _same_bytes(old: Path, data: bytes) -> bool:
    try:
        if old.stat().st_size != len(data) or old.is_symlink():
            return False
        return old.read_bytes() == data
    except OSError:
        return False


def _recover(output_dir: Path) -> None:
    """Undo what a killed build left behind (we hold the lock)."""
    parent, name = output_dir.parent, output_dir.name
    olds = sorted(parent.glob(f".{name}.old-*"))
    if not output_dir.exists() and olds:
        os.rename(olds[-1], output_dir)  # an interrupted fallback swap: restore the old tree
        olds = olds[:-1]
    for leftover in olds + sorted(parent.glob(f".{name}.staging-*")):
        shutil.rmtree(leftover, ignore_errors=True)


class OutputLock:
    """Exclusive right to change ``output_dir`` (an ``flock`` on a lock file
    beside it). Entering it also repairs what a killed build left behind: an
    interrupted fallback swap, staging trees, and an incremental write journal
    (redone, so the tree becomes the new one). Raises :class:`WriteError`."""

    def __init__(self, output_dir: Path, journal_dir: Path) -> None:
        self.output_dir, self.journal_dir = output_dir.absolute(), journal_dir
        self._file = None

    def __enter__(self) -> "OutputLock":
        parent, name = self.output_dir.parent, self.output_dir.name
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._file = open(parent / f".{name}.lock", "a")
        except OSError as e:
            raise WriteError(f"{parent}: cannot prepare the output directory: {e.strerror}") from e
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            self._file.close()
            raise WriteError(f"{self.output_dir}: another sitegen build is writing it") from e
        if self.output_dir.exists() and not self.output_dir.is_dir():
            self._file.close()
            raise WriteError(f"{self.output_dir}: exists and is not a directory")
        try:
            _recover(self.output_dir)
            redo_journal(self.output_dir, self.journal_dir)
        except OSError as e:
            self._file.close()
            raise WriteError(f"{self.output_dir}: cannot repair an interrupted build: {e.strerror}") from e
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


def staging_dir(output_dir: Path) -> Path:
    """A new, empty directory beside ``output_dir`` for a complete tree."""
    output_dir = output_dir.absolute()
    staging = output_dir.parent / f".{output_dir.name}.staging-{os.getpid()}"
    try:
        staging.mkdir()
    except OSError as e:
        raise WriteError(f"{staging.parent}: cannot create a staging directory: {e.strerror}") from e
    return staging


def _checked(rel: str) -> str:
    try:
        return check_output_path(rel)
    except ValueError as e:
        raise RuntimeError(f"refusing to write {quote(rel)}: {e}") from None  # a bug: views validate


class StagingSink:
    """Writes a complete tree into ``staging``. A file whose bytes equal the
    published one (``old_sha256`` when the caller knows it, else compared
    byte for byte) is hard-linked from ``published``, keeping its inode and
    mtime. Safe to use from several processes at once on disjoint paths.
    Raises :class:`ConfigError` when a path is written twice and
    :class:`WriteError` for an OS error."""

    def __init__(self, staging: Path, published: Path) -> None:
        self.staging, self.published = staging, published
        self.made_dirs: set[str] = set()
        self.written = self.unchanged = self.total = 0

    def put(self, rel: str, data: bytes, old_sha256: str | None = None) -> FileEntry:
        rel = _checked(rel)
        sha = hashlib.sha256(data).hexdigest()
        target = self.staging / rel
        folder = rel.rpartition("/")[0]
        try:
            if folder and folder not in self.made_dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                self.made_dirs.add(folder)
            old = self.published / rel
            if old_sha256 == sha or (old_sha256 is None and _same_bytes(old, data)):
                try:
                    os.link(old, target)
                    self.unchanged += 1
                except FileNotFoundError:
                    self._create(target, data)
            else:
                self._create(target, data)
        except FileExistsError:
            raise ConfigError(f"{rel}: two files map to this output path (a static file "
                              "collides with a generated page or document)") from None
        except OSError as e:
            raise WriteError(f"{self.published}: cannot write {rel}: {e.strerror}; "
                             "the published tree is unchanged") from e
        self.total += len(data)
        return FileEntry(rel, len(data), sha)

    def _create(self, target: Path, data: bytes) -> None:
        with open(target, "xb") as out:
            out.write(data)
        self.written += 1


class PendingSink:
    """For an incremental build: stores only the files whose bytes differ from
    the published ones, content-addressed (``pending/<sha256>``), for
    :func:`apply_delta` to move into place. Raises :class:`WriteError`."""

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
            raise WriteError(f"{self.published}: cannot stage {rel}: {e.strerror}; "
                             "the published tree is unchanged") from e
        self.written += 1
        return FileEntry(rel, len(data), sha)


_JOURNAL = "journal.json"


def apply_delta(output_dir: Path, journal_dir: Path, puts: list[tuple[str, str]], deletes: list[str]) -> None:
    """Move an incremental build into the published tree.

    ``puts`` are ``(path, sha256)`` of files staged by :class:`PendingSink` in
    ``journal_dir/pending/``, applied in order (the snapshot last);
    ``deletes`` are paths to remove (then their empty directories). The plan
    is first written to ``journal_dir/journal.json`` (fsync'd); each file is
    replaced with ``rename()``, so a reader sees the whole old file or the
    whole new one, and a killed build is finished by the next one
    (:func:`redo_journal`). Raises :class:`WriteError`."""
    journal = journal_dir / _JOURNAL
    tmp = journal_dir / (_JOURNAL + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(orjson.dumps({"puts": puts, "deletes": deletes}))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, journal)
    except OSError as e:
        raise WriteError(f"{journal}: cannot write the journal: {e.strerror}; the published tree is unchanged") from e
    try:
        redo_journal(output_dir, journal_dir)
    except OSError as e:
        raise WriteError(f"{output_dir}: cannot apply the incremental build: {e.strerror}; "
                         "the next build finishes it") from e


def redo_journal(output_dir: Path, journal_dir: Path) -> bool:
    """Apply (again) a journal left by :func:`apply_delta`; idempotent. True
    if there was one. Raises ``OSError``."""
    journal, pending = journal_dir / _JOURNAL, journal_dir / "pending"
    try:
        plan = orjson.loads(journal.read_bytes())
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        plan = None  # torn journal: it was never complete, so nothing was applied
    if plan is not None:
        root = output_dir.absolute()
        for rel in plan["deletes"]:
            target = root / _checked(rel)
            try:
                target.unlink()
            except FileNotFoundError:
                pass
            parent = target.parent
            while parent != root:
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent
        made: set[Path] = set()
        for rel, sha in plan["puts"]:
            target = root / _checked(rel)
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            tmp = target.parent / f".{target.name}.sitegen-new"
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
            os.link(pending / sha, tmp)
            os.replace(tmp, target)
    journal.unlink()
    shutil.rmtree(pending, ignore_errors=True)
    return True


def swap_in(staging: Path, output_dir: Path) -> None:
    """Atomically make the complete tree ``staging`` the published
    ``output_dir``; the old tree is removed. Raises :class:`WriteError`."""
    try:
        if not output_dir.exists():
            os.rename(staging, output_dir)
            return
        if _exchange(staging, output_dir):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the old tree
            return
        old = output_dir.parent / f".{output_dir.name}.old-{os.getpid()}"
        os.rename(output_dir, old)
        os.rename(staging, output_dir)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        raise WriteError(f"{output_dir}: cannot swap in the new tree: {e.strerror}") from e

"""Write stage: build the new output tree beside the old one, then swap it in.

Contract: :func:`publish_tree` consumes :class:`~sitegen.model.OutputFile`
values and either replaces ``output_dir`` with a complete new tree or raises
:class:`~sitegen.errors.WriteError` / :class:`~sitegen.errors.ConfigError`
and leaves ``output_dir`` exactly as it was.

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
from typing import Callable, Iterable

from sitegen.errors import ConfigError, WriteError, quote
from sitegen.model import FileEntry, OutputFile

__all__ = ["publish_tree", "WriteStats", "check_output_path"]

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


def publish_tree(files: Iterable[OutputFile], output_dir: Path, *,
                 seal: Callable[[list[FileEntry]], Iterable[OutputFile]] | None = None) -> WriteStats:
    """Write ``files`` into a fresh tree and atomically replace ``output_dir``.

    ``seal``, if given, receives a :class:`FileEntry` (path, size, SHA-256) for
    every file written and returns more files (the mirror snapshot) written
    into the same tree before the swap.

    Raises :class:`ConfigError` if two files share a path (e.g. a static file
    colliding with a generated page) and :class:`WriteError` for any OS error
    (disk full, permissions); in both cases ``output_dir`` is untouched.
    """
    output_dir = output_dir.absolute()
    parent, name = output_dir.parent, output_dir.name
    try:
        parent.mkdir(parents=True, exist_ok=True)
        lock = open(parent / f".{name}.lock", "a")
    except OSError as e:
        raise WriteError(f"{parent}: cannot prepare the output directory: {e.strerror}") from e
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            raise WriteError(f"{output_dir}: another sitegen build is writing it") from e
        if output_dir.exists() and not output_dir.is_dir():
            raise WriteError(f"{output_dir}: exists and is not a directory")
        try:
            _recover(output_dir)
            staging = parent / f".{name}.staging-{os.getpid()}"
            staging.mkdir()
        except OSError as e:
            raise WriteError(f"{parent}: cannot create a staging directory: {e.strerror}") from e
        try:
            writer = _Writer(staging, output_dir)
            writer.write_all(files)
            entries = list(writer.entries)
            if seal is not None:
                writer.write_all(seal(entries))
            _swap(staging, output_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return WriteStats(writer.written, writer.unchanged, writer.total)


class _Writer:
    """Writes files into the staging tree, hard-linking unchanged ones from the
    published tree, and records a :class:`FileEntry` for each."""

    def __init__(self, staging: Path, output_dir: Path) -> None:
        self.staging, self.output_dir = staging, output_dir
        self.seen: set[str] = set()
        self.made_dirs: set[str] = set()
        self.entries: list[FileEntry] = []
        self.written = self.unchanged = self.total = 0

    def write_all(self, files: Iterable[OutputFile]) -> None:
        for f in files:
            self.write(f)

    def write(self, f: OutputFile) -> None:
        try:
            rel = check_output_path(f.path)
        except ValueError as e:
            raise RuntimeError(f"refusing to write {quote(f.path)}: {e}") from None  # a bug: views validate
        if rel in self.seen:
            raise ConfigError(f"{rel}: two files map to this output path (a static file "
                              "collides with a generated page or document)")
        self.seen.add(rel)
        target = self.staging / rel
        folder = rel.rpartition("/")[0]
        try:
            if folder and folder not in self.made_dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                self.made_dirs.add(folder)
            old = self.output_dir / rel
            if _same_bytes(old, f.data):
                os.link(old, target)
                self.unchanged += 1
            else:
                with open(target, "xb") as out:
                    out.write(f.data)
                self.written += 1
        except OSError as e:
            raise WriteError(f"{self.output_dir}: cannot write {rel}: {e.strerror}; "
                             "the published tree is unchanged") from e
        self.total += len(f.data)
        self.entries.append(FileEntry(rel, len(f.data), hashlib.sha256(f.data).hexdigest()))


def _swap(staging: Path, output_dir: Path) -> None:
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

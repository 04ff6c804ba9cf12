"""Directories opened without following symlinks, for every write into (and
read from) a published tree.

The output tree is untrusted input: anyone who can write it may plant a
symlink (``site/pith -> /etc``) so that a later write lands outside it.
:class:`SafeTree` opens each directory on a path relative to its root with
``O_NOFOLLOW | O_DIRECTORY``, one component at a time, and hands out
directory descriptors; every file operation then goes through ``*at``
system calls (``dir_fd=``) on the final name, with ``follow_symlinks=False``.
A symlink or a non-directory where a directory is expected raises
:class:`TreeAltered`. Descriptors of recently used directories are cached
(a bounded LRU), so a file costs about one extra system call.
"""

from __future__ import annotations

import errno
import os
from collections import OrderedDict
from pathlib import Path

__all__ = ["SafeTree", "TreeAltered"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class TreeAltered(Exception):
    """A path of the tree is not what sitegen made: a symlink or a file where
    a directory must be. ``path`` is relative to the tree's root."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: {what}")
        self.path = path


class SafeTree:
    """Directory descriptors under ``root`` (which itself must be a real
    directory, not a symlink). Use as a context manager, or call :meth:`close`."""

    def __init__(self, root: Path, *, cache_size: int = 64) -> None:
        self.root = root
        try:
            self.root_fd = os.open(root, _DIR_FLAGS)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise TreeAltered("", f"{root} is not a directory (a symlink?)") from None
            raise
        self._fds: OrderedDict[str, int] = OrderedDict()
        self._size = cache_size

    def __enter__(self) -> SafeTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self.root_fd >= 0:
            os.close(self.root_fd)
            self.root_fd = -1

    def _forget(self, folder: str) -> None:
        fd = self._fds.pop(folder, None)
        if fd is not None:
            os.close(fd)

    def dir_fd(self, folder: str, *, create: bool = False) -> int | None:
        """The descriptor of ``folder`` (relative, ``""`` for the root); None if
        it does not exist and ``create`` is False. Raises :class:`TreeAltered`
        for a symlink or a non-directory on the way, ``OSError`` otherwise."""
        if not folder:
            return self.root_fd
        fd = self._fds.get(folder)
        if fd is not None:
            self._fds.move_to_end(folder)
            return fd
        parent, _, name = folder.rpartition("/")
        parent_fd = self.dir_fd(parent, create=create)
        if parent_fd is None:
            return None
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            if not create:
                return None
            try:
                os.mkdir(name, 0o755, dir_fd=parent_fd)
            except FileExistsError:
                pass
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise TreeAltered(folder, "is a symlink or a file where sitegen keeps a directory") from None
            raise
        self._fds[folder] = fd
        if len(self._fds) > self._size:
            _, old = self._fds.popitem(last=False)
            os.close(old)
        return fd

    def split(self, rel: str, *, create: bool = False) -> tuple[int | None, str]:
        """``(descriptor of the parent directory, final name)`` of ``rel``."""
        folder, _, name = rel.rpartition("/")
        return self.dir_fd(folder, create=create), name

    def remove_empty_parents(self, rel: str) -> None:
        """Remove the now-empty directories above ``rel``, deepest first, up to the root."""
        folder = rel.rpartition("/")[0]
        while folder:
            parent, _, name = folder.rpartition("/")
            parent_fd = self.dir_fd(parent)
            self._forget(folder)
            if parent_fd is None:
                return
            try:
                os.rmdir(name, dir_fd=parent_fd)
            except OSError:
                return
            folder = parent

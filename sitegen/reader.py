"""The one guarded path by which sitegen reads a file it does not trust.

Documents, key documents and Markdown pages in ``content/``, and the site's
static files, are read here and nowhere else. The rule is *open, then check
what was opened* — never check a path and then open it (a race an attacker
can win by swapping in a symlink):

* every directory on the way is opened relative to the root with
  ``O_NOFOLLOW | O_DIRECTORY`` — a symlinked directory is refused;
* the file itself is opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO or a
  device never blocks the build), then ``fstat`` on the open descriptor must
  say *regular file*, and its size must be under the cap before a byte is read;
* a symlinked *file* is followed only by repeating that walk for its target,
  which must lie inside the root (at most 8 hops), so no path outside the
  root is ever opened;
* at most ``max_bytes + 1`` bytes are read (a file growing while read is caught).

Errors are :class:`~sitegen.errors.InputError` with check ``load.file`` or
``load.size`` naming the file as the user sees it.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from pathlib import Path
from typing import Any

from sitegen.errors import InputError, Problem, os_problem

__all__ = ["read_untrusted", "read_named_file", "display_path", "decode_utf8"]

_MAX_HOPS = 8
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def display_path(path: Path, site_dir: Path) -> str:
    """``path`` as shown to users: relative to the site directory when inside it."""
    try:
        return path.relative_to(site_dir).as_posix()
    except ValueError:
        return path.as_posix()


def _fail(rel: str, message: str, check: str = "load.file") -> InputError:
    return InputError(Problem(rel, "", message, check))


def _relative_target(root: Path, root_real: str, folder: tuple[str, ...], target: str) -> tuple[str, ...] | None:
    """The parts (relative to the root) a symlink in ``folder`` points at, or
    None if it points outside the root."""
    if posixpath.isabs(target):
        for base in (str(root), root_real):
            base = base.rstrip("/")
            if target == base or target.startswith(base + "/"):
                target = target[len(base) + 1:]
                break
        else:
            return None
        joined = posixpath.normpath(target or ".")
    else:
        joined = posixpath.normpath(posixpath.join(*folder, target) if folder else target)
    if joined == ".." or joined.startswith("../") or joined == ".":
        return None
    return tuple(p for p in joined.split("/") if p)


def read_untrusted(path: Path, *, root: Path, max_bytes: int, rel: str, root_name: str = "content/",
                   cap_setting: str = "max_document_bytes") -> bytes:
    """The bytes of ``path`` (which must be under ``root``), read through the
    guarded path described in the module docstring.

    ``rel`` is the name shown in errors, ``root_name`` how the root is named
    in them, ``cap_setting`` the setting that raises the size cap. Raises
    :class:`~sitegen.errors.InputError`: ``load.file`` for a symlink out of
    the root, a symlinked directory, a dangling or looping symlink, anything
    but a regular file, an unreadable file; ``load.size`` for a file over
    ``max_bytes``.
    """
    try:
        parts = tuple(Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).parts)
    except ValueError:
        raise _fail(rel, f"is outside {root_name}") from None
    if not parts:
        raise _fail(rel, "is a directory, expected a file")
    root_real = os.path.realpath(root)
    try:
        root_fd = os.open(root, _DIR_FLAGS)
    except OSError as e:
        raise _fail(rel, f"cannot open {root_name}: {os_problem(e)}") from None
    try:
        for _ in range(_MAX_HOPS + 1):
            fd, link = _open_walk(root_fd, parts, rel)
            if fd is not None:
                return _read_open(fd, rel, max_bytes, cap_setting)
            folder, target = link
            resolved = _relative_target(root, root_real, folder, target)
            if resolved is None:
                raise _fail(rel, f"symlink points outside {root_name}")
            parts = resolved
        raise _fail(rel, "symlink cannot be resolved: too many levels of symbolic links")
    finally:
        os.close(root_fd)


def _open_walk(root_fd: int, parts: tuple[str, ...], rel: str) -> tuple[int | None, tuple[Any, ...]]:
    """Open ``parts`` under ``root_fd`` without following any symlink. Returns
    ``(fd, ())`` for the opened file or ``(None, (folder_parts, link_target))``
    when the last component is a symlink to follow."""
    current = root_fd
    opened: list[int] = []
    try:
        for name in parts[:-1]:
            if name == "..":
                raise _fail(rel, "path leaves its directory")
            try:
                current = os.open(name, _DIR_FLAGS, dir_fd=current)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _fail(rel, "is under a symlinked directory; symlinked directories are not followed") from None
                raise _fail(rel, "symlink cannot be resolved: its target does not exist" if e.errno == errno.ENOENT
                            else f"cannot open: {os_problem(e)}") from None
            opened.append(current)
        name = parts[-1]
        try:
            return os.open(name, _FILE_FLAGS, dir_fd=current), ()
        except OSError as e:
            if e.errno == errno.ELOOP:  # the last component is a symlink: follow it by hand
                try:
                    return None, (parts[:-1], os.readlink(name, dir_fd=current))
                except OSError as e2:
                    raise _fail(rel, f"cannot read the symlink: {os_problem(e2)}") from None
            if e.errno == errno.ENOENT:
                raise _fail(rel, "symlink cannot be resolved: its target does not exist") from None
            raise _fail(rel, f"cannot open: {os_problem(e)}") from None
    finally:
        for fd in opened:
            os.close(fd)


def read_named_file(path: Path, *, max_bytes: int, rel: str, cap_setting: str) -> bytes:
    """The bytes of a file the operator named by its path (``--mirror-key``):
    a symlink to it is followed, since the operator chose it, but it is opened
    without blocking and then checked as :func:`read_untrusted` checks a file
    (regular, under ``max_bytes``) — a FIFO never hangs a build. Raises
    :class:`~sitegen.errors.InputError` (``load.file``, ``load.size``)."""
    try:
        fd = os.open(path, _FILE_FLAGS & ~os.O_NOFOLLOW)
    except OSError as e:
        raise _fail(rel, os_problem(e)) from None
    return _read_open(fd, rel, max_bytes, cap_setting)


def _read_open(fd: int, rel: str, max_bytes: int, cap_setting: str) -> bytes:
    with os.fdopen(fd, "rb", closefd=True) as f:
        st = os.fstat(f.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise _fail(rel, "is a directory, expected a file")
        if not stat.S_ISREG(st.st_mode):
            raise _fail(rel, "is not a regular file")
        if st.st_size > max_bytes:
            raise _fail(rel, f"file is {st.st_size} bytes, over the {max_bytes}-byte cap ({cap_setting})", "load.size")
        try:
            data = f.read(max_bytes + 1)
        except OSError as e:
            raise _fail(rel, f"cannot read: {os_problem(e)}") from None
    if len(data) > max_bytes:
        raise _fail(rel, f"file grew past the {max_bytes}-byte cap while read", "load.size")
    return data


def decode_utf8(data: bytes, rel: str) -> str:
    """Strict UTF-8 text of ``data`` (no BOM accepted silently: it is kept out);
    raises :class:`~sitegen.errors.InputError` (check ``load.encoding``)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(Problem(rel, "", f"invalid UTF-8 at byte {e.start}", "load.encoding")) from None
    return text[1:] if text.startswith("\ufeff") else text

"""Scan stage: find every content file (:func:`discover_paths`), and for the
ones that changed since the last build, identify the Pith Number each one
claims (:func:`identify`).

Identification is only for grouping: a record and a bundle of one Pith Number
must be verified together (cross-document rules, :mod:`sitegen.verify`). It
reads the bytes, hashes them, parses them (``orjson``) and computes the suffix
from the canonical hash of ``canonical_record`` (docs/protocol.md §2) — about
30 µs a document. Nothing here is trusted: the verify stage re-reads the file,
parses it strictly and checks every rule, including that the suffix it
recomputes is the entry's (:mod:`sitegen.build.workers`).

A file is unchanged when its *stat signature* — size, mtime and ctime in
nanoseconds, inode, for a symlink also the link's own — equals the one the
store recorded; ``ctime`` cannot be set back by a user, so an edit that keeps
size and mtime is still seen.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sitegen.errors import Problem, os_problem
from sitegen.pith import canonical, numbers
from sitegen.reader import display_path

__all__ = ["Identity", "discover_paths", "stat_signature", "identify"]


@dataclass(frozen=True)
class Identity:
    """What pass 1 learned about one content file. ``suffix`` is None when the
    file cannot be identified (unreadable, not JSON, no canonical record): the
    verify stage then reports why, on its own."""

    path: str
    sig: str
    sha256: str
    suffix: str | None
    key_ids: str


def stat_signature(path: str) -> str:
    """``"size:mtime_ns:ctime_ns:inode"`` of the file (and of the link, for a
    symlink); ``"missing"`` if it cannot be stat'ed."""
    try:
        link = os.lstat(path)
        st = os.stat(path) if stat.S_ISLNK(link.st_mode) else link
    except OSError:
        return "missing"
    sig = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
    if link.st_ino != st.st_ino:
        sig += f"/{link.st_mtime_ns}:{link.st_ctime_ns}:{link.st_ino}"
    return sig


def _key_ids(node: Any, out: set[str]) -> None:
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            kid = node.get("key_id")
            if isinstance(kid, str):
                out.add(kid)
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))


def identify(path: str, max_bytes: int) -> Identity:
    """Identify one content file (see the module docstring); never raises."""
    sig = stat_signature(path)
    try:  # non-blocking open + fstat: a FIFO or device is never read (it could block forever)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return Identity(path, sig, "", None, "")
            data = f.read(max_bytes + 1)
    except OSError:
        return Identity(path, sig, "", None, "")
    sha = hashlib.sha256(data).hexdigest()
    suffix, keys = None, set[str]()
    if len(data) <= max_bytes:
        try:
            body = orjson.loads(data)
            if isinstance(body, dict):
                suffix = numbers.pith_suffix(canonical.canonical_sha256(body["canonical_record"]))
                _key_ids(body, keys)
        except Exception:
            suffix = None
    return Identity(path, sig, sha, suffix, " ".join(sorted(keys)))


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates (surrogateescape)
        return False
    return True


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a symlink loop: treated as a file, reported when read
        return False


def discover_paths(content_dir: Path, site_dir: Path, *,
                   exclude: tuple[str, ...] = ("keys",)) -> tuple[list[str], list[Problem]]:
    """List every ``*.json`` under ``content_dir`` (sorted), skipping the
    top-level directories named in ``exclude`` and hidden ones.

    Symlinked directories are not followed (each is a problem); a symlinked
    file must resolve to a regular file inside ``content_dir``, which
    :func:`sitegen.reader.read_untrusted` checks when it opens it (threat:
    publishing files from outside the content tree). A name that is not valid
    UTF-8 is a problem, not a crash. ``os.scandir``: no system call per file. Returns
    ``(paths, problems)``."""
    paths: list[str] = []
    problems: list[Problem] = []
    todo = [str(content_dir)]
    while todo:
        here = todo.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError as e:
            problems.append(Problem(display_path(Path(here), site_dir), "", f"cannot list: {os_problem(e)}",
                                    "load.file"))
            continue
        for entry in entries:
            name = entry.name
            if not _utf8(name):
                problems.append(Problem(display_path(Path(entry.path), site_dir), "",
                                        "file name is not valid UTF-8; rename it", "load.file"))
                continue
            if entry.is_dir(follow_symlinks=False):
                if (here == str(content_dir) and name in exclude) or name.startswith("."):
                    continue
                if name.endswith(".json"):
                    problems.append(Problem(display_path(Path(entry.path), site_dir), "",
                                            "is a directory, expected a JSON file", "load.file"))
                else:
                    todo.append(entry.path)
            elif entry.is_symlink() and _is_dir(entry):
                if not (here == str(content_dir) and name in exclude):
                    problems.append(Problem(display_path(Path(entry.path), site_dir), "", "is a symlink to a "
                                            "directory; symlinked directories are not followed", "load.file"))
            elif name.endswith(".json") and not name.startswith("."):
                paths.append(entry.path)
    paths.sort()
    problems.sort(key=lambda p: p.file)
    return paths, problems

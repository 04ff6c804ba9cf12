"""Scan stage: find every content file, and for the ones that changed since
the last build, identify the Pith Number each one claims.

Identification is only for grouping: a record and a bundle of one Pith Number
must be verified together (cross-document rules, :mod:`sitegen.verify`). It
reads the bytes, hashes them, parses them (``orjson``) and computes the suffix
from the canonical hash of ``canonical_record`` (PROTOCOL.md §2) — about
30 µs a document. Nothing here is trusted: the verify stage re-reads the file,
parses it strictly and checks every rule, including that the suffix it
recomputes is the unit's (:mod:`sitegen.units`).

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
from typing import Any

import orjson

from sitegen import protocol

__all__ = ["Identity", "stat_signature", "identify"]


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
    suffix, keys = None, set()
    if len(data) <= max_bytes:
        try:
            body = orjson.loads(data)
            if isinstance(body, dict):
                suffix = protocol.pith_suffix(protocol.canonical_sha256(body["canonical_record"]))
                _key_ids(body, keys)
        except Exception:  # noqa: BLE001 - any failure means "unidentified"; verify reports it
            suffix = None
    return Identity(path, sig, sha, suffix, " ".join(sorted(keys)))

"""Where pulled bytes wait and where verified documents land.

``SITE_DIR/.sitegen-pull/`` is pull's workspace: ``lock`` (one pull per site
at a time, ``flock``), ``quarantine/`` (downloaded bytes, not yet verified)
and the default state file. ``content/`` only ever receives a whole verified
document, by one ``rename()`` from quarantine — so a pull killed at any moment
leaves no partial or unverified file in ``content/``; the next pull empties
the quarantine first.

Documents land at ``content/records/<SUFFIX>.json`` and
``content/bundles/<SUFFIX>.bundle.json`` (the layout of the bundled content),
or over the local document of the same Pith Number where the operator keeps
it under another name. :class:`LocalContent` finds those: files named in the
layout are known by their name; any other ``*.json`` under ``content/``
(except ``keys/``) is read through the guarded reader and identified by the
suffix of its canonical hash (docs/protocol.md §2) — identification only; a
local file is never trusted, and the build verifies it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import orjson

from sitegen.errors import InputError, SitegenError
from sitegen.pith import canonical, numbers
from sitegen.reader import read_untrusted

__all__ = ["Workspace", "LocalContent", "layout_path", "write_synced", "WORKSPACE"]

WORKSPACE = ".sitegen-pull"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_LAYOUT = re.compile(r"\A(?:records/([A-Z2-7]{26})\.json|bundles/([A-Z2-7]{26})\.bundle\.json)\Z")


def write_synced(directory: Path, data: bytes, *, prefix: str = "", suffix: str = "") -> Path:
    """A new file in ``directory`` holding ``data``, flushed to disk (removed
    again if writing fails). Raises ``OSError``."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def layout_path(kind: str, suffix: str) -> str:
    """Where a pulled document of ``kind`` lands, relative to ``content/``."""
    return f"records/{suffix}.json" if kind == "record" else f"bundles/{suffix}.bundle.json"


class Workspace:
    """The pull workspace of one site; a context manager holding the lock."""

    def __init__(self, site_dir: Path) -> None:
        self.root = site_dir / WORKSPACE
        self.quarantine_dir = self.root / "quarantine"
        self._lock_fd: int | None = None

    def __enter__(self) -> Workspace:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SitegenError(f"{self.root}: another sitegen pull is running in this site") from None
        self._lock_fd = fd
        shutil.rmtree(self.quarantine_dir, ignore_errors=True)  # whatever an interrupted pull left
        self.quarantine_dir.mkdir(mode=0o700)
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.quarantine_dir, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def quarantine(self, data: bytes) -> Path:
        """Write ``data`` to a new file in quarantine (flushed to disk)."""
        return write_synced(self.quarantine_dir, data, suffix=".part")

    @staticmethod
    def discard(path: Path) -> None:
        path.unlink(missing_ok=True)

    @staticmethod
    def land(quarantined: Path, content_dir: Path, rel: str) -> None:
        """Move a verified file to ``content_dir/rel`` with one ``rename()``.
        The folders below ``content/`` are made as needed and walked without
        following a symlink (threat: a symlinked ``content/records`` sends the
        document, and every later pull's, to a file outside the site): a
        symlinked or non-folder component raises ``OSError`` naming it. If
        ``content/`` is on another filesystem, the bytes are first copied to a
        hidden file beside the destination (ignored by the build) and renamed
        from there. Raises ``OSError``."""
        *folders, name = rel.split("/")
        fd = os.open(content_dir, _DIR_FLAGS)
        try:
            for i, folder in enumerate(folders):
                try:
                    os.mkdir(folder, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
                try:
                    inner = os.open(folder, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR):
                        shown = "content/" + "/".join(folders[:i + 1])
                        raise OSError(None, f"{shown} is a symbolic link or not a folder; pull does not "
                                            "write through it") from None
                    raise
                os.close(fd)
                fd = inner
            try:
                os.replace(quarantined, name, dst_dir_fd=fd)
                return
            except OSError as e:
                if e.errno != errno.EXDEV:
                    raise
            tmp = f".pull-{os.getpid()}-{threading.get_ident()}.tmp"
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                          dir_fd=fd)
            try:
                with os.fdopen(out, "wb") as f:
                    f.write(quarantined.read_bytes())
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=fd)
                raise
            Workspace.discard(quarantined)
        finally:
            os.close(fd)


class LocalContent:
    """The Pith documents already in ``content/``, by ``(kind, suffix)``."""

    def __init__(self, content_dir: Path, *, max_bytes: int) -> None:
        self.dir = content_dir
        self.max_bytes = max_bytes
        self._index: dict[tuple[str, str], str] | None = None
        self._lock = threading.Lock()

    def _build(self) -> dict[tuple[str, str], str]:
        index: dict[tuple[str, str], str] = {}
        if not self.dir.is_dir():
            return index
        for folder, dirs, files in os.walk(self.dir):
            rel_dir = os.path.relpath(folder, self.dir)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (rel_dir == "." and d == "keys"))
            for name in sorted(files):
                if name.startswith(".") or not name.endswith(".json"):
                    continue
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                m = _LAYOUT.match(rel)
                found = (("record", m.group(1)) if m.group(1) else ("bundle", m.group(2))) if m else self._identify(rel)
                if found is not None:
                    index.setdefault(found, rel)
        return index

    def _identify(self, rel: str) -> tuple[str, str] | None:
        data = self.read(rel)
        try:
            body = orjson.loads(data) if data is not None else None
            if not isinstance(body, dict):
                return None
            kind = ("record" if body.get("record_type") == "pith_number_record" else
                    "bundle" if body.get("bundle_type") == "pith_open_graph_bundle" else None)
            return (kind, numbers.pith_suffix(canonical.canonical_sha256(body["canonical_record"]))) if kind else None
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def find(self, kind: str, suffix: str) -> str:
        """The path (relative to ``content/``) of the local document of
        ``kind`` for ``suffix``, or where a pulled one lands if there is none."""
        with self._lock:
            if self._index is None:
                self._index = self._build()
        return self._index.get((kind, suffix)) or layout_path(kind, suffix)

    def read(self, rel: str) -> bytes | None:
        """The bytes of ``content/rel`` through the guarded reader, or None."""
        try:
            return read_untrusted(self.dir / rel, root=self.dir, max_bytes=self.max_bytes, rel=f"content/{rel}")
        except InputError:
            return None

    def sha256(self, rel: str) -> str | None:
        data = self.read(rel)
        return hashlib.sha256(data).hexdigest() if data is not None else None

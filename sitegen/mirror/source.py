"""Where ``sitegen verify`` reads a mirror from: a directory or an http(s) URL.

Everything read here is untrusted — the snapshot names the paths, the tree or
the server supplies the bytes — so every read is confined and bounded:

* **Paths** — a path from the snapshot is used only if :func:`check_tree_path`
  accepts it: relative POSIX, no ``..``, ``.`` or empty segment, no backslash,
  NUL or other control character (threat: ``../../etc/passwd`` or
  ``/etc/passwd`` in a shard making the checker read, hash and vouch for files
  outside the tree).
* **Directories** — files are opened through :func:`sitegen.reader.read_untrusted`
  rooted at the target directory: a symlinked directory is never followed and a
  symlinked file only to a target inside the tree; FIFOs and devices are not
  read (open, then check what was opened).
* **Size** — each read takes a cap; at most ``cap + 1`` bytes are read, from
  disk or from the network (threat: an endless response body exhausting memory).
* **Time** — each HTTP request has a total deadline (connect, redirects,
  headers and body), not only a per-read socket timeout: when it passes, the
  socket is shut down under the reader (threat: a server trickling one byte a
  second holds a per-read timeout open forever).
* **Redirects** — only to http(s), never from https down to http, at most
  :data:`MAX_REDIRECTS`; no ``file:``, ``ftp:`` or ``data:`` handler exists.

A read returns the bytes, or ``None`` when the file is missing (a 404/410, or
no such file), or raises :class:`TooLarge` or :class:`Unreadable` whose
message is safe to print (server text is quoted).
"""

from __future__ import annotations

import functools
import http.client
import os
import ssl
import stat
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote as urlquote
from urllib.parse import urlsplit

from sitegen import __version__
from sitegen.deadline import Deadline
from sitegen.errors import InputError, SitegenError, os_problem, quote, safe_text
from sitegen.reader import read_untrusted

__all__ = ["check_tree_path", "open_source", "DirectorySource", "HttpSource", "TooLarge", "Unreadable",
           "DEFAULT_TIMEOUT", "MAX_REDIRECTS", "MAX_PATH_CHARS"]

#: Total seconds one HTTP request may take, from connect to the last body byte.
DEFAULT_TIMEOUT = 60.0
#: Redirects followed per request.
MAX_REDIRECTS = 5
#: Longest path accepted from a snapshot (PATH_MAX on Linux is 4096 bytes).
MAX_PATH_CHARS = 1024
_CHUNK = 1 << 16


class TooLarge(Exception):
    """The file is larger than the cap the caller gave."""


class Unreadable(Exception):
    """The file exists (or the server answered) but cannot be read; the
    message says why and is safe to print."""


def check_tree_path(path: object) -> str:
    """Return ``path`` if it is a safe relative path inside a tree; raise
    ``ValueError`` saying why not (see the module docstring)."""
    if not isinstance(path, str):
        raise ValueError("is not a string")
    if not path:
        raise ValueError("is empty")
    if len(path) > MAX_PATH_CHARS:
        raise ValueError(f"is longer than {MAX_PATH_CHARS} characters")
    if path.startswith("/"):
        raise ValueError("is an absolute path")
    if "\\" in path:
        raise ValueError("contains a backslash")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in path):
        raise ValueError("contains a control character")
    for segment in path.split("/"):
        if not segment:
            raise ValueError("has an empty segment ('//', or a '/' at the end)")
        if segment in (".", ".."):
            raise ValueError(f"has a {segment!r} segment")
    return path


def open_source(target: str, *, timeout: float = DEFAULT_TIMEOUT) -> DirectorySource | HttpSource:
    """The source for ``target``: an http(s) URL or a directory. Raises
    :class:`~sitegen.errors.SitegenError` if it is neither."""
    if target.startswith(("http://", "https://")):
        return HttpSource(target, timeout=timeout)
    return DirectorySource(target)


class DirectorySource:
    """A mirror tree on disk, read only through the guarded reader."""

    is_url = False

    def __init__(self, target: str) -> None:
        if not os.path.isdir(target):
            raise SitegenError(f"{safe_text(target)}: not a directory or an http(s) URL")
        # The directory the user named may itself be a symlink; everything under it is confined.
        self.root = Path(os.path.realpath(target))
        self.label = safe_text(str(target).rstrip("/") + "/")

    def get(self, rel: str, max_bytes: int) -> bytes | None:
        """The bytes of ``rel`` (already passed :func:`check_tree_path`), at most ``max_bytes``."""
        try:
            return read_untrusted(self.root / rel, root=self.root, max_bytes=max_bytes, rel=rel,
                                  root_name=self.label, cap_setting="the size the snapshot lists")
        except InputError as e:
            if e.problem.check == "load.size":
                raise TooLarge(f"is over the {max_bytes}-byte cap; not read") from None
            if self._missing(rel):
                return None
            raise Unreadable(e.problem.message) from None

    def _missing(self, rel: str) -> bool:
        """True if some component of ``rel`` does not exist (lstat only: a
        symlinked directory on the way is not missing, it is refused)."""
        here = self.root
        parts = rel.split("/")
        for i, part in enumerate(parts):
            here = here / part
            try:
                st = os.lstat(here)
            except FileNotFoundError:
                return True
            except OSError:
                return False
            if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
                return False
        return False

    def listing(self) -> set[str]:
        """Every non-directory entry under the root, and every symlink to a
        directory (never followed), as relative POSIX paths — except a
        top-level ``.git`` (an output directory may be a gh-pages worktree;
        sitegen never publishes ``.git``)."""
        present: set[str] = set()
        for here, dirs, files in os.walk(self.root):  # followlinks=False
            if here == str(self.root):
                dirs[:] = [d for d in dirs if d != ".git"]
                files = [f for f in files if f != ".git"]  # a worktree's .git is a file
            base = Path(here).relative_to(self.root)
            for name in files:
                present.add((base / name).as_posix())
            for name in dirs:
                if os.path.islink(os.path.join(here, name)):
                    present.add((base / name).as_posix())
        return present


class _TrackedHTTP(http.client.HTTPConnection):
    def __init__(self, *args: Any, request: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request = request

    def connect(self) -> None:
        super().connect()
        self._request.attach(self.sock)


class _TrackedHTTPS(http.client.HTTPSConnection):
    def __init__(self, *args: Any, request: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request = request

    def connect(self) -> None:
        super().connect()
        self._request.attach(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, request: Deadline) -> None:
        super().__init__()
        self._request = request

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_TrackedHTTP, request=self._request), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, request: Deadline) -> None:
        super().__init__()
        self._request = request

    # The default TLS context: certificates and host names are checked.
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_TrackedHTTPS, request=self._request), req)


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: http.client.HTTPMessage, newurl: str) -> urllib.request.Request | None:
        scheme = urlsplit(newurl).scheme
        # Threat: a redirect that downgrades to plain HTTP or leaves HTTP altogether.
        if scheme not in ("http", "https") or (req.type == "https" and scheme != "https"):
            raise urllib.error.HTTPError(req.full_url, code, f"redirect to {quote(newurl, 120)} refused",
                                         headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class HttpSource:
    """A mirror served over HTTP(S), read with size caps and a deadline per request."""

    is_url = True

    def __init__(self, target: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        try:
            parts = urlsplit(target)
        except ValueError:
            parts = None
        if parts is None or not parts.hostname or parts.query or parts.fragment or parts.username:
            raise SitegenError(f"{safe_text(target)}: not a base URL (http(s)://host/path/, "
                               "without credentials, query or fragment)")
        self.base = target if target.endswith("/") else target + "/"
        self.timeout = timeout

    def url(self, rel: str) -> str:
        return self.base + urlquote(rel, safe="/-_.~")

    def get(self, rel: str, max_bytes: int) -> bytes | None:
        """The body at ``rel`` (already passed :func:`check_tree_path`), at most ``max_bytes``."""
        request = Deadline(self.timeout)
        opener = urllib.request.OpenerDirector()
        for handler in (urllib.request.ProxyHandler(), urllib.request.UnknownHandler(), _HTTPHandler(request),
                        _HTTPSHandler(request), urllib.request.HTTPDefaultErrorHandler(), _Redirects(),
                        urllib.request.HTTPErrorProcessor()):
            opener.add_handler(handler)
        req = urllib.request.Request(self.url(rel), headers={"User-Agent": f"sitegen-verify/{__version__}",
                                                             "Accept-Encoding": "identity"})
        late = f"no complete answer within {self.timeout:g} s (--timeout)"
        with request:
            try:
                with opener.open(req, timeout=min(self.timeout, 30.0)) as response:
                    return self._read(response, request, max_bytes, late)
            except urllib.error.HTTPError as e:
                e.close()
                if e.code in (404, 410):
                    return None
                raise Unreadable(f"HTTP {e.code} {safe_text(str(e.reason), 120)}") from None
            except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
                if request.expired:
                    raise Unreadable(late) from None
                reason = e.reason if isinstance(e, urllib.error.URLError) else e
                raise Unreadable(f"cannot fetch: {_fetch_problem(reason)}") from None

    @staticmethod
    def _read(response: http.client.HTTPResponse, request: Deadline, max_bytes: int, late: str) -> bytes:
        length = (response.headers.get("Content-Length") or "").strip()
        if length.isascii() and length.isdigit() and (len(length) > 18 or int(length) > max_bytes):
            raise TooLarge(f"the server announces {quote(length, 30)} bytes, over the {max_bytes}-byte cap; "
                           "not read")
        data = bytearray()
        while len(data) <= max_bytes:
            chunk = response.read(min(_CHUNK, max_bytes + 1 - len(data)))
            if request.expired:
                raise Unreadable(late)
            if not chunk:
                break
            data += chunk
        if len(data) > max_bytes:
            raise TooLarge(f"the body is over the {max_bytes}-byte cap; reading stopped there")
        return bytes(data)


def _fetch_problem(reason: object) -> str:
    """Why a request failed, in plain words: no exception class name or errno."""
    if isinstance(reason, ssl.SSLError):
        return f"TLS failed: {safe_text(str(reason.reason or reason.strerror or 'handshake'), 200).lower()}"
    if isinstance(reason, OSError):
        return os_problem(reason)
    if isinstance(reason, http.client.IncompleteRead):
        return "the answer was cut short"
    if isinstance(reason, http.client.HTTPException):
        return "the server's answer is not valid HTTP"
    return safe_text(str(reason), 200)

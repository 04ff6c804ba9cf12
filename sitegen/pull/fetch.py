"""HTTP for ``sitegen pull``: one well-kept client (urllib3), every response bounded.

Contract: :meth:`Fetcher.get` returns a :class:`Response` — 200 with the body,
304 (not modified, for a conditional request) or 404/410 (absent) — or raises
:class:`FetchError` carrying a :class:`~sitegen.errors.Problem` (``url: problem
[check]``). It never hangs and never reads without bound:

* connect and per-read timeouts, and a deadline for the whole exchange —
  status line, headers and body — enforced by a timer that shuts the socket
  down (threat: a server dripping one byte at a time never trips a read
  timeout, in the headers as well as in the body);
* a size cap per response, checked against ``Content-Length`` before reading
  and enforced while reading decoded bytes (threats: an endless body, a
  decompression bomb);
* a body shorter than its ``Content-Length`` is an error, never a short document;
* retries with exponential backoff and jitter on connection errors, timeouts,
  429 and 5xx, honouring ``Retry-After`` up to a bound;
* redirects are followed only within the same host (an upgrade to https is
  allowed); any other redirect is an error, never followed;
* a 200 whose ``Content-Type`` is not JSON (or a generic binary or text type)
  is an error: a static host answering every path with its HTML page must not
  look like a document;
* every value the server sends that reaches a message is quoted
  (:func:`~sitegen.errors.quote`); validators (``ETag``, ``Last-Modified``)
  are kept only if they are short printable ASCII, since they are sent back.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from sitegen import __version__
from sitegen.deadline import Deadline
from sitegen.errors import Problem, quote

__all__ = ["Fetcher", "Limits", "Response", "FetchError", "USER_AGENT", "JSON_TYPES"]

USER_AGENT = f"sitegen/{__version__} (sitegen pull; static Pith mirror)"
#: Content types a JSON document may be served with: JSON itself, and the
#: generic types some object stores use for every file. Anything else (notably
#: ``text/html``) is refused.
JSON_TYPES = frozenset({"application/json", "text/json", "text/plain", "application/octet-stream",
                        "binary/octet-stream", ""})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_VALIDATOR = re.compile(r"\A[\x20-\x7e]{1,200}\Z")
_DIGITS = re.compile(r"\A[0-9]{1,18}\Z")
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """How patient and how bounded the client is. Seconds throughout.

    ``timeout``: connect and per-read timeout; ``deadline``: the whole
    response (default: 4 × ``timeout``); ``retries``: further attempts after
    the first; ``backoff``: the first wait, doubled each retry (at most
    ``max_backoff``), half of it random (jitter); ``max_retry_after``: the
    longest ``Retry-After`` honoured — a server asking for more fails the
    document instead of stalling the pull; ``max_redirects``: same-host hops."""

    timeout: float = 30.0
    deadline: float | None = None
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    max_redirects: int = 3

    @property
    def total(self) -> float:
        return self.deadline if self.deadline is not None else 4 * self.timeout


@dataclass(frozen=True)
class Response:
    """``status`` is 200, 304 or 404 (410 is reported as 404); ``data`` the
    body of a 200; ``etag``/``last_modified`` the validators, if usable."""

    url: str
    status: int
    data: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


class FetchError(Exception):
    """One URL could not be fetched; ``problem`` says why (check ``fetch.*``)."""

    def __init__(self, url: str, message: str, check: str):
        super().__init__(f"{url}: {message}")
        self.problem = Problem(url, "", message, check)


class _Retry(Exception):
    def __init__(self, message: str, check: str, wait: float | None = None):
        super().__init__(message)
        self.message, self.check, self.wait = message, check, wait


def _validator(value: str | None) -> str | None:
    return value if value is not None and _VALIDATOR.match(value) else None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if _DIGITS.match(value):  # ASCII only: str.isdigit() also takes '²', which float() refuses
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _watched(base: type[HTTPConnection], local: threading.local) -> type[HTTPConnection]:
    """``base`` handing its socket to the calling thread's
    :class:`~sitegen.deadline.Deadline` when it starts reading a response
    (a pooled connection is not connected again)."""

    class Watched(base):  # type: ignore[valid-type,misc]
        def getresponse(self):  # type: ignore[no-untyped-def]
            deadline = getattr(local, "deadline", None)
            if deadline is not None and self.sock is not None:
                deadline.attach(self.sock)
            return super().getresponse()

    return Watched


class _PoolManager(urllib3.PoolManager):
    """urllib3's pool manager with connections that honour a :class:`~sitegen.deadline.Deadline`
    (``_new_pool`` is urllib3's documented customisation point)."""

    def __init__(self, local: threading.local, **kw: Any) -> None:
        super().__init__(**kw)
        self._connection_classes = {"http": _watched(HTTPConnection, local),
                                    "https": _watched(HTTPSConnection, local)}

    def _new_pool(self, scheme: str, host: str, port: int,
                  request_context: dict[str, Any] | None = None) -> urllib3.HTTPConnectionPool:
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.ConnectionCls = self._connection_classes[scheme]
        return pool


class Fetcher:
    """A thread-safe HTTP client for one pull. ``requests`` and ``bytes``
    count every attempt and every body byte received (after decoding)."""

    def __init__(self, limits: Limits = Limits(), *, pool_size: int = 4) -> None:
        self.limits = limits
        self._local = threading.local()  # the exchange each thread is in (its Deadline)
        self._pool = _PoolManager(self._local, num_pools=4, maxsize=max(1, pool_size), block=True,
                                  headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"},
                                  retries=False)
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes = 0

    def close(self) -> None:
        self._pool.clear()

    def _count(self, requests: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.bytes += nbytes

    def get(self, url: str, *, max_bytes: int, etag: str | None = None,
            last_modified: str | None = None) -> Response:
        """GET ``url`` (see the module docstring). ``max_bytes``: the size cap
        of the body; ``etag``/``last_modified``: make the request conditional."""
        lim = self.limits
        attempt, hops, current = 0, 0, url
        while True:
            try:
                response, location = self._once(current, max_bytes=max_bytes, etag=etag,
                                                 last_modified=last_modified)
            except _Retry as r:
                if attempt >= lim.retries:
                    tries = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise FetchError(url, r.message + tries, r.check) from None
                if r.wait is not None and r.wait > lim.max_retry_after:
                    raise FetchError(url, f"{r.message}; the server asks to retry after {r.wait:.0f} s, "
                                     f"more than the {lim.max_retry_after:.0f} s this pull waits", r.check) from None
                step = min(lim.max_backoff, lim.backoff * 2 ** attempt)
                wait = step / 2 + random.uniform(0, step / 2)
                time.sleep(max(wait, r.wait or 0.0))
                attempt += 1
                continue
            if location is None:
                return response
            try:
                target = urljoin(current, location)
                here, there = _origin(current), _origin(target)
            except ValueError:  # urlsplit refuses some hostile URLs (bad port, stray brackets)
                raise FetchError(url, f"redirects to an invalid URL ({quote(location, 120)})",
                                 "fetch.redirect") from None
            upgrade = here[0] == "http" and there[0] == "https" and there[1] == here[1]
            if not (there == here or upgrade) or there[0] not in ("http", "https"):
                raise FetchError(url, f"redirects to another host ({quote(target, 120)}); not followed",
                                 "fetch.redirect")
            hops += 1
            if hops > lim.max_redirects:
                raise FetchError(url, f"more than {lim.max_redirects} redirects", "fetch.redirect")
            current = target

    def _once(self, url: str, *, max_bytes: int, etag: str | None,
              last_modified: str | None) -> tuple[Response, str | None]:
        """One attempt: ``(response, None)``, ``(_, location)`` for a redirect;
        raises :class:`_Retry` for what may pass, :class:`FetchError` otherwise."""
        lim = self.limits
        headers = {"Accept": "application/json"}
        if _validator(etag):
            headers["If-None-Match"] = etag  # type: ignore[assignment]
        if _validator(last_modified):
            headers["If-Modified-Since"] = last_modified  # type: ignore[assignment]
        self._count(requests=1)
        start = time.monotonic()
        with Deadline(lim.total) as deadline:
            self._local.deadline = deadline
            try:
                return self._exchange(url, headers, max_bytes, etag, last_modified, start, deadline)
            except (_Retry, Urllib3Error, OSError):
                if deadline.expired:
                    raise FetchError(url, f"too slow: no complete answer after {lim.total:g} s",
                                     "fetch.timeout") from None
                raise
            finally:
                self._local.deadline = None

    def _exchange(self, url: str, headers: dict[str, str], max_bytes: int, etag: str | None,
                  last_modified: str | None, start: float, deadline: Deadline) -> tuple[Response, str | None]:
        lim = self.limits
        try:
            r = self._pool.request("GET", url, headers=headers, redirect=False, retries=False,
                                   preload_content=False, decode_content=True,
                                   timeout=urllib3.Timeout(connect=lim.timeout, read=lim.timeout))
        except (Urllib3Timeout, ReadTimeoutError):
            raise _Retry(f"no answer within {lim.timeout:g} s", "fetch.timeout") from None
        except Urllib3Error as e:
            raise _Retry(f"connection failed ({quote(type(e).__name__, 60)})", "fetch.connection") from None
        complete = False
        try:
            status = r.status
            if status in _REDIRECTS:
                location = r.headers.get("Location")
                if not location:
                    raise FetchError(url, f"HTTP {status} without a Location", "fetch.redirect")
                return Response(url, status), location
            if status == 304:
                if not ("If-None-Match" in headers or "If-Modified-Since" in headers):
                    raise FetchError(url, "HTTP 304 to a request that was not conditional", "fetch.http")
                return Response(url, 304, etag=etag, last_modified=last_modified), None
            if status in (404, 410):
                return Response(url, 404), None
            if status in _RETRY_STATUS:
                raise _Retry(f"HTTP {status}", "fetch.http", _retry_after(r.headers.get("Retry-After")))
            if status != 200:
                raise FetchError(url, f"HTTP {status}", "fetch.http")
            ctype = (r.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype not in JSON_TYPES and not ctype.endswith("+json"):
                raise FetchError(url, f"served as {quote(ctype, 60)}, expected JSON", "fetch.type")
            length = r.headers.get("Content-Length")
            if length is not None and _DIGITS.match(length.strip()) and int(length) > max_bytes:
                raise FetchError(url, f"is {int(length)} bytes, over the {max_bytes}-byte cap", "fetch.size")
            data = self._body(r, url, max_bytes, start)
            if deadline.expired:  # the body may look complete after the socket was shut down
                raise FetchError(url, f"too slow: no complete answer after {lim.total:g} s", "fetch.timeout")
            complete = True
            return Response(url, 200, data, _validator(r.headers.get("ETag")),
                            _validator(r.headers.get("Last-Modified"))), None
        finally:
            if not complete:
                r.close()  # never drain an unwanted or hostile body
            r.release_conn()

    def _body(self, r: urllib3.BaseHTTPResponse, url: str, max_bytes: int, start: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        deadline = start + self.limits.total
        while True:
            try:
                chunk = r.read1(min(_READ_CHUNK, max_bytes + 1 - size))
            except (Urllib3Timeout, ReadTimeoutError):
                raise _Retry(f"stalled: no data for {self.limits.timeout:g} s", "fetch.timeout") from None
            except Urllib3Error as e:
                raise _Retry(f"the connection broke after {size} bytes ({quote(type(e).__name__, 60)})",
                             "fetch.connection") from None
            if not chunk:
                break
            size += len(chunk)
            self._count(nbytes=len(chunk))
            if size > max_bytes:
                raise FetchError(url, f"body exceeds the {max_bytes}-byte cap", "fetch.size")
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise FetchError(url, f"too slow: not complete after {self.limits.total:g} s "
                                 f"({size} bytes)", "fetch.timeout")
        return b"".join(chunks)

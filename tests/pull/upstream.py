"""Upstreams for the pull tests: a sitegen-built mirror or a resolver-layout
tree, served by a real HTTP server on 127.0.0.1 that can misbehave on cue.

:class:`Upstream` serves a directory (``ETag`` and ``Last-Modified``, with
304 answers to conditional requests), answers the resolver's
``/api/pith-number/resolve?arxiv=…&json=true`` from :attr:`Upstream.resolve`,
logs every request, and plays the faults queued per path in
:attr:`Upstream.faults` (one per request, in order): ``drop`` (the connection
breaks mid-body), ``500``, ``429:<seconds>`` (with ``Retry-After``), ``hang``
(no answer), ``endless`` (a body that never ends), ``drip`` (one byte every
0.2 s), ``truncate`` (the first half, with a matching Content-Length), ``html``
(the host's HTML page with 200), ``redirect:<url>``, ``delay:<seconds>``, ``gzip``
(the document, gzip-encoded), ``gzipbomb`` (64 MiB of spaces in 64 kB of gzip).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import json
import shutil
import socket
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from helpers import build
from pithfactory import dump, make_site


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    upstream: Upstream

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        counted, up = self.wfile, self.upstream

        class _Counting:
            def write(self, data):
                with up.lock:
                    up.sent += len(data)
                return counted.write(data)

            def __getattr__(self, name):
                return getattr(counted, name)

        self.wfile = _Counting()

    def _send(self, status: int, body: bytes, ctype: str = "application/json", extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        up = self.upstream
        parts = urlsplit(self.path)
        path = unquote(parts.path).lstrip("/")
        with up.lock:
            up.log.append((path + (f"?{parts.query}" if parts.query else ""), dict(self.headers)))
            up.received += len(self.raw_requestline) + sum(len(k) + len(v) + 4 for k, v in self.headers.items()) + 2
            queue = up.faults.get(path)
            fault = queue.pop(0) if queue else None
        if fault and self._fault(fault, path):
            return
        if path == "api/pith-number/resolve":
            arxiv = parse_qs(parts.query).get("arxiv", [""])[0]
            if arxiv in up.resolve:
                return self._send(200, json.dumps(up.resolve[arxiv]).encode())
            return self._send(404, b"not found", "text/plain")
        file = (up.root / path).resolve()
        if not file.is_relative_to(up.root.resolve()) or not file.is_file():
            return self._send(404, b"<!doctype html><title>404</title>", "text/html")
        data = file.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        modified = formatdate(int(file.stat().st_mtime), usegmt=True)
        headers = {}
        if up.etag:
            headers["ETag"] = etag
        if up.last_modified:
            headers["Last-Modified"] = modified
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if (up.etag and inm == etag) or (up.last_modified and not inm and ims
                                         and parsedate_to_datetime(ims).timestamp() >= int(file.stat().st_mtime)):
            self.send_response(304)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            return
        ctype = "application/json" if path.endswith(".json") else "text/html; charset=utf-8"
        self._send(200, data, ctype, headers)

    def _fault(self, fault: str, path: str) -> bool:
        """Play ``fault``; False if it only delays and the normal answer follows."""
        file = self.upstream.root / path
        data = file.read_bytes() if file.is_file() else b"{}"
        name, _, arg = fault.partition(":")
        if name == "delay":
            time.sleep(float(arg))
            return False
        if name == "500":
            self._send(500, b"oops", "text/plain")
        elif name == "429":
            self._send(429, b"slow down", "text/plain", {"Retry-After": arg})
        elif name == "drop":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif name == "hang":
            time.sleep(float(arg or 5))
            self.close_connection = True
        elif name in ("endless", "drip"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.close_connection = True
            try:
                while not self.upstream.stopping:
                    self.wfile.write(b" " * (65536 if name == "endless" else 1))
                    self.wfile.flush()
                    if name == "drip":
                        time.sleep(0.2)
            except OSError:
                pass
        elif name == "headerdrip":  # a status line, then one header byte at a time, never done
            self.close_connection = True
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not self.upstream.stopping:
                    self.wfile.write(b"a")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        elif name == "length":  # a Content-Length header of arg (latin-1), then the document
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", arg)
            self.end_headers()
            self.wfile.write(data)
        elif name == "truncate":
            self._send(200, data[: len(data) // 2])
        elif name == "html":
            self._send(200, b"<!doctype html><p>Welcome to my single-page app", "text/html")
        elif name == "redirect":
            self._send(302, b"", "text/plain", {"Location": arg})
        elif name == "gzip":
            self._send(200, gzip.compress(data), "application/json", {"Content-Encoding": "gzip"})
        elif name == "gzipbomb":
            self._send(200, gzip.compress(b" " * (64 * 1024 * 1024)), "application/json", {"Content-Encoding": "gzip"})
        else:
            raise AssertionError(f"unknown fault {fault}")
        return True


class Upstream:
    """A live server for ``root``; ``url`` is its base URL."""

    def __init__(self, root: Path, *, etag: bool = True, last_modified: bool = True) -> None:
        self.root, self.etag, self.last_modified = root, etag, last_modified
        self.faults: dict[str, list[str]] = {}
        self.resolve: dict[str, dict] = {}
        self.log: list[tuple[str, dict]] = []
        self.sent = self.received = 0  # bytes on the wire: responses (all), requests (line and headers)
        self.lock = threading.Lock()
        self.stopping = False
        handler = type("Handler", (_Handler,), {"upstream": self})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]  # clients that hang up are part of the tests
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.stopping = True
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        """The paths requested since the last :meth:`clear`, in order."""
        with self.lock:
            return [p for p, _ in self.log]

    def documents_fetched(self) -> set[str]:
        return {p for p in self.paths() if p.startswith(("pith/", ".well-known/pith/"))}

    def clear(self) -> None:
        with self.lock:
            self.log.clear()
            self.sent = self.received = 0


@contextlib.contextmanager
def serving(root: Path, **kw):
    up = Upstream(root, **kw)
    try:
        yield up
    finally:
        up.close()


def build_mirror(site: Path, out: Path, *extra: str) -> None:
    """``sitegen build`` of ``site`` into ``out`` (quietly; must succeed)."""
    assert build(site, out, *extra, base_url="http://mirror.test/") == 0


def upstream_site(root: Path, docs: dict[str, dict | bytes], *, seeds: bool = True) -> Path:
    """A site directory to build an upstream mirror from."""
    return make_site(root, seeds=seeds, docs=docs)


def empty_site(root: Path) -> Path:
    """A downstream site holding only ``content/keys/`` (the registry and test keys)."""
    root.mkdir(parents=True, exist_ok=True)
    return make_site(root, seeds=False)


def resolver_tree(root: Path, docs: list[dict]) -> Path:
    """The resolver's layout: ``pith/<S>.json`` for records and
    ``.well-known/pith/<S>/bundle.json`` for bundles."""
    for doc in docs:
        s = doc["pith_number"].split(":")[2]
        path = root / (f"pith/{s}.json" if "record_type" in doc else f".well-known/pith/{s}/bundle.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(dump(doc))
    return root


def published_documents(tree: Path) -> dict[str, bytes]:
    """``{path: bytes}`` of every record and bundle a built tree publishes."""
    out = {}
    for p in sorted((tree / "pith").glob("*.json")):
        out[p.relative_to(tree).as_posix()] = p.read_bytes()
    for p in sorted((tree / "pith").glob("*/bundle.json")):
        out[p.relative_to(tree).as_posix()] = p.read_bytes()
    return out


def content_documents(site: Path) -> dict[str, bytes]:
    """``{path: bytes}`` of every document under ``content/`` except keys."""
    content = site / "content"
    return {p.relative_to(content).as_posix(): p.read_bytes() for p in sorted(content.rglob("*.json"))
            if not p.relative_to(content).as_posix().startswith("keys/")}


def copy_tree(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def reseal(tree: Path, edit=None) -> None:
    """What an attacker who can write to the host (but has no mirror key) can
    do: rewrite the snapshot and one shard so they describe the documents as
    they are now, after ``edit(files)`` changed the listing. Unsigned."""
    from sitegen.mirror.snapshot import snapshot_sha256

    snap = json.loads((tree / "pith-mirror-snapshot.json").read_text())
    files = []
    for sh in snap["shards"]:
        files += json.loads((tree / sh["path"]).read_bytes())["files"]
        (tree / sh["path"]).unlink()
    for f in files:
        p = tree / f["path"]
        if f["path"].startswith("pith/") and p.is_file():
            f["size"], f["sha256"] = p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest()
    if edit:
        edit(files)
    data = json.dumps({"shard": "", "files": sorted(files, key=lambda f: f["path"])}).encode()
    path = ".well-known/pith-mirror/files-all.json"
    (tree / path).write_bytes(data)
    snap["shards"] = [{"prefix": "", "path": path, "count": len(files), "size": len(data),
                       "sha256": hashlib.sha256(data).hexdigest()}]
    snap["shard_prefix_length"] = 0
    snap["version"] += 1  # the same version with other content would be equivocation
    snap.pop("signature", None)
    snap["snapshot_sha256"] = snapshot_sha256(snap)
    (tree / "pith-mirror-snapshot.json").write_text(json.dumps(snap, indent=2))

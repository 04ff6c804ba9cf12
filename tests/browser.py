"""Headless Debian Chromium driven by Playwright, and a loopback HTTP server.

Playwright's own browser download does not work here; Debian's ``chromium``
is used through ``executable_path``. When it is missing the browser tests are
skipped — except under CI (``CI`` set), where they fail: .ci/run installs it.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SITEGEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


@contextlib.contextmanager
def chromium():
    """Yield a launched Playwright browser (headless Debian Chromium)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """Static-host behaviour: index.html for directories, 301 to the slash
    form, JSON content types, and the tree's own 404.html on a miss."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,  # noqa: RUF012 (as in the base)
                      ".json": "application/json"}

    def log_message(self, *args):
        pass

    not_found: Path | None = None  # set per server by serve()

    def send_error(self, code, message=None, explain=None):
        page = self.not_found or Path(self.directory) / "404.html"
        if code == 404 and page.is_file():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)


@contextlib.contextmanager
def serve(directory: Path, *, not_found: Path | None = None):
    """Serve ``directory`` on 127.0.0.1 (a free port); yield the base URL.
    ``not_found``: the 404 page to answer misses with (default ``directory/404.html``)."""
    handler = type("Handler", (StaticHandler,), {"not_found": not_found})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str):
    """GET ``url`` (redirects followed): ``(status, headers, body, final URL)``, also for an HTTP error."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers, r.read(), r.url
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read(), url

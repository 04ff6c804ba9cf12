"""``sitegen serve``: build, serve on loopback, rebuild on change, reload the browser.

The site is built into a private temporary directory (the published output
tree is never touched) with ``base_url`` set to the server's address, and
served with the URL rules of the static hosts: ``/pith/S`` → 301 →
``/pith/S/`` → ``index.html``; ``404.html`` for a miss; JSON content types.
A watcher (watchfiles) rebuilds on any change under ``content/``,
``templates/``, ``static/`` or to ``sitegen.toml``; a failed rebuild prints
its problems and the last good build stays online. Live reload: HTML
responses get one ``<script src="/__sitegen/livereload.js">`` injected by the
server (the files on disk are unchanged); it polls ``/__sitegen/generation``
and reloads when a rebuild has landed.
"""

from __future__ import annotations

import http.server
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable

from sitegen.build import build
from sitegen.config import Settings
from sitegen.errors import BuildFailed, SitegenError

__all__ = ["Server", "serve"]

_LIVERELOAD = b"""(function () {
  var seen = null;
  function poll() {
    fetch("/__sitegen/generation", {cache: "no-store"}).then(function (r) { return r.text(); })
      .then(function (g) { if (seen === null) { seen = g; } else if (g !== seen) { location.reload(); } })
      .catch(function () {}).then(function () { setTimeout(poll, 500); });
  }
  poll();
})();
"""
_INJECT = b'<script src="/__sitegen/livereload.js" defer></script>'


class Server:
    """A serving session: the HTTP server, the build directory and the
    generation counter live here (no module-level state)."""

    def __init__(self, settings: Settings, *, host: str, port: int, log: Callable[[str], None]) -> None:
        self.log = log
        self.generation = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.httpd = http.server.ThreadingHTTPServer((host, port), _handler(self))  # may raise OSError
        self._tmp = Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
        bound_host, bound_port = self.httpd.server_address[:2]
        self.url = f"http://{bound_host}:{bound_port}/"
        self.settings = replace(settings, output_dir=self._tmp / "site", base_url=self.url, base_url_set=True)
        self.root = self.settings.output_dir

    def rebuild(self) -> bool:
        """Build once; True if a new tree is being served."""
        try:
            result = build(self.settings)
        except BuildFailed as e:
            for problem in e.problems:
                self.log(f"{problem} [{problem.check}]")
            self.log(f"rebuild failed: {len(e.problems)} problems; still serving the last good build")
            return False
        except SitegenError as e:
            self.log(f"rebuild failed: {e}; still serving the last good build")
            return False
        with self.lock:
            self.generation += 1
        self.log(f"built {result.published} Pith Numbers ({result.mode}), {result.write.written} files changed "
                 f"(generation {self.generation})")
        return True

    def relevant(self, _change: object, path: str) -> bool:
        """Changes that affect the build: content/, templates/, static/, sitegen.toml."""
        try:
            rel = Path(path).relative_to(self.settings.site_dir)
        except ValueError:
            return False
        return bool(rel.parts) and (rel.parts[0] in ("content", "templates", "static") or str(rel) == "sitegen.toml")

    def watch(self, ready: threading.Event) -> None:
        """Rebuild on every relevant change. Watches the whole site directory,
        so a templates/ or static/ created later is seen; sets ``ready`` once
        the watch is active (``yield_on_timeout`` gives a first, empty tick)."""
        from watchfiles import watch

        for changes in watch(self.settings.site_dir, watch_filter=self.relevant, stop_event=self.stop,
                             debounce=200, step=50, rust_timeout=100, yield_on_timeout=True):
            ready.set()
            if changes:
                self.rebuild()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _handler(server: Server):
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          ".json": "application/json", ".xml": "application/xml"}

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(server.root), **kwargs)

        def log_message(self, *args):  # quiet; problems are reported by the build
            pass

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _html(self, code: int, path: str) -> None:
            body = Path(path).read_bytes()
            body = body.replace(b"</body>", _INJECT + b"</body>", 1) if b"</body>" in body else body + _INJECT
            self._send(code, body, "text/html; charset=utf-8")

        def do_GET(self):
            route = self.path.split("?", 1)[0].split("#", 1)[0]
            if route == "/__sitegen/generation":
                with server.lock:
                    return self._send(200, str(server.generation).encode(), "text/plain")
            if route == "/__sitegen/livereload.js":
                return self._send(200, _LIVERELOAD, "text/javascript")
            path = self.translate_path(self.path)
            if os.path.isdir(path):
                if not route.endswith("/"):
                    self.send_response(301)
                    self.send_header("Location", route + "/")
                    self.end_headers()
                    return None
                path = os.path.join(path, "index.html")
            if path.endswith(".html") and os.path.isfile(path):
                return self._html(200, path)
            return super().do_GET()

        do_HEAD = do_GET

        def send_error(self, code, message=None, explain=None):
            page = server.root / "404.html"
            if code == 404 and page.is_file():
                return self._html(404, str(page))
            return super().send_error(code, message, explain)

    return Handler


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, watch: bool = True,
          log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True)) -> int:
    """Run until interrupted (``KeyboardInterrupt`` propagates, after the
    temporary build directory is removed). Returns the exit code: 1 if the
    port cannot be bound or the first build fails."""
    try:
        server = Server(settings, host=host, port=port, log=log)
    except OSError as e:
        log(f"error: cannot serve on {host}:{port}: {e.strerror}")
        return 1
    try:
        if watch:  # watch first: a change made during the first build triggers a rebuild
            ready = threading.Event()
            threading.Thread(target=server.watch, args=(ready,), daemon=True).start()
            ready.wait(timeout=10)
        if not server.rebuild():
            return 1
        print(f"Serving {settings.site_dir} at {server.url} (Ctrl-C to stop)", flush=True)
        server.httpd.serve_forever()
    finally:  # Ctrl-C propagates to the CLI (exit 130); the temporary build directory goes first

        server.close()
    return 0

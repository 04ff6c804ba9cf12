"""``sitegen serve``: build, serve on loopback, rebuild on change, reload the browser.

The site is built into a private temporary directory (the published output
tree is never touched) with ``base_url`` set to the server's own address, and
served with the URL rules of the static hosts: ``/pith/S`` → 301 →
``/pith/S/`` → ``index.html``; ``404.html`` for a miss (a directory without
``index.html`` is a miss, not a listing); JSON and Atom content types.

Sub-path preview: when ``base_url`` has a path (``https://user.github.io/mirror/``)
the site is served under that same path (``http://127.0.0.1:8000/mirror/``) so
its links behave as on the real host; ``/`` redirects there, anything else
outside it is a 404 that says so. ``base_path`` (``--base-path``) overrides
the path taken from ``base_url``.

A watcher thread (watchfiles) reports changes under ``content/``,
``templates/``, ``static/`` and to ``sitegen.toml``; the main thread rebuilds,
re-reading ``sitegen.toml`` each time (the server keeps its own ``base_url``
and output directory). A failed rebuild — documents that fail verification,
a typo in ``sitegen.toml``, a broken template — prints its problems, and the
last good build stays online.

The browser side: HTML responses get one
``<script src="/__sitegen/client.js">`` injected by the server (the files on
disk are unchanged). It polls ``/__sitegen/status``, reloads when a new build
has landed, and while the last rebuild has failed shows its problems in an
overlay (a shadow root styled by ``/__sitegen/overlay.css``; problem text is
set with ``textContent`` only). Both are served from ``/__sitegen/``, so they
run under the pages' ``script-src 'self'; style-src 'self'`` policy.

Ctrl-C (or SIGTERM) raises in the main thread — during a rebuild too, which
then cleans up as ``sitegen build`` does — and the temporary build directory
is removed before the exception reaches the CLI.
"""

from __future__ import annotations

import html
import http.server
import json
import os
import queue
import re
import secrets
import shutil
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sitegen.build import build
from sitegen.config import Settings, load_settings
from sitegen.errors import BuildFailed, ConfigError, SitegenError, os_problem, quote, safe_text

if TYPE_CHECKING:  # watchfiles is imported when the watcher starts
    from watchfiles import Change

__all__ = ["Server", "serve", "normalise_base_path"]

_ASSETS = Path(__file__).resolve().parent / "serve_assets"
_CLIENT_JS = (_ASSETS / "client.js").read_bytes()
_OVERLAY_CSS = (_ASSETS / "overlay.css").read_bytes()
#: Problems sent to the browser (the terminal gets them all), and characters per problem.
MAX_OVERLAY_PROBLEMS = 200
_MAX_PROBLEM_CHARS = 2000

#: A URL path of base-URL characters (config._BASE_URL_CHARS without ``[ ]``), ``/``-separated.
_BASE_PATH = re.compile(r"\A/(?:[A-Za-z0-9._~:@+,=%-]+/)*\Z")


def normalise_base_path(value: str, where: str = "--base-path") -> str:
    """``value`` as ``/`` or ``/a/b/`` (leading and trailing slash added);
    raises :class:`ConfigError` for anything but plain path segments."""
    path = value if value.startswith("/") else "/" + value
    path = path if path.endswith("/") else path + "/"
    if not _BASE_PATH.match(path) or any(seg in (".", "..") for seg in path.split("/")):
        raise ConfigError(f"{where}: expected a URL path such as /mirror/, got {quote(value)}")
    return path


@dataclass(frozen=True)
class _State:
    """What the HTTP threads serve, replaced as a whole after each rebuild.

    ``generation`` counts good builds; ``base_path`` is the one the served tree
    was built for; ``summary`` is empty when the last rebuild succeeded, else
    one line about the failure, with ``problems`` (terminal-safe lines)."""

    generation: int = 0
    base_path: str = "/"
    summary: str = ""
    problems: tuple[str, ...] = ()


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class Server:
    """A serving session: the HTTP server, the build directory and the
    served state live here (no module-level state).

    ``reload``: re-reads the settings for every rebuild (default:
    ``load_settings(settings.site_dir)``); ``base_path``: serve under this
    path instead of the one in ``base_url``."""

    def __init__(self, settings: Settings, *, host: str, port: int, log: Callable[[str], None],
                 base_path: str | None = None, reload: Callable[[], Settings] | None = None) -> None:
        self.log = log
        self.site_dir = settings.site_dir
        self._initial: Settings | None = settings
        self._reload = reload or partial(load_settings, settings.site_dir)
        self._base_path = normalise_base_path(base_path) if base_path is not None else None
        self.state = _State()
        self.session = secrets.token_hex(4)  # a restarted server reloads the pages left open
        self.lock = threading.Lock()  # guards ``state``, which is replaced, never mutated
        self.stop = threading.Event()
        self.changes: queue.Queue[set[tuple[Change, str]]] = queue.Queue()
        self.httpd = http.server.ThreadingHTTPServer((host, port), _handler(self))  # may raise OSError
        self._serving = False
        self._tmp = Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
        bound_host, bound_port = self.httpd.server_address[:2]
        self.origin = f"http://{bound_host!s}:{bound_port}"
        self.root = self._tmp / "site"

    @property
    def url(self) -> str:
        """Where the site is served now (the origin and the base path)."""
        return self.origin + self.state.base_path

    def _settings_for_build(self, settings: Settings) -> Settings:
        """``settings`` with the server's own output directory and base URL."""
        if self._base_path is not None:
            base_path = self._base_path
        elif settings.base_url_set:
            base_path = normalise_base_path(settings.base_path, "sitegen.toml: base_url (its path)")
        else:
            base_path = "/"
        return replace(settings, output_dir=self.root, base_url=self.origin + base_path, base_url_set=True)

    def rebuild(self) -> bool:
        """Re-read the settings and build once; True if a new tree is being served."""
        first = self.state.generation == 0
        failed = "build failed" if first else "rebuild failed"
        keep = "" if first else "; still serving the last good build"
        lines: list[str]
        try:
            settings = self._initial if self._initial is not None else self._reload()
            self._initial = None
            settings = self._settings_for_build(settings)
            result = build(settings)
        except BuildFailed as e:
            lines = [f"{p} [{p.check}]" for p in e.problems]
            summary = (f"{e.failed_files} of {e.total_files} content files failed verification "
                       f"({_n(len(e.problems), 'problem')})")
        except ConfigError as e:
            lines, summary = [str(e)], "configuration error"
        except SitegenError as e:
            lines, summary = [str(e)], "the build could not be written"
        except Exception as e:  # a bug: report it and keep serving, do not kill the server
            self.log(traceback.format_exc().rstrip())
            lines, summary = [safe_text(f"{type(e).__name__}: {e}")], "internal error (a bug in sitegen)"
        else:
            with self.lock:
                moved = self.state.base_path != urlsplit(settings.base_url).path
                self.state = _State(self.state.generation + 1, urlsplit(settings.base_url).path)
            for warning in result.warnings:
                self.log(f"warning: {warning}")
            self.log(f"built {_n(result.published, 'Pith Number')} ({result.mode}), "
                     f"{_n(result.write.written, 'file')} changed (generation {self.state.generation})")
            if moved and not first:
                self.log(f"now serving at {self.url} (base path changed)")
            return True
        for line in lines:
            self.log(line)
        self.log(f"{failed}: {summary}{keep}")
        with self.lock:
            self.state = replace(self.state, summary=summary, problems=tuple(
                safe_text(line, _MAX_PROBLEM_CHARS) for line in lines))
        return False

    def relevant(self, _change: object, path: str) -> bool:
        """Changes that affect the build: content/, templates/, static/, sitegen.toml."""
        try:
            rel = Path(path).relative_to(self.site_dir)
        except ValueError:
            return False
        return bool(rel.parts) and (rel.parts[0] in ("content", "templates", "static") or str(rel) == "sitegen.toml")

    def watch(self, ready: threading.Event) -> None:
        """Queue every relevant change (the main thread rebuilds). Watches the
        whole site directory, so a templates/ or static/ created later is
        seen; sets ``ready`` once the watch is active (``yield_on_timeout``
        gives a first, empty tick)."""
        from watchfiles import watch

        try:
            for changes in watch(self.site_dir, watch_filter=self.relevant, stop_event=self.stop,
                                 debounce=200, step=50, rust_timeout=100, yield_on_timeout=True):
                ready.set()
                if changes:
                    self.changes.put(changes)
        except Exception as e:  # e.g. the site directory was removed
            if not self.stop.is_set():
                self.log(f"error: watching {self.site_dir} stopped ({safe_text(str(e))}); restart sitegen serve")
        finally:
            ready.set()

    def run(self, watch: bool) -> int:
        """Build, serve, and rebuild on change until interrupted (in this thread)."""
        if watch:  # watch first: a change made during the first build triggers a rebuild
            ready = threading.Event()
            threading.Thread(target=self.watch, args=(ready,), name="sitegen-watch", daemon=True).start()
            ready.wait(timeout=10)
        if not self.rebuild():
            return 1
        threading.Thread(target=self.httpd.serve_forever, name="sitegen-http", daemon=True).start()
        self._serving = True
        print(f"Serving {self.site_dir} at {self.url} (Ctrl-C to stop)", flush=True)
        while True:
            try:
                changes = self.changes.get(timeout=0.5)
            except queue.Empty:
                continue
            while not self.changes.empty():  # one rebuild for a burst of changes
                changes |= self.changes.get_nowait()
            self.log(f"rebuilding: {self._describe(changes)}")
            self.rebuild()

    def _describe(self, changes: set[tuple[Change, str]]) -> str:
        paths = sorted({safe_text(os.path.relpath(path, self.site_dir), 200) for _, path in changes})
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        return f"{shown} changed"

    def status(self) -> bytes:
        """``/__sitegen/status``: the generation, base path and any problems, as JSON."""
        with self.lock:
            state = self.state
        return json.dumps({
            "build": f"{self.session}-{state.generation}",
            "generation": state.generation,
            "base_path": state.base_path,
            "failed": bool(state.summary),
            "title": "sitegen serve: rebuild failed — you are looking at the last good build",
            "summary": state.summary,
            "problems": state.problems[:MAX_OVERLAY_PROBLEMS],
            "more": max(0, len(state.problems) - MAX_OVERLAY_PROBLEMS),
        }).encode()

    def close(self) -> None:
        self.stop.set()
        if self._serving:  # shutdown() waits for serve_forever, which never started otherwise
            self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _inject(body: bytes, session: str, state: _State) -> bytes:
    tag = (f'<script src="/__sitegen/client.js" data-build="{session}-{state.generation}" '
           f'data-base-path="{html.escape(state.base_path)}" defer></script>').encode()
    at = body.rfind(b"</body>")
    return body[:at] + tag + body[at:] if at >= 0 else body + tag


def _handler(server: Server) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,  # noqa: RUF012 (as in the base)
                          ".json": "application/json", ".xml": "application/xml"}
        _state = _State()

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(server.root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # quiet; problems are reported by the build
            pass

        def end_headers(self) -> None:
            # Every response is fresh: a reload after a rebuild must fetch changed CSS and JS too.
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def guess_type(self, path: str | os.PathLike[str]) -> str:
            if os.path.basename(path) == "feed.xml":
                return "application/atom+xml"
            return super().guess_type(path)

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _redirect(self, code: int, location: str) -> None:
            self.send_response(code)
            # Never //host, and no backslash, which browsers read as a slash (/\\host is //host):
            # not an open redirect.
            self.send_header("Location", "/" + location.replace("\\", "%5C").lstrip("/"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _html(self, code: int, path: str) -> None:
            self._send(code, _inject(Path(path).read_bytes(), server.session, self._state), "text/html; charset=utf-8")

        def translate_path(self, path: str) -> str:
            # Only called for paths under the base path (do_GET answers the rest).
            path = path.split("?", 1)[0].split("#", 1)[0]
            return super().translate_path("/" + path[len(self._state.base_path):])

        def _internal(self, route: str) -> None:
            if route == "/__sitegen/status":
                return self._send(200, server.status(), "application/json")
            if route == "/__sitegen/generation":
                with server.lock:
                    return self._send(200, str(server.state.generation).encode(), "text/plain")
            if route == "/__sitegen/client.js":
                return self._send(200, _CLIENT_JS, "text/javascript; charset=utf-8")
            if route == "/__sitegen/overlay.css":
                return self._send(200, _OVERLAY_CSS, "text/css; charset=utf-8")
            return self._send(404, b"not a sitegen serve endpoint\n", "text/plain")

        def _outside(self, route: str) -> None:
            base = self._state.base_path
            page = (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title>"
                    f"</head><body><h1>Not found</h1><p>{html.escape(safe_text(route, 300))} is outside the "
                    f"mirror's base path <a href=\"{html.escape(base)}\">{html.escape(base)}</a> (the path of "
                    f"<code>base_url</code>): on the real host it is not part of the mirror.</p></body></html>\n")
            self._send(404, _inject(page.encode(), server.session, self._state), "text/html; charset=utf-8")

        def do_GET(self) -> None:
            with server.lock:
                self._state = server.state  # one state per request
            route, _, query = self.path.split("#", 1)[0].partition("?")
            query = "?" + query if query else ""
            if route.startswith("/__sitegen/"):
                return self._internal(route)
            base = self._state.base_path
            if not route.startswith(base):
                if route == "/" or route + "/" == base:  # the host's root, or /mirror for /mirror/
                    return self._redirect(302 if route == "/" else 301, base + query)
                return self._outside(route)
            path = self.translate_path(route)
            if os.path.isdir(path):
                if not route.endswith("/"):
                    return self._redirect(301, route + "/" + query)
                path = os.path.join(path, "index.html")
                if not os.path.isfile(path):  # static hosts do not list directories
                    return self.send_error(404)
            if path.endswith(".html") and os.path.isfile(path):
                return self._html(200, path)
            return super().do_GET() if self.command == "GET" else super().do_HEAD()

        do_HEAD = do_GET

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            page = server.root / "404.html"
            if code == 404 and page.is_file():
                return self._html(404, str(page))
            return super().send_error(code, message, explain)

    return Handler


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, watch: bool = True,
          base_path: str | None = None, reload: Callable[[], Settings] | None = None,
          log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True)) -> int:
    """Run until interrupted (``KeyboardInterrupt`` propagates, after the
    temporary build directory is removed). Returns the exit code: 1 if the
    port cannot be bound or the first build fails. ``settings`` is used for
    the first build; every rebuild re-reads them with ``reload`` (default:
    ``load_settings(settings.site_dir)``, i.e. ``sitegen.toml``)."""
    try:
        server = Server(settings, host=host, port=port, log=log, base_path=base_path, reload=reload)
    except OSError as e:
        log(f"error: cannot serve on {host}:{port}: {os_problem(e)}")
        return 1
    try:
        return server.run(watch)
    finally:  # Ctrl-C propagates to the CLI (exit 130); the temporary build directory goes first
        server.close()

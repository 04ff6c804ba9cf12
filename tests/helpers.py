"""Helpers shared by the tests, one name per meaning.

* :func:`tree` — every file of a directory, by relative path (bytes only);
  :func:`tree_stats` adds each file's mtime and inode (did a build touch it?).
* :func:`build` — ``sitegen build`` in this process; returns the exit code.
* :func:`build_in_child` — ``python -m sitegen build`` in a child process
  (for signals, resource limits and the worker pool), with :data:`CHILD_ENV`.
* :func:`like_a_terminal` — for a child the test interrupts as a terminal would.
* :func:`soup` — an HTML file parsed with BeautifulSoup.

Documents and sites are made by :mod:`pithfactory`; browsers and HTTP servers
by :mod:`browser`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

from sitegen.cli import main

REPO = Path(__file__).resolve().parent.parent
#: The build time of every child build (2026-01-01T00:00:00Z): reproducible output.
SOURCE_DATE_EPOCH = "1767225600"
#: The environment of a ``python -m sitegen`` child: this checkout, a fixed build time.
CHILD_ENV = {**os.environ, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}

__all__ = ["REPO", "SOURCE_DATE_EPOCH", "CHILD_ENV", "tree", "tree_stats", "build", "build_in_child", "like_a_terminal",
           "soup"]


def tree(root: Path) -> dict[str, bytes]:
    """``{relative POSIX path: bytes}`` of every file under ``root``, sorted."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tree_stats(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """``{relative POSIX path: (bytes, mtime_ns, inode)}`` of every file under ``root``."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            out[p.relative_to(root).as_posix()] = (p.read_bytes(), st.st_mtime_ns, st.st_ino)
    return out


def build(site: Path, out: Path, *args: str, quiet: bool = True, base_url: str | None = None) -> int:
    """``sitegen build SITE -o OUT [-q] [--base-url URL] ARGS…`` in this process."""
    return main(["build", str(site), "-o", str(out), *(["-q"] if quiet else []),
                 *(["--base-url", base_url] if base_url is not None else []), *args])


def build_in_child(site: Path, out: Path, *args: str, quiet: bool = True,
                   **run: Any) -> subprocess.CompletedProcess[str]:
    """``python -m sitegen build SITE -o OUT [-q] ARGS…`` in a child process
    (output captured as text, environment :data:`CHILD_ENV`); ``run`` goes to
    :func:`subprocess.run` (``timeout=``, ``preexec_fn=``…)."""
    return subprocess.run([sys.executable, "-m", "sitegen", "build", str(site), "-o", str(out),
                           *(["-q"] if quiet else []), *args],
                          capture_output=True, text=True, env=CHILD_ENV, **run)


def like_a_terminal() -> None:
    """``preexec_fn`` for a child a test signals as a terminal would: Ctrl-C
    (SIGINT) is not ignored, even when the test run itself was started in
    the background (where a shell ignores it, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def soup(path: Path) -> BeautifulSoup:
    """The HTML file at ``path``, parsed (``html.parser``)."""
    return BeautifulSoup(path.read_bytes(), "html.parser")

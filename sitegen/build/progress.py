"""Progress on long builds: a tqdm bar (rate and ETA) on a terminal, plain
periodic lines otherwise (CI logs), nothing with ``--quiet``.

:class:`Progress` is handed to :func:`sitegen.build.build`; each stage calls
:meth:`Progress.stage` with its size and advances it as work completes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

__all__ = ["Progress"]


class _Plain:
    """One line every ``interval`` seconds and one at the end."""

    def __init__(self, name: str, total: int, out: IO[str], interval: float) -> None:
        self.name, self.total, self.out, self.interval = name, total, out, interval
        self.done, self.start = 0, time.monotonic()
        self.last = self.start

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self._line(now)

    def _line(self, now: float) -> None:
        rate = self.done / max(now - self.start, 1e-9)
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if rate and self.total > self.done else ""
        print(f"{self.name}: {self.done}/{self.total} ({rate:.0f}/s{eta})", file=self.out, flush=True)

    def close(self) -> None:
        if self.done and time.monotonic() - self.start >= self.interval:
            self._line(time.monotonic())


class Progress:
    """``mode``: ``"bar"`` (tqdm), ``"lines"`` or ``"off"``; ``"auto"`` picks
    ``bar`` when ``out`` is a terminal, else ``lines``."""

    def __init__(self, mode: str = "auto", out: IO[str] | None = None, interval: float = 5.0) -> None:
        self.out = out or sys.stderr
        if mode == "auto":
            mode = "bar" if self.out.isatty() else "lines"
        self.mode, self.interval = mode, interval
        self.start = time.monotonic()

    def note(self, text: str) -> None:
        """One line naming a step that shows no count (``indexes: search
        index``) — only once the build has run for ``interval`` seconds, so
        a small build stays quiet and a large one never looks stuck."""
        if self.mode != "off" and time.monotonic() - self.start >= self.interval:
            print(text, file=self.out, flush=True)

    @contextmanager
    def stage(self, name: str, total: int, unit: str = "doc") -> Iterator:
        """A progress display for ``total`` items; yields an object with
        ``update(n)``."""
        if self.mode == "off" or total <= 0:
            yield _Null()
            return
        if self.mode == "bar":
            from tqdm import tqdm
            bar = tqdm(total=total, desc=name, unit=unit, file=self.out, dynamic_ncols=True, leave=False)
            try:
                yield bar
            finally:
                bar.close()
            return
        plain = _Plain(name, total, self.out, self.interval)
        try:
            yield plain
        finally:
            plain.close()


class _Null:
    def update(self, n: int) -> None:
        pass

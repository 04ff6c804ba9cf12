"""A deadline for one network exchange, enforced by shutting its socket down.

A per-read socket timeout does not bound an exchange: a server that sends one
byte just before each timeout (in the status line, the headers or the body)
keeps a reader busy for as long as it likes. :class:`Deadline` starts a timer
when entered; the connection :meth:`~Deadline.attach`\\ es its socket once it
has one, and when the deadline passes the socket is shut down, so a blocked
read returns at once (end of file or an error) and ``expired`` says why.
Used by ``sitegen verify URL`` (:mod:`sitegen.mirror.source`) and ``sitegen
pull`` (:mod:`sitegen.pull.fetch`).
"""

from __future__ import annotations

import socket
import threading
import time

__all__ = ["Deadline"]


class Deadline:
    """``seconds`` from entering until the attached socket is shut down. Use
    as a context manager; after it exits, the timer can no longer fire."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._done = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True

    def attach(self, sock: socket.socket) -> None:
        """The socket to shut down when the deadline passes (at once if it has)."""
        with self._lock:
            self._sock = sock
            if self.expired:
                self._shutdown()

    def expire(self) -> None:
        with self._lock:
            if self._done:  # the exchange ended first: its socket may be back in a pool
                return
            self.expired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            try:  # the plain socket's shutdown, also under TLS: the reader sees EOF or an error
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: nothing left to stop

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()

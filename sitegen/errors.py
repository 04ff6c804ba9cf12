"""The sitegen exception tree, sorted by audience.

Every message about bad input reads ``file: field.path: problem`` and quotes
untrusted values with :func:`quote`, so a hostile document can neither flood
nor spoof a terminal. Only the CLI prints and exits; everything else raises.

    SitegenError
    ├── ConfigError        settings, keyring, theme: the operator must fix it
    ├── InputError         one problem with one content file (load/schema/verify)
    ├── BuildFailed        aggregate: these N inputs failed, nothing was written
    └── WriteError         the output tree could not be written; old tree intact
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = [
    "SitegenError",
    "ConfigError",
    "InputError",
    "Problem",
    "BuildFailed",
    "WriteError",
    "quote",
]

_MAX_QUOTED = 80


def quote(value: object, limit: int = _MAX_QUOTED) -> str:
    """Return a terminal-safe, bounded rendering of an untrusted value.

    Uses ``repr()`` (so quotes and escapes are visible), then escapes every
    remaining control, format (bidi overrides, zero-width) and separator
    character as ``\\uXXXX``, and truncates to ``limit`` characters.
    """
    text = repr(value)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") or ch == "\x1b":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    safe = "".join(out)
    if len(safe) > limit:
        safe = safe[: limit - 1] + "…"
    return safe


class SitegenError(Exception):
    """Base class for every error sitegen reports to a user."""


class ConfigError(SitegenError):
    """Settings, keyring or theme are unusable; the operator must fix them."""


@dataclass(frozen=True)
class Problem:
    """One problem with one input file: ``file: field: message``.

    ``file`` is the path shown to the user (relative to the site directory),
    ``field`` a dotted JSON path (``receipt.signature_b64``, ``events[1].event_id``)
    or ``""`` when the problem concerns the whole file, ``check`` the name of the
    verification check that failed (``record.receipt.signature``) or of the load
    step (``load.json``).
    """

    file: str
    field: str
    message: str
    check: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.file}: {self.field}: {self.message}"
        return f"{self.file}: {self.message}"


class InputError(SitegenError):
    """A single content file is unusable; carries the :class:`Problem`."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


class BuildFailed(SitegenError):
    """Aggregate: some inputs failed and the build wrote nothing.

    ``problems`` lists every problem found in the run, in file order.
    """

    def __init__(self, problems: tuple[Problem, ...], failed_files: int, total_files: int):
        self.problems = problems
        self.failed_files = failed_files
        self.total_files = total_files
        super().__init__(
            f"{failed_files} of {total_files} content files failed verification"
        )


class WriteError(SitegenError):
    """The output tree could not be written (disk full, permissions, …).

    The previously published tree is left as it was.
    """

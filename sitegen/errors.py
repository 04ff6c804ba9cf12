"""The sitegen exception tree, sorted by audience.

Every message about bad input reads ``file: field.path: problem`` and quotes
untrusted values with :func:`quote`, so a hostile document can neither flood
nor spoof a terminal. Only the CLI prints and exits; everything else raises.

    SitegenError
    ├── ConfigError        settings, keyring, theme: the operator must fix it
    ├── InputError         one problem with one content file (load/schema/verify)
    ├── BuildFailed        aggregate: these N inputs failed, nothing was written
    │   └── KeyringFailed  the trusted keys are unusable: nothing was verified
    └── WriteError         the output tree could not be written; old tree intact

Messages an operator acts on read ``path: what is wrong — what to do``; an
``OSError`` is described in plain words by :func:`os_problem`, never by its
class name or errno.
"""

from __future__ import annotations

import errno
import unicodedata
from dataclasses import dataclass

__all__ = [
    "SitegenError",
    "ConfigError",
    "InputError",
    "Problem",
    "BuildFailed",
    "WriteError",
    "KeyringFailed",
    "quote",
    "safe_text",
    "os_problem",
]

_MAX_QUOTED = 80


_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def safe_text(text: str, limit: int = 400) -> str:
    """Escape every control, format (bidi overrides, zero-width), separator,
    surrogate and unassigned character as ``\\uXXXX`` and truncate to
    ``limit`` characters. For untrusted text shown as-is (file names)."""
    if text.isprintable():  # no Cc/Cf/Cs/Co/Cn/Zl/Zp (nor other separators than space): nothing to escape
        return text if len(text) <= limit else text[: limit - 1] + "…"
    out = []
    for ch in text:
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    safe = "".join(out)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def quote(value: object, limit: int = _MAX_QUOTED) -> str:
    """Return a terminal-safe, bounded rendering of an untrusted value:
    ``repr()`` (so quotes and escapes are visible) passed through
    :func:`safe_text` and truncated to ``limit`` characters."""
    return safe_text(repr(value), limit)


#: Plain words for the errors a file operation meets most (``os.strerror`` otherwise).
_OS_PROBLEMS = {
    errno.ENOENT: "does not exist",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EEXIST: "already exists",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.ELOOP: "too many levels of symbolic links",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EFBIG: "the file is too large",
    errno.ECONNREFUSED: "connection refused",
    errno.ETIMEDOUT: "timed out",
}


def os_problem(e: OSError) -> str:
    """``e`` in plain lower-case words (``permission denied``), without its
    class name, errno number or file name (the message names the file)."""
    if e.errno in _OS_PROBLEMS:
        return _OS_PROBLEMS[e.errno]
    text = e.strerror or (e.args[0] if e.args and isinstance(e.args[0], str) else "") or "input/output error"
    return safe_text(text[:1].lower() + text[1:], 200)


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
        file = safe_text(self.file)  # a file name is untrusted too
        if self.field:
            return f"{file}: {safe_text(self.field)}: {self.message}"
        return f"{file}: {self.message}"


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


class KeyringFailed(BuildFailed):
    """The operator's keyring (``content/keys/``) is unusable, so nothing was
    verified. ``keys_dir`` is the directory as shown to the user (ending in
    ``/``); ``key_files`` the key documents at fault — none when the directory
    itself is the problem (missing, empty, unreadable)."""

    def __init__(self, problems: tuple[Problem, ...], keys_dir: str):
        self.keys_dir = keys_dir
        self.key_files = tuple(dict.fromkeys(p.file for p in problems if p.file != keys_dir))
        super().__init__(problems, len(self.key_files), 0)
        count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        if len(self.key_files) == 1:
            head = f"{safe_text(self.key_files[0])}: unusable key document ({count} above) — fix or remove it"
        elif self.key_files:
            head = (f"{safe_text(keys_dir)}: {len(self.key_files)} unusable key documents ({count} above) — "
                    "fix or remove each")
        else:
            head = f"{safe_text(keys_dir)}: no usable trusted keys — add a key document as said above"
        self.args = (f"{head}; nothing was verified",)

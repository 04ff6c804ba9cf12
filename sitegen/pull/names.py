"""What the user names for ``sitegen pull``: Pith Numbers, suffixes, arXiv ids.

Pure functions, no I/O except reading the ``--from-file`` list. A name is:

* a full Pith Number ``pith:YYYY:<SUFFIX>`` (docs/protocol.md §2) — the
  document fetched must then be exactly that Pith Number;
* a bare suffix (26 characters of base32; lower case is accepted);
* an arXiv id, new style ``2101.00001`` or old style ``hep-lat/0305021``,
  optionally with a version ``v3`` (docs/protocol.md §7) — resolved to Pith
  Numbers by the source.

Anything else is a :class:`UsageError` naming the offending text (quoted: a
names file is untrusted text too). Every value that later becomes part of a
URL path passed one of the patterns here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import SitegenError, os_problem, quote
from sitegen.pith.numbers import PITH_NUMBER_RE, SHORT_PITH_NUMBER_RE, SUFFIX_RE

__all__ = ["Name", "parse_name", "parse_names", "read_names_file", "UsageError", "ARXIV_RE", "MAX_NAMES_FILE_BYTES"]

#: arXiv identifiers: ``YYMM.NNNN[N]`` since 2007, ``archive[.SUB]/YYMMNNN`` before; optional ``vN``.
ARXIV_RE = re.compile(r"\A(?P<id>[0-9]{4}\.[0-9]{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/[0-9]{7})"
                      r"(?:v(?P<v>[1-9][0-9]{0,3}))?\Z")
#: A names file larger than this is refused (one name is at most ~40 bytes).
MAX_NAMES_FILE_BYTES = 64 * 1024 * 1024


class UsageError(SitegenError):
    """A usage error of `sitegen pull`: a name that is none of the accepted
    forms, or nothing named where the source has no listing (exit status 2)."""


@dataclass(frozen=True)
class Name:
    """One parsed name. ``suffix`` is set for a Pith Number or suffix (and
    ``pith_number`` for a full one); ``arxiv_id``/``arxiv_version`` for an arXiv id."""

    text: str
    suffix: str | None = None
    pith_number: str | None = None
    arxiv_id: str | None = None
    arxiv_version: int | None = None

    @property
    def arxiv(self) -> tuple[str, int | None] | None:
        """``(id, version)`` of an arXiv id, else None."""
        return (self.arxiv_id, self.arxiv_version) if self.arxiv_id is not None else None

    @property
    def key(self) -> str:
        """What makes two names the same request."""
        return self.suffix or f"{self.arxiv_id}v{self.arxiv_version}"


def parse_name(text: str, *, where: str = "") -> Name:
    """Parse one name; raises :class:`UsageError` (``where`` prefixes the message)."""
    value = text.strip()
    if PITH_NUMBER_RE.match(value):
        return Name(value, suffix=value.split(":")[2], pith_number=value)
    if SUFFIX_RE.match(value.upper()):
        return Name(value, suffix=value.upper())
    m = ARXIV_RE.match(value)
    if m:
        return Name(value, arxiv_id=m.group("id"), arxiv_version=int(m.group("v")) if m.group("v") else None)
    hint = (" (a short Pith Number cannot be resolved: give the full one or its 26-character suffix)"
            if SHORT_PITH_NUMBER_RE.match(value) else "")
    raise UsageError(f"{where}{quote(value)} is not a Pith Number, a suffix or an arXiv id{hint}")


def parse_names(texts: list[str], *, where: str = "") -> list[Name]:
    """Parse several names, keeping the first of any duplicates."""
    out: dict[str, Name] = {}
    for text in texts:
        name = parse_name(text, where=where)
        out.setdefault(name.key, name)
    return list(out.values())


def read_names_file(path: Path) -> list[Name]:
    """Names from a file, one per line; blank lines and ``#`` comments are
    skipped. Raises :class:`UsageError` naming the line of a bad name, and
    :class:`SitegenError` if the file cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_NAMES_FILE_BYTES + 1)
    except OSError as e:
        raise SitegenError(f"{path}: cannot read the names file: {os_problem(e)}") from None
    if len(data) > MAX_NAMES_FILE_BYTES:
        raise SitegenError(f"{path}: the names file is over {MAX_NAMES_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: invalid UTF-8 at byte {e.start}") from None
    names: list[Name] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(parse_name(line, where=f"{path}:{number}: "))
    return names

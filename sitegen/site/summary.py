"""Record summaries: the small, plain part of a record view that site-wide
pages need (listings, the home page, the feed, the search index, the alias
maps and optional alias pages, and the sitemap).

A build keeps one summary per published Pith Number in its store
(:mod:`sitegen.build.store`) as JSON, so listings and indexes are produced a
page at a time from sorted queries instead of from every record held in
memory. The store is plain data, never markup: a summary holds the cleaned
TeX title (``title_tex``), and the title's text and sanitised HTML are derived
from it when a page is rendered (:func:`~sitegen.site.tex.tex_to_text`,
:func:`~sitegen.site.tex.tex_to_html`, both cached), so whoever can edit the
store cannot put markup on a page. :meth:`Summary.from_json` checks every
field's type and format and raises :class:`SummaryError` (a ``ValueError``)
for anything else (a damaged store).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

import orjson
from markupsafe import Markup

from sitegen.pith.numbers import SUFFIX_RE
from sitegen.pith.routes import Routes, routes_for
from sitegen.pith.shapes import ARXIV_ID, CATEGORY
from sitegen.pith.timestamps import STRICT_RE, is_timestamp
from sitegen.site.chars import first_illegal
from sitegen.site.tex import tex_to_html, tex_to_text

__all__ = ["Summary", "SummaryError"]

_YEAR = re.compile(r"\A[0-9]{4}\Z")
_DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


class SummaryError(ValueError):
    """A stored summary is not one :meth:`Summary.to_json` wrote: the build
    cache is damaged (or was edited) and must not be used."""


@dataclass(frozen=True)
class Summary:
    """What site-wide pages show of one Pith Number. Times are the verified
    ISO 8601 strings; ``year`` is the Pith Number's four-digit year;
    ``title_tex`` the record's cleaned TeX title (``clean_text``), or
    ``arXiv:<id>`` when no title is known."""

    suffix: str
    pith_number: str
    short_pith_number: str
    year: str
    title_tex: str
    authors: tuple[str, ...]
    abstract_excerpt: str
    arxiv_id: str
    version: int
    doi: str
    submitted_at: str
    date: str
    updated_at: str
    primary_cat: str
    cross_cats: tuple[str, ...]
    has_record: bool
    has_bundle: bool

    @property
    def title(self) -> str:
        """Plain Unicode text of the title (derived, cached)."""
        return tex_to_text(self.title_tex)

    @property
    def title_html(self) -> Markup:
        """Sanitised HTML of the title, made at render time (cached)."""
        return tex_to_html(self.title_tex)

    @property
    def routes(self) -> Routes:
        return routes_for(self.suffix)

    @property
    def categories(self) -> tuple[str, ...]:
        """Primary then cross-listed categories, without repeats."""
        return tuple(dict.fromkeys((self.primary_cat, *self.cross_cats)))

    def to_json(self) -> bytes:
        """The summary as JSON: orjson writes a dataclass field by field, in
        order — the bytes of ``orjson.dumps(asdict(self))`` without the copy."""
        return orjson.dumps(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> Summary:
        """Inverse of :meth:`to_json`. Raises :class:`SummaryError` (a
        ``ValueError``) naming the field
        for anything else: not JSON, missing or extra fields, a wrong type
        (``true`` is not an integer, ``1`` not a boolean), a suffix, Pith
        Number, year, arXiv id, DOI, category or timestamp of the wrong format,
        or text holding a character no output may carry."""
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise SummaryError(f"summary: not JSON ({e})") from None
        if not isinstance(obj, dict) or set(obj) != _FIELDS:
            raise SummaryError("summary: not a record summary (wrong set of fields)")
        _validate(obj)
        obj["authors"], obj["cross_cats"] = tuple(obj["authors"]), tuple(obj["cross_cats"])
        return cls(**obj)

    @classmethod
    def of(cls, view) -> Summary:
        """The summary of a :class:`~sitegen.site.views.RecordView`."""
        return cls(**{name: getattr(view, name) for name in _FIELDS})


_FIELDS = frozenset(f.name for f in fields(Summary))


def _fail(field: str, problem: str) -> SummaryError:
    return SummaryError(f"summary: {field}: {problem}")


def _checked_text(value: Any, field: str, pattern: re.Pattern | None = None, what: str = "") -> str:
    """``value`` if it is a string free of characters no output may carry
    (and matching ``pattern``, if given); raises ``ValueError`` naming ``field``."""
    if not isinstance(value, str):
        raise _fail(field, f"expected a string, got {type(value).__name__}")
    bad = first_illegal(value)
    if bad is not None:
        raise _fail(field, f"holds U+{ord(bad):04X}, which no output may carry")
    if pattern is not None and not pattern.match(value):
        raise _fail(field, f"expected {what}")
    return value


def _text(obj: dict[str, Any], field: str, pattern: re.Pattern | None = None, what: str = "") -> str:
    return _checked_text(obj[field], field, pattern, what)


def _texts(obj: dict[str, Any], field: str, pattern: re.Pattern | None = None, what: str = "") -> None:
    value = obj[field]
    if not isinstance(value, list):
        raise _fail(field, f"expected a list, got {type(value).__name__}")
    for i, item in enumerate(value):
        _checked_text(item, f"{field}[{i}]", pattern, what)


def _validate(obj: dict[str, Any]) -> None:
    """Check every field of a summary decoded from JSON; raises :class:`SummaryError`."""
    suffix = _text(obj, "suffix", SUFFIX_RE, "26 base32 characters")
    year = _text(obj, "year", _YEAR, "four digits")
    if _text(obj, "pith_number") != f"pith:{year}:{suffix}":
        raise _fail("pith_number", "expected pith:<year>:<suffix> of this summary")
    if _text(obj, "short_pith_number") != f"pith:{suffix[:8]}":
        raise _fail("short_pith_number", "expected pith:<first 8 suffix characters>")
    for field in ("title_tex", "abstract_excerpt"):
        _text(obj, field)
    _texts(obj, "authors")
    arxiv_id = _text(obj, "arxiv_id", ARXIV_ID.pattern, ARXIV_ID.describe)
    version = obj["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise _fail("version", "expected an integer")
    if _text(obj, "doi").lower() != f"10.48550/arxiv.{arxiv_id}".lower():
        raise _fail("doi", "expected the arXiv DOI of arxiv_id")
    submitted = _text(obj, "submitted_at", STRICT_RE, "a YYYY-MM-DDTHH:MM:SSZ timestamp")
    if not is_timestamp(submitted, strict=True) or submitted[:4] != year:
        raise _fail("submitted_at", "expected a real timestamp in the Pith Number's year")
    if _text(obj, "date", _DATE, "YYYY-MM-DD") != submitted[:10]:
        raise _fail("date", "expected the date of submitted_at")
    if not is_timestamp(_text(obj, "updated_at")):
        raise _fail("updated_at", "expected an ISO 8601 timestamp")
    _text(obj, "primary_cat", CATEGORY.pattern, CATEGORY.describe)
    _texts(obj, "cross_cats", CATEGORY.pattern, CATEGORY.describe)
    for field in ("has_record", "has_bundle"):
        if not isinstance(obj[field], bool):
            raise _fail(field, "expected a boolean")
    if not (obj["has_record"] or obj["has_bundle"]):
        raise _fail("has_record", "a summary describes a record, a bundle or both")

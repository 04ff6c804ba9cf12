"""Record summaries: the small, plain part of a record view that site-wide
pages need (listings, the home page, the feed, alias pages, search stubs and
the sitemap).

A build keeps one summary per published Pith Number in its store
(:mod:`sitegen.store`) as JSON, so listings and indexes are produced a page
at a time from sorted queries instead of from every record held in memory.
``title_html`` is the sanitised markup made by :func:`sitegen.tex.tex_to_html`
when the record was verified; the store is trusted exactly as much as the
output tree beside it (docs/scaling.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import orjson
from markupsafe import Markup

from sitegen.pith.routes import Routes, routes_for

__all__ = ["Summary"]


@dataclass(frozen=True)
class Summary:
    """What site-wide pages show of one Pith Number. Times are the verified
    ISO 8601 strings; ``year`` is the Pith Number's four-digit year."""

    suffix: str
    pith_number: str
    short_pith_number: str
    year: str
    title: str
    title_html: Markup
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
    def routes(self) -> Routes:
        return routes_for(self.suffix)

    @property
    def categories(self) -> tuple[str, ...]:
        """Primary then cross-listed categories, without repeats."""
        return tuple(dict.fromkeys((self.primary_cat, *self.cross_cats)))

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes | str) -> "Summary":
        """Inverse of :meth:`to_json`; raises ``ValueError``/``TypeError`` for
        anything else (a damaged store)."""
        obj = orjson.loads(data)
        if not isinstance(obj, dict) or set(obj) != _FIELDS:
            raise ValueError("not a record summary")
        obj["authors"], obj["cross_cats"] = tuple(obj["authors"]), tuple(obj["cross_cats"])
        obj["title_html"] = Markup(obj["title_html"])
        return cls(**obj)

    @classmethod
    def of(cls, view) -> "Summary":
        """The summary of a :class:`~sitegen.views.RecordView`."""
        return cls(**{name: getattr(view, name) for name in _FIELDS})


_FIELDS = frozenset(f.name for f in fields(Summary))

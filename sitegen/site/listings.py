"""Browsing: listings of records by year and by arXiv category (ours,
docs/protocol.md §9).

Every record is reachable from ``years/`` (each record is in one year) and
from ``categories/`` (each record is listed under its primary and every
cross-listed category). A listing's landing page (``years/2024/``) shows its
newest records; the rest are on *pages* cut by content, not by position:

* a page starts at the listing's oldest record and at every record whose
  suffix makes :func:`starts_page` true (one record in ``page_size`` on
  average), so a record added or removed changes the page it falls in — and
  the links of its two neighbours — never the pages around them (an
  incremental build re-renders a handful of pages, not every page after it);
* a page longer than ``4 × page_size`` is cut into parts of ``2 × page_size``;
* page paths are ``…/page/first/`` for the oldest page and
  ``…/page/<SUFFIX>/`` (its first record) for the others; part ``n > 1`` of
  a long page adds ``-<n>``. No page says "page 12 of 40": the count would
  change them all.

Paths are built from the verified year (four digits), the category
(shape-checked, lower-cased, docs/protocol.md §9) and suffixes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sitegen.site.lookup import cyrb53
from sitegen.site.summary import Summary

__all__ = ["FacetLink", "ListingPage", "Landing", "starts_page", "listing_root", "page_path", "split_parts",
           "FACET_ROOTS"]

#: kind → (root path, heading of the facet index).
FACET_ROOTS = {"year": ("years/", "Records by year"), "category": ("categories/", "Records by arXiv category")}


@dataclass(frozen=True)
class FacetLink:
    """A year or a category with the number of records under it."""

    kind: str
    name: str
    path: str
    count: int


@dataclass(frozen=True)
class ListingPage:
    """One page of a listing: ``items`` newest first; ``older``/``newer``
    the neighbouring pages' paths (``newer`` of the newest page is the
    landing); ``first_date``/``last_date`` the dates it covers."""

    facet: str
    label: str
    key: str
    path: str
    items: tuple[Summary, ...]
    older: str | None
    newer: str
    first_date: str
    last_date: str


@dataclass(frozen=True)
class Landing:
    """A listing's landing page: its newest records, the page holding the
    next older ones (``older``), the oldest page (``first``), the size."""

    facet: str
    label: str
    path: str
    items: tuple[Summary, ...]
    older: str | None
    first: str
    total: int


def starts_page(suffix: str, page_size: int) -> bool:
    """Whether a record starts a listing page (besides the oldest record)."""
    return cyrb53(suffix) % page_size == 0


def listing_root(facet: str) -> str:
    """``years/<YYYY>/`` or ``categories/<category>/`` for ``year/<YYYY>`` or ``category/<category>``."""
    kind, key = facet.split("/", 1)
    return f"{FACET_ROOTS[kind][0]}{key}/"


def page_path(facet: str, key: str, part: int = 1) -> str:
    """The path of part ``part`` of the page ``key`` (``first`` or a suffix)."""
    return f"{listing_root(facet)}page/{key}{'' if part == 1 else f'-{part}'}/"


def split_parts(rows: Sequence[str], page_size: int) -> list[Sequence[str]]:
    """A page's records (oldest first) as its parts: one part up to
    ``4 × page_size`` records, else parts of ``2 × page_size``."""
    if len(rows) <= 4 * page_size:
        return [rows]
    step = 2 * page_size
    return [rows[i:i + step] for i in range(0, len(rows), step)]

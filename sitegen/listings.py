"""Browsing: paginated listings by year and by arXiv category, and the facet
indexes that lead to them. Every record is reachable from ``years/`` (each
record is in exactly one year) and from ``categories/`` (each record is listed
under its primary and every cross-listed category). No listing page holds
more than ``page_size`` records.

Paths: ``years/<YYYY>/``, ``years/<YYYY>/page/<n>/``, ``categories/<cat>/``,
``categories/<cat>/page/<n>/`` — built from the verified year (four digits)
and category (schema-checked: letters, digits, ``-`` and ``.``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

__all__ = ["Page", "Facet", "paginate", "facets"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: ``number`` (1-based) of ``count``, its output
    ``path`` (ends with ``/``) and the paths of every page of the listing."""

    number: int
    count: int
    path: str
    items: tuple[T, ...]
    paths: tuple[str, ...]

    @property
    def previous(self) -> str | None:
        return self.paths[self.number - 2] if self.number > 1 else None

    @property
    def next(self) -> str | None:
        return self.paths[self.number] if self.number < self.count else None


@dataclass(frozen=True)
class Facet:
    """A year or a category with the number of records under it."""

    kind: str
    name: str
    path: str
    count: int


def paginate(items: Sequence[T], page_size: int, base: str) -> list[Page[T]]:
    """Split ``items`` into pages of at most ``page_size``; page 1 lives at
    ``base``, page n at ``base + "page/<n>/"``. Always at least one page."""
    count = max(1, -(-len(items) // page_size))
    paths = tuple(base if n == 1 else f"{base}page/{n}/" for n in range(1, count + 1))
    return [Page(n, count, paths[n - 1], tuple(items[(n - 1) * page_size:n * page_size]), paths)
            for n in range(1, count + 1)]


def facets(groups: dict[str, list], kind: str, root: str, *, reverse: bool = False) -> list[Facet]:
    """Facets for ``{name: records}``, sorted by name."""
    return [Facet(kind, name, f"{root}{name}/", len(groups[name])) for name in sorted(groups, reverse=reverse)]

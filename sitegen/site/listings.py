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

__all__ = ["Page", "Facet", "page_count", "paginate_window"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: ``number`` (1-based) of ``count``; page 1 lives
    at ``base``, page n at ``base + "page/<n>/"``."""

    number: int
    count: int
    base: str
    items: tuple[T, ...]

    def path_of(self, n: int) -> str:
        return self.base if n == 1 else f"{self.base}page/{n}/"

    @property
    def path(self) -> str:
        return self.path_of(self.number)

    @property
    def previous(self) -> str | None:
        return self.path_of(self.number - 1) if self.number > 1 else None

    @property
    def next(self) -> str | None:
        return self.path_of(self.number + 1) if self.number < self.count else None

    @property
    def window(self) -> list[tuple[int, str | None]]:
        """The page links to show: the first, the last and two either side of
        this one, ``(n, path)``; ``(0, None)`` marks a gap. Constant size, so a
        listing of n pages costs O(n) to render, not O(n²)."""
        shown = sorted({1, self.count, *range(max(1, self.number - 2), min(self.count, self.number + 2) + 1)})
        out: list[tuple[int, str | None]] = []
        for n in shown:
            if out and n - out[-1][0] > 1:
                out.append((0, None))
            out.append((n, self.path_of(n)))
        return out


@dataclass(frozen=True)
class Facet:
    """A year or a category with the number of records under it."""

    kind: str
    name: str
    path: str
    count: int


def page_count(total: int, page_size: int) -> int:
    """Pages of a listing of ``total`` items: always at least one."""
    return max(1, -(-total // page_size))


def paginate_window(items: Sequence[T], total: int, page_size: int, base: str, first: int) -> list[Page[T]]:
    """Pages ``first``, ``first + 1``… of a listing of ``total`` items, of which
    ``items`` are the ones on those pages (the listing is produced a window at
    a time, never held whole)."""
    count = page_count(total, page_size)
    out = []
    for i, n in enumerate(range(first, count + 1)):
        chunk = tuple(items[i * page_size:(i + 1) * page_size])
        if not chunk and n > 1:
            break
        out.append(Page(n, count, base, chunk))
    return out

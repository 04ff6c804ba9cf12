"""The listing pages of the indexes stage: which pages of which listings to
render — all of them, or only those around a changed record — found with
range queries on the store; workers render them
(:class:`~sitegen.build.workers.ListingTask`). Page boundaries are the
content-defined ones of :mod:`sitegen.site.listings`: a *natural page*
starts at the listing's oldest record or at a record that starts a page.

Each natural page is one ledger owner (``facet:<facet>:<key>``, all its
parts), the landing another (``facet:<facet>``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sitegen.build.store import Store
from sitegen.site.listings import listing_root, page_path, split_parts

__all__ = ["PageSpec", "ListingSpec", "all_listing_specs", "changed_listing_specs", "natural_pages"]

Position = tuple[str, str]  # (submitted_at, suffix): a record's place in a listing


@dataclass(frozen=True)
class PageSpec:
    """One rendered page: ``path``, member suffixes (oldest first),
    ``older``/``newer`` neighbour paths (``newer`` of the newest page is the landing)."""

    path: str
    members: tuple[str, ...]
    older: str | None
    newer: str


@dataclass(frozen=True)
class ListingSpec:
    """What one owner of a listing publishes: a natural page (``pages``, its
    parts) or the landing (``landing``: newest members, the older page's
    path, the first page's path)."""

    owner: str
    facet: str
    label: str
    total: int
    pages: tuple[PageSpec, ...]
    landing: tuple[tuple[str, ...], str | None, str] | None = None


def natural_pages(rows: Iterator[tuple[str, str, bool]]) -> list[tuple[str, list[str]]]:
    """``(key, member suffixes)`` of the natural pages of a whole listing
    (rows oldest first): ``first`` and the suffix of each page's first record."""
    pages: list[tuple[str, list[str]]] = []
    for _, suffix, start in rows:
        if not pages:
            pages.append(("first", [suffix]))
        elif start:
            pages.append((suffix, [suffix]))
        else:
            pages[-1][1].append(suffix)
    return pages


def _parts(facet: str, key: str, members: list[str], page_size: int) -> list[tuple[str, list[str]]]:
    return [(page_path(facet, key, n), list(part)) for n, part in enumerate(split_parts(members, page_size), 1)]


def _spec(facet: str, label: str, total: int, page: tuple[str, list[str]], older: tuple[str, list[str]] | None,
          newer_key: str | None, page_size: int) -> ListingSpec:
    key, members = page
    parts = _parts(facet, key, members, page_size)
    older_path = _parts(facet, *older, page_size)[-1][0] if older is not None else None
    after = page_path(facet, newer_key) if newer_key is not None else listing_root(facet)
    specs = tuple(PageSpec(path, tuple(part), older_path if n == 0 else parts[n - 1][0],
                           parts[n + 1][0] if n + 1 < len(parts) else after)
                  for n, (path, part) in enumerate(parts))
    return ListingSpec(f"facet:{facet}:{key}", facet, label, total, specs)


def all_listing_specs(store: Store, counts: dict[str, tuple[str, int]], page_size: int) -> Iterator[ListingSpec]:
    """Every page and landing of every listing (a full build)."""
    for facet in sorted(counts):
        label, total = counts[facet]
        pages = natural_pages(store.facet_rows(facet))
        for i, page in enumerate(pages):
            yield _spec(facet, label, total, page, pages[i - 1] if i else None,
                        pages[i + 1][0] if i + 1 < len(pages) else None, page_size)
        yield _Pages(store, facet, page_size).landing(label, total)


class _Pages:
    """Natural pages of one listing, found with range queries."""

    def __init__(self, store: Store, facet: str, page_size: int) -> None:
        self.store, self.facet, self.page_size = store, facet, page_size
        self.first = store.first_row(facet)

    def start_of(self, position: Position) -> Position | None:
        """The start of the natural page holding ``position`` (None: the first page)."""
        start = self.store.page_start_near(self.facet, position, before=True, inclusive=True)
        return None if start is None or start == self.first else start

    def next_start(self, start: Position | None) -> Position | None:
        lo = start or self.first
        return None if lo is None else self.store.page_start_near(self.facet, lo, before=False, inclusive=False)

    def previous_start(self, start: Position) -> Position | None:
        """The start of the page before the one at ``start`` (None: the first page)."""
        prev = self.store.page_start_near(self.facet, start, before=True, inclusive=False)
        return None if prev is None or prev == self.first else prev

    def page(self, start: Position | None) -> tuple[str, list[str]]:
        """``(key, members)`` of the natural page at ``start``."""
        lo = start or self.first
        assert lo is not None
        return ("first" if start is None else start[1]), self.store.rows_between(self.facet, lo, self.next_start(start))

    def spec(self, start: Position | None, label: str, total: int) -> ListingSpec:
        older = self.page(self.previous_start(start)) if start is not None else None
        after = self.next_start(start)
        return _spec(self.facet, label, total, self.page(start), older, after[1] if after else None, self.page_size)

    def landing(self, label: str, total: int) -> ListingSpec:
        newest = self.store.newest_rows(self.facet, self.page_size + 1)
        older = None
        if len(newest) > self.page_size:
            position = newest[self.page_size]
            key, members = self.page(self.start_of(position))
            older = next(path for path, part in _parts(self.facet, key, members, self.page_size)
                         if position[1] in part)
        shown = tuple(suffix for _, suffix in newest[:self.page_size])
        return ListingSpec(f"facet:{self.facet}", self.facet, label, total, (),
                           (shown, older, page_path(self.facet, "first")))


def changed_listing_specs(store: Store, counts: dict[str, tuple[str, int]], page_size: int,
                          changes: dict[str, list[Position]]) -> Iterator[ListingSpec]:
    """Per changed facet: the natural page holding each changed position
    (old or new), its two neighbours (their links may change), and the
    landing. A facet that no longer lists anything yields nothing (its
    owners are released by the caller)."""
    for facet in sorted(changes):
        if facet not in counts:
            continue
        label, total = counts[facet]
        pages = _Pages(store, facet, page_size)
        starts: dict[str, Position | None] = {}
        for position in changes[facet]:
            here = pages.start_of(position)
            starts["first" if here is None else here[1]] = here
            after = pages.next_start(here)
            if after is not None:
                starts[after[1]] = after
            if here is not None:
                before = pages.previous_start(here)
                starts["first" if before is None else before[1]] = before
        for key in sorted(starts):
            yield pages.spec(starts[key], label, total)
        yield pages.landing(label, total)

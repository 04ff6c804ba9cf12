"""Which documents a pull takes: ``--only``, ``--year``, ``--category``, ``--since``.

Like bandersnatch's filters, a selection is decided per document, here from
its **signed** canonical record (docs/protocol.md §4.1): the submission year
and date are ``metadata.submitted_at``, the categories ``metadata.primary_cat``
and ``metadata.cross_cats_sorted`` (a document matches a category if it is
its primary or a cross-listed one). ``--only`` is decided before fetching,
from the path; the others need the document, so a mirror pull fetches a
document once to learn that the filters leave it out, and remembers that by
its SHA-256 (:mod:`sitegen.pull.state`).

:attr:`Selection.id` names a selection, so what a pull remembers about
shards and filtered documents is used again only under the same selection.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = ["Selection", "parse_years", "parse_since"]

_YEARS = re.compile(r"\A([0-9]{4})(?:-([0-9]{4}))?\Z")
_CATEGORY = re.compile(r"\A[A-Za-z-]+(?:\.[A-Za-z-]+)?\Z")


def parse_years(texts: list[str]) -> frozenset[int]:
    """``["2017", "2020-2022"]`` → ``{2017, 2020, 2021, 2022}``; raises ``ValueError``."""
    years: set[int] = set()
    for text in texts:
        m = _YEARS.match(text.strip())
        if not m:
            raise ValueError(f"--year {text!r}: expected YYYY or YYYY-YYYY")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise ValueError(f"--year {text!r}: the range ends before it starts")
        years.update(range(lo, hi + 1))
    return frozenset(years)


def parse_since(text: str) -> str:
    """``YYYY-MM-DD`` → the same, validated; raises ``ValueError``."""
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ValueError(f"--since {text!r}: expected a date YYYY-MM-DD") from None


def parse_categories(texts: list[str]) -> frozenset[str]:
    """arXiv categories (``cs.LG``, ``hep-th``); raises ``ValueError``."""
    for text in texts:
        if not _CATEGORY.match(text):
            raise ValueError(f"--category {text!r}: not an arXiv category such as cs.LG or hep-th")
    return frozenset(texts)


@dataclass(frozen=True)
class Selection:
    """``only``: suffixes (None: all); ``years``, ``categories``: empty for
    any; ``since``: ``YYYY-MM-DD`` or None."""

    only: frozenset[str] | None = None
    years: frozenset[int] = frozenset()
    categories: frozenset[str] = frozenset()
    since: str | None = None

    @property
    def id(self) -> str:
        spec = {"only": sorted(self.only) if self.only is not None else None, "years": sorted(self.years),
                "categories": sorted(self.categories), "since": self.since}
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def by_content(self) -> bool:
        """True if documents must be read to decide (not just their path)."""
        return bool(self.years or self.categories or self.since)

    def wants_suffix(self, suffix: str) -> bool:
        return self.only is None or suffix in self.only

    def wants(self, body: Mapping[str, Any]) -> bool:
        """True if the document ``body`` passes the content filters. A
        document without a readable canonical record passes (verification
        then rejects it, and says why)."""
        try:
            meta = body["canonical_record"]["metadata"]
            submitted = meta["submitted_at"]
            cats = {meta["primary_cat"], *meta["cross_cats_sorted"]}
            if not isinstance(submitted, str):
                return True
        except (KeyError, TypeError):
            return True
        year = submitted[:4]
        if self.years and not (year.isascii() and year.isdigit() and int(year) in self.years):
            return False
        if self.categories and not (cats & self.categories):
            return False
        return not (self.since and submitted[:10] < self.since)

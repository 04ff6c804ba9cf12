"""Split arXiv's ``authors_text`` into authors and affiliations.

``authors_text`` is a comma-separated TeX string that sometimes carries
affiliations: in parentheses (``A. Author (MIT)``) or as list items of their
own (``A. Author, Department of Physics, Some University, B. Author``). Rules
(ours, heuristic — the string has no structure to rely on):

* ``(…)`` after a name is that name's affiliation;
* items are separated by ``,``, ``;`` and `` and ``;
* an item that reads like an institution (a keyword such as University,
  Institute, Department, Laboratory…, or digits, as in postal addresses)
  is an affiliation of the author before it, not an author;
* names go through TeX → Unicode (``Schr\\"odinger`` → ``Schrödinger``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sitegen.site.tex import tex_to_text

__all__ = ["Author", "parse_authors"]

_INSTITUTION = re.compile(
    r"\b(univ|universit|universidad|universidade|institut|instituto|laborator|lab\b|labs\b|department|dept\b|"
    r"college|school|cent(?:er|re)|inc\b|ltd\b|gmbh|corporation|corp\b|research|academy|observatory|hospital|"
    r"foundation|faculty|division|ministry|council|national|company|group\b|technologies|technology)",
    re.IGNORECASE)
_PAREN = re.compile(r"\(([^()]*)\)")
_SPLIT = re.compile(r"\s*(?:,|;|\band\b)\s*")


@dataclass(frozen=True)
class Author:
    name: str
    affiliations: tuple[str, ...] = ()


def _looks_like_institution(item: str) -> bool:
    return bool(_INSTITUTION.search(item) or re.search(r"\d", item))


def parse_authors(authors_text: str) -> tuple[Author, ...]:
    """Authors in order, each with the affiliations found next to it."""
    authors: list[Author] = []
    for raw in _SPLIT.split(authors_text.strip()):
        item = raw.strip()
        if not item:
            continue
        parens = [p.strip() for p in _PAREN.findall(item) if p.strip()]
        name = _PAREN.sub("", item).strip()
        if not name or (authors and _looks_like_institution(name)):
            if authors:
                prev = authors[-1]
                extra = tuple(tex_to_text(a) for a in ([name] if name else []) + parens)
                authors[-1] = Author(prev.name, prev.affiliations + extra)
            continue
        authors.append(Author(tex_to_text(name), tuple(tex_to_text(p) for p in parens)))
    return tuple(authors)

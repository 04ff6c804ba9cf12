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

Time is linear in the length of the text: every regex here matches without
backtracking (no ``\\s*`` around separators: items are stripped instead),
affiliations are collected in place (no tuple rebuilt per item), at most
:data:`MAX_AUTHORS_TEX_CHARS` characters of TeX are converted, and text longer
than :data:`MAX_AUTHORS_CHARS` is not split at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sitegen.site.tex import TexBudget, plain_text

__all__ = ["Author", "parse_authors", "MAX_AUTHORS_CHARS", "MAX_AUTHORS_TEX_CHARS"]

#: Longest ``authors_text`` (characters) split into authors; longer text is one
#: entry of plain text, neither split nor converted from TeX. Why 200,000: the
#: longest real author lists (collaborations of ~5,000 physicists) are ~100,000
#: characters, and splitting costs ~1 µs per character.
MAX_AUTHORS_CHARS = 200_000
#: Characters of TeX per list converted to Unicode; names holding TeX beyond
#: this budget are shown as plain text. Why 50,000: pylatexenc costs up to
#: ~25 µs per character on short hostile names (measured, a loaded 2-core
#: machine), so a list costs ≤ ~1.3 s; real lists hold far less TeX (most
#: names have none and cost nothing).
MAX_AUTHORS_TEX_CHARS = 50_000

_INSTITUTION = re.compile(
    r"\b(univ|universit|universidad|universidade|institut|instituto|laborator|lab\b|labs\b|department|dept\b|"
    r"college|school|cent(?:er|re)|inc\b|ltd\b|gmbh|corporation|corp\b|research|academy|observatory|hospital|"
    r"foundation|faculty|division|ministry|council|national|company|group\b|technologies|technology)",
    re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_PAREN = re.compile(r"\(([^()]*)\)")
#: Item separators, without surrounding whitespace (``\s*`` on both sides
#: backtracks quadratically over long runs of spaces).
_SPLIT = re.compile(r"[,;]|\band\b")


@dataclass(frozen=True)
class Author:
    name: str
    affiliations: tuple[str, ...] = ()


def _looks_like_institution(item: str) -> bool:
    return bool(_INSTITUTION.search(item) or _DIGIT.search(item))


def parse_authors(authors_text: str) -> tuple[Author, ...]:
    """Authors in order, each with the affiliations found next to it.

    Over :data:`MAX_AUTHORS_CHARS` characters, one :class:`Author` whose name
    is the whole text as :func:`~sitegen.site.tex.plain_text`."""
    if len(authors_text) > MAX_AUTHORS_CHARS:
        text = plain_text(authors_text)
        return (Author(text),) if text else ()
    tex = TexBudget(MAX_AUTHORS_TEX_CHARS)
    found: list[tuple[str, list[str]]] = []  # (name, affiliations), built in place: linear
    for raw in _SPLIT.split(authors_text):
        item = raw.strip()
        if not item:
            continue
        parens: list[str] = []
        if "(" in item:
            parens = [p.strip() for p in _PAREN.findall(item) if p.strip()]
            item = _PAREN.sub("", item).strip()
        if not item or (found and _looks_like_institution(item)):
            if found:
                found[-1][1].extend(tex.text(a) for a in ([item] if item else []) + parens)
            continue
        found.append((tex.text(item), [tex.text(p) for p in parens]))
    return tuple(Author(name, tuple(affiliations)) for name, affiliations in found)

"""arXiv TeX in titles, authors and abstracts → Unicode text and MathML.

Titles and abstracts are raw arXiv TeX (``Schr\\"odinger``, ``$\\pi=3+1/8$``).
Text outside math goes through pylatexenc (accents and symbols → Unicode);
inline math (``$…$``, ``\\(…\\)``) through latex2mathml, rendered at build
time — no JavaScript, no CDN.

The MathML a converter emits is treated as untrusted markup: it is parsed and
rebuilt from an allowlist of MathML elements and attributes, with every text
node escaped. Anything unexpected — a converter error, an element or
attribute outside the allowlist — falls back to the escaped source text, never
to an error or to raw HTML. This module is the only producer of markup from
record text; templates never mark record fields safe.

Time is linear in the length of the text, whatever the text: math delimiters
are found by a hand-written scanner (:func:`math_spans`, no backtracking), and
text longer than :data:`MAX_TEX_CHARS` is not converted at all — it is shown as
escaped plain text with its whitespace collapsed (:func:`plain_text`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import lru_cache

from latex2mathml.converter import convert as latex_to_mathml
from markupsafe import Markup, escape
from pylatexenc.latex2text import LatexNodes2Text

from sitegen.site.chars import well_formed

__all__ = ["tex_to_text", "tex_to_html", "plain_text", "has_tex", "math_spans", "TexBudget", "MAX_TEX_CHARS"]

#: Longest text (characters) converted from TeX; longer text is shown as plain
#: text. Why 20,000: arXiv caps abstracts at 1,920 characters and titles are far
#: shorter (the resolver's excerpts are ≤ 600), so no real field comes near it;
#: pylatexenc and latex2mathml cost up to ~11 µs per character on hostile input
#: (measured: benchmarks/adversarial_text.py), so one field costs ≤ ~0.25 s.
MAX_TEX_CHARS = 20_000

_MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"
_ELEMENTS = frozenset("""math semantics annotation mrow mi mn mo ms mtext mspace msup msub msubsup mfrac
    msqrt mroot mover munder munderover mtable mtr mtd mstyle mpadded mphantom menclose merror mfenced""".split())
_ATTRIBUTES = frozenset("""xmlns display mathvariant stretchy fence separator lspace rspace displaystyle
    scriptlevel columnalign rowalign columnspacing rowspacing width height depth minsize maxsize accent
    accentunder linethickness notation form movablelimits symmetric largeop open close separators
    mathsize encoding""".split())
_SAFE_VALUE = re.compile(r"\A[-A-Za-z0-9 .,#%:/()+_]*\Z")
_MAX_MATH = 500


@lru_cache(maxsize=1)
def _converter() -> LatexNodes2Text:
    return LatexNodes2Text(math_mode="text", strict_latex_spaces=False)


#: Characters arXiv metadata uses literally but TeX treats as syntax: a bare
#: ``%`` would comment out the rest of a title ("10% faster"), ``&``/``#`` vanish.
_LITERAL = re.compile(r"(?<!\\)([%&#])")


#: Text without any of these has nothing for pylatexenc to convert (accents,
#: macros, groups, quotes, dashes, specials); most arXiv metadata is such text,
#: and the converter is the most expensive step of rendering (profiled).
_TEX_SYNTAX = re.compile(r"[\\$%&#^_{}~`'\"]|--")
#: Text with TeX syntax but none of these needs only :data:`_TYPOGRAPHY` — what
#: pylatexenc does to quotes, dashes and ties, left to right, longest first
#: (proven equal by ``tests/site/test_tex.py``); arXiv titles with an apostrophe or a
#: dash are common, and the converter costs ~1 ms a call (profiled).
_NEEDS_CONVERTER = re.compile(r"[\\$^_{}]")
_TYPOGRAPHY = (("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d"), ("~", "\u00a0"))


def _with_edges(source: str, out: str) -> str:
    """``out`` with one space before/after it if ``source`` starts/ends with
    whitespace (pieces around inline math keep their separation)."""
    return (" " if source[0].isspace() else "") + out + (" " if source[-1].isspace() else "")


def has_tex(text: str) -> bool:
    """True if ``text`` holds TeX syntax, i.e. :func:`tex_to_text` would run
    the (expensive) converter on it rather than only collapse whitespace."""
    return _TEX_SYNTAX.search(text) is not None


def plain_text(text: str) -> str:
    """``text`` with every whitespace run collapsed to one space and the ends
    stripped — no TeX conversion. Linear time (``str.split``, no regex)."""
    return " ".join(text.split())


#: In the text around math spans, these could tie a piece to the next one
#: (a macro taking the next token as its argument, a group spanning pieces,
#: a ``$`` the converter reads as display math).
_GROUPING = re.compile(r"[\\{}$]")


_TRAILING_MACRO = re.compile(r"\\(?:[A-Za-z]+|.)?\s*[$)]?\Z")


def _self_contained(math: str) -> bool:
    """A math span whose groups close inside it and that does not end in a
    macro (which would take its argument from after the span)."""
    depth = 0
    for ch in math:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0 and not _TRAILING_MACRO.search(math[:-1] if math.endswith("$") else math[:-2])


def _outside(tex: str, spans: list[tuple[int, int]]) -> str:
    """The text of ``tex`` outside the ``spans``."""
    out, last = [], 0
    for start, end in spans:
        out.append(tex[last:start])
        last = end
    out.append(tex[last:])
    return "".join(out)


@lru_cache(maxsize=1 << 14)  # a title is converted 2–3 times per record page
def _converted(tex: str) -> str:
    """Unicode text of ``tex`` (at most :data:`MAX_TEX_CHARS` long, so the
    cache holds bounded strings), edge spaces kept as by :func:`_with_edges`;
    the source itself when the conversion leaves nothing."""
    if not tex.strip():
        return " " if tex else ""
    out = _piece(tex)
    return _with_edges(tex, plain_text(out if out is not None else tex) or tex.strip())


@lru_cache(maxsize=1 << 14)  # pieces repeat across records: math like $\alpha$, plain phrases
def _piece(tex: str) -> str | None:
    """Unicode text of ``tex``, whitespace runs collapsed to one space (edges
    kept, possibly empty), or None when the converter rejects it. Text with
    inline math, and no macro, group or stray ``$`` outside it, is converted
    a piece at a time — the text between spans, each span — so pieces that
    repeat are converted once (equal to converting the whole: ``tests/site/test_tex.py``)."""
    if not _TEX_SYNTAX.search(tex):  # fast path; tests prove it equals the converter's output
        return _collapse(tex)
    if not _NEEDS_CONVERTER.search(tex):  # only quotes, dashes, ties and literal %&#: the converter's rules
        for source, target in _TYPOGRAPHY:
            tex = tex.replace(source, target)
        return _collapse(well_formed(tex))
    spans = [(a, b) for a, b, _, _ in math_spans(tex)]
    if (spans and (len(spans) > 1 or spans[0] != (0, len(tex))) and not _GROUPING.search(_outside(tex, spans))
            and all(_self_contained(tex[a:b]) for a, b in spans)):
        bounds = [b for start, end in spans for b in (start, end)]
        pieces = [_piece(tex[a:b]) for a, b in zip([0, *bounds], [*bounds, len(tex)], strict=True) if b > a]
        if None not in pieces:
            return _collapse("".join(pieces))  # type: ignore[arg-type]
    try:
        return _collapse(well_formed(_converter().latex_to_text(_LITERAL.sub(r"\\\1", tex))))
    except Exception:  # a converter bug on hostile input must not stop a build
        return None


def _collapse(text: str) -> str:
    """Whitespace runs as one space, a space kept at either edge."""
    if not text:
        return text
    inner = " ".join(text.split())
    if not inner:
        return " "
    return (" " if text[0].isspace() else "") + inner + (" " if text[-1].isspace() else "")


def _text(tex: str) -> str:
    """Unicode text of ``tex`` with edge spaces kept; plain text (not
    converted, not cached) beyond :data:`MAX_TEX_CHARS`."""
    if len(tex) > MAX_TEX_CHARS:
        return _with_edges(tex, plain_text(tex)) if tex.strip() else " "
    return _converted(tex)


def tex_to_text(tex: str) -> str:
    """Plain Unicode text for ``tex`` (for <title>, meta tags, search).
    Beyond :data:`MAX_TEX_CHARS` characters: :func:`plain_text` of it."""
    return _text(tex).strip()


class TexBudget:
    """:func:`tex_to_text` for the fields of one list (authors, citing
    titles) while a budget of ``chars`` characters of TeX lasts, then
    :func:`plain_text`: the cost of a list is bounded however long it is.
    Text without TeX syntax (:func:`has_tex`) is cheap and costs no budget."""

    def __init__(self, chars: int) -> None:
        self.left = chars

    def text(self, tex: str) -> str:
        """Unicode text of ``tex``, or its plain text once the budget is spent."""
        if has_tex(tex):
            if len(tex) > self.left:
                return plain_text(tex)
            self.left -= len(tex)
        return tex_to_text(tex)


def _dollar_close(tex: str, start: int) -> int:
    """Index of the first ``$`` at or after ``start`` not preceded by a
    backslash, or -1."""
    k = tex.find("$", start)
    while k != -1 and tex[k - 1] == "\\":
        k = tex.find("$", k + 1)
    return k


def math_spans(tex: str) -> Iterator[tuple[int, int, int, int]]:
    """``(start, end, body_start, body_end)`` of every inline math span of
    ``tex``, left to right, not overlapping: ``$…$`` (a ``$`` not preceded by
    a backslash nor followed by ``$``, at least one character, up to the next
    ``$`` not preceded by a backslash) and ``\\(…\\)`` (at least one character
    up to the next ``\\)``).

    Finds exactly the matches of the regex
    ``(?<!\\\\)\\$(?!\\$)(.+?)(?<!\\\\)\\$|\\\\\\((.+?)\\\\\\)`` (DOTALL), in
    linear time: that regex rescans the rest of the text from every unclosed
    opener (quadratic on ``\\(\\(\\(…``), while here an opener without a closer
    ends the search for that kind of span — a later opener of the same kind
    looks for its closer in a suffix of the same text and cannot find one either.
    """
    n, pos = len(tex), 0
    dollar, paren = tex.find("$"), tex.find("\\(")
    while pos < n:
        if dollar != -1 and dollar < pos:
            dollar = tex.find("$", pos)
        if paren != -1 and paren < pos:
            paren = tex.find("\\(", pos)
        if dollar == -1 and paren == -1:
            return
        if paren == -1 or (dollar != -1 and dollar < paren):
            i = dollar
            if (i > 0 and tex[i - 1] == "\\") or tex.startswith("$", i + 1):
                dollar = tex.find("$", i + 1)  # not an opener
                continue
            close = _dollar_close(tex, i + 2)
            if close == -1:
                dollar = -1
                continue
            yield i, close + 1, i + 1, close
            pos = close + 1
        else:
            i = paren
            close = tex.find("\\)", i + 3)
            if close == -1:
                paren = -1
                continue
            yield i, close + 2, i + 2, close
            pos = close + 2


def _rebuild(node: ET.Element, out: list[str]) -> None:
    tag = node.tag[len(_MATHML_NS):] if node.tag.startswith(_MATHML_NS) else node.tag
    if tag not in _ELEMENTS:
        raise ValueError(f"element {tag!r} is not allowed")
    attrs = []
    for name, value in sorted(node.attrib.items()):
        if name not in _ATTRIBUTES or not _SAFE_VALUE.match(value) or "javascript" in value.lower():
            raise ValueError(f"attribute {name!r} is not allowed")
        if name != "xmlns":
            attrs.append(f' {name}="{escape(value)}"')
    out.append(f"<{tag}{''.join(attrs)}>")
    out.append(str(escape(node.text or "")))
    for child in node:
        _rebuild(child, out)
        out.append(str(escape(child.tail or "")))
    out.append(f"</{tag}>")


def _math(tex: str) -> str | None:
    if len(tex) > _MAX_MATH:
        return None
    try:
        root = ET.fromstring(latex_to_mathml(tex))
        out: list[str] = []
        _rebuild(root, out)
    except Exception:  # converter error or disallowed markup: the caller falls back
        return None
    html = "".join(out)
    return html.replace("<math", f'<math alttext="{escape(tex)}"', 1)


@lru_cache(maxsize=4096)  # listings re-derive titles from the build cache's plain text
def _html(tex: str) -> str:
    """The HTML of :func:`tex_to_html` for ``tex`` of at most
    :data:`MAX_TEX_CHARS` characters."""
    parts: list[str] = []
    last = 0
    for start, end, body_start, body_end in math_spans(tex):
        parts.append(str(escape(_text(tex[last:start]))))
        math = _math(tex[body_start:body_end])
        parts.append(math if math is not None else str(escape(tex[start:end])))
        last = end
    parts.append(str(escape(_text(tex[last:]))))
    return well_formed("".join(parts).strip())  # whatever a converter emits


def tex_to_html(tex: str) -> Markup:
    """Safe HTML for ``tex``: Unicode text, inline math as sanitised MathML.
    Beyond :data:`MAX_TEX_CHARS` characters: the escaped :func:`plain_text`."""
    if len(tex) > MAX_TEX_CHARS:
        return Markup(escape(plain_text(tex)))
    return Markup(_html(tex))

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
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache

from latex2mathml.converter import convert as latex_to_mathml
from markupsafe import Markup, escape
from pylatexenc.latex2text import LatexNodes2Text

__all__ = ["tex_to_text", "tex_to_html"]

_MATH = re.compile(r"(?<!\\)\$(?!\$)(.+?)(?<!\\)\$|\\\((.+?)\\\)", re.S)
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


@lru_cache(maxsize=4096)  # a title goes through here 2–3 times per record page (text, HTML, meta)
def _text(tex: str) -> str:
    if not tex.strip():
        return " " if tex else ""
    if not _TEX_SYNTAX.search(tex):  # fast path; tests prove it equals the converter's output
        out = re.sub(r"\s+", " ", tex).strip()
        return (" " if tex[0].isspace() else "") + out + (" " if tex[-1].isspace() else "")
    try:
        out = _converter().latex_to_text(_LITERAL.sub(r"\\\1", tex))
    except Exception:  # a converter bug on hostile input must not stop a build
        out = tex
    out = re.sub(r"\s+", " ", out).strip() or tex.strip()
    return (" " if tex[0].isspace() else "") + out + (" " if tex[-1].isspace() else "")


def tex_to_text(tex: str) -> str:
    """Plain Unicode text for ``tex`` (for <title>, meta tags, search)."""
    return _text(tex).strip()


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


def tex_to_html(tex: str) -> Markup:
    """Safe HTML for ``tex``: Unicode text, inline math as sanitised MathML."""
    parts: list[str] = []
    last = 0
    for m in _MATH.finditer(tex):
        parts.append(str(escape(_text(tex[last:m.start()]))))
        source = m.group(1) if m.group(1) is not None else m.group(2)
        math = _math(source)
        parts.append(math if math is not None else str(escape(m.group(0))))
        last = m.end()
    parts.append(str(escape(_text(tex[last:]))))
    return Markup("".join(parts).strip())

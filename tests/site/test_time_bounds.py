"""Every parser of untrusted text runs in linear time, whatever the text.

Each test feeds one parser an adversarial input at the 8 MiB document size
cap (``DEFAULT_MAX_DOCUMENT_BYTES``) — and, where a parser converts text only
up to a smaller cap, also at that cap, where the converter really runs — and
asserts a generous bound. The point is linear against quadratic: before these
fixes, 32 kB of spaces in ``authors_text`` took 19 s and 64 kB of ``\\(`` in a
title 10 s, growing four-fold per doubling (benchmarks/adversarial_text.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.config import DEFAULT_MAX_DOCUMENT_BYTES as CAP
from sitegen.pith.strict_json import parse_strict_json
from sitegen.site import authors as authors_module
from sitegen.site.authors import MAX_AUTHORS_CHARS, MAX_AUTHORS_TEX_CHARS, parse_authors
from sitegen.site.pages import MAX_PAGE_CHARS, render_markdown
from sitegen.site.tex import MAX_TEX_CHARS, math_spans, tex_to_html, tex_to_text

#: CPU seconds any one parser may take on any one input (linear inputs take
#: under 2 s on a 2-core machine; the quadratic ones took minutes).
BOUND = 10.0


def within_bound(fn: Callable, *args):
    """Call ``fn(*args)``, assert it used less than :data:`BOUND` seconds of
    this process's CPU time (not wall time: other jobs on a shared machine
    must not fail the test), return its result."""
    start = time.process_time()
    result = fn(*args)
    elapsed = time.process_time() - start
    assert elapsed < BOUND, f"{getattr(fn, '__name__', fn)} took {elapsed:.1f}s"
    return result


def fill(unit: str, size: int = CAP) -> str:
    """``unit`` repeated to ``size`` characters (at most)."""
    return unit * (size // len(unit))


def letters(i: int) -> str:
    """``i`` in the letters a–z: distinct names that defeat the TeX cache."""
    out = ""
    while True:
        out, i = out + chr(97 + i % 26), i // 26
        if not i:
            return out


def accented_names(size: int) -> str:
    """Distinct author names full of TeX accents, about ``size`` characters."""
    names, total, i = [], 0, 0
    while total < size:
        names.append(f"\\'e\\\"o\\v{{z}} {letters(i)}")
        total += len(names[-1]) + 2
        i += 1
    return ", ".join(names)[:size]


# -- authors -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [MAX_AUTHORS_CHARS, CAP], ids=["split-cap", "8MiB"])
def test_whitespace_run_in_authors_text(size):
    got = within_bound(parse_authors, "Ada" + " \t\n" * ((size - 8) // 3) + "Alan")
    assert got[0].name.startswith("Ada") and got[0].name.endswith("Alan")


def test_separator_split_is_linear_on_whitespace_without_a_separator():
    # The old separator regex (\s*(?:,|;|\band\b)\s*) backtracked over every space run: 19 s at 32 kB.
    assert len(within_bound(authors_module._SPLIT.split, "a" + " " * CAP + "b")) == 1


@pytest.mark.parametrize("size", [MAX_AUTHORS_CHARS, CAP], ids=["split-cap", "8MiB"])
def test_thousands_of_affiliations_after_one_author(size):
    got = within_bound(parse_authors, "Ada Lovelace, " + fill("University 1, ", size - 14))
    if size <= MAX_AUTHORS_CHARS:  # one author, every item an affiliation (was a tuple rebuilt per item)
        assert len(got) == 1 and len(got[0].affiliations) == (size - 14) // 14


@pytest.mark.parametrize("unit", [",", "A,", " and ", "A (", "(", "\\(", "\\'e, ", "$x$, "])
def test_hostile_separators_and_parentheses_in_authors_text(unit):
    within_bound(parse_authors, fill(unit, MAX_AUTHORS_CHARS))
    within_bound(parse_authors, fill(unit))


def test_distinct_tex_names_convert_within_the_budget():
    text = accented_names(MAX_AUTHORS_CHARS)
    got = within_bound(parse_authors, text)
    assert got[0].name == "éöž a"  # within the TeX budget: converted
    assert got[-1].name.startswith("\\'e")  # past MAX_AUTHORS_TEX_CHARS: plain text
    assert MAX_AUTHORS_TEX_CHARS < MAX_AUTHORS_CHARS


def test_authors_text_over_the_split_cap_is_one_plain_text_entry():
    got = parse_authors(fill("Schr\\\"odinger, ", MAX_AUTHORS_CHARS + 15))
    assert len(got) == 1 and got[0].name.startswith("Schr\\\"odinger, Schr")


# -- TeX → Unicode and MathML ---------------------------------------------------------------

HOSTILE_TEX = {
    "spaces": " ",
    "whitespace-mix": " \t\n\r\u00a0",
    "unclosed-paren-math": "\\(",
    "unclosed-paren-math-spaced": "\\( x ",
    "unclosed-dollar": "$a",
    "short-math": "$x$ ",
    "escaped-dollars": "\\$",
    "open-braces": "{",
    "backslashes": "\\",
    "unknown-macros": "\\x",
    "accents": "\\'e",
    "comments-and-specials": "%&#^_~",
}


@pytest.mark.parametrize("unit", HOSTILE_TEX.values(), ids=HOSTILE_TEX.keys())
@pytest.mark.parametrize("size", [MAX_TEX_CHARS, CAP], ids=["tex-cap", "8MiB"])
def test_hostile_tex_to_text(unit, size):
    within_bound(tex_to_text, "T" + fill(unit, size - 2) + "T")


@pytest.mark.parametrize("unit", HOSTILE_TEX.values(), ids=HOSTILE_TEX.keys())
@pytest.mark.parametrize("size", [MAX_TEX_CHARS, CAP], ids=["tex-cap", "8MiB"])
def test_hostile_tex_to_mathml(unit, size):
    within_bound(tex_to_html, "T" + fill(unit, size - 2) + "T")


def test_math_scanner_is_linear_on_unclosed_openers_without_a_cap():
    # The old regex (…|\\\((.+?)\\\)) rescanned the rest from each opener: 10 s at 64 kB.
    assert list(within_bound(math_spans, fill("\\("))) == []
    assert list(within_bound(math_spans, "$" + fill("a\\("))) == []
    assert len(list(within_bound(math_spans, fill("\\(x\\)")))) == CAP // 5


def test_text_over_the_tex_cap_is_escaped_plain_text():
    tex = "<b>Schr\\\"odinger</b>   $x$\n" + fill("a ", MAX_TEX_CHARS)
    html = str(tex_to_html(tex))
    assert html.startswith("&lt;b&gt;Schr\\&#34;odinger&lt;/b&gt; $x$ a a") and "<math" not in html
    assert tex_to_text(tex).startswith('<b>Schr\\"odinger</b> $x$ a a')


_OLD_MATH = re.compile(r"(?<!\\)\$(?!\$)(.+?)(?<!\\)\$|\\\((.+?)\\\)", re.S)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="$\\()x \n", max_size=40))
def test_math_scanner_finds_exactly_what_the_old_regex_found(text):
    old = [(m.start(), m.end(), *(m.span(1) if m.group(1) is not None else m.span(2)))
           for m in _OLD_MATH.finditer(text)]
    assert list(math_spans(text)) == old


# -- Markdown pages -------------------------------------------------------------------------

HOSTILE_MARKDOWN = {
    "title-regex-spaces": "# a" + " " * 64 + "b",  # the old title regex: > 40 s at 16 kB
    "brackets": "[",
    "link-openers": "[a](",
    "emphasis": "*a_",
    "backticks": "`a``",
    "blockquotes": "> ",
    "lists": "- ",
    "angle-brackets": "<a",
    "entities": "&#",
    "spaces": " ",
}


@pytest.mark.parametrize("unit", HOSTILE_MARKDOWN.values(), ids=HOSTILE_MARKDOWN.keys())
def test_hostile_markdown_at_the_page_cap(unit):
    title, html = within_bound(render_markdown, "page", fill(unit, MAX_PAGE_CHARS))
    assert isinstance(title, str) and isinstance(html, str)


@pytest.mark.parametrize("unit", HOSTILE_MARKDOWN.values(), ids=HOSTILE_MARKDOWN.keys())
def test_hostile_markdown_at_8mib_is_refused_quickly(unit):
    with pytest.raises(ValueError, match="over the 100000-character limit"):
        within_bound(render_markdown, "page", fill(unit))


def test_heading_with_a_long_space_run_still_gives_the_title():
    title, _ = within_bound(render_markdown, "page", "# About" + " " * (MAX_PAGE_CHARS - 20) + "us #")
    assert title == "About us"


# -- strict JSON ----------------------------------------------------------------------------

HOSTILE_JSON = {
    "long-array": lambda: "[" + fill("0,", CAP - 3) + "0]",
    "many-keys": lambda: "{" + ",".join(f'"{i}":0' for i in range(CAP // 12)) + "}",
    "duplicate-key-at-the-end": lambda: "{" + ",".join(f'"{i}":0' for i in range(CAP // 12)) + ',"0":1}',
    "deep-nesting": lambda: fill("[", CAP // 2) + fill("]", CAP // 2),
    "unicode-escapes": lambda: '"' + fill("\\u00e9", CAP - 2) + '"',
    "surrogate-escapes": lambda: '["' + fill("\\ud800\\udc00", CAP - 20) + '", "\\ud800"]',
    "long-number": lambda: fill("9", CAP),
    "long-float": lambda: "0." + fill("9", CAP - 2),
    "whitespace": lambda: " " * (CAP - 2) + "{}",
}


@pytest.mark.parametrize("make", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_hostile_strict_json_at_8mib(make):
    data = make().encode("utf-8")
    assert len(data) <= CAP

    def parse(data: bytes):
        try:
            return parse_strict_json(data)
        except ValueError as e:
            return e
    within_bound(parse, data)

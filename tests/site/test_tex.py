"""TeX → Unicode text and MathML (sitegen.tex)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.site import tex
from sitegen.site.tex import tex_to_html, tex_to_text


def test_accents_symbols_and_literal_characters():
    assert tex_to_text('Schr\\"odinger, Erd\\H{o}s, Ces\\`aro, \\c{C}etin') == "Schrödinger, Erdős, Cesàro, Çetin"
    assert tex_to_text("10% faster Q&A #1") == "10% faster Q&A #1"  # bare %, &, # are literal in arXiv metadata
    assert tex_to_text("a -- b --- c ``q''") == "a – b — c “q”"


def test_inline_math_becomes_mathml_with_alttext():
    html = str(tex_to_html("for $\\pi=3+1/8$ and \\(\\alpha\\)"))
    assert html.startswith("for <math alttext=\"\\pi=3+1/8\"") and html.count("<math") == 2
    assert "<mi>π</mi>" in html and "<mi>α</mi>" in html


def test_unsafe_or_unconvertible_math_falls_back_to_escaped_source():
    assert str(tex_to_html("$\\href{javascript:alert(1)}{x}$")) == "$\\href{javascript:alert(1)}{x}$"
    assert str(tex_to_html("<script>alert(1)</script>")) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "<math" not in str(tex_to_html("$" + "x" * 600 + "$"))  # over the size cap


plain = st.text(alphabet=string.ascii_letters + string.digits + " .,;:!?()[]/+=<>*@|-", max_size=80)


@settings(max_examples=500, deadline=None)
@given(plain)
def test_fast_path_equals_the_converter_on_text_without_tex(text):
    if tex._TEX_SYNTAX.search(text) or not text.strip():
        return
    slow = tex._converter().latex_to_text(text)
    slow = " ".join(slow.split()) or text.strip()
    assert tex_to_text(text) == slow


typographic = st.text(alphabet="ab -'`\"~%&#.", max_size=40)


@settings(max_examples=1000, deadline=None)
@given(typographic)
def test_typography_path_equals_the_converter_on_quotes_dashes_and_ties(text):
    if not tex._TEX_SYNTAX.search(text) or tex._NEEDS_CONVERTER.search(text) or not text.strip():
        return
    slow = tex._converter().latex_to_text(tex._LITERAL.sub(r"\\\1", text))
    slow = " ".join(slow.split()) or text.strip()
    assert tex_to_text(text) == slow


texish = st.text(alphabet="ab \\'\"$^_{}()~-`.%", max_size=30)


def _whole(text: str) -> str:
    out = tex._converter().latex_to_text(tex._LITERAL.sub(r"\\\1", text))
    return " ".join(out.split()) or text.strip()


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(texish)
def test_converting_piece_by_piece_equals_converting_the_whole(text):
    if not text.strip() or not tex._NEEDS_CONVERTER.search(text):
        return
    try:
        whole = _whole(text)
    except Exception:  # the converter rejects it: tex_to_text shows the source, tested elsewhere
        return
    assert tex_to_text(text) == whole

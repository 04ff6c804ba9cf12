"""Validly signed hostile documents are published safely — proven in the HTML
and in real headless Chromium (no script runs, no dialog opens)."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from browser import chromium, serve
from conformance.hostile import HOSTILE
from pithfactory import make_site
from sitegen.cli import main
from sitegen.site.authors import parse_authors
from sitegen.site.tex import tex_to_text
from sitegen.site.views import clean_text

SPOOFING = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u2060\ufeff"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    docs = {f"hostile/{h.name}.json": h.make() for h in HOSTILE}
    site = make_site(root, seeds=False, docs=docs)
    out = root / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    pages = {}
    for h in HOSTILE:
        doc = docs[f"hostile/{h.name}.json"]
        pages[h.name] = (doc, out / "pith" / doc["pith_number"].split(":")[2] / "index.html")
    return out, pages


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_signed_document_is_published_as_inert_text(hostile_site, hostile):
    _, pages = hostile_site
    doc, page_path = pages[hostile.name]
    html = page_path.read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    paper = doc["paper"] if hostile.kind == "record" else doc["events"][1]["payload"]["graph_snapshot"]["paper"]
    assert page.h1.get_text() == tex_to_text(clean_text(paper["title"]))
    expected_authors = [a.name + (f" ({'; '.join(a.affiliations)})" if a.affiliations else "")
                        for a in parse_authors(clean_text(paper["authors_text"]))]
    assert [li.get_text() for li in page.select("ul.authors li")] == expected_authors
    assert page.find_all(["iframe", "style", "base", "object", "embed", "svg", "img"]) == []
    for script in page.find_all("script"):  # only data blocks and the theme's own file
        if script.get("src"):
            assert script["src"].startswith("/assets/") and not script.string
        else:
            assert script.get("type") == "application/ld+json" and "<" not in script.string
            json.loads(script.string)
    assert len(page.find_all("meta", attrs={"http-equiv": "refresh"})) == 0
    for tag in page.find_all(True):
        for attr, value in tag.attrs.items():
            assert not attr.lower().startswith("on"), (tag.name, attr)
            if attr in ("href", "src", "action"):
                assert not str(value).strip().lower().startswith(("javascript:", "data:", "vbscript:")), value
    assert not any(ch in html for ch in SPOOFING)
    assert "49" not in page.h1.get_text()
    license_text = doc["canonical_record"]["metadata"]["license"]
    if not license_text.startswith(("https://", "http://")):
        assert page.find("a", rel="license") is None


@pytest.mark.slow
def test_no_hostile_payload_runs_in_headless_chromium(hostile_site):
    out, pages = hostile_site
    dialogs, errors = [], []
    with serve(out) as base, chromium() as browser:
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        for name, (_doc, path) in sorted(pages.items()):
            url = base + path.relative_to(out).parent.as_posix() + "/"
            response = page.goto(url)
            assert response.status == 200, name
            page.wait_for_load_state("load")
            assert page.evaluate("() => window.__pwned === undefined"), name
            assert page.evaluate("() => document.querySelectorAll("
                                 "'script:not([type=\"application/ld+json\"]):not([src^=\"/assets/\"]), iframe, base')"
                                 ".length") == 0, name
            ld = page.evaluate(
                "() => JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent)")
            assert ld["@type"] == "ScholarlyArticle", name
            for link in page.locator("a").all():  # hovering or clicking any link must not run a payload
                href = link.get_attribute("href") or ""
                assert not href.lower().startswith(("javascript:", "data:")), (name, href)
            page.mouse.move(5, 5)
            page.mouse.move(200, 300)
            assert page.evaluate("() => window.__pwned === undefined"), name
            assert page.title() != "", name
        assert dialogs == [] and errors == []
        # Positive control: the same payload in a page sitegen did not make is detected.
        (out / "control.html").write_text(
            '<!doctype html><title>c</title><img src=x onerror="window.__pwned=1;alert(1)">')
        page.goto(base + "control.html")
        page.wait_for_function("() => window.__pwned === 1")
        assert dialogs == ["1"]
        (out / "control.html").unlink()

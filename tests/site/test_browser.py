"""The reader's experience, checked in real headless Chromium over HTTP on 127.0.0.1:
Unicode and MathML titles, scholarly metadata, search, pagination, dark mode,
a phone-sized viewport, keyboard use, JavaScript off, page weight. Screenshots
of a record page and the home page are saved to $SITEGEN_SCREENSHOTS
(default: tests/artifacts/)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from browser import chromium, serve
from pithfactory import CONTENT, REPO, SEED_RECORDS, load_json, make_record, make_site
from sitegen.cli import main

pytestmark = pytest.mark.slow  # headless Chromium: page loads of a second or so each; CI runs them

SHOTS = Path(os.environ.get("SITEGEN_SCREENSHOTS", REPO / "tests" / "artifacts"))
TEX_TITLE = 'Schr\\"odinger equation for $\\pi=3+1/8$ in $d\\geq 3$'
TEX = make_record(arxiv_id="2101.09999", title=TEX_TITLE,
                  authors='Erwin Schr\\"odinger (Dublin Institute for Advanced Studies), Paul Erd\\H{o}s',
                  abstract="We solve $i\\hbar\\partial_t\\psi = H\\psi$ exactly.")
TEX_SUFFIX = TEX["pith_number"].split(":")[2]
SEED = load_json(SEED_RECORDS[3])  # ImageNet Training in Minutes, 1709.05011
SEED_SUFFIX = SEED["pith_number"].split(":")[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    docs = {"tex.json": TEX}
    docs.update({f"gen/r{i}.json": make_record(arxiv_id=f"2102.{i:05d}", title=f"Generated study number {i}")
                 for i in range(23)})
    src = make_site(root, docs=docs)
    shutil.copytree(CONTENT / "pages", src / "content" / "pages")
    (src / "sitegen.toml").write_text('title = "Test mirror"\npage_size = 10\n')
    out = root / "out"
    out.mkdir()
    with serve(out) as base:
        assert main(["build", str(src), "-o", str(out), "--base-url", base, "-q"]) == 0
        with chromium() as browser:
            yield base, browser


def test_record_page_renders_unicode_and_mathml_title(site):
    base, browser = site
    page = browser.new_page()
    page.goto(f"{base}pith/{TEX_SUFFIX}/")
    h1 = page.locator("h1")
    assert "Schrödinger equation for" in h1.inner_text()
    assert h1.locator("math").count() == 2
    box = h1.locator("math").first.bounding_box()
    assert box and box["width"] > 10 and box["height"] > 5  # MathML is laid out, not raw TeX
    assert "$" not in h1.inner_text() and "\\pi" not in h1.inner_text()
    assert page.locator("ul.authors li").all_inner_texts() == [
        "Erwin Schrödinger (Dublin Institute for Advanced Studies)", "Paul Erdős"]
    assert page.locator("p.abstract math").count() == 1
    assert page.title().startswith("Schrödinger equation for π=3+1/8 in d≥ 3")


def test_record_page_carries_scholarly_metadata(site):
    base, browser = site
    page = browser.new_page()
    page.goto(f"{base}pith/{TEX_SUFFIX}/")
    meta = lambda name: page.locator(f'meta[name="{name}"]').evaluate_all("els => els.map(e => e.content)")  # noqa: E731
    assert meta("citation_title") == ["Schrödinger equation for π=3+1/8 in d≥ 3"]
    assert meta("citation_author") == ["Erwin Schrödinger", "Paul Erdős"]
    assert meta("citation_publication_date") == ["2021/01/04"]
    assert meta("citation_arxiv_id") == ["2101.09999"]
    assert meta("citation_pdf_url") == ["https://arxiv.org/pdf/2101.09999v1"]
    assert meta("citation_abstract")[0].startswith("We solve")
    og = page.locator('meta[property="og:url"]').get_attribute("content")
    assert og == f"{base}pith/{TEX_SUFFIX}/" and page.locator('link[rel="canonical"]').get_attribute("href") == og
    ld = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert ld["@type"] == "ScholarlyArticle" and ld["@id"] == "https://doi.org/10.48550/arxiv.2101.09999"
    assert {"propertyID": "Pith Number", "value": TEX["pith_number"], "@type": "PropertyValue"} in ld["identifier"]
    assert [a["name"] for a in ld["author"]] == ["Erwin Schrödinger", "Paul Erdős"]
    assert ld["sameAs"][0] == "https://arxiv.org/abs/2101.09999"


@pytest.mark.parametrize("query", ["1709.05011", "Minutes", "10.48550/arxiv.1709.05011", "BIMLI3TH",
                                   SEED["pith_number"]])
def test_search_finds_a_seed(site, query):
    base, browser = site
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}search/")
    page.fill("#search-q", query)
    page.press("#search-q", "Enter")
    page.wait_for_selector("#search-results li a", timeout=15000)
    hrefs = page.locator("#search-results li a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert f"/pith/{SEED_SUFFIX}/" in hrefs, (query, hrefs)
    assert errors == []


def test_search_is_linked_from_the_home_page_form(site):
    base, browser = site
    page = browser.new_page()
    page.goto(base)
    page.fill("#q", "Schrödinger")
    page.press("#q", "Enter")
    page.wait_for_selector("#search-results li a", timeout=15000)
    assert page.locator("#search-results li a").first.get_attribute("href") == f"/pith/{TEX_SUFFIX}/"


def test_pagination_reaches_every_record_of_a_year(site):
    base, browser = site
    page = browser.new_page()
    page.goto(f"{base}years/2021/")
    landing = page.locator("ol.record-list li a.title").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert len(landing) == 10  # page_size newest records
    seen, pages = [], 0
    page.locator('nav.pagination a', has_text="Oldest records").click()
    page.wait_for_load_state()
    while True:  # from the oldest page, newer and newer, to the landing
        pages += 1
        seen += page.locator("ol.record-list li a.title").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert page.locator("ol.record-list li").count() <= 40  # at most four times page_size
        newer = page.locator('nav.pagination a[rel="prev"]')
        if newer.get_attribute("href").rstrip("/").endswith("years/2021"):
            break
        newer.click()
        page.wait_for_load_state()
    assert len(seen) == len(set(seen)) == 24  # 23 generated + the TeX record, all from 2021, each once
    assert set(landing) <= set(seen)


def test_dark_mode_follows_the_system(site):
    base, browser = site
    for scheme, background in (("light", "rgb(255, 255, 255)"), ("dark", "rgb(13, 17, 23)")):
        page = browser.new_page(color_scheme=scheme)
        page.goto(f"{base}pith/{SEED_SUFFIX}/")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background


def test_phone_viewport_has_no_horizontal_scroll_and_screenshots_are_saved(site):
    base, browser = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True)
    page = phone.new_page()
    for path in ("", f"pith/{SEED_SUFFIX}/", f"pith/{TEX_SUFFIX}/", "years/2021/", "search/"):
        page.goto(base + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    desktop = browser.new_page(viewport={"width": 1100, "height": 900})
    desktop.goto(f"{base}pith/{TEX_SUFFIX}/")
    desktop.screenshot(path=str(SHOTS / "record.png"), full_page=False)
    desktop.goto(base)
    desktop.screenshot(path=str(SHOTS / "home.png"), full_page=False)
    page.goto(f"{base}pith/{SEED_SUFFIX}/")
    page.screenshot(path=str(SHOTS / "record-phone.png"))
    assert all((SHOTS / n).stat().st_size > 10_000 for n in ("record.png", "home.png", "record-phone.png"))


def test_keyboard_and_copy_buttons(site):
    base, browser = site
    page = browser.new_page()
    page.goto(f"{base}pith/{SEED_SUFFIX}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.locator("button.copy").count() == 3  # Pith Number, LaTeX snippet, verify recipe
    assert page.evaluate("document.querySelectorAll('main h1').length") == 1
    assert page.locator("header, main, footer, nav").count() >= 4


def test_pages_work_with_javascript_off(site):
    base, browser = site
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}pith/{SEED_SUFFIX}/")
    assert page.locator("h1").inner_text() == SEED["paper"]["title"]
    assert page.locator("button.copy").count() == 0 and page.locator("#verify-recipe").is_visible()
    page.goto(f"{base}search/")
    assert "needs JavaScript" in page.locator("#search-status").inner_text()
    page.goto(f"{base}about/")
    assert page.locator("h1").inner_text() == "About this mirror"


def test_record_page_css_and_js_weigh_under_50_kb(site):
    base, browser = site
    page = browser.new_page()
    sizes = {}

    def record(response):
        if response.request.resource_type in ("stylesheet", "script"):
            sizes[response.url] = len(response.body())
    page.on("response", record)
    page.goto(f"{base}pith/{SEED_SUFFIX}/")
    page.wait_for_load_state("networkidle")
    assert sizes and sum(sizes.values()) < 50_000, sizes

"""The words of the search page's and the alias router's scripts come from
the page (``data-*`` attributes written by search.html and 404.html with the
UI strings), in the page's language, with the catalogue's English as the
scripts' own fallback; and a search result's title and meta line do not run
into each other (headless Chromium over loopback HTTP)."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from browser import chromium, serve
from pithfactory import REPO, make_record, make_site
from sitegen.cli import main
from sitegen.site.strings import catalogue

SCRIPTS = {"search.js": ("search", "search-status"), "router.js": ("not_found", "alias-status")}
#: Two records sharing a title word, so a search shows two results (and the plural).
PAIR = {f"pair{i}.json": make_record(arxiv_id=f"2301.0000{i}", title=f"Quasicrystal growth, part {i}",
                                     submitted_at=f"2023-01-0{i}T00:00:00Z") for i in (1, 2)}


def script_english(name: str) -> dict[str, str]:
    """The ``ENGLISH`` fallbacks of a script, by catalogue key (``shownOne`` → ``shown_one``)."""
    source = (REPO / "static" / "assets" / name).read_text()
    match = re.search(r"ENGLISH = \{(.*?)\n\s*\};", source, re.S)
    assert match, name
    block = match.group(1)
    pairs = re.findall(r'(\w+): "((?:[^"\\]|\\.)*)"', block)
    assert pairs
    return {re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), k): v for k, v in pairs}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_fallbacks_are_the_english_catalogue(name):
    table, _ = SCRIPTS[name]
    english = catalogue("en")
    for key, text in script_english(name).items():
        assert english[f"{table}.{key}"] == text, key


def status_words(page: BeautifulSoup, element_id: str) -> dict[str, str]:
    element = page.find(id=element_id)
    assert element is not None, element_id
    return {a[5:].replace("-", "_"): str(v) for a, v in element.attrs.items() if a.startswith("data-")}


@pytest.mark.parametrize("language", ["en", "de"])
def test_templates_pass_every_script_string_in_the_pages_language(tmp_path, language):
    site = make_site(tmp_path)
    (site / "sitegen.toml").write_text(f'language = "{language}"\n')
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "--base-url", "https://mirror.test/", "-q"]) == 0
    strings = catalogue(language)
    for name, (table, element_id) in SCRIPTS.items():
        page = BeautifulSoup((out / ("search/index.html" if table == "search" else "404.html")).read_bytes(),
                             "html.parser")
        words = status_words(page, element_id)
        assert set(words) == set(script_english(name)), name
        assert words == {key: strings[f"{table}.{key}"] for key in words}, name


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def served_site(tmp_path, toml: str):
    site = make_site(tmp_path, docs=PAIR)
    (site / "sitegen.toml").write_text(toml)
    out = tmp_path / "out"
    out.mkdir()
    return site, out


def settled(page, element_id: str) -> str:
    """The status text once it no longer ends in "…" (a lookup running)."""
    page.wait_for_function(f"() => !/…$/.test(document.getElementById('{element_id}').textContent)", timeout=10_000)
    return page.locator(f"#{element_id}").inner_text()


@pytest.mark.slow
def test_german_search_and_router_speak_german(tmp_path, browser):
    site, out = served_site(tmp_path, 'language = "de"\n')
    with serve(out) as base:
        assert main(["build", str(site), "-o", str(out), "--base-url", base, "-q"]) == 0
        page = browser.new_page()
        page.goto(f"{base}search/?q=Quasicrystal")
        page.locator("#search-results li").nth(1).wait_for(timeout=10_000)
        assert settled(page, "search-status") == "2 Einträge angezeigt, neueste zuerst."
        page.goto(f"{base}search/?q=Minibatch")
        page.locator("#search-results li").first.wait_for(timeout=10_000)
        assert settled(page, "search-status") == "1 Eintrag angezeigt."
        page.goto(f"{base}search/?q=zzzqqqxx")
        page.wait_for_function("() => document.getElementById('search-status').textContent === "
                               "'Keine Einträge gefunden.'", timeout=10_000)
        page.goto(f"{base}search/?q=1709.05011")
        page.locator("#search-results li").first.wait_for(timeout=10_000)
        assert settled(page, "search-status") == "1 Eintrag mit dieser Kennung."
        page.goto(f"{base}arxiv/2999.99999/")
        assert settled(page, "alias-status") == "Kein Eintrag dieses Mirrors hat den Alias arxiv/2999.99999."
        page.close()


@pytest.mark.slow
def test_a_sites_own_strings_reach_the_scripts(tmp_path, browser):
    site, out = served_site(tmp_path, '[strings]\n"search.none" = "Nothing matched."\n'
                                      '"not_found.no_record" = "Unknown here: {alias}"\n')
    with serve(out) as base:
        assert main(["build", str(site), "-o", str(out), "--base-url", base, "-q"]) == 0
        page = browser.new_page()
        page.goto(f"{base}search/?q=zzzqqqxx")
        page.wait_for_function("() => document.getElementById('search-status').textContent.startsWith('Nothing')",
                               timeout=10_000)
        assert page.locator("#search-status").inner_text() == "Nothing matched."
        page.goto(f"{base}paper/ZZZZZZZZ/")
        assert settled(page, "alias-status") == "Unknown here: paper/ZZZZZZZZ"
        page.close()


@pytest.mark.slow
@pytest.mark.parametrize("width", [1024, 360])
def test_a_search_results_title_and_meta_are_on_separate_lines(tmp_path, browser, width):
    site, out = served_site(tmp_path, "")
    with serve(out) as base:
        assert main(["build", str(site), "-o", str(out), "--base-url", base, "-q"]) == 0
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(f"{base}search/?q=Quasicrystal")
        page.locator("#search-results li").nth(1).wait_for(timeout=10_000)
        assert settled(page, "search-status") == "2 records shown, newest first."
        for i in range(2):
            item = page.locator("#search-results li").nth(i)
            title = item.locator("a.title").bounding_box()
            meta = item.locator("span.meta").bounding_box()
            authors = item.locator("span.authors-inline").bounding_box()
            assert meta["y"] >= title["y"] + title["height"] - 1, (title, meta)  # below the title, not beside it
            assert authors["y"] >= meta["y"] + meta["height"] - 1
            assert item.locator("span.meta").inner_text().startswith("pith:")
            assert " · arXiv:2301.0000" in item.locator("span.meta").inner_text()
        page.close()

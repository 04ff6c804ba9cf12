"""A site owner's theming (docs/theming.md): static files that replace
generated ones, the extra_css and _head.html hooks, record page partials
overridable one by one, and UI strings in the page's language — with the
default English pages byte-identical to the theme before any of this."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from browser import chromium, serve
from helpers import build, soup
from pithfactory import (
    REGISTRY_KEY,
    REPO,
    SEED_BUNDLES,
    SEED_RECORDS,
    keyring_of,
    load_json,
    make_bundle,
    make_record,
    make_site,
)
from sitegen.cli import main
from sitegen.config import load_settings
from sitegen.model import SourceFile
from sitegen.pith.strict_json import parse_document
from sitegen.site.render import Renderer
from sitegen.site.strings import SCRIPT_STRINGS, catalogue, placeholders, shipped_languages, ui_strings
from sitegen.site.theme import find_theme
from sitegen.site.views import json_for_script, record_view, scholarly_article
from sitegen.verify.documents import verify_documents

BASE = "https://mirror.test/"
SHOTS = Path(os.environ.get("SITEGEN_SCREENSHOTS", REPO / "tests" / "artifacts"))
TEX = make_record(arxiv_id="2101.09999", title='Schr\\"odinger equation for $\\pi=3+1/8$ in $d\\geq 3$',
                  authors='Erwin Schr\\"odinger (Dublin Institute for Advanced Studies), Paul Erd\\H{o}s',
                  abstract="We solve $i\\hbar\\partial_t\\psi = H\\psi$ exactly.")
TEX_SUFFIX = TEX["pith_number"].split(":")[2]
SEED_BUNDLE_SUFFIX = load_json(SEED_BUNDLES[0])["pith_number"].split(":")[2]
PARTIALS = sorted(p.name for p in (REPO / "templates" / "record").glob("*.html"))


def rich_site(root: Path, toml: str = "") -> Path:
    """Seeds, a TeX record and a generated bundle, small listing pages (so the
    home page links on and listings paginate), plus ``toml``."""
    site = make_site(root, docs={"tex.json": TEX, "b.bundle.json": make_bundle(arxiv_id="2103.00001")})
    (site / "sitegen.toml").write_text(f"page_size = 1\n{toml}")
    return site


# -- static files that replace generated ones ----------------------------------------------------

OWN = {"robots.txt": b"User-agent: *\nDisallow: /private/\n",
       "_headers": b"/*\n  X-Frame-Options: DENY\n",
       "404.html": b"<!doctype html><title>Lost</title><p>Nothing here.</p>\n"}


def test_static_robots_headers_and_404_replace_the_generated_files(tmp_path):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text('host = "netlify"\n')  # a host whose _headers sitegen writes
    (site / "static").mkdir()
    for name, data in OWN.items():
        (site / "static" / name).write_bytes(data)
    out = tmp_path / "out"
    assert build(site, out, base_url=BASE) == 0
    assert {name: (out / name).read_bytes() for name in OWN} == OWN
    # an incremental build keeps them; taking them away brings the generated files back
    assert build(site, out, base_url=BASE) == 0 and (out / "robots.txt").read_bytes() == OWN["robots.txt"]
    shutil.rmtree(site / "static")
    assert build(site, out, base_url=BASE) == 0
    assert "Sitemap: https://mirror.test/sitemap.xml" in (out / "robots.txt").read_text()
    assert "Access-Control-Allow-Origin" in (out / "_headers").read_text()
    assert "Not found" in soup(out / "404.html").h1.get_text()


def test_one_static_override_leaves_the_other_generated_files(tmp_path):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text('host = "cloudflare"\n')
    (site / "static").mkdir()
    (site / "static" / "robots.txt").write_bytes(OWN["robots.txt"])
    out = tmp_path / "out"
    assert build(site, out, base_url=BASE) == 0
    assert (out / "robots.txt").read_bytes() == OWN["robots.txt"]
    assert "Access-Control-Allow-Origin" in (out / "_headers").read_text()
    assert "Not found" in soup(out / "404.html").h1.get_text()


@pytest.mark.parametrize("path", ["pith-mirrors.json", "pith-signing-key.json", "sitemap.xml", "feed.xml",
                                  "years/index.html"])
def test_other_static_collisions_still_fail(tmp_path, capsys, path):
    site = make_site(tmp_path, test_key=False)
    target = site / "static" / path
    target.parent.mkdir(parents=True)
    target.write_text("mine")
    assert build(site, tmp_path / "out", base_url=BASE) == 1
    assert f"{path}: two files map to this output path" in capsys.readouterr().err
    assert not (tmp_path / "out" / "index.html").exists()


# -- extra_css and _head.html -----------------------------------------------------------------------

def test_extra_css_and_head_partial_are_on_every_page(tmp_path):
    site = make_site(tmp_path, test_key=False)
    (site / "static" / "assets").mkdir(parents=True)
    (site / "static" / "assets" / "custom.css").write_text("html { scroll-padding-top: 7px; }\n")
    (site / "static" / "print.css").write_text("@media print { nav { display: none; } }\n")
    (site / "templates").mkdir()
    (site / "templates" / "_head.html").write_text('<meta name="theme-color" content="#8250df">\n')
    (site / "sitegen.toml").write_text('extra_css = ["assets/custom.css", "print.css"]\n')
    out = tmp_path / "out"
    assert build(site, out, base_url=BASE) == 0
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        head = soup(page).head
        sheets = [link["href"] for link in head.find_all("link", rel="stylesheet")]
        assert sheets == ["/assets/sitegen.css", "/assets/custom.css", "/print.css"], page
        assert head.find("meta", attrs={"name": "theme-color"})["content"] == "#8250df", page
        assert head.contents[-2].get("name") == "theme-color", page  # the partial ends the <head>
    assert (out / "assets" / "custom.css").is_file() and (out / "print.css").is_file()


@pytest.mark.parametrize("value, message", [
    ('["assets/missing.css"]', "extra_css: assets/missing.css is not a file in"),
    ('["https://cdn.example/x.css"]', "extra_css[0]: expected a relative path to a .css file"),
    ('["../secret.css"]', "extra_css[0]: expected a relative path"),
    ('["/assets/sitegen.css"]', "extra_css[0]: expected a relative path"),
    ('["assets/x.js"]', "extra_css[0]: expected a relative path to a .css file"),
    ('["a\\" onload=\\"x.css"]', "extra_css[0]: expected a relative path"),
    ('"assets/sitegen.css"', "extra_css: expected a list"),
])
def test_bad_extra_css_is_a_config_error(tmp_path, capsys, value, message):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text(f"extra_css = {value}\n")
    assert build(site, tmp_path / "out", base_url=BASE) == 1
    assert message in capsys.readouterr().err


# -- record partials ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def entries():
    docs = [*SEED_RECORDS, *SEED_BUNDLES]
    parsed = [parse_document(SourceFile(p, p.name, p.read_bytes())) for p in docs]
    _, found, problems = verify_documents(parsed, keyring_of(load_json(REGISTRY_KEY)))
    assert not problems and len(found) == 5
    return found


def _section(renderer: Renderer, name: str, entry) -> str:
    """The default partial ``name`` rendered on its own for ``entry``."""
    view = record_view(entry, renderer.strings)
    jsonld = json_for_script(scholarly_article(view, renderer.settings.base_url))
    return renderer.env.get_template(f"record/{name}").render(record=view, r=view, jsonld=jsonld, built_at=None)


def _page(renderer: Renderer, entry) -> str:
    _, files = renderer.entry_files(entry)
    return next(f.data for f in files if f.path.endswith("index.html")).decode()


@pytest.mark.parametrize("name", PARTIALS)
def test_overriding_one_record_partial_changes_only_its_section(tmp_path, entries, name):
    default = Renderer(find_theme(tmp_path), load_settings(tmp_path), (), None)
    (tmp_path / "templates" / "record").mkdir(parents=True)
    (tmp_path / "templates" / "record" / name).write_text('<div class="mine">{{ r.short_pith_number }}</div>\n')
    custom = Renderer(find_theme(tmp_path), load_settings(tmp_path), (), None)
    shown = 0
    for entry in entries:
        before, section = _page(default, entry), _section(default, name, entry)
        after = _page(custom, entry)
        if not section:  # nothing to show for this entry (no abstract, say): the override stands alone
            assert after.count('<div class="mine">') == 1
            continue
        shown += 1
        assert before.count(section) == 1, name
        assert after == before.replace(section, f'<div class="mine">pith:{entry.suffix[:8]}</div>\n'), name
    assert shown, f"record/{name} rendered nothing for every seed"


def test_overriding_a_partial_rerenders_an_incremental_build(tmp_path):
    site = make_site(tmp_path, test_key=False)
    out = tmp_path / "out"
    assert build(site, out, base_url=BASE) == 0
    (site / "templates" / "record").mkdir(parents=True)
    (site / "templates" / "record" / "cite.html").write_text('  <p class="cite-me">{{ r.suffix }}</p>\n')
    assert build(site, out, base_url=BASE) == 0
    pages = list((out / "pith").glob("*/index.html"))
    assert len(pages) == 5 and all(soup(p).select_one("p.cite-me") and not soup(p).find(id="cite-h") for p in pages)


def test_record_html_is_made_of_the_partials_only(entries, tmp_path):
    """Every line of record.html's <article> is an include: a site can
    override any section without copying the page."""
    text = (REPO / "templates" / "record.html").read_text()
    article = text[text.index('<article class="record">') + 24:text.index("</article>")]
    included = re.findall(r'\{% include "record/([a-z_]+\.html)" %\}', text)
    assert sorted(included) == PARTIALS
    assert not [line for line in article.splitlines() if line.strip() and "{% include" not in line]


# -- strings and language -------------------------------------------------------------------------

def test_the_shipped_catalogues_are_complete_and_consistent():
    english = catalogue("en")
    assert set(shipped_languages()) >= {"en", "de"}
    for language in shipped_languages():
        strings = catalogue(language)
        assert set(strings) == set(english), (language, set(english) ^ set(strings))
        for key, text in strings.items():
            assert isinstance(text, str) and placeholders(text) <= placeholders(english[key]), (language, key)


def test_every_string_a_template_asks_for_exists():
    english = catalogue("en")
    used = set()
    for path in (REPO / "templates").rglob("*"):
        if path.is_file():
            used |= set(re.findall(r"""_\(['"]([a-z_]+\.[a-z_]+)['"]""", path.read_text()))
    assert len(used) > 80
    assert used <= set(english), used - set(english)


def test_script_defaults_are_the_english_strings():
    """sitegen.js falls back to its own English words; they must be en.toml's,
    since the page passes only the words that differ."""
    script = (REPO / "static" / "assets" / "sitegen.js").read_text()
    english = catalogue("en")
    for attribute, key in SCRIPT_STRINGS:
        camel = re.sub(r"-([a-z])", lambda m: m.group(1).upper(), attribute)
        assert f'ui.{camel} || "{english[key]}"' in script
    assert ui_strings("en").script_strings() == ()
    assert dict(ui_strings("de").script_strings())["copy-text"] == "Kopieren"


def test_strings_escape_text_and_values():
    t = ui_strings("en", (("record.abstract", 'A & B <i> "q" it\'s'),))
    assert str(t("record.abstract")) == "A &amp; B &lt;i&gt; &#34;q&#34; it's"
    assert str(t("index.feed_title", title="<b>")) == "&lt;b&gt;: newest records"
    assert t.text("index.feed_title", title="<b>") == "<b>: newest records"


def _render_both_ways(tmp_path, source, overrides=()):
    """``source`` rendered by the theme's environment (plain strings inlined at load) and by the
    same environment from a string (every ``_()`` a call at render time)."""
    import dataclasses

    from sitegen.site.theme import Theme, make_environment
    (tmp_path / "t.html").write_text(source)
    settings = dataclasses.replace(load_settings(tmp_path), strings=overrides)
    env = make_environment(Theme((tmp_path,), ()), settings)
    loaded = env.loader.get_source(env, "t.html")[0]
    return env.get_template("t.html").render(), env.from_string(source).render(), loaded


def test_plain_strings_are_inlined_at_load_with_the_bytes_a_call_prints(tmp_path):
    source = "<h2>{{ _('record.abstract') }}</h2><p>{{ _('record.checks_passed', n=3) }}</p>"
    overrides = (("record.abstract", 'A & B <i> "q" \ufffe'),)
    inlined, called, loaded = _render_both_ways(tmp_path, source, overrides)
    assert inlined == called and inlined.startswith("<h2>A &amp; B &lt;i&gt; &#34;q&#34; \ufffd</h2><p>3 checks")
    assert "_('record.abstract')" not in loaded and "_('record.checks_passed', n=3)" in loaded


@pytest.mark.parametrize("source", [
    "{% set _ = '[{}]'.format %}{{ _('record.abstract') }}",               # the template binds _ itself
    "{% macro t(_) %}{{ _('record.abstract') }}{% endmacro %}{{ t('[{}]'.format) }}",
])
def test_a_template_that_binds_underscore_keeps_its_calls(tmp_path, source):
    inlined, called, loaded = _render_both_ways(tmp_path, source)
    assert inlined == called and "_('record.abstract')" in loaded


def test_a_string_that_could_read_as_template_syntax_is_not_inlined(tmp_path):
    source = "{{ _('record.abstract') }}"
    inlined, called, loaded = _render_both_ways(tmp_path, source, (("record.abstract", "{% raw %} {{ x }}"),))
    assert inlined == called == "{% raw %} {{ x }}" and loaded == source


ENGLISH_UI = ["Skip to content", "Records", "Categories", "Mirror manifest", "Signing key", "Atom feed",
              "A verified mirror", "Abstract (excerpt)", "Cite this Pith Number", "Record completeness",
              "Portable graph bundle", "Receipt and verification", "Aliases", "Verify this Pith Number",
              "Verified by this mirror", "Canonical record", "Cited by", "Show every check", "not yet",
              "Where this page", "content-addressed", "Signed events", "Signature key", "Bitcoin timestamp"]


def _visible_text(page: Path) -> str:
    html = soup(page)  # without data (titles, authors, abstracts) and the verifier's English check details
    for tag in html.select("script, pre, code, h1, .authors, .abstract, .headline, .cited-by, table.checks, "
                           ".record-list, title"):
        tag.decompose()
    attrs = " ".join(str(v) for t in html.find_all(True) for k, v in t.attrs.items()
                     if k in ("aria-label", "title", "placeholder", "data-copy"))
    return html.get_text(" ") + " " + attrs


def test_german_site_renders_german_ui_strings_and_lang(tmp_path):
    site = rich_site(tmp_path, 'language = "de"\n')
    out = tmp_path / "out"
    assert build(site, out, base_url=BASE) == 0
    bundle_page = out / "pith" / SEED_BUNDLE_SUFFIX / "index.html"
    html = soup(bundle_page)
    assert html.html["lang"] == "de" and html.html["data-copy-text"] == "Kopieren"
    headings = [h.get_text() for h in html.find_all("h2")]
    assert headings[:3] == ["Zusammenfassung (Auszug)", "Diese Pith Number zitieren", "Vollständigkeit des Eintrags"]
    assert "Zitiert von" in headings and "Quittung und Verifikation" in headings
    assert html.select_one("a.skip").get_text() == "Zum Inhalt springen"
    assert [li.get_text(" ", strip=True).split(" ")[0] for li in html.select("ul.badges li")][:2] == \
        ["inhaltsadressiert", "Quittung"]
    assert html.select_one("table caption").get_text() == "Signierte Ereignisse"
    assert {td.get_text() for td in html.select("table.checks td:first-child")} == {"Bundle"}
    assert "# erwartet: " in html.select_one("#verify-recipe").get_text()
    for page in [*(out / "pith").glob("*/index.html"), out / "index.html", out / "years" / "index.html",
                 out / "categories" / "index.html"]:
        assert soup(page).html["lang"] == "de"
        text = _visible_text(page)
        left = [s for s in ENGLISH_UI if re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", text)]
        assert left == [], (page, left)
    home = soup(out / "index.html")
    assert home.h2.get_text() == "Neueste Einträge"
    assert "verifizierte Pith-Einträge" in home.select_one(".counts").get_text()
    assert home.select_one("input#q")["placeholder"].startswith("Titel, Autor")
    assert soup(out / "years" / "index.html").h1.get_text() == "Einträge nach Jahr"
    assert soup(out / "categories" / "index.html").h1.get_text() == "Einträge nach arXiv-Kategorie"
    listing = soup(out / "years" / "2017" / "index.html")  # three 2017 seeds, two per page
    assert listing.h1.get_text() == "Einträge aus 2017"
    assert listing.select_one('a[rel="next"]').get_text() == "Ältere Einträge →"
    assert "neueste Einträge" in (out / "feed.xml").read_text()


def test_a_regional_tag_uses_its_language_and_keeps_the_tag(tmp_path):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text('language = "de-CH"\n')
    assert build(site, tmp_path / "out", base_url=BASE) == 0
    html = soup(tmp_path / "out" / "index.html")
    assert html.html["lang"] == "de-CH" and html.h2.get_text() == "Neueste Einträge"


def test_site_strings_override_and_fall_back_to_english(tmp_path):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text('language = "fr"\n[strings]\n"index.newest" = "Derniers articles"\n'
                                       '[strings.record]\nabstract = "Résumé (extrait)"\n'
                                       'checks_passed = "{n} vérifications réussies."\n')
    out = tmp_path / "out"
    assert build(site, out, base_url=BASE) == 0
    home = soup(out / "index.html")
    assert home.html["lang"] == "fr" and home.h2.get_text() == "Derniers articles"
    assert home.select_one("a.skip").get_text() == "Skip to content"  # not translated: English
    record = soup(next(p for p in (out / "pith").glob("*/index.html") if "abstract-h" in p.read_text()))
    assert record.find(id="abstract-h").get_text() == "Résumé (extrait)"
    assert record.find(id="mirror-h").find_next("p").get_text().endswith("vérifications réussies.")


def test_a_site_table_holds_strings_for_the_sites_own_templates(tmp_path):
    site = make_site(tmp_path, test_key=False)
    (site / "templates" / "record").mkdir(parents=True)
    (site / "templates" / "record" / "cite.html").write_text(
        "  <p class=\"pdf\"><a href=\"{{ r.pdf_url }}\">{{ _('site.pdf_link', id=r.arxiv_id) }}</a></p>\n")
    (site / "sitegen.toml").write_text('language = "de"\n[strings.site]\npdf_link = "PDF von {id} bei arXiv"\n')
    out = tmp_path / "out"
    assert build(site, out, base_url=BASE) == 0
    link = soup(out / "pith" / "BIMLI3THH5PSHA56CBSKDVHQKR" / "index.html").select_one("p.pdf a")
    assert link.get_text() == "PDF von 1709.05011 bei arXiv"


@pytest.mark.parametrize("toml, message", [
    ('language = "fr"\n', "language: sitegen ships no UI strings for 'fr' (it has de, en)"),
    ('language = "german"\n', "language: expected a BCP 47 language tag"),
    ('language = "de_DE"\n', "language: expected a BCP 47 language tag"),
    ('[strings]\n"record.abstrct" = "x"\n', "strings.record.abstrct: unknown string"),
    ('[strings]\n"record.checks_passed" = "{count} ok"\n', "strings.record.checks_passed: unknown placeholder {count}"),
    ('[strings]\n"record.abstract" = 3\n', "strings.record.abstract: expected a string"),
    ('[strings]\n"record.abstract" = "a\\u0007b"\n', "strings.record.abstract: must not contain a control character"),
])
def test_bad_language_or_strings_are_config_errors(tmp_path, capsys, toml, message):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text(toml)
    assert build(site, tmp_path / "out", base_url=BASE) == 1
    assert message in capsys.readouterr().err


def test_changing_the_language_rerenders_an_incremental_build(tmp_path):
    site = make_site(tmp_path, test_key=False)
    out = tmp_path / "out"
    assert build(site, out, base_url=BASE) == 0
    (site / "sitegen.toml").write_text('language = "de"\n')
    assert build(site, out, base_url=BASE) == 0
    assert all(soup(p).html["lang"] == "de" for p in out.rglob("*.html"))
    (site / "sitegen.toml").write_text('language = "de"\n[strings]\n"record.abstract" = "Kurzfassung"\n')
    assert build(site, out, base_url=BASE) == 0
    assert "Kurzfassung" in next(p for p in (out / "pith").glob("*/index.html") if "abstract-h" in p.read_text()) \
        .read_text()


# -- in Chromium ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_extra_css_passes_the_csp_and_german_record_page_screenshot(tmp_path):
    """extra_css is applied under style-src 'self' (no violation), while an
    inline <style> in _head.html is blocked (the positive control: the
    listener sees violations); the German record page is saved as
    record-de.png."""
    site = make_site(tmp_path, docs={"tex.json": TEX})
    (site / "static" / "assets").mkdir(parents=True)
    (site / "static" / "assets" / "custom.css").write_text("html { scroll-padding-top: 7px; }\n")
    (site / "templates").mkdir()
    (site / "templates" / "_head.html").write_text('<meta name="theme-color" content="#8250df">\n'
                                                   "<style>html { scroll-padding-bottom: 9px; }</style>\n")
    (site / "sitegen.toml").write_text('title = "Pith-Mirror"\nlanguage = "de"\nextra_css = ["assets/custom.css"]\n')
    out = tmp_path / "out"
    out.mkdir()
    with serve(out) as base, chromium() as browser:
        assert main(["build", str(site), "-o", str(out), "--base-url", base, "-q"]) == 0
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                             "e => window.__csp.push([e.violatedDirective, e.blockedURI]));")
        for path in (f"pith/{TEX_SUFFIX}/", "", "years/"):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            style = page.evaluate("[getComputedStyle(document.documentElement).scrollPaddingTop,"
                                  " getComputedStyle(document.documentElement).scrollPaddingBottom]")
            assert style == ["7px", "auto"], path  # the file applies, the inline style does not
            violations = page.evaluate("window.__csp")
            assert violations and all(v[1] == "inline" and v[0].startswith("style-src") for v in violations), violations
        page.goto(f"{base}pith/{TEX_SUFFIX}/")
        page.wait_for_selector("button.copy")
        assert page.locator("button.copy").first.inner_text() == "Kopieren"
        assert page.locator("button.copy").first.get_attribute("aria-label") == "Pith Number kopieren"
        assert page.locator("h2").first.inner_text() == "Zusammenfassung (Auszug)"
        assert page.evaluate("document.documentElement.lang") == "de"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "record-de.png"), full_page=False)
        assert (SHOTS / "record-de.png").stat().st_size > 10_000

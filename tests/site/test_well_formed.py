"""Every output file is well-formed whatever the text: characters legal in a
JSON document but not in XML 1.0 or HTML, in the unsigned fields of validly
signed documents, and settings that would inject lines or markup."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import html5lib
import pytest

from pithfactory import make_bundle, make_record, make_site
from sitegen.cli import main
from sitegen.config import load_settings
from sitegen.errors import ConfigError
from sitegen.site.chars import well_formed

#: Legal in JSON (and in a signed Pith document), not in XML 1.0 or HTML.
ILLEGAL = "\x01\x08\x0b\x0c\x1b\x7f\x85\x9f\ufdd0\ufffe\uffff\U0001fffe\U0010ffff"
BASE = "https://mirror.test/"


def _hostile(text: str) -> str:
    return f"{text} [{ILLEGAL}] & <b>\"quoted\"</b>"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wellformed")
    record = make_record(arxiv_id="2301.00101", title=_hostile("Title"), authors=_hostile("Eve") + ", Mallory",
                         abstract=_hostile("Abstract"))
    record["paper"]["headline"] = _hostile("Headline")
    record["inbound_citations"]["sample"][0]["citing_title"] = _hostile("Citing")
    record["aliases"].append({"alias_kind": _hostile("kind"), "alias_value": _hostile("value")})
    bundle = make_bundle(arxiv_id="2301.00102", title=_hostile("Bundled"), authors=_hostile("Grace"),
                         abstract=_hostile("Bundled abstract"))
    site = make_site(root, seeds=False, docs={"records/hostile.json": record, "bundles/hostile.json": bundle})
    (site / "content" / "pages").mkdir()
    (site / "content" / "pages" / "about.md").write_text(f"# About {ILLEGAL}\n\n{_hostile('Body')}\n",
                                                          encoding="utf-8")
    out = root / "out"
    assert main(["build", str(site), "-o", str(out), "-q", "--base-url", BASE,
                 "--title", 'Mirror "<&>" \u00e9\U0001f642']) == 0
    return out


def _files(out: Path, suffix: str) -> list[Path]:
    return sorted(out.rglob(f"*{suffix}"))


def test_signed_records_with_xml_illegal_characters_build(built):
    assert len(list((built / "pith").glob("*/index.html"))) == 2


def test_feed_and_every_sitemap_parse_with_a_strict_xml_parser(built):
    xml_files = _files(built, ".xml")
    assert {"feed.xml", "sitemap.xml", "sitemap-all.xml"} <= {p.name for p in xml_files}
    for path in xml_files:
        ET.fromstring(path.read_bytes())  # raises ParseError on any character XML 1.0 forbids
    feed = ET.fromstring((built / "feed.xml").read_bytes())
    ns = "{http://www.w3.org/2005/Atom}"
    titles = [e.findtext(f"{ns}title") for e in feed.iter(f"{ns}entry")]
    assert sorted(titles) == sorted(well_formed(_hostile(t)) for t in ("Title", "Bundled"))
    assert feed.findtext(f"{ns}title") == 'Mirror "<&>" \u00e9\U0001f642: newest records'


def test_every_html_page_parses_with_a_strict_html5_parser(built):
    parser = html5lib.HTMLParser(strict=True)
    pages = _files(built, ".html")
    assert len(pages) >= 10
    for page in pages:
        parser.parse(page.read_bytes())  # raises on controls and noncharacters too


def test_no_output_file_carries_a_forbidden_character(built):
    for path in sorted(built.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt", ""):
            text = path.read_bytes().decode("utf-8")
            if path.suffix == ".json" and path.name != "pith-mirrors.json":
                json.loads(text)  # verified documents are republished byte for byte: JSON, not XML
                continue
            assert well_formed(text) == text, path


def test_hostile_text_in_attributes_stays_inside_them(built):
    page = next((built / "pith").glob("*/index.html")).read_text(encoding="utf-8")
    doc = html5lib.parse(page, namespaceHTMLElements=False)
    metas = {m.get("name") or m.get("property"): m.get("content") for m in doc.iter("meta")}
    assert "<b>" in metas["citation_title"] and '"quoted"' in metas["citation_title"]
    assert not any(el.tag == "b" for el in doc.iter())  # no markup escaped its attribute or text


def test_robots_txt_is_exactly_its_lines(built):  # _headers: tests/site/test_hosting.py
    assert (built / "robots.txt").read_text() == f"User-agent: *\nAllow: /\nSitemap: {BASE}sitemap.xml\n"


@pytest.mark.parametrize("base_url", ["https://x.test/\nDisallow: /", "https://x.test/\r\nSitemap: https://evil.test/",
                                      "https://x.test/\x00", "https://x.test/\u0085"])
def test_base_url_with_a_line_break_or_control_is_refused(base_url, tmp_path):
    with pytest.raises(ConfigError, match=r"--base-url: base_url: must not contain a control character"):
        load_settings(tmp_path, base_url=base_url)
    (tmp_path / "sitegen.toml").write_text(f"base_url = {json.dumps(base_url)}\n")
    with pytest.raises(ConfigError, match=r"sitegen.toml: base_url: must not contain a control character"):
        load_settings(tmp_path)


@pytest.mark.parametrize("base_url", ['https://x.test/"><script>', "https://x.test/$(id)/", "https://x.test/a b/",
                                      "https://x.test/`id`/", "https://x.test/é/"])
def test_base_url_with_markup_or_shell_characters_is_refused(base_url, tmp_path):
    with pytest.raises(ConfigError, match="base_url: may contain only"):
        load_settings(tmp_path, base_url=base_url)


def test_ordinary_base_urls_are_accepted(tmp_path):
    for url in ("https://user.github.io/mirror", "http://[::1]:8000/", "https://m.example/~me/pith%20mirror/"):
        assert load_settings(tmp_path, base_url=url).base_url == url.rstrip("/") + "/"


@pytest.mark.parametrize("title", ["My\nMirror", "Mirror\x1b[31m", "Mirror\ufffe", "Mirror\udcff"])
def test_title_with_a_control_character_surrogate_or_noncharacter_is_refused(title, tmp_path):
    with pytest.raises(ConfigError, match=r"--title: title: must not contain"):
        load_settings(tmp_path, title=title)
    if "\udcff" not in title:  # TOML cannot hold a surrogate at all
        (tmp_path / "sitegen.toml").write_text(f"title = {json.dumps(title)}\n")
        with pytest.raises(ConfigError, match=r"sitegen.toml: title: must not contain"):
            load_settings(tmp_path)


def test_cli_refuses_a_base_url_with_a_newline(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    with pytest.raises(SystemExit) as exit_:  # a bad flag is a usage error
        main(["build", str(site), "-o", str(tmp_path / "out"), "--base-url", "https://x.test/\nDisallow: /"])
    assert exit_.value.code == 2
    assert "argument --base-url: must not contain a control character (U+000A)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

"""The link check (sitegen.build.links): which links it finds in HTML, how it
resolves them, what it reports — and that it stays linear on hostile HTML."""

from __future__ import annotations

import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from sitegen.build.links import BrokenLink, LinkSource, check_links, check_site, links_in, resolve, site_sources
from sitegen.config import Settings
from sitegen.errors import ConfigError
from sitegen.site.pages import MarkdownPage, render_markdown

BASE = "https://m.example/mirror/"


# -- finding links ------------------------------------------------------------------------------

def test_links_in_finds_every_linking_attribute_in_document_order():
    html = ('<!doctype html><html><head><link rel="stylesheet" href="/a.css"><script src=\'/a.js\'></script>'
            '</head><body><a class=x href=plain>1</a><A HREF="/UPPER/">2</A><img alt="i" src="/i.png" />'
            '<form action="/search/"><input type=image src="/btn.png"></form><video poster="/p.jpg" src="/v.mp4">'
            '</video><area href="/area/"><iframe src="/frame/"></iframe><a name="no-href">3</a>'
            '<a href="/q?a=1&amp;b=2">4</a><div data-href="/not-a-link/" title="/nor/this/"></div></body></html>')
    assert list(links_in(html)) == ["/a.css", "/a.js", "plain", "/UPPER/", "/i.png", "/search/", "/btn.png",
                                    "/p.jpg", "/v.mp4", "/area/", "/frame/", "/q?a=1&b=2"]


def test_links_in_skips_comments_raw_text_and_end_tags():
    html = ('<!-- <a href="/commented/"> --><script>if (a<b) document.write("<a href=\'/in-script/\'>")</script>'
            '<style>a[href="/in-style/"]{}</style><textarea><a href="/in-textarea/"></textarea>'
            '<title><a href="/in-title/"></title></a href="/end-tag/"><a href="/real/">x</a>'
            '<SCRIPT>"</scriptx>"; "<a href=\'/still-script/\'>"</SCRIPT ><a href="/after/">')
    assert list(links_in(html)) == ["/real/", "/after/"]


def test_links_in_stops_at_an_unclosed_quote_or_comment():
    assert list(links_in('<a href="/ok/">x</a><a href="/never-closed>')) == ["/ok/"]
    assert list(links_in('<a href="/ok/"><!-- <a href="/x/">')) == ["/ok/"]


@pytest.mark.parametrize("unit", ['<a href="', "<a ", "<a x=", "<!--", "<", "</", "<a href=x ", "<script>",
                                  "<script></", "<a href='/x/'>", "&amp;" * 3, "<!"])
@pytest.mark.slow
def test_links_in_is_linear_on_hostile_html(unit):
    hostile = unit * (2_000_000 // len(unit))
    start = time.process_time()
    for _ in links_in(hostile):
        pass
    assert time.process_time() - start < 5


@pytest.mark.parametrize("unit", ["[a](b.md) ", "[a](../../x) ", "[a](/%2e%2e/" + "x/" * 20 + ") ",
                                  "<javascript:x> ", "![i](" + "../" * 30 + "y.png) "])
def test_a_page_full_of_links_is_rendered_and_checked_in_linear_time(unit):
    from sitegen.site.pages import MAX_PAGE_CHARS
    text = unit * (MAX_PAGE_CHARS // len(unit))
    start = time.process_time()
    _, body = render_markdown("page", text, folder=("guide",), base_path="/m/")
    check_links([LinkSource("content/pages/page.md", "page/index.html", str(body))], lambda p: False,
                base_url="http://h/m/")
    assert time.process_time() - start < 10


# -- resolving them -----------------------------------------------------------------------------

@pytest.mark.parametrize("href, page, expected", [
    ("/mirror/about/", "index.html", ("about/", None)),
    ("/mirror/", "404.html", ("", None)),
    ("/mirror", "404.html", ("", None)),
    ("about/", "index.html", ("about/", None)),
    ("setup/", "guide/index.html", ("guide/setup/", None)),
    ("../about/", "guide/setup/index.html", ("guide/about/", None)),
    ("../../about/", "guide/setup/index.html", ("about/", None)),
    ("./", "guide/index.html", ("guide/", None)),
    ("..", "guide/index.html", ("", None)),
    ("%2e%2e/x", "guide/index.html", ("x", None)),
    ("/mirror/doi/10.48550/arxiv.1709.05011/", "index.html", ("doi/10.48550/arxiv.1709.05011/", None)),
    ("/mirror/a%20b/#frag", "index.html", ("a b/", None)),
    ("https://m.example/mirror/about/", "index.html", ("about/", None)),
    ("HTTPS://M.EXAMPLE/mirror/x.json?y", "index.html", ("x.json", None)),
    ("//m.example/mirror/about/", "index.html", ("about/", None)),
    ("https://m.example/elsewhere/", "index.html", (None, None)),
    ("https://other.example/mirror/x", "index.html", (None, None)),
    ("//other.example/x", "index.html", (None, None)),
    ("mailto:a@b.c", "index.html", (None, None)),
    ("#top", "index.html", (None, None)),
    ("?q=1", "index.html", (None, None)),
    ("", "index.html", (None, None)),
    ("data:image/png;base64,iVBORw0KGgo=", "index.html", (None, None)),
    ("javascript:alert(1)", "index.html", (None, "javascript: links are not allowed")),
    (" \tjava\nscript:alert(1)", "index.html", (None, "javascript: links are not allowed")),
    ("VBScript:x", "index.html", (None, "vbscript: links are not allowed")),
    ("data:text/html,<script>", "index.html", (None, "data: links are not allowed")),
    ("file:///etc/passwd", "index.html", (None, "file: links are not allowed")),
    ("/elsewhere/", "index.html", (None, "outside the site (its base path is /mirror/)")),
    ("/\\evil.example/", "index.html", (None, None)),  # browsers read it as //evil.example/: another site
    ("../x", "index.html", (None, "leaves the site (it climbs above the site's root)")),
    ("../../x", "about/index.html", (None, "leaves the site (it climbs above the site's root)")),
    ("/mirror/../x", "index.html", (None, "leaves the site (it climbs above the site's root)")),
    ("https://m.example/mirror/../../x", "index.html", (None, "leaves the site (it climbs above the site's root)")),
    ("https://[::1", "index.html", (None, "not a valid URL")),
])
def test_resolve(href, page, expected):
    assert resolve(href, page, BASE) == expected


def test_resolve_at_the_root_of_a_host():
    assert resolve("/about/", "index.html", "http://localhost:8000/") == ("about/", None)
    assert resolve("../../x", "about/index.html", "http://localhost:8000/")[1] == \
        "leaves the site (it climbs above the site's root)"


# -- reporting ----------------------------------------------------------------------------------

def test_check_links_reports_each_broken_link_once_with_every_page_and_looks_each_target_up_once():
    outputs = {"index.html", "about/index.html", "pith/ABC/index.html", "feed.xml", "assets/a.css"}
    asked: list[str] = []

    def exists(path: str) -> bool:
        asked.append(path)
        return path in outputs

    nav = '<a href="/mirror/">home</a><a href="/mirror/about/">about</a><a href="/mirror/gone/">gone</a>'
    sources = [LinkSource(f"page{n}.html", f"page{n}.html", nav) for n in range(5)]
    sources.append(LinkSource("content/pages/about.md", "about/index.html",
                              '<a href="/mirror/setup/">s</a><a href="/mirror/pith/ABC">r</a>'
                              '<img src="/mirror/logo.png"><link href="/mirror/assets/a.css">',
                              {"/mirror/setup/": "setup.md"}))
    broken = check_links(sources, exists, base_url=BASE)
    assert [str(b) for b in broken] == [
        "page0.html, page1.html, page2.html and 2 more pages: link '/mirror/gone/': no such page [pages.links]",
        "content/pages/about.md: link 'setup.md' → /mirror/setup/: no such page [pages.links]",
        "content/pages/about.md: link '/mirror/logo.png': no such file [pages.links]"]
    assert sorted(asked) == sorted(["index.html", "about/index.html", "gone/index.html", "setup/index.html",
                                    "pith/ABC", "pith/ABC/index.html", "logo.png", "logo.png/index.html",
                                    "assets/a.css"])


def test_broken_link_names_are_terminal_safe():
    b = BrokenLink(("content/pages/\x1b[31m.md",), "x\x1b[2J", "/x\x1b/", "no such page")
    assert "\x1b" not in str(b)


def md_page(slug: str, body: str, links: dict[str, str] | None = None, problems=()) -> MarkdownPage:
    return MarkdownPage(slug, slug.title(), Markup(body), f"content/pages/{slug}.md", links=links or {},
                        link_problems=tuple(problems))


def test_site_sources_report_a_page_body_link_under_the_markdown_file_only():
    md = md_page("about", '<p><a href="/nope/">n</a></p>', {"/nope/": "nope.md"})
    full = f'<html><nav><a href="/about/">About</a></nav><article>{md.html}</article></html>'.encode()
    sources = site_sources([md], [("about/index.html", full), ("index.html", b'<a href="/about/">a</a>')])
    assert [(s.name, "/nope/" in s.html) for s in sources] == [
        ("content/pages/about.md", True), ("about/index.html", False), ("index.html", False)]
    settings = Settings(site_dir=Path("/s"), output_dir=Path("/o"), base_url="http://localhost:8000/")
    exists = {"about/index.html", "index.html"}.__contains__
    with pytest.raises(ConfigError) as e:
        check_site(settings, [md], [("about/index.html", full)], exists)
    assert str(e.value).splitlines() == [
        "1 broken link in the site's pages; fix them, or build with --no-strict (strict_links = false in "
        "sitegen.toml) to publish with warnings:",
        "content/pages/about.md: link 'nope.md' → /nope/: no such page [pages.links]"]


def test_check_site_without_strict_links_returns_warnings_including_links_refused_in_markdown():
    md = md_page("about", "<p>[x](javascript:x)</p>", problems=[("javascript:x", "not allowed")])
    settings = Settings(site_dir=Path("/s"), output_dir=Path("/o"), strict_links=False)
    assert check_site(settings, [md], [], lambda p: True) == (
        "content/pages/about.md: link 'javascript:x': not allowed [pages.links]",)
    assert check_site(Settings(site_dir=Path("/s"), output_dir=Path("/o")), [], [], lambda p: True) == ()


def test_an_error_lists_at_most_100_broken_links():
    sources = [LinkSource("index.html", "index.html", "".join(f'<a href="/x{n}/">' for n in range(150)))]
    settings = Settings(site_dir=Path("/s"), output_dir=Path("/o"))
    with pytest.raises(ConfigError) as e:
        check_site(settings, [], [(s.path, s.html.encode()) for s in sources], lambda p: False)
    lines = str(e.value).splitlines()
    assert lines[0].startswith("150 broken links") and len(lines) == 102 and lines[-1] == "… and 50 more"


# -- cross-check ----------------------------------------------------------------------------------

class _Reference(HTMLParser):
    """The standard library's HTML parser, collecting the same attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = {"a": "href", "img": "src", "link": "href", "script": "src", "form": "action"}.get(tag)
        self.links.extend(v or "" for k, v in attrs if k == wanted)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["[a](", "x.md", "/p/", "../", "#f", "?q=1&r=2", ")", "![i](", "<", ">", "\"",
                                 "'", "&amp;", "`", "\n\n", "[r]: /ref 'T'\n\n[r]", " ", "<http://h/x>",
                                 "*", "\\", "(", "é", "%20", "javascript:x"]), max_size=40).map("".join))
def test_links_in_agrees_with_the_standard_html_parser_on_rendered_markdown(text):
    _, body = render_markdown("page", text, folder=("guide",), base_path="/m/")
    html = f'<html><head><link rel="canonical" href="https://h/m/page/"><script src="/m/a.js"></script>' \
           f'</head><body><article>{body}</article><form action="/m/search/"></form></body></html>'
    reference = _Reference()
    reference.feed(html)
    reference.close()
    assert list(links_in(html)) == reference.links

"""Markdown pages are read through the guarded reader like every file in
content/: no symlink out of content/, no FIFO or device, the size cap before
a byte is read, strict UTF-8 — and every bad page is reported by name."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from pithfactory import make_site
from sitegen.cli import main
from sitegen.errors import ConfigError
from sitegen.site.frontmatter import MAX_FRONT_MATTER_CHARS, parse_front_matter
from sitegen.site.pages import MAX_PAGE_CHARS, RESERVED, load_pages, navigation, render_markdown


@pytest.fixture
def content(tmp_path: Path) -> Path:
    (tmp_path / "content" / "pages").mkdir(parents=True)
    (tmp_path / "content" / "pages" / "about.md").write_text("# About us\n\nHello.\n")
    return tmp_path / "content"


@pytest.fixture
def no_hang():
    """Fail (instead of hanging the suite) if a page read blocks."""
    def timeout(signum, frame):
        raise TimeoutError("reading a page blocked")
    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def refused(content: Path, **kw) -> str:
    with pytest.raises(ConfigError) as e:
        load_pages(content, **kw)
    return str(e.value)


def test_good_pages_load_with_their_titles(content):
    (content / "pages" / "faq.md").write_text("Intro\n\nQuestions *and* `answers`\n===\n\n# Second\n")
    (content / "pages" / "untitled.md").write_text("no heading\n")
    pages = load_pages(content)
    assert [(p.slug, p.title) for p in pages] == [("about", "About us"), ("faq", "Questions and answers"),
                                                   ("untitled", "Untitled")]
    assert "<h1>About us</h1>" in pages[0].html


def test_page_symlinked_outside_content_is_not_published(content, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nroot password\n")
    (content / "pages" / "leak.md").symlink_to(secret)
    message = refused(content)
    assert "content/pages/leak.md: symlink points outside content/ [load.file]" in message
    assert "root password" not in message


def test_page_under_a_symlinked_pages_directory_is_not_published(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.md").write_text("# X\n")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "pages").symlink_to(outside)
    assert "content/pages/x.md: is under a symlinked directory" in refused(tmp_path / "content")


def test_fifo_page_does_not_hang_the_build(content, no_hang):
    os.mkfifo(content / "pages" / "fifo.md")
    assert "content/pages/fifo.md: is not a regular file [load.file]" in refused(content)


def test_page_symlinked_to_dev_zero_is_not_read(content, no_hang):
    (content / "pages" / "zero.md").symlink_to("/dev/zero")
    assert "content/pages/zero.md: symlink points outside content/ [load.file]" in refused(content)


def test_page_symlinked_to_a_fifo_inside_content_is_not_read(content, no_hang):
    # The symlink stays inside content/, so only the check on what was opened stops it.
    os.mkfifo(content / "pages" / "device")
    (content / "pages" / "dev.md").symlink_to("device")
    assert "content/pages/dev.md: is not a regular file [load.file]" in refused(content)


def test_page_with_invalid_utf8_is_refused(content):
    (content / "pages" / "latin1.md").write_bytes(b"# Caf\xe9\n")
    assert "content/pages/latin1.md: invalid UTF-8 at byte 5 [load.encoding]" in refused(content)


def test_page_over_the_size_cap_is_refused_before_reading(content):
    (content / "pages" / "big.md").write_bytes(b"x" * 1001)
    assert ("content/pages/big.md: file is 1001 bytes, over the 1000-byte cap (max_document_bytes) [load.size]"
            in refused(content, max_bytes=1000))


def test_page_over_the_markdown_cap_is_refused(content):
    (content / "pages" / "long.md").write_text("[" * (MAX_PAGE_CHARS + 1))
    assert f"content/pages/long.md: page is {MAX_PAGE_CHARS + 1} characters, over the" in refused(content)
    with pytest.raises(ValueError):
        render_markdown("long", "a" * (MAX_PAGE_CHARS + 1))


def test_every_bad_page_is_reported(content, tmp_path, no_hang):
    (content / "pages" / "a-leak.md").symlink_to(tmp_path / "nowhere.md")
    os.mkfifo(content / "pages" / "b-fifo.md")
    (content / "pages" / "c-latin1.md").write_bytes(b"\xff")
    (content / "pages" / "Bad_Name.md").write_text("x")
    (content / "pages" / "pith.md").write_text("x")
    lines = refused(content).splitlines()
    assert lines[0] == "5 Markdown pages in content/pages/ cannot be published:"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "content/pages/Bad_Name.md", "content/pages/a-leak.md", "content/pages/b-fifo.md",
        "content/pages/c-latin1.md", "content/pages/pith.md"]


def test_page_file_name_with_control_characters_is_shown_escaped(content):
    (content / "pages" / "x\x1b[31m.md").write_text("x")
    message = refused(content)
    assert "\x1b" not in message and "\\u001b" in message


def test_build_with_a_bad_page_fails_naming_it_and_publishes_nothing(tmp_path, capsys, no_hang):
    site = make_site(tmp_path, test_key=False)
    (site / "content" / "pages").mkdir()
    (site / "content" / "pages" / "ok.md").write_text("# Fine\n")
    (site / "content" / "pages" / "zero.md").symlink_to("/dev/zero")
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "error: 1 Markdown page in content/pages/ cannot be published:" in err
    assert "content/pages/zero.md: symlink points outside content/" in err
    assert not out.exists()


# -- front matter ------------------------------------------------------------------------------

def write(content: Path, rel: str, text: str | bytes) -> Path:
    path = content / "pages" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def page(content: Path, slug: str, **kw):
    return next(p for p in load_pages(content, **kw) if p.slug == slug)


def test_front_matter_sets_title_description_and_weight_and_is_not_rendered(content):
    write(content, "setup.md", "---\ntitle: Setting  up\ndescription: >\n  How to build\n  a mirror.\n"
                               "weight: -5\ndraft: false\n---\n# Heading title\n\nBody.\n")
    p = page(content, "setup")
    assert (p.title, p.description, p.weight) == ("Setting up", "How to build a mirror.", -5)
    assert "<h1>Heading title</h1>" in p.html and "description" not in p.html and "<hr" not in p.html


def test_front_matter_closed_by_dots_with_crlf_and_empty(content):
    write(content, "a.md", "---\r\ntitle: A\r\n...\r\nBody\r\n")
    write(content, "b.md", "---\n---\n# B\n")
    assert [(p.slug, p.title) for p in load_pages(content)][:2] == [("a", "A"), ("about", "About us")]
    assert page(content, "b").title == "B"


def test_unknown_front_matter_key_names_the_file_and_the_key(content):
    write(content, "faq.md", "---\ntitle: FAQ\ntitel: typo\n---\n")
    assert ("content/pages/faq.md: unknown front matter key 'titel' (line 3) (known: description, draft, "
            "title, weight) [page.front_matter]") in refused(content)


@pytest.mark.parametrize("yaml, message", [
    ("title: yes", "title: expected text, got True; put it in quotes"),
    ("title: 2024-01-01", "title: expected text, got datetime.date(2024, 1, 1); put it in quotes"),
    ("title: [a, b]", "title: expected text, got a list (line 2)"),
    ("title: {a: b}", "title: expected text, got a mapping (line 2)"),
    ("title: ''", "title: must not be empty"),
    ("title: \"\\e[31m\"", "title: must not contain a control character (U+001B)"),
    ("title: " + "x" * 201, "title: is 201 characters, over the 200-character limit"),
    ("description: " + "x" * 501, "description: is 501 characters, over the 500-character limit"),
    ("draft: 'yes'", "draft: expected true or false, got 'yes'"),
    ("weight: 1.5", "weight: expected a whole number, got 1.5"),
    ("weight: true", "weight: expected a whole number, got True"),
    ("weight: 10000000", "weight: must be between -1000000 and 1000000, got 10000000"),
    ("title: a\ntitle: b", "front matter key 'title' is given twice (line 3)"),
    ("- title", "front matter must be 'key: value' lines (line 2)"),
    ("just text", "front matter must be 'key: value' lines (line 2)"),
    ("title: \"unclosed", "front matter is not valid YAML: found unexpected end of stream"),
    ("title: !!python/object/apply:os.system [echo pwned]", "YAML tags ('tag:yaml.org,2002:python/object/apply:"
                                                           "os.system') are not allowed in front matter (line 2)"),
    ("title: &t About\ndescription: *t", "YAML anchors ('&t') are not allowed in front matter (line 2)"),
])
def test_front_matter_is_checked(content, yaml, message):
    write(content, "x.md", f"---\n{yaml}\n---\nBody\n")
    assert f"content/pages/x.md: {message}" in refused(content)


def test_front_matter_holds_one_document():
    # In a page, a second '---' line closes the front matter; parse_front_matter refuses it all the same.
    with pytest.raises(ValueError, match=r"front matter holds more than one YAML document \(line 3\)"):
        parse_front_matter("title: a\n---\ntitle: b\n")


def test_yaml_billion_laughs_is_refused_at_the_first_anchor(content):
    bomb = ['title: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    bomb += [f'description: &{chr(98 + i)} [{",".join(["*" + chr(97 + i)] * 9)}]' for i in range(8)]
    write(content, "bomb.md", "---\n" + "\n".join(bomb) + "\n---\n")
    start = time.process_time()
    assert "content/pages/bomb.md: YAML anchors ('&a') are not allowed in front matter (line 2)" in refused(content)
    assert time.process_time() - start < 2


@pytest.mark.parametrize("yaml", ["title: " + "[" * 4000, "title: " + "{a: " * 1000, "[" * 4000,
                                  "title: " + "- " * 2000, "? " * 2000])
def test_deeply_nested_front_matter_is_refused_quickly(content, yaml):
    # PyYAML's scanner is quadratic in the nesting depth: the check stops at the first nested value.
    write(content, "deep.md", f"---\n{yaml}\n---\n")
    start = time.process_time()
    assert "content/pages/deep.md: " in refused(content)
    assert time.process_time() - start < 2


def test_huge_front_matter_is_refused_without_being_parsed(content):
    write(content, "huge.md", "---\n" + "title: x\n" + "# comment\n" * 9000 + "---\nBody\n")
    assert (f"content/pages/huge.md: the page starts with a '---' line but no closing '---' line follows within "
            f"{MAX_FRONT_MATTER_CHARS} characters") in refused(content)


def test_unclosed_front_matter_and_toml_front_matter_are_refused(content):
    write(content, "open.md", "---\ntitle: x\n\n# Body\n")
    write(content, "toml.md", "+++\ntitle = 'x'\n+++\n")
    message = refused(content)
    assert "content/pages/open.md: the page starts with a '---' line but no closing '---' line" in message
    assert "content/pages/toml.md: front matter in TOML ('+++') is not supported" in message


def test_front_matter_with_invalid_utf8_is_refused(content):
    write(content, "latin1.md", b"---\ntitle: Caf\xe9\n---\n")
    assert "content/pages/latin1.md: invalid UTF-8 at byte 14 [load.encoding]" in refused(content)


def test_draft_is_checked_but_not_published(content):
    write(content, "wip.md", "---\ndraft: true\ntitle: Work in progress\n---\n# WIP\n")
    assert [p.slug for p in load_pages(content)] == ["about"]
    write(content, "wip.md", "---\ndraft: true\ntitel: x\n---\n")
    assert "content/pages/wip.md: unknown front matter key 'titel'" in refused(content)


def test_weight_orders_the_navigation_then_the_title(content):
    write(content, "zeta.md", "---\nweight: -1\n---\n# Zeta\n")
    write(content, "alpha.md", "---\nweight: 10\n---\n# Alpha\n")
    write(content, "beta.md", "# Beta\n")
    write(content, "guide/index.md", "---\nweight: 5\n---\n# Guide\n")
    write(content, "guide/setup.md", "---\nweight: -100\n---\n# Setup\n")
    assert navigation(load_pages(content)) == (
        ("zeta/", "Zeta"), ("about/", "About us"), ("beta/", "Beta"), ("guide/", "Guide"), ("alpha/", "Alpha"))


# -- nested folders -----------------------------------------------------------------------------

def test_nested_folders_become_nested_routes(content):
    write(content, "guide/index.md", "# The guide\n")
    write(content, "guide/setup.md", "# Setup\n")
    write(content, "guide/hosting/netlify.md", "# Netlify\n")
    write(content, "notes/loose.md", "no heading\n")  # a folder without index.md
    write(content, "guide/pith.md", "# Reserved only at the top\n")
    write(content, "guide/picture.png", "not a page")
    write(content, ".hidden/x.md", "# hidden\n")
    pages = load_pages(content)
    assert [(p.slug, p.path, p.source, p.title) for p in pages] == [
        ("about", "about/", "content/pages/about.md", "About us"),
        ("guide", "guide/", "content/pages/guide/index.md", "The guide"),
        ("guide/hosting/netlify", "guide/hosting/netlify/", "content/pages/guide/hosting/netlify.md", "Netlify"),
        ("guide/pith", "guide/pith/", "content/pages/guide/pith.md", "Reserved only at the top"),
        ("guide/setup", "guide/setup/", "content/pages/guide/setup.md", "Setup"),
        ("notes/loose", "notes/loose/", "content/pages/notes/loose.md", "Loose")]
    assert [path for path, _ in navigation(pages)] == ["about/", "guide/"]


def test_pages_index_md_is_refused_because_the_home_page_is_generated(content):
    write(content, "index.md", "# Home\n")
    assert ("content/pages/index.md: the home page is generated by sitegen and cannot be replaced; name this "
            "page after what it holds (e.g. about.md) and link to it [page.name]") in refused(content)


def test_bad_and_reserved_names_in_folders_are_refused(content):
    write(content, "Guide/setup.md", "x")
    write(content, "pith/fake.md", "x")
    write(content, "search.md", "x")
    write(content, "guide/set_up.md", "x")
    write(content, "guide/../x.md", "x")  # the path normalises to pages/x.md: fine
    lines = refused(content).splitlines()
    assert lines[0] == "4 Markdown pages in content/pages/ cannot be published:"
    assert lines[1:] == [
        "content/pages/Guide/setup.md: page and folder names are lower-case letters, digits and '-' (at most 64); "
        "got 'Guide' [page.name]",
        "content/pages/guide/set_up.md: page and folder names are lower-case letters, digits and '-' (at most 64); "
        "got 'set_up' [page.name]",
        "content/pages/pith/fake.md: 'pith' is used by the generated site; top-level page and folder names may not "
        f"be one of {', '.join(sorted(RESERVED))} [page.name]",
        "content/pages/search.md: 'search' is used by the generated site; top-level page and folder names may not "
        f"be one of {', '.join(sorted(RESERVED))} [page.name]"]


def test_two_files_with_one_route_are_refused(content):
    write(content, "guide.md", "# A\n")
    write(content, "guide/index.md", "# B\n")
    assert ("content/pages/guide.md: has the route /guide/ of content/pages/guide/index.md too; remove or rename "
            "one [page.name]") in refused(content)


def test_symlinked_folder_under_pages_is_not_followed(content, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n")
    (content / "pages" / "linked").symlink_to(outside)
    assert ("content/pages/linked: is a symlink to a folder; symlinked folders are not followed [load.file]"
            in refused(content))


def test_page_and_folder_names_that_are_not_utf8_are_refused(content):
    os.mkdir(os.fsencode(content / "pages") + b"/d\xe9j\xe0")
    (content / "pages" / "ok.md").write_text("# OK\n")
    with open(os.fsencode(content / "pages") + b"/caf\xe9.md", "wb") as f:
        f.write(b"# Caf\xc3\xa9\n")
    lines = refused(content).splitlines()
    assert lines[1:] == ["content/pages/caf\\udce9.md: file name is not valid UTF-8; rename it [load.file]",
                         "content/pages/d\\udce9j\\udce0: file name is not valid UTF-8; rename it [load.file]"]


def test_nested_page_symlinked_outside_content_is_not_published(content, tmp_path):
    (tmp_path / "secret.md").write_text("# Secret\n")
    write(content, "guide/index.md", "# Guide\n")
    (content / "pages" / "guide" / "leak.md").symlink_to(tmp_path / "secret.md")
    assert "content/pages/guide/leak.md: symlink points outside content/ [load.file]" in refused(content)


# -- links --------------------------------------------------------------------------------------

def hrefs(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]*)"', str(html))


def test_md_links_become_routes_under_the_base_path(content):
    write(content, "guide/index.md", "[setup](setup.md) [hosting](hosting/netlify.md#deploy) [about](../about.md)\n"
                                     "[self](./) [up](../index.md) [q](setup.md?x=1#y)\n")
    write(content, "guide/setup.md", "[guide](index.md) [guide2](../guide/index.md#x) [root](/pith/ABC/)\n"
                                     "![logo](img/logo.png) [json](/pith-signing-key.json) [frag](#here)\n"
                                     "[out](https://example.org/a.md) [mail](mailto:a@b.c) [//](//example.org/x)\n")
    write(content, "guide/hosting/netlify.md", "[setup](../setup.md) [top](../../about.md)\n")
    pages = {p.slug: p for p in load_pages(content, base_path="/mirror/")}
    assert hrefs(pages["guide"].html) == ["/mirror/guide/setup/", "/mirror/guide/hosting/netlify/#deploy",
                                          "/mirror/about/", "/mirror/guide/", "/mirror/", "/mirror/guide/setup/?x=1#y"]
    assert hrefs(pages["guide/setup"].html) == [
        "/mirror/guide/", "/mirror/guide/#x", "/mirror/pith/ABC/", "/mirror/guide/img/logo.png",
        "/mirror/pith-signing-key.json", "#here", "https://example.org/a.md", "mailto:a@b.c", "//example.org/x"]
    assert hrefs(pages["guide/hosting/netlify"].html) == ["/mirror/guide/setup/", "/mirror/about/"]
    assert pages["guide/setup"].links["/mirror/guide/#x"] == "../guide/index.md#x"
    assert all(not p.link_problems for p in pages.values())


def test_javascript_and_other_active_links_are_reported_and_rendered_as_text(content):
    write(content, "x.md", "[a](javascript:alert(1)) <vbscript:msgbox> [b](JAVASCRIPT:alert(2)) "
                           "![c](data:text/html;base64,PHNjcmlwdD4=) [d](file:///etc/passwd)\n")
    p = page(content, "x")
    assert "href" not in p.html and "src" not in p.html
    assert [link for link, _ in p.link_problems] == ["javascript:alert(1)", "vbscript:msgbox", "JAVASCRIPT:alert(2)",
                                                     "data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd"]


def test_link_escaping_the_site_is_reported_and_dropped(content):
    write(content, "x.md", "[up](../../etc/passwd) [enc](%2e%2e/x.md) ![img](../secret.png)\n")
    p = page(content, "x")
    assert "href" not in p.html and "src" not in p.html
    assert p.link_problems == tuple((link, "leaves the site (it climbs out of content/pages/); the link is dropped")
                                    for link in ("../../etc/passwd", "../x.md", "../secret.png"))  # %2e%2e decoded


def test_backslash_link_cannot_become_protocol_relative(content):
    write(content, "x.md", "[x](/\\evil.example/)\n")
    assert hrefs(page(content, "x").html) == ["/%5Cevil.example/"]


def test_raw_html_in_a_page_is_shown_as_text_never_as_markup():
    _, html = render_markdown("x", "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
                                   "Text <b>bold</b> and `<i>code</i>`\n")
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<code>&lt;i&gt;code&lt;/i&gt;</code>" in html


def test_the_title_is_the_first_level_1_heading_else_the_slug_made_readable():
    assert render_markdown("about", "About us\n===\n\ntext")[0] == "About us"  # setext
    assert render_markdown("about", "## Second\n\n# First *one*\n")[0] == "First one"
    assert render_markdown("guide/getting-started", "no heading")[0] == "Getting started"


def test_an_image_as_a_data_url_is_kept():
    _, html = render_markdown("x", "![dot](data:image/png;base64,iVBORw0KGgo=)")
    assert hrefs(html) == ["data:image/png;base64,iVBORw0KGgo="]


# -- in a build -------------------------------------------------------------------------------

def build_site(tmp_path: Path, pages: dict[str, str], *args: str, toml: str = "") -> tuple[int, Path]:
    site = make_site(tmp_path, test_key=False)
    for rel, text in pages.items():
        write(site / "content", rel, text)
    if toml:
        (site / "sitegen.toml").write_text(toml)
    out = tmp_path / "out"
    code = main(["build", str(site), "-o", str(out), "-q", "-j", "1", *args])
    return code, out


def test_build_publishes_nested_pages_with_description_and_without_drafts(tmp_path, capsys):
    code, out = build_site(tmp_path, {
        "about.md": ("---\ntitle: About\ndescription: What \"this\" <mirror> is.\nweight: 2\n---\n"
                     "[Setup](guide/setup.md)\n"),
        "guide/index.md": "---\nweight: 1\n---\n# Guide\n\n[setup](setup.md) [about](../about.md#top)\n",
        "guide/setup.md": "# Setup\n\n[back](index.md)\n",
        "wip.md": "---\ndraft: true\n---\n# Draft\n"}, toml='base_url = "https://m.example/mirror/"\n')
    assert code == 0, capsys.readouterr().err
    about = (out / "about" / "index.html").read_text()
    assert '<meta name="description" content="What &#34;this&#34; &lt;mirror&gt; is.">' in about
    assert '<a href="/mirror/guide/setup/">Setup</a>' in about
    assert '<a href="/mirror/guide/">back</a>' in (out / "guide" / "setup" / "index.html").read_text()
    nav = re.search(r'<nav aria-label="Site">(.*?)</nav>', about, re.S).group(1)
    assert re.findall(r'href="([^"]*)"', nav)[-2:] == ["/mirror/guide/", "/mirror/about/"]
    assert not (out / "wip").exists()
    sitemap = (out / "sitemap-all.xml").read_text()
    assert "https://m.example/mirror/guide/setup/" in sitemap and "wip" not in sitemap
    assert "description" not in (out / "guide" / "index.html").read_text().split("</head>")[0]


def test_build_with_a_broken_page_link_fails_naming_the_file_and_the_link(tmp_path, capsys):
    code, out = build_site(tmp_path, {"about.md": "# About\n\nSee [setup](setup.md) and [x](/pith/NOPE/).\n",
                                      "wip.md": "---\ndraft: true\n---\n", "links.md": "[draft](wip.md)\n"})
    err = capsys.readouterr().err
    assert code == 1
    assert "error: 3 broken links in the site's pages" in err
    assert "content/pages/about.md: link 'setup.md' → /setup/: no such page [pages.links]" in err
    assert "content/pages/about.md: link '/pith/NOPE/': no such page [pages.links]" in err
    assert "content/pages/links.md: link 'wip.md' → /wip/: no such page [pages.links]" in err
    assert not out.exists()


def test_no_strict_turns_broken_links_into_warnings(tmp_path, capsys):
    pages = {"about.md": "[setup](setup.md) [js](javascript:alert(1))\n"}
    code, out = build_site(tmp_path, pages, "--no-strict")
    err = capsys.readouterr().err
    assert code == 0
    assert "warning: content/pages/about.md: link 'setup.md' → /setup/: no such page [pages.links]" in err
    assert ("warning: content/pages/about.md: link 'javascript:alert(1)': this kind of link is not allowed; it is "
            "shown as text [pages.links]") in err
    assert (out / "about" / "index.html").is_file()


def test_strict_links_false_in_sitegen_toml(tmp_path, capsys):
    code, _ = build_site(tmp_path, {"about.md": "[x](nope.md)\n"}, toml="strict_links = false\n")
    assert code == 0 and "warning: content/pages/about.md: link 'nope.md' → /nope/" in capsys.readouterr().err


def test_strict_links_must_be_a_boolean(tmp_path, capsys):
    code, _ = build_site(tmp_path, {}, toml='strict_links = "no"\n')
    assert code == 1 and "strict_links: expected true or false, got 'no'" in capsys.readouterr().err


def test_broken_link_in_a_template_fails_the_build_naming_the_page(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    (site / "templates").mkdir()
    (site / "templates" / "404.html").write_text(
        '{% extends "base.html" %}{% block main %}<a href="{{ url(\'gone/\') }}">x</a>'
        '<a href="../../../x">y</a><a href="javascript:void(0)">z</a>{% endblock %}')
    assert main(["build", str(site), "-o", str(tmp_path / "out"), "-q", "-j", "1"]) == 1
    err = capsys.readouterr().err
    assert "404.html: link '/gone/': no such page [pages.links]" in err
    assert "404.html: link '../../../x': leaves the site (it climbs above the site's root) [pages.links]" in err
    assert "404.html: link 'javascript:void(0)': javascript: links are not allowed [pages.links]" in err


def test_site_without_search_has_no_broken_links(tmp_path, capsys):
    code, _ = build_site(tmp_path, {}, toml="search = false\n")
    assert code == 0, capsys.readouterr().err


def test_incremental_build_checks_links_against_the_whole_published_tree(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "-q", "-j", "1"]) == 0
    # The record page is not rendered again: the check finds it in the build store, and the alias in the maps.
    write(site / "content", "refs.md", "[a record](/pith/BIMLI3THH5PSHA56CBSKDVHQKR/) [alias](/paper/BIMLI3TH/) "
                                       "[key](/pith-signing-key.json) [snapshot](/pith-mirror-snapshot.json)\n")
    assert main(["build", str(site), "-o", str(out), "-q", "-j", "1"]) == 0, capsys.readouterr().err
    before = (out / "refs" / "index.html").read_bytes()
    write(site / "content", "refs.md", "[gone](/pith/AAAAAAAAAAAAAAAAAAAAAAAAAA/)\n")
    assert main(["build", str(site), "-o", str(out), "-q", "-j", "1"]) == 1
    assert ("content/pages/refs.md: link '/pith/AAAAAAAAAAAAAAAAAAAAAAAAAA/': no such page [pages.links]"
            in capsys.readouterr().err)
    assert (out / "refs" / "index.html").read_bytes() == before  # the published tree is as it was

"""Markdown pages are read through the guarded reader like every file in
content/: no symlink out of content/, no FIFO or device, the size cap before
a byte is read, strict UTF-8 — and every bad page is reported by name."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from sitegen.cli import main
from sitegen.errors import ConfigError
from sitegen.site.pages import MAX_PAGE_CHARS, load_pages, render_markdown
from pithfactory import make_site


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

"""Extra pages written in Markdown under ``content/pages/`` (e.g. an About page).

``content/pages/<slug>.md`` becomes ``/<slug>/``; the title is the text of the
first level-1 heading. Rendered with markdown-it-py's CommonMark preset with
raw HTML **off** (set explicitly: the preset's default allows it) and its link
validation (no ``javascript:``, ``vbscript:``, ``file:``, non-image ``data:``
URLs). These are the operator's own files, but they are read like any other
file in ``content/``: through the guarded reader (:mod:`sitegen.reader` — no
symlink out of ``content/``, no FIFO or device, the size cap before reading)
and as strict UTF-8.

markdown-it-py is linear but costs up to ~10 µs per character on hostile
input (runs of ``[``; measured with benchmarks/adversarial_text.py), so a page
over :data:`MAX_PAGE_CHARS` characters is refused rather than rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from sitegen.config import DEFAULT_MAX_DOCUMENT_BYTES
from sitegen.errors import ConfigError, InputError, Problem, quote
from sitegen.reader import decode_utf8, read_untrusted
from sitegen.site.tex import plain_text

__all__ = ["MarkdownPage", "load_pages", "render_markdown", "RESERVED", "MAX_PAGE_CHARS"]

_SLUG = re.compile(r"\A[a-z0-9][a-z0-9-]{0,63}\Z")
#: Top-level names the generated tree uses; a page may not take them.
RESERVED = frozenset({"pith", "paper", "arxiv", "doi", "api", "years", "categories", "search", "pagefind",
                      "assets", "well-known"})
#: Longest page (characters) rendered. Why 100,000: ~15,000 words, far more
#: than an About page needs, and at most ~1 s of markdown-it-py on the most
#: expensive input measured; a longer page is an error naming the file.
MAX_PAGE_CHARS = 100_000
#: Inline token types whose ``content`` is the heading's visible text.
_TEXT_TOKENS = frozenset({"text", "text_special", "code_inline"})


@dataclass(frozen=True)
class MarkdownPage:
    slug: str
    title: str
    html: Markup
    source: str

    @property
    def path(self) -> str:
        return f"{self.slug}/"


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})


def _heading_text(inline: Token) -> str:
    """Plain text of a heading's inline token (markup dropped, whitespace collapsed)."""
    parts = [" " if c.type in ("softbreak", "hardbreak") else c.content
             for c in inline.children or () if c.type in _TEXT_TOKENS or c.type.endswith("break")]
    return plain_text("".join(parts))


def render_markdown(slug: str, text: str) -> tuple[str, Markup]:
    """``(title, html)`` of a Markdown page: the title is the text of the first
    ``<h1>`` (ATX or setext), else ``slug`` made readable. Linear time: the
    title comes from markdown-it's tokens, not from a regex over the source.
    Raises ``ValueError`` for text over :data:`MAX_PAGE_CHARS` characters."""
    if len(text) > MAX_PAGE_CHARS:
        raise ValueError(f"page is {len(text)} characters, over the {MAX_PAGE_CHARS}-character limit "
                         "for Markdown pages; split it into several pages")
    md = _markdown()
    tokens = md.parse(text)
    title = ""
    for i, token in enumerate(tokens[:-1]):
        if token.type == "heading_open" and token.tag == "h1":
            title = _heading_text(tokens[i + 1])
            if title:
                break
    html = md.renderer.render(tokens, md.options, {})
    return title or slug.replace("-", " ").capitalize(), Markup(html)


def _load_page(path: Path, content_dir: Path, max_bytes: int) -> MarkdownPage:
    """One page; raises :class:`~sitegen.errors.InputError` naming the file."""
    rel = f"content/pages/{path.name}"
    slug = path.stem
    if not _SLUG.match(slug) or slug in RESERVED:
        raise InputError(Problem(rel, "", "page names are lower-case letters, digits and '-', and not one of "
                                 f"{', '.join(sorted(RESERVED))}; got {quote(slug)}", "page.name"))
    text = decode_utf8(read_untrusted(path, root=content_dir, max_bytes=max_bytes, rel=rel), rel)
    try:
        title, html = render_markdown(slug, text)
    except ValueError as e:
        raise InputError(Problem(rel, "", str(e), "page.size")) from None
    return MarkdownPage(slug, title, html, rel)


def load_pages(content_dir: Path, *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> list[MarkdownPage]:
    """Every ``content/pages/*.md``, sorted by slug, each read through
    :func:`~sitegen.reader.read_untrusted` (at most ``max_bytes`` bytes, the
    ``max_document_bytes`` setting) as strict UTF-8.

    Raises :class:`ConfigError` listing every bad page, one ``file: problem
    [check]`` per line after a count: a bad name, a symlink out of
    ``content/``, a FIFO, device or directory, a file over the cap, invalid
    UTF-8, a page over :data:`MAX_PAGE_CHARS` characters."""
    folder = content_dir / "pages"
    if not folder.is_dir():
        return []
    pages, problems = [], []
    for path in sorted(folder.glob("*.md")):
        try:
            pages.append(_load_page(path, content_dir, max_bytes))
        except InputError as e:
            problems.append(f"{e.problem} [{e.problem.check}]")
    if problems:
        count = f"{len(problems)} Markdown page{'s' if len(problems) > 1 else ''}"
        raise ConfigError(f"{count} in content/pages/ cannot be published:\n" + "\n".join(problems))
    return pages

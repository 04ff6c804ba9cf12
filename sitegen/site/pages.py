"""Extra pages written in Markdown under ``content/pages/`` (e.g. an About page).

``content/pages/<slug>.md`` becomes ``/<slug>/``; the title is the first
``# Heading``. Rendered with markdown-it-py's CommonMark preset with raw HTML
**off** (set explicitly: the preset's default allows it) and its link
validation (no ``javascript:``, ``vbscript:``, ``file:``, non-image ``data:``
URLs). These are the operator's own files, not Pith documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup

from sitegen.errors import ConfigError, quote

__all__ = ["MarkdownPage", "load_pages", "RESERVED"]

_SLUG = re.compile(r"\A[a-z0-9][a-z0-9-]{0,63}\Z")
#: Top-level names the generated tree uses; a page may not take them.
RESERVED = frozenset({"pith", "paper", "arxiv", "doi", "api", "years", "categories", "search", "pagefind",
                      "assets", "well-known"})


@dataclass(frozen=True)
class MarkdownPage:
    slug: str
    title: str
    html: Markup
    source: str

    @property
    def path(self) -> str:
        return f"{self.slug}/"


def load_pages(content_dir: Path) -> list[MarkdownPage]:
    """Every ``content/pages/*.md``, sorted by slug; raises :class:`ConfigError`
    naming the file for a bad name or encoding."""
    folder = content_dir / "pages"
    if not folder.is_dir():
        return []
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
    pages = []
    for path in sorted(folder.glob("*.md")):
        rel = f"content/pages/{path.name}"
        slug = path.stem
        if not _SLUG.match(slug) or slug in RESERVED:
            raise ConfigError(f"{rel}: page names are lower-case letters, digits and '-', and not one of "
                              f"{', '.join(sorted(RESERVED))}; got {quote(slug)}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{rel}: invalid UTF-8 at byte {e.start}") from None
        heading = re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.M)
        title = heading.group(1) if heading else slug.replace("-", " ").capitalize()
        pages.append(MarkdownPage(slug, title, Markup(md.render(text)), rel))
    return pages

"""Static full-text search with Pagefind (PyPI ``pagefind[bin]``, its Python API).

One custom record per Pith Number — metadata only: title, authors, arXiv id
(with and without version), DOI, full and short Pith Numbers, suffix,
categories, year, and the abstract excerpt — so the index stays small and
the browser downloads only the chunks a query needs (REFERENCE.md, search).
The index files come back in memory (``get_files``) and are written by
sitegen's own writer under ``pagefind/``: atomically, and listed in the
mirror snapshot like every other file.

No Pagefind *filters*: their files are not byte-identical from one run to the
next (measured), and builds must be; years and categories are browsable pages.

Identifiers are indexed both as written and with their punctuation spaced out
(``1709.05011`` also as ``1709 05011``), so an arXiv id, a DOI or
``pith:BIMLI3TH`` finds the record however Pagefind splits words.
"""

from __future__ import annotations

import asyncio
import re
from typing import Iterable

from sitegen.errors import ConfigError
from sitegen.model import OutputFile

__all__ = ["search_index", "INDEX_DIR"]

INDEX_DIR = "pagefind/"
_PUNCT = re.compile(r"[./:\-]")
#: Pagefind's ready-made UI kits: sitegen ships its own small UI (assets/search.js).
_UI_KIT = re.compile(r"\Apagefind-(?:component-ui|modular-ui|ui|highlight)\.")


def _identifiers(view) -> list[str]:
    ids = [view.arxiv_id, f"{view.arxiv_id}v{view.version}", view.doi, view.pith_number,
           view.short_pith_number, view.suffix, view.suffix[:8], view.suffix[:12], view.suffix[:16]]
    return ids + [_PUNCT.sub(" ", i) for i in ids]


def _content(view) -> str:
    return " ".join([view.title, " ".join(view.authors), *_identifiers(view), view.primary_cat,
                     *view.cross_cats, view.year, view.abstract_excerpt])


async def _build(views: Iterable, base_path: str) -> list[OutputFile]:
    from pagefind.index import IndexConfig, PagefindIndex

    config = IndexConfig(force_language="en", keep_index_url=False)
    async with PagefindIndex(config=config) as index:
        for v in views:
            await index.add_custom_record(
                url=base_path + v.routes.page, content=_content(v), language="en",
                meta={"title": v.title, "authors": ", ".join(v.authors[:6]) + (" et al." if len(v.authors) > 6 else ""),
                      "pith": v.short_pith_number, "arxiv": f"arXiv:{v.arxiv_id}", "date": v.date})
        files = await index.get_files()
    return [OutputFile(INDEX_DIR + f["path"], f["content"]) for f in sorted(files, key=lambda f: f["path"])
            if not _UI_KIT.match(f["path"])]


def search_index(views: Iterable, base_path: str) -> list[OutputFile]:
    """The Pagefind bundle for ``views`` as output files under ``pagefind/``.
    Raises :class:`ConfigError` if the Pagefind binary cannot run."""
    try:
        return asyncio.run(_build(views, base_path))
    except (OSError, RuntimeError) as e:
        raise ConfigError(f"search index: Pagefind failed ({e}); set search = false in sitegen.toml to skip it") from e

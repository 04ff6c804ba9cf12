"""Static full-text search with Pagefind (PyPI ``pagefind[bin]``).

One small stub page per Pith Number carries exactly what is indexed —
metadata only: title, authors, arXiv id (with and without version), DOI,
full and short Pith Numbers, suffix, categories, year, and the abstract
excerpt — so the index stays small and the browser downloads only the chunks
a query needs (REFERENCE.md, search). The stubs are written to a temporary
directory at ``pith/<SUFFIX>/index.html`` (so result URLs are the record
pages), Pagefind's binary indexes them in one run, and the bundle is read
back and written by sitegen's own writer under ``pagefind/`` — atomically,
and listed in the mirror snapshot like every other file.

Why the binary and not the Python ``PagefindIndex`` API: its response loop
sleeps 100 ms per message, capping indexing at ~10 records/s (measured: 201 s
for 2,000 records); the binary indexes 10,000 stubs in seconds.

No Pagefind *filters*: their files differ from run to run (measured), and
builds must be byte-identical; years and categories are browsable pages.
Identifiers are indexed both as written and with punctuation spaced out
(``1709.05011`` also as ``1709 05011``), so an arXiv id, a DOI or
``pith:BIMLI3TH`` finds the record however Pagefind splits words.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterable

from markupsafe import escape

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


def _stub(view) -> str:
    authors = ", ".join(view.authors[:6]) + (" et al." if len(view.authors) > 6 else "")
    meta = {"title": view.title, "authors": authors, "pith": view.short_pith_number,
            "arxiv": f"arXiv:{view.arxiv_id}", "date": view.date}
    spans = "".join(f'<span data-pagefind-meta="{k}">{escape(v)}</span>' for k, v in meta.items())
    body = " ".join([*view.authors, *_identifiers(view), view.primary_cat, *view.cross_cats, view.year,
                     view.abstract_excerpt])
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(view.title)}</title></head>'
            f"<body><main data-pagefind-body>{spans}<p>{escape(body)}</p></main></body></html>")


def _bundle(views: list, tmp: Path, prefix: str) -> list[OutputFile]:
    site, bundle = tmp / f"site-{prefix.strip('/') or 'all'}", tmp / f"bundle-{prefix.strip('/') or 'all'}"
    site.mkdir()
    for v in views:
        page = site / "pith" / v.suffix / "index.html"
        page.parent.mkdir(parents=True)
        page.write_text(_stub(v), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(bundle),
                           "--force-language", "en", "--silent"], capture_output=True, text=True)
    if proc.returncode != 0 or not bundle.is_dir():
        raise ConfigError(f"search index: Pagefind failed ({proc.stderr.strip()[-300:] or proc.returncode}); "
                          "set search = false in sitegen.toml to skip it")
    return [OutputFile(INDEX_DIR + prefix + p.relative_to(bundle).as_posix(), p.read_bytes())
            for p in sorted(bundle.rglob("*")) if p.is_file() and not _UI_KIT.match(p.name)]


def search_index(views: Iterable, *, split_above: int) -> tuple[list[OutputFile], tuple[str, ...]]:
    """The Pagefind bundle(s) for ``views`` as output files under ``pagefind/``,
    and the bundle directories relative to it (``("",)`` for one bundle).

    Up to ``split_above`` records make one bundle. Above, each submission year
    gets its own bundle (``pagefind/<year>/``), which the search page merges in
    the browser (Pagefind's ``mergeIndex``): a full arXiv mirror (~2.7M
    records, 1991–2026) then has ~100k fragment files per bundle directory
    instead of 2.7M in one, and Pagefind indexes one year at a time.
    Raises :class:`ConfigError` if the Pagefind binary fails.
    """
    views = list(views)
    groups: dict[str, list] = {"": views}
    if len(views) > split_above:
        groups = {}
        for v in views:
            groups.setdefault(f"{v.year}/", []).append(v)
    files: list[OutputFile] = []
    with tempfile.TemporaryDirectory(prefix="sitegen-search-") as tmp:
        for prefix in sorted(groups, reverse=True):
            files.extend(_bundle(groups[prefix], Path(tmp), prefix))
    return files, tuple(sorted(groups, reverse=True))

"""Static full-text search with Pagefind (PyPI ``pagefind[bin]``).

One small stub page per Pith Number carries exactly what is indexed —
metadata only: title, authors, arXiv id (with and without version), DOI,
full and short Pith Numbers, suffix, categories, year, and the abstract
excerpt — so the index stays small and the browser downloads only the chunks
a query needs. The stubs are written to a temporary
directory kept beside the output tree (``<year>/<SUFFIX>.html``, made by the
build's workers as records are verified, so nothing is held in memory and an
incremental build rewrites only the stubs that changed), Pagefind's binary
indexes them, and the bundle is read back and written by sitegen's own writer
under ``pagefind/``, listed in the mirror snapshot like every other file.

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

import os
import re
import subprocess
import sys
from pathlib import Path

from markupsafe import escape

from sitegen.errors import ConfigError
from sitegen.model import OutputFile

__all__ = ["stub_page", "stub_path", "index_part", "search_parts", "INDEX_DIR"]

INDEX_DIR = "pagefind/"
_PUNCT = re.compile(r"[./:\-]")
#: Pagefind's ready-made UI kits: sitegen ships its own small UI (assets/search.js).
_UI_KIT = re.compile(r"\Apagefind-(?:component-ui|modular-ui|ui|highlight)\.")
#: The one page indexed when the mirror has no records yet (it links nowhere: not a ``<SUFFIX>.html``).
EMPTY_STUB = "empty.html"
_EMPTY_PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>No records yet</title></head>'
               '<body><main data-pagefind-body><span data-pagefind-meta="title">No records yet: this mirror is '
               'empty</span><p>no records yet</p></main></body></html>')


def _identifiers(s) -> list[str]:
    ids = [s.arxiv_id, f"{s.arxiv_id}v{s.version}", s.doi, s.pith_number,
           s.short_pith_number, s.suffix, s.suffix[:8], s.suffix[:12], s.suffix[:16]]
    return ids + [_PUNCT.sub(" ", i) for i in ids]


def stub_page(s) -> str:
    """The search stub of one record (a :class:`~sitegen.summary.Summary`)."""
    authors = ", ".join(s.authors[:6]) + (" et al." if len(s.authors) > 6 else "")
    meta = {"title": s.title, "authors": authors, "pith": s.short_pith_number,
            "arxiv": f"arXiv:{s.arxiv_id}", "date": s.date}
    spans = "".join(f'<span data-pagefind-meta="{k}">{escape(v)}</span>' for k, v in meta.items())
    body = " ".join([*s.authors, *_identifiers(s), s.primary_cat, *s.cross_cats, s.year, s.abstract_excerpt])
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(s.title)}</title></head>'
            f"<body><main data-pagefind-body>{spans}<p>{escape(body)}</p></main></body></html>")


def stub_path(stubs: Path, year: str, suffix: str) -> Path:
    """Where the stub of ``suffix`` lives: ``<stubs>/<year>/<SUFFIX>.html``.
    The search page maps a result URL ending in ``<SUFFIX>.html`` to the
    record page ``pith/<SUFFIX>/``."""
    return stubs / year / f"{suffix}.html"


def index_part(stubs: Path, year: str | None, prefix: str, workdir: Path) -> list[OutputFile]:
    """Run Pagefind over the stubs of ``year`` (None: every year) and return
    its bundle as output files under ``pagefind/<prefix>``. ``workdir`` must be
    on the same filesystem as ``stubs``. Raises :class:`ConfigError` if the
    Pagefind binary fails.

    Pagefind numbers pages in directory-listing order, which depends on the
    filesystem and, on some (tmpfs), on creation order — and workers create
    stubs in any order. So the stubs are hard-linked into a fresh directory
    in sorted order first: the index is then the same for any number of
    workers on a given filesystem (ext4 lists by name hash, tmpfs by creation
    order) — though not across filesystems, which Pagefind does not offer.
    With no stub at all (a mirror with no records yet), Pagefind would refuse
    to run: one page saying so (:data:`EMPTY_STUB`) is indexed instead, so the
    search page still works."""
    name = prefix.strip("/") or "all"
    source = stubs if year is None else stubs / year
    site = workdir / f"site-{name}"
    linked = 0
    for folder in sorted(p for p in source.iterdir() if p.is_dir()) if year is None else [source]:
        target = site / folder.name if year is None else site
        target.mkdir(parents=True)
        for stub in sorted(folder.iterdir()):
            os.link(stub, target / stub.name)
            linked += 1
    if not linked:  # an empty mirror: Pagefind refuses to build an index of nothing
        site.mkdir(parents=True, exist_ok=True)
        (site / EMPTY_STUB).write_text(_EMPTY_PAGE, encoding="utf-8")
    bundle = workdir / f"bundle-{name}"
    proc = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(bundle),
                           "--force-language", "en", "--silent"], capture_output=True, text=True)
    if proc.returncode != 0 or not bundle.is_dir():
        said = " ".join(proc.stderr.split())[-300:] or f"exit status {proc.returncode}"
        raise ConfigError(f"search index: Pagefind failed ({said}) — set search = false in sitegen.toml to skip it")
    return [OutputFile(INDEX_DIR + prefix + p.relative_to(bundle).as_posix(), p.read_bytes())
            for p in sorted(bundle.rglob("*")) if p.is_file() and not _UI_KIT.match(p.name)]


def search_parts(year_counts: dict[str, int], split_above: int) -> dict[str, str | None]:
    """Search bundles: ``{"": None}`` (one bundle of every year) up to
    ``split_above`` records; above, ``{"<year>/": year}`` — each submission
    year its own bundle, merged in the browser (Pagefind ``mergeIndex``), so
    a full arXiv mirror (~2.7M records, 1991–2026) has ~100k fragment files
    per bundle directory, and an incremental build re-indexes one year."""
    if sum(year_counts.values()) <= split_above:
        return {"": None}
    return {f"{y}/": y for y in sorted(year_counts, reverse=True)}

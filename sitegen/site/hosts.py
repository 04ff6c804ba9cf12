"""Host profiles: what each static host needs beside the tree, and the limits
it documents (the ``host`` setting; README "Hosting the output tree",
docs/hosting.md).

A profile decides two things:

* which host files a build writes at the root of the tree — ``_headers``
  (response headers: CORS on the documents programs fetch, the JSON and Atom
  content types) only for the hosts that read it (Netlify, Cloudflare Pages;
  elsewhere it would be one more file anyone can download), and
  ``.nojekyll`` for GitHub Pages — and for ``generic``, because on GitHub
  Pages its absence silently drops ``.well-known/`` and it is an empty,
  harmless file anywhere else. No ``_redirects``: every route is a file
  (pretty URLs, the listings' ``page/`` redirect pages) and the aliases are
  resolved by ``404.html``, which both hosts serve for a miss without one.
  nginx and S3 read no file from the tree; docs/hosting.md has their
  configuration;
* which of the host's limits a finished build is checked against
  (:func:`limit_warnings`): files per site, total size, size of one file,
  files in one directory. Passing one is a warning, not an error: the tree is
  correct, the host will refuse (or truncate) the deploy.

The limits are the hosts' documented ones (figures as of 2025): Cloudflare
Pages 20,000 files per site on the free plan (100,000 paid) and 25 MiB per
file; GitHub Pages 1 GB per site; Netlify 54,000 files in one directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sitegen.errors import safe_text
from sitegen.model import OutputFile

__all__ = ["HostProfile", "HOSTS", "HOST_NAMES", "DEFAULT_HOST", "HEADERS", "OutputSizes", "host_files",
           "limit_warnings"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class HostProfile:
    """One host: ``name`` (the setting's value), ``label`` (for messages),
    the files it gets (``headers``: ``_headers``; ``nojekyll``: ``.nojekyll``)
    and its documented limits (None: none documented) — ``max_files`` per
    site (``files_note`` says what else applies), ``max_bytes`` per site,
    ``max_file_bytes`` per file, ``max_dir_files`` files directly in one
    directory."""

    name: str
    label: str
    headers: bool = False
    nojekyll: bool = False
    max_files: int | None = None
    files_note: str = ""
    max_bytes: int | None = None
    max_file_bytes: int | None = None
    max_dir_files: int | None = None


DEFAULT_HOST = "generic"

#: Every profile, by the ``host`` setting's value.
HOSTS: dict[str, HostProfile] = {p.name: p for p in (
    HostProfile("generic", "an unknown static host", nojekyll=True),
    HostProfile("github", "GitHub Pages", nojekyll=True, max_bytes=1_000_000_000),
    HostProfile("netlify", "Netlify", headers=True, max_dir_files=54_000),
    HostProfile("cloudflare", "Cloudflare Pages", headers=True, max_files=20_000,
                files_note=" on the free plan (100,000 on paid plans)", max_file_bytes=25 * MiB),
    HostProfile("s3", "Amazon S3 / CloudFront"),
    HostProfile("nginx", "nginx"),
)}
HOST_NAMES = tuple(HOSTS)

#: ``_headers`` for Netlify and Cloudflare Pages: a path line, then indented
#: ``Name: value`` lines; one ``*`` per rule (Cloudflare allows 100 rules).
#: Access-Control-Allow-Origin on everything programs fetch (docs/protocol.md
#: §5: the documents, the derived API files, the key, the manifests, the
#: snapshot); the JSON type where the path alone does not say it; Atom for
#: the feed (by extension hosts send application/xml).
HEADERS = """\
# Response headers for Netlify and Cloudflare Pages (sitegen, host = "{host}").
/.well-known/pith/*
  Access-Control-Allow-Origin: *
  Content-Type: application/json; charset=utf-8
  X-Content-Type-Options: nosniff
/pith/*
  Access-Control-Allow-Origin: *
  X-Content-Type-Options: nosniff
/api/*
  Access-Control-Allow-Origin: *
  X-Content-Type-Options: nosniff
/pith-signing-key.json
  Access-Control-Allow-Origin: *
/pith-mirrors.json
  Access-Control-Allow-Origin: *
/pith-mirror-snapshot.json
  Access-Control-Allow-Origin: *
/pith-mirror-key.json
  Access-Control-Allow-Origin: *
/.well-known/pith-mirror/*
  Access-Control-Allow-Origin: *
  Content-Type: application/json; charset=utf-8
/feed.xml
  Content-Type: application/atom+xml; charset=utf-8
"""


def host_files(host: str) -> list[OutputFile]:
    """The host files of the profile ``host`` (a name of :data:`HOSTS`, checked by the settings)."""
    profile = HOSTS[host]
    files = []
    if profile.nojekyll:
        files.append(OutputFile(".nojekyll", b""))
    if profile.headers:
        files.append(OutputFile("_headers", HEADERS.format(host=host).encode("ascii")))
    return files


class OutputSizes(Protocol):
    """What :func:`limit_warnings` asks of the build store
    (:class:`sitegen.build.store.Store`): each a query over the recorded
    outputs, ``(path, number)`` rows, largest first, at most ``limit``."""

    def largest_outputs(self, over: int, limit: int) -> list[tuple[str, int]]: ...

    def crowded_directories(self, over: int, limit: int) -> list[tuple[str, int]]: ...


#: How many files or directories a warning names.
_SHOWN = 5


def _size(n: int) -> str:
    """``n`` bytes for a message: ``1.2 GB``, ``25 MiB``, ``3.4 KiB``, ``12 bytes``."""
    for unit, factor in (("GB", 1_000_000_000), ("MiB", MiB), ("KiB", 1024)):
        if n >= factor:
            return f"{n / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def _listed(rows: list[tuple[str, int]], show) -> str:
    """The first rows shown with ``show(path, n)``, and "…" when there are more."""
    shown = ", ".join(show(path, n) for path, n in rows[:_SHOWN])
    return shown + (", …" if len(rows) > _SHOWN else "")


def _file(path: str, n: int) -> str:
    return f"{safe_text(path, 120)} is {_size(n)}"


def _directory(path: str, n: int) -> str:
    return f"{safe_text(path, 120) or '/'} holds {n:,} files"


def limit_warnings(host: str, outputs: OutputSizes, *, files: int, total_bytes: int) -> tuple[str, ...]:
    """Warnings for each documented limit of ``host`` the published tree
    passes. ``files`` and ``total_bytes`` are the whole tree's (snapshot
    included); per-file and per-directory limits are asked of ``outputs``,
    and only when they can be passed at all (a tree of fewer files than a
    directory may hold needs no directory query). Cost: nothing for hosts
    without such limits; one scan of the store's outputs for a per-file
    limit (0.1 s at a million files) and one grouping of them for a
    per-directory limit (about 2 s at a million files; only above the
    limit's file count)."""
    p = HOSTS[host]
    out = []
    where = f'host = "{host}"'
    if p.max_files is not None and files > p.max_files:
        out.append(f"{where}: the tree has {files:,} files, over the {p.label} limit of {p.max_files:,} files per "
                   f"site{p.files_note} — the deploy will be refused; publish fewer records, set alias_pages = false "
                   "or search = false, or choose another host")
    if p.max_bytes is not None and total_bytes > p.max_bytes:
        out.append(f"{where}: the tree is {_size(total_bytes)} ({total_bytes:,} bytes), over the {p.label} limit of "
                   f"{_size(p.max_bytes)} per site — publish fewer records, set search = false, or choose another "
                   "host")
    if p.max_file_bytes is not None:
        big = outputs.largest_outputs(p.max_file_bytes, _SHOWN + 1)
        if big:
            out.append(f"{where}: {_listed(big, _file)}: over the {p.label} limit of {_size(p.max_file_bytes)} per "
                       "file — the deploy will be refused; make it smaller or choose another host")
    if p.max_dir_files is not None and files > p.max_dir_files:
        crowded = outputs.crowded_directories(p.max_dir_files, _SHOWN + 1)
        if crowded:
            out.append(f"{where}: {_listed(crowded, _directory)}: over the {p.label} limit of "
                       f"{p.max_dir_files:,} files in one directory — the deploy will be refused; choose another "
                       "host or split the mirror")
    return tuple(out)

"""Extra pages written in Markdown under ``content/pages/`` (e.g. an About page).

Routes: ``content/pages/<slug>.md`` becomes ``/<slug>/``, and folders nest:
``content/pages/guide/setup.md`` becomes ``/guide/setup/``; a folder's
``index.md`` is the folder's page (``content/pages/guide/index.md`` is
``/guide/``). Every folder and page name is lower-case letters, digits and
``-``; the first one may not be a name the generated tree uses
(:data:`RESERVED`), and ``content/pages/index.md`` is refused: the home page is
generated.

A page may start with YAML front matter (:mod:`sitegen.site.frontmatter`:
``title``, ``description``, ``draft``, ``weight``). The title is the front
matter's ``title``, else the text of the first level-1 heading. A draft is
read and checked like any page, then left out of the site.

Links: a relative link in a page is relative to the Markdown *file* (as on
GitHub and in MkDocs), a link starting with ``/`` to the site root; both are
rewritten to the page's URL under the base path, and a link to a ``.md`` file
becomes that page's route (``[setup](setup.md)`` → ``/guide/setup/``,
``../guide/index.md#x`` → ``/guide/#x``). A link that climbs out of
``content/pages/`` is dropped and reported; so is a link markdown-it refuses
(``javascript:``, ``vbscript:``, ``file:``, non-image ``data:``), which it
renders as text. Whether each rewritten link leads to a published page is for
the build's link check (:mod:`sitegen.build.links`), which knows every output.

Rendered with markdown-it-py's CommonMark preset with raw HTML **off** (set
explicitly: the preset's default allows it). These are the operator's own
files, but they are read like any other file in ``content/``: through the
guarded reader (:mod:`sitegen.reader` — no symlink out of ``content/``, no
symlinked folder, no FIFO or device, the size cap before reading) and as strict
UTF-8.

markdown-it-py is linear but costs up to ~10 µs per character on hostile
input (runs of ``[``; measured with benchmarks/adversarial_text.py), so a page
over :data:`MAX_PAGE_CHARS` characters is refused rather than rendered.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from sitegen.config import DEFAULT_MAX_DOCUMENT_BYTES
from sitegen.errors import ConfigError, InputError, Problem, os_problem, quote
from sitegen.reader import decode_utf8, read_untrusted
from sitegen.site.frontmatter import FrontMatter, parse_front_matter, split_front_matter
from sitegen.site.tex import plain_text

__all__ = ["MarkdownPage", "load_pages", "render_markdown", "navigation", "RESERVED", "MAX_PAGE_CHARS"]

_SLUG = re.compile(r"\A[a-z0-9][a-z0-9-]{0,63}\Z")
#: Top-level names the generated tree uses; a page may not take them.
RESERVED = frozenset({"pith", "paper", "arxiv", "doi", "api", "years", "categories", "search", "assets",
                      "well-known"})
#: Longest page (characters, front matter included) rendered. Why 100,000:
#: ~15,000 words, far more than an About page needs, and at most ~1 s of
#: markdown-it-py on the most expensive input measured; a longer page is an
#: error naming the file.
MAX_PAGE_CHARS = 100_000
#: Inline token types whose ``content`` is the heading's visible text.
_TEXT_TOKENS = frozenset({"text", "text_special", "code_inline"})
#: ``scheme:`` at the start of a URL.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class MarkdownPage:
    """One published page. ``slug`` is its route without the final ``/``
    (``about``, ``guide``, ``guide/setup``); ``source`` the file as shown to
    users (``content/pages/guide/setup.md``); ``description`` the front
    matter's, or None; ``weight`` its navigation order; ``links`` maps each
    link the page's HTML holds after rewriting to the link as written
    (``/guide/setup/`` → ``setup.md``); ``link_problems`` are the links
    refused while rendering, ``(link as written, why)``."""

    slug: str
    title: str
    html: Markup
    source: str
    description: str | None = None
    weight: int = 0
    links: dict[str, str] = field(default_factory=dict, compare=False)
    link_problems: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        return f"{self.slug}/"


class _Markdown(MarkdownIt):
    """markdown-it with its link validation, remembering what it refused."""

    def __init__(self) -> None:
        super().__init__("commonmark", {"html": False, "linkify": False, "typographer": True})
        self.refused: dict[str, None] = {}

    def validateLink(self, url: str) -> bool:
        ok = super().validateLink(url)
        if not ok:
            self.refused[url] = None
        return ok


def _heading_text(inline: Token) -> str:
    """Plain text of a heading's inline token (markup dropped, whitespace collapsed)."""
    parts = [" " if c.type in ("softbreak", "hardbreak") else c.content
             for c in inline.children or () if c.type in _TEXT_TOKENS or c.type.endswith("break")]
    return plain_text("".join(parts))


def _internal(href: str) -> bool:
    """Whether ``href`` names a path of this site: not empty, no scheme, not
    protocol-relative (``//host``), not only a fragment or query."""
    return bool(href) and not href.startswith(("#", "?", "//")) and not _SCHEME.match(href)


def _rewrite(href: str, folder: tuple[str, ...], base_path: str) -> str | None:
    """The URL an internal link ``href`` (:func:`_internal`, as markdown-it
    normalised it) of a page becomes: relative to the page's folder
    ``folder`` (parts under ``content/pages/``), or to the site root when it
    starts with ``/``; ``x.md`` → ``x/``, ``x/index.md`` → ``x/``; under
    ``base_path``; query and fragment kept. None when it climbs out of
    ``content/pages/``. Linear in ``len(href)``."""
    path, hash_, fragment = href.partition("#")
    path, mark, query = path.partition("?")
    out = [] if path.startswith("/") else list(folder)
    parts = (path[1:] if path.startswith("/") else path).split("/")
    for i, segment in enumerate(parts):
        name = unquote(segment)
        if name in (".", ".."):
            if name == "..":
                if not out:
                    return None
                out.pop()
            if i == len(parts) - 1:
                out.append("")
        else:
            out.append(segment)
    if out and out[-1].endswith(".md") and len(out[-1]) > 3:
        stem = out.pop()[:-3]
        if unquote(stem) != "index":
            out.append(stem)
        out.append("")
    return base_path + "/".join(out) + mark + query + hash_ + fragment


@dataclass(frozen=True)
class _Rendered:
    title: str
    html: Markup
    links: dict[str, str]
    problems: tuple[tuple[str, str], ...]


def _render(text: str, slug: str, folder: tuple[str, ...], base_path: str) -> _Rendered:
    """Render the body of a page (see :func:`render_markdown`), rewriting its
    links (:func:`_rewrite`) and collecting the ones refused."""
    if len(text) > MAX_PAGE_CHARS:
        raise ValueError(f"page is {len(text)} characters, over the {MAX_PAGE_CHARS}-character limit "
                         "for Markdown pages; split it into several pages")
    md = _Markdown()
    tokens = md.parse(text)
    title = ""
    links: dict[str, str] = {}
    problems = [(md.normalizeLinkText(url), "this kind of link is not allowed; it is shown as text")
                for url in md.refused]
    for i, token in enumerate(tokens):
        if not title and token.type == "heading_open" and token.tag == "h1" and i + 1 < len(tokens):
            title = _heading_text(tokens[i + 1])
        for child in token.children or ():
            attr = "href" if child.type == "link_open" else "src" if child.type == "image" else None
            if attr is None or not isinstance(child.attrs.get(attr), str):
                continue
            href = str(child.attrs[attr])
            if not _internal(href):
                continue
            new = _rewrite(href, folder, base_path)
            if new is None:
                problems.append((md.normalizeLinkText(href), "leaves the site (it climbs out of content/pages/); "
                                 "the link is dropped"))
                del child.attrs[attr]
            else:
                child.attrs[attr] = new
                links.setdefault(new, md.normalizeLinkText(href))
    html = md.renderer.render(tokens, md.options, {})
    return _Rendered(title or slug.rsplit("/", 1)[-1].replace("-", " ").capitalize(), Markup(html), links,
                     tuple(problems))


def render_markdown(slug: str, text: str, *, folder: tuple[str, ...] = (), base_path: str = "/"
                    ) -> tuple[str, Markup]:
    """``(title, html)`` of a Markdown page body: the title is the text of the
    first ``<h1>`` (ATX or setext), else ``slug`` made readable; links are
    rewritten as the module docstring says, for a page in ``folder`` of a site
    at ``base_path``. Linear time: the title comes from markdown-it's tokens,
    not from a regex over the source. Raises ``ValueError`` for text over
    :data:`MAX_PAGE_CHARS` characters."""
    page = _render(text, slug, folder, base_path)
    return page.title, page.html


def _route(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Route segments of the page at ``parts`` (under ``content/pages/``):
    the folders, then the file's stem unless it is ``index``. Raises
    ``ValueError`` for a name that is not a safe slug or is reserved."""
    stem = parts[-1][:-len(".md")]
    route = parts[:-1] if stem == "index" else (*parts[:-1], stem)
    if not route:
        raise ValueError("the home page is generated by sitegen and cannot be replaced; name this page "
                         "after what it holds (e.g. about.md) and link to it")
    for name in route:
        if not _SLUG.match(name):
            raise ValueError("page and folder names are lower-case letters, digits and '-' (at most 64); "
                             f"got {quote(name)}")
    if route[0] in RESERVED:
        raise ValueError(f"{quote(route[0])} is used by the generated site; top-level page and folder names "
                         f"may not be one of {', '.join(sorted(RESERVED))}")
    return route


def _load_page(parts: tuple[str, ...], path: Path, content_dir: Path, max_bytes: int, base_path: str
               ) -> MarkdownPage | None:
    """One page (None for a draft); raises :class:`~sitegen.errors.InputError` naming the file."""
    rel = "content/pages/" + "/".join(parts)
    try:
        route = _route(parts)
    except ValueError as e:
        raise InputError(Problem(rel, "", str(e), "page.name")) from None
    text = decode_utf8(read_untrusted(path, root=content_dir, max_bytes=max_bytes, rel=rel), rel)
    if len(text) > MAX_PAGE_CHARS:
        raise InputError(Problem(rel, "", f"page is {len(text)} characters, over the {MAX_PAGE_CHARS}-character "
                                 "limit for Markdown pages; split it into several pages", "page.size"))
    try:
        yaml_text, body = split_front_matter(text)
        meta = parse_front_matter(yaml_text) if yaml_text is not None else FrontMatter()
    except ValueError as e:
        raise InputError(Problem(rel, "", str(e), "page.front_matter")) from None
    slug = "/".join(route)
    page = _render(body, slug, parts[:-1], base_path)
    if meta.draft:
        return None
    return MarkdownPage(slug, meta.title or page.title, page.html, rel, meta.description, meta.weight,
                        page.links, page.problems)


def _discover(folder: Path) -> tuple[list[tuple[tuple[str, ...], Path]], list[str]]:
    """``(parts, path)`` of every ``*.md`` under ``folder`` (hidden files and
    folders skipped), and the problems found listing it: a symlinked folder
    (not followed), a name that is not UTF-8. Iterative; ``os.scandir``."""
    found: list[tuple[tuple[str, ...], Path]] = []
    problems: list[str] = []
    todo: list[tuple[str, ...]] = [()]
    while todo:
        here = todo.pop()
        shown = "content/pages/" + "".join(p + "/" for p in here)
        try:
            entries = sorted(os.scandir(folder.joinpath(*here)), key=lambda e: e.name)
        except OSError as e:
            problems.append(_line(shown, f"cannot list: {os_problem(e)}", "load.file"))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                problems.append(_line(shown + name, "file name is not valid UTF-8; rename it", "load.file"))
                continue
            if entry.is_dir(follow_symlinks=False):
                todo.append((*here, name))
            elif entry.is_symlink() and _is_dir(entry):
                problems.append(_line(shown + name, "is a symlink to a folder; symlinked folders are not followed",
                                      "load.file"))
            elif name.endswith(".md"):
                found.append(((*here, name), Path(entry.path)))
    return found, problems


def _line(rel: str, message: str, check: str) -> str:
    """One line of the error listing bad pages: ``file: message [check]``."""
    return f"{Problem(rel, '', message, check)} [{check}]"


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a symlink loop: read as a file, and reported then
        return False


def load_pages(content_dir: Path, *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES, base_path: str = "/"
               ) -> list[MarkdownPage]:
    """Every published page under ``content/pages/`` (drafts left out),
    sorted by route, each read through :func:`~sitegen.reader.read_untrusted`
    (at most ``max_bytes`` bytes, the ``max_document_bytes`` setting) as
    strict UTF-8, its links rewritten for a site at ``base_path``.

    Raises :class:`ConfigError` listing every bad page, one ``file: problem
    [check]`` per line after a count: a bad or reserved name, two files with
    one route, ``content/pages/index.md``, a symlink out of ``content/``, a
    symlinked folder, a FIFO, device or directory, a file over the cap,
    invalid UTF-8, a page over :data:`MAX_PAGE_CHARS` characters, bad front
    matter."""
    folder = content_dir / "pages"
    if not folder.is_dir():
        return []
    found, problems = _discover(folder)
    pages: list[MarkdownPage] = []
    routes: dict[str, str] = {}
    for parts, path in sorted(found):
        rel = "content/pages/" + "/".join(parts)
        try:
            page = _load_page(parts, path, content_dir, max_bytes, base_path)
        except InputError as e:
            problems.append(f"{e.problem} [{e.problem.check}]")
            continue
        if page is None:
            continue
        if page.slug in routes:
            problems.append(_line(rel, f"has the route /{page.slug}/ of {routes[page.slug]} too; remove or "
                                  "rename one", "page.name"))
            continue
        routes[page.slug] = rel
        pages.append(page)
    if problems:
        problems.sort()
        count = f"{len(problems)} Markdown page{'s' if len(problems) > 1 else ''}"
        raise ConfigError(f"{count} in content/pages/ cannot be published:\n" + "\n".join(problems))
    return sorted(pages, key=lambda p: p.slug)


def navigation(pages: list[MarkdownPage] | tuple[MarkdownPage, ...]) -> tuple[tuple[str, str], ...]:
    """``(path, title)`` of the pages in the site's navigation: the top-level
    ones (``about/``, ``guide/``; not ``guide/setup/``), by ``weight``, then
    title, then route."""
    top = [p for p in pages if "/" not in p.slug]
    return tuple((p.path, p.title) for p in sorted(top, key=lambda p: (p.weight, p.title, p.slug)))

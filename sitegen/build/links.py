"""The link check: every internal link in the pages sitegen renders in this
process — the Markdown pages and the site-wide templates (home page, facet
indexes, 404, search, ``page.html``) — must lead to a file of the output tree.

Like ``mkdocs build --strict`` or ``zola check``, a broken link fails the
build, naming the file and the link::

    content/pages/about.md: link 'setup.md' → /setup/: no such page [pages.links]

(``strict_links = false`` or ``--no-strict``: the same lines as warnings.)
Record pages, listings and alias pages are not parsed: they are generated
from the verified routes (:mod:`sitegen.pith.routes`) and checked by the tests.

What is a link: the ``href`` of ``a``, ``area`` and ``link``; the ``src`` of
``img``, ``script``, ``iframe``, ``source``, ``track``, ``embed``, ``audio``,
``video``, ``input``; ``video``'s ``poster``; ``form``'s ``action``. Internal:
a relative URL (resolved against the page's own URL), a path (which must lie
under the base path), or an absolute URL under ``base_url``. It is fine when
the output tree holds the file it names (``x/`` → ``x/index.html``; ``x`` →
``x`` or ``x/index.html``, which hosts redirect to). Fragments and queries are
not checked (Markdown headings carry no ids). A ``javascript:``,
``vbscript:``, ``file:`` or non-image ``data:`` URL anywhere is an error, and
so is a relative link that climbs above the site's root. Other schemes and
other hosts are external and not fetched.

Pure and linear: :func:`links_in` is a single forward scan of the HTML (no
backtracking regex, no tree), each distinct target is looked up once, and the
output tree is known only through the ``exists`` callable.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from sitegen.config import Settings
from sitegen.errors import ConfigError, quote, safe_text
from sitegen.site.chars import well_formed
from sitegen.site.pages import MarkdownPage

__all__ = ["LinkSource", "BrokenLink", "links_in", "resolve", "check_links", "site_sources", "check_site", "CHECK"]

#: The check name in every message.
CHECK = "pages.links"
#: Lines of broken links an error shows; the rest are counted.
MAX_SHOWN = 100

_WS = " \t\n\r\f"
_SPACE = re.compile(r"[ \t\n\r\f/]*")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_NAME = re.compile(r"[^ \t\n\r\f/>][^ \t\n\r\f/>=]*")
_EQUALS = re.compile(r"[ \t\n\r\f]*=[ \t\n\r\f]*")
_UNQUOTED = re.compile(r"[^ \t\n\r\f>]*")
#: Elements whose content is text up to their end tag (no tags inside).
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
_LINK_ATTRS: dict[str, tuple[str, ...]] = {
    "a": ("href",), "area": ("href",), "link": ("href",), "img": ("src",), "script": ("src",),
    "iframe": ("src",), "source": ("src",), "track": ("src",), "embed": ("src",), "audio": ("src",),
    "video": ("src", "poster"), "input": ("src",), "form": ("action",),
}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_UNSAFE_SCHEMES = frozenset({"javascript", "vbscript", "file", "data"})
_DATA_IMAGE = re.compile(r"data:image/(?:gif|png|jpeg|webp);", re.IGNORECASE)
#: What browsers strip from both ends of a URL (C0 controls and space), and remove inside it.
_EDGES = "".join(map(chr, range(0x21)))
_INSIDE = str.maketrans("", "", "\t\n\r")


@dataclass(frozen=True)
class LinkSource:
    """One HTML text to check: ``name`` is shown in messages (a Markdown file,
    or an output page), ``path`` is the output path the HTML is served from
    (relative links resolve against it), ``written`` maps a link as it stands
    in ``html`` to the link as its author wrote it (a Markdown page's ``.md``
    links), for messages."""

    name: str
    path: str
    html: str
    written: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BrokenLink:
    """One bad link: as written (``link``), where it leads (``target``, a URL
    path, or ``""``), why it is bad, and every source that has it."""

    names: tuple[str, ...]
    link: str
    target: str
    reason: str

    def __str__(self) -> str:
        names = ", ".join(safe_text(n) for n in self.names[:3])
        if len(self.names) > 3:
            names += f" and {len(self.names) - 3} more pages"
        arrow = f" → {safe_text(self.target, 200)}" if self.target and self.target != self.link else ""
        return f"{names}: link {quote(self.link, 200)}{arrow}: {self.reason} [{CHECK}]"


def links_in(html: str) -> Iterator[str]:
    """Every link (see the module docstring) in ``html``, character
    references decoded, in document order. One forward scan: comments,
    doctypes, end tags and the text of raw-text elements (``script``,
    ``style``…) are skipped; an unclosed quote or comment ends the scan."""
    n, i = len(html), 0
    while True:
        lt = html.find("<", i)
        if lt < 0:
            return
        if html.startswith("<!--", lt):
            end = html.find("-->", lt + 4)
            if end < 0:
                return
            i = end + 3
            continue
        m = _TAG_NAME.match(html, lt + 1)
        if m is None:
            if html.startswith(("<!", "<?", "</"), lt):
                end = html.find(">", lt + 2)
                if end < 0:
                    return
                i = end + 1
            else:
                i = lt + 1
            continue
        name = m.group().lower()
        wanted = _LINK_ATTRS.get(name, ())
        pos = m.end()
        while True:  # attributes, up to the tag's '>'
            pos = _SPACE.match(html, pos).end()  # type: ignore[union-attr]  # matches the empty string
            if pos >= n:
                return
            if html[pos] == ">":
                pos += 1
                break
            a = _ATTR_NAME.match(html, pos)
            assert a is not None  # html[pos] is none of the characters _SPACE and '>' stop at
            attr, pos = a.group().lower(), a.end()
            eq = _EQUALS.match(html, pos)
            if eq is None:
                continue
            pos = eq.end()
            if pos < n and html[pos] in "\"'":
                end = html.find(html[pos], pos + 1)
                if end < 0:
                    return
                value, pos = html[pos + 1:end], end + 1
            else:
                u = _UNQUOTED.match(html, pos)
                assert u is not None
                value, pos = u.group(), u.end()
            if attr in wanted:
                yield htmllib.unescape(value)
        if name in _RAW_TEXT:  # skip to its end tag
            j = pos
            while True:
                k = html.find("</", j)
                if k < 0:
                    return
                after = k + 2 + len(name)
                if html[k + 2:after].lower() == name and html[after:after + 1] in ("", *_WS, "/", ">"):
                    break
                j = k + 2
            pos = k
        i = pos


def resolve(href: str, page: str, base_url: str) -> tuple[str | None, str | None]:
    """``(target, problem)`` of the link ``href`` on the page served from
    output path ``page`` of a site at ``base_url``: ``target`` is the
    output path it names (``""`` for the home page, ``x/`` for a folder) or
    None when external or same-page; ``problem`` says why the link is bad, or
    None. Linear in ``len(href)``."""
    url = href.strip(_EDGES).translate(_INSIDE).replace("\\", "/")  # as browsers read it
    if not url or url.startswith(("#", "?")):
        return None, None
    base = urlsplit(base_url)
    m = _SCHEME.match(url)
    if m or url.startswith("//"):
        scheme = m.group(1).lower() if m else base.scheme
        if scheme in _UNSAFE_SCHEMES and not _DATA_IMAGE.match(url):
            return None, f"{scheme}: links are not allowed"
        if scheme not in ("http", "https"):
            return None, None  # mailto:, tel:, …
        try:
            parts = urlsplit(url if m else f"{scheme}:{url}")
        except ValueError:
            return None, "not a valid URL"
        if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
            return None, None  # another site
        path, folder = parts.path, []
        if path + "/" == base.path:
            path = base.path
        if not path.startswith(base.path):
            return None, None  # this host, but not this site
    else:
        path = url.partition("#")[0].partition("?")[0]
        folder = page.split("/")[:-1]
        if path.startswith("/"):
            if path + "/" == base.path:
                path = base.path
            if not path.startswith(base.path):
                return None, f"outside the site (its base path is {base.path})"
            folder = []
    rel = path[len(base.path):] if path.startswith("/") else path
    out = list(folder)
    segments = rel.split("/")
    for i, segment in enumerate(segments):
        name = unquote(segment)
        if name in (".", ".."):
            if name == "..":
                if not out:
                    return None, "leaves the site (it climbs above the site's root)"
                out.pop()
            if i == len(segments) - 1:
                out.append("")
        else:
            out.append(name)
    return "/".join(out), None


def _found(target: str, exists: Callable[[str], bool]) -> bool:
    if target == "" or target.endswith("/"):
        return exists(target + "index.html")
    return exists(target) or exists(target + "/index.html")


def check_links(sources: Iterable[LinkSource], exists: Callable[[str], bool], *, base_url: str) -> list[BrokenLink]:
    """Every bad link in ``sources`` (see the module docstring), one
    :class:`BrokenLink` per distinct ``(link, target, reason)`` naming every
    source that has it, in order of first appearance. ``exists(path)`` says
    whether the output tree holds the file at output path ``path``; it is
    called once per distinct target."""
    base_path = urlsplit(base_url).path
    known: dict[str, bool] = {}
    found: dict[tuple[str, str, str], dict[str, None]] = {}
    for source in sources:
        for href in links_in(source.html):
            target, problem = resolve(href, source.path, base_url)
            if problem is None:
                if target is None:
                    continue
                ok = known.get(target)
                if ok is None:
                    ok = known[target] = _found(target, exists)
                if ok:
                    continue
                last = target.rstrip("/").rsplit("/", 1)[-1]
                problem = "no such file" if "." in last and not target.endswith("/") else "no such page"
            shown = base_path + target if target is not None else ""
            found.setdefault((source.written.get(href, href), shown, problem), {})[source.name] = None
    return [BrokenLink(tuple(names), link, target, reason) for (link, target, reason), names in found.items()]


def site_sources(pages: Sequence[MarkdownPage], rendered: Iterable[tuple[str, bytes]]) -> list[LinkSource]:
    """What :func:`check_site` checks: the body of each Markdown page, named
    by its file, and each page rendered from a template (``(output path,
    bytes)``), named by its output path — a Markdown page's output without
    its body, so that each link is reported once, where it was written."""
    by_output = {md.path + "index.html": md for md in pages}
    sources = [LinkSource(md.source, md.path + "index.html", str(md.html), md.links) for md in pages]
    for path, data in rendered:
        text = data.decode("utf-8", "replace")
        md = by_output.get(path)
        if md is not None:
            body = well_formed(str(md.html))  # as the template's finalize wrote it
            at = text.find(body)
            if at >= 0:
                text = text[:at] + text[at + len(body):]
        sources.append(LinkSource(path, path, text))
    return sources


def check_site(settings: Settings, pages: Sequence[MarkdownPage], rendered: Iterable[tuple[str, bytes]],
               exists: Callable[[str], bool]) -> tuple[str, ...]:
    """Check the links of the Markdown ``pages`` (those refused while
    rendering them included) and of the ``rendered`` template pages. With
    ``settings.strict_links`` raise :class:`ConfigError` listing every broken
    link; else return them as warning lines."""
    problems = [BrokenLink((md.source,), link, "", why) for md in pages for link, why in md.link_problems]
    problems += check_links(site_sources(pages, rendered), exists, base_url=settings.base_url)
    lines = [str(p) for p in problems]
    if not lines or not settings.strict_links:
        return tuple(lines)
    shown = lines[:MAX_SHOWN] + ([f"… and {len(lines) - MAX_SHOWN} more"] if len(lines) > MAX_SHOWN else [])
    count = f"{len(lines)} broken link{'s' if len(lines) > 1 else ''}"
    raise ConfigError(f"{count} in the site's pages; fix them, or build with --no-strict (strict_links = false "
                      "in sitegen.toml) to publish with warnings:\n" + "\n".join(shown))

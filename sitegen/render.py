"""Render stage: the theme, the Jinja environment, and every output file.

Contract: :func:`render_site` takes the verified entries, the settings and
the theme, and yields :class:`~sitegen.model.OutputFile` values in a
deterministic order. Pages go through Jinja; the JSON documents are the
verified input bytes (byte-identical); site-wide files are generated here.

Secure defaults, set once in :func:`make_environment`: ``autoescape=True``
for every template, ``StrictUndefined``, and no ``|safe`` on record fields
anywhere in the theme.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Iterator

import jinja2

from sitegen import __version__
from sitegen.config import Settings
from sitegen.errors import ConfigError
from sitegen.merge import MERGE_VERSION
from sitegen.model import Keyring, MirrorEntry, OutputFile
from sitegen.listings import facets, paginate
from sitegen.pages import MarkdownPage
from sitegen.search import search_index
from sitegen.aliases import Alias, AliasTarget, alias_paths, group_aliases
from sitegen.routes import routes_for
from sitegen.views import RecordView, json_for_script, record_view, scholarly_article

__all__ = ["Theme", "find_theme", "make_environment", "render_site", "generated_at", "static_files"]


@dataclass(frozen=True)
class Theme:
    """Template and static directories, highest priority first: the site's own
    ``templates/`` and ``static/`` override the default theme file by file."""

    template_dirs: tuple[Path, ...]
    static_dirs: tuple[Path, ...]


def _default_theme_root() -> Path:
    packaged = resources.files("sitegen") / "_theme"
    if packaged.is_dir():  # wheel install: theme carried inside the package
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent  # source checkout / editable install


def find_theme(site_dir: Path) -> Theme:
    """Resolve the theme for ``site_dir``; raises :class:`ConfigError` if the
    default theme is missing (a broken installation)."""
    root = _default_theme_root()
    if not (root / "templates" / "record.html").is_file():
        raise ConfigError(f"default theme not found under {root}; reinstall sitegen")
    templates = [p for p in (site_dir / "templates", root / "templates") if p.is_dir()]
    static = [p for p in (site_dir / "static", root / "static") if p.is_dir()]
    return Theme(tuple(dict.fromkeys(templates)), tuple(dict.fromkeys(static)))


def make_environment(theme: Theme, settings: Settings) -> jinja2.Environment:
    """The one Jinja environment of a build, with sitegen's secure defaults."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in theme.template_dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    base_path, base_url = settings.base_path, settings.base_url
    env.globals.update(
        url=lambda path="": base_path + path,
        abs_url=lambda path="": base_url + path,
        site={"title": settings.title, "base_url": base_url, "base_path": base_path},
        nav_pages=[],
        search_enabled=settings.search,
        generator=f"sitegen {__version__}",
    )
    return env


def generated_at(settings: Settings, entries: list[MirrorEntry]) -> str:
    """The build's timestamp: ``SOURCE_DATE_EPOCH`` if set, else the newest
    timestamp found in the verified content — never the wall clock, so two
    builds of the same input are byte-identical."""
    if settings.source_date_epoch is not None:
        return datetime.fromtimestamp(settings.source_date_epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamps = [_utc(e.record.body["updated_at"] if e.record else e.bundle.body["built_at"]) for e in entries]
    return max(stamps).strftime("%Y-%m-%dT%H:%M:%SZ") if stamps else "1970-01-01T00:00:00Z"


def _utc(stamp: str) -> datetime:
    # Format already checked by the schema (ISO 8601 with Z or an offset).
    return datetime.fromisoformat(stamp).astimezone(timezone.utc)


def static_files(theme: Theme) -> Iterator[OutputFile]:
    """Every static asset, the site's own file winning over the theme's."""
    seen: dict[str, Path] = {}
    for directory in theme.static_dirs:
        for path in sorted(directory.rglob("*")):
            rel = path.relative_to(directory).as_posix()
            if path.is_file() and rel not in seen and not path.name.startswith("."):
                seen[rel] = path
    for rel in sorted(seen):
        yield OutputFile(rel, seen[rel].read_bytes())


def _json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _current_key(keyring: Keyring):
    """The key published at /pith-signing-key.json: a non-revoked key without
    ``rotates_at`` (last by key id, for determinism), else the last key."""
    keys = keyring.keys()
    current = [k for k in keys if k.document.get("rotates_at") is None and not k.revoked]
    return (current or list(keys))[-1]


def _mirror_manifest(settings: Settings, keyring: Keyring, when: str) -> bytes:
    base = settings.base_url.rstrip("/")
    key = _current_key(keyring)
    return _json_bytes({
        "manifest_type": "pith_mirror_manifest",
        "manifest_version": "1.0",
        "generated_at": when,
        "merge_version": MERGE_VERSION,
        "mirrors": [{
            "name": settings.title,
            "mirror_type": "https" if base.startswith("https:") else "http",
            "base_url": base,
            "bundle_pattern": base + "/pith/{suffix}/bundle.json",
            "state_pattern": base + "/pith/{suffix}/state.json",
            "well_known_pattern": base + "/.well-known/pith/{suffix}/bundle.json",
            "public_key": dict(key.document),
            "status": "mirror",
        }],
        "notes": "Any conforming mirror may host the same Pith Open Graph bundles. Current state is "
                 "computed by deterministic merge, not by trusting this manifest. This mirror was "
                 f"built by sitegen {__version__}, which verified every document before publishing it.",
    })


_HEADERS = """\
# Response headers for Netlify and Cloudflare Pages (one splat per rule).
# GitHub Pages ignores this file and already sends Access-Control-Allow-Origin: *.
/.well-known/pith/*
  Access-Control-Allow-Origin: *
  Content-Type: application/json; charset=utf-8
  X-Content-Type-Options: nosniff
/pith/*
  Access-Control-Allow-Origin: *
  X-Content-Type-Options: nosniff
/pith-signing-key.json
  Access-Control-Allow-Origin: *
/pith-mirrors.json
  Access-Control-Allow-Origin: *
"""


def _target_json(t: AliasTarget, settings: Settings) -> dict:
    r, base = routes_for(t.suffix), settings.base_url
    return {"pith_number": t.pith_number, "version": t.version, "html": base + r.page,
            "record": base + r.record_json if t.has_record else None,
            "bundle": base + r.bundle_json if t.has_bundle else None,
            "state": base + r.state_json if t.has_bundle else None}


_DERIVED = ("Derived by this mirror from verified documents; not signed. Signed data: the record, "
            "or the events in the bundle.")


def _derived_api(entry: MirrorEntry) -> tuple[bytes, bytes]:
    """``graph.json`` and ``events.json`` at the paths the resolver's links name.
    From the merged state of a verified bundle; for a record alone, its own
    (unsigned) graph snapshot and events."""
    if entry.bundle is not None:
        body = entry.bundle.body
        snapshots, events, source = body["state"]["current"]["graph_snapshots"], body["events"], "bundle"
    else:
        body = entry.record.body
        snapshot = body.get("graph_snapshot")
        snapshots, events, source = ([snapshot] if snapshot else []), body["events"], "record"
    head = {"pith_number": entry.pith_number, "derived_from": source, "note": _DERIVED}
    return (_json_bytes({**head, "graph_snapshots": snapshots}), _json_bytes({**head, "events": events}))


def _alias_json(alias: Alias, settings: Settings) -> bytes:
    return _json_bytes({
        "alias_kind": alias.kind,
        "alias_value": alias.value,
        "resolved": alias.resolved.pith_number if alias.resolved else None,
        "pith_numbers": [_target_json(t, settings) for t in alias.targets],
        "note": "Derived by this mirror from verified documents; not signed. Verify the record or bundle.",
    })


def render_site(entries: list[MirrorEntry], keyring: Keyring, settings: Settings,
                theme: Theme, *, when: str, pages: list[MarkdownPage] = ()) -> Iterator[OutputFile]:
    """Yield every file of the output tree (PROTOCOL.md §5), in a fixed order.
    ``when`` is the build's timestamp (:func:`generated_at`).

    Leaf files (documents, record pages) come before the indexes that link
    to them. Raises :class:`ConfigError` for a template error.
    """
    env = make_environment(theme, settings)
    env.globals["nav_pages"] = [(md.path, md.title) for md in pages]
    env.globals["search_enabled"] = settings.search
    built = when if settings.source_date_epoch is not None else None

    def page(template: str, **context) -> bytes:
        try:
            return env.get_template(template).render(built_at=built, **context).encode("utf-8")
        except jinja2.TemplateError as e:
            where = f"{e.filename}:{e.lineno}" if isinstance(e, jinja2.TemplateSyntaxError) else template
            raise ConfigError(f"template {where}: {e}") from e

    yield from static_files(theme)
    views: list[RecordView] = []
    for entry in entries:
        view = record_view(entry)
        views.append(view)
        r = view.routes
        if entry.record is not None:
            yield OutputFile(r.record_json, entry.record.source.data)
        if entry.bundle is not None:
            yield OutputFile(r.bundle_json, entry.bundle.source.data)
            yield OutputFile(r.well_known_bundle, entry.bundle.source.data)
            yield OutputFile(r.state_json, entry.bundle.state_json)
            yield OutputFile(r.well_known_state, entry.bundle.state_json)
        graph, events = _derived_api(entry)
        yield OutputFile(r.graph_json, graph)
        yield OutputFile(r.events_json, events)
        yield OutputFile(r.page + "index.html", page("record.html", record=view,
                                                      jsonld=json_for_script(scholarly_article(view, settings.base_url))))

    titles = {v.suffix: v.title for v in views}
    items = [(kind, value, path, AliasTarget(v.pith_number, v.suffix, v.version, v.has_record, v.has_bundle))
             for v in views for kind, value, path in alias_paths(v.arxiv_id, v.version, v.suffix)]
    for alias in group_aliases(items):
        yield OutputFile(alias.path + "pith.json", _alias_json(alias, settings))
        yield OutputFile(alias.path + "index.html", page("alias.html", alias=alias, titles=titles))

    newest = sorted(views, key=lambda v: (v.submitted_at, v.suffix), reverse=True)
    yield OutputFile("pith-signing-key.json", _current_key(keyring).source.data)
    yield OutputFile("pith-mirrors.json", _mirror_manifest(settings, keyring, when))
    yield OutputFile("404.html", page("404.html"))
    yield OutputFile(".nojekyll", b"")
    yield OutputFile("_headers", _HEADERS.encode("ascii"))
    yield OutputFile("robots.txt", f"User-agent: *\nAllow: /\nSitemap: {settings.base_url}sitemap.xml\n".encode())

    sitemap: list[tuple[str, str | None]] = [(v.routes.page, v.updated_at) for v in newest]
    listing_pages = list(_listings(newest, settings))
    for path, template, context in listing_pages:
        yield OutputFile(path + "index.html", page(template, path=path, **context))
        sitemap.append((path, None))
    for md in pages:
        yield OutputFile(md.path + "index.html", page("page.html", path=md.path, page_title=md.title, body=md.html))
        sitemap.append((md.path, None))
    if settings.search:
        index_files, bundles = search_index(newest, split_above=settings.search_split_above)
        yield from index_files
        yield OutputFile("search/index.html", page("search.html", bundles=bundles))
    yield OutputFile("feed.xml", page("feed.xml", records=newest[:settings.feed_size], generated_at=when))
    children = []
    urls = [("", when), *sitemap]
    for n, start in enumerate(range(0, len(urls), settings.sitemap_max_urls), 1):
        children.append(f"sitemap-{n}.xml")
        yield OutputFile(children[-1], page("sitemap-urls.xml", urls=urls[start:start + settings.sitemap_max_urls]))
    yield OutputFile("sitemap.xml", page("sitemap.xml", children=children, generated_at=when))
    counts = {"records": len(views), "bundles": sum(v.has_bundle for v in views),
              "years": len({v.year for v in views}),
              "categories": len({c for v in views for c in (v.primary_cat, *v.cross_cats)})}
    yield OutputFile("index.html", page("index.html", records=newest[:settings.page_size], counts=counts,
                                        more=len(newest) > settings.page_size))


def _listings(newest: list[RecordView], settings: Settings):
    """``(path, template, context)`` for the year and category facet pages and
    every page of every listing (sitegen.listings)."""
    by_year: dict[str, list[RecordView]] = {}
    by_category: dict[str, list[RecordView]] = {}
    for v in newest:
        by_year.setdefault(v.year, []).append(v)
        for cat in dict.fromkeys((v.primary_cat, *v.cross_cats)):
            by_category.setdefault(cat, []).append(v)
    for kind, root, groups, heading, reverse in (
            ("year", "years/", by_year, "Records by year", True),
            ("category", "categories/", by_category, "Records by arXiv category", False)):
        yield root, "facets.html", {"heading": heading, "facets": facets(groups, kind, root, reverse=reverse)}
        parent = {"path": root, "title": heading}
        for name in sorted(groups):
            title = f"Records from {name}" if kind == "year" else f"Records in {name} (primary or cross-listed)"
            for p in paginate(groups[name], settings.page_size, f"{root}{name}/"):
                yield p.path, "listing.html", {"heading": title, "page": p, "total": len(groups[name]),
                                               "parent": parent, "page_size": settings.page_size}

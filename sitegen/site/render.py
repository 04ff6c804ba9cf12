"""Render stage: every output file made from a template or a verified document.

:class:`Renderer` makes one Pith Number's files (:meth:`Renderer.entry_files`:
the record page, the verified documents as their exact input bytes, and for
a bundle its state and derived API files), listing pages and landings, alias
pages (``alias_pages = true``) and facet indexes; :func:`site_files` the
site-wide files (home, feed, 404, robots.txt, the host's files). Every value
is a :class:`~sitegen.model.OutputFile`; the build decides the order.

The Jinja environment and its secure defaults (``autoescape=True`` for every
template, ``StrictUndefined``, well-formed output, no ``|safe`` on record
fields anywhere in the theme) are set once, in
:func:`sitegen.site.theme.make_environment`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jinja2

from sitegen import __version__
from sitegen.config import Settings
from sitegen.errors import ConfigError
from sitegen.model import Keyring, MirrorEntry, OutputFile, VerifiedBundle
from sitegen.pith.merge import MERGE_VERSION
from sitegen.pith.routes import routes_for
from sitegen.site.aliases import Alias, AliasTarget
from sitegen.site.hosts import host_files
from sitegen.site.listings import FACET_ROOTS, FacetLink, listing_root
from sitegen.site.strings import ui_strings
from sitegen.site.theme import OVERRIDABLE, Theme, make_environment, static_paths
from sitegen.site.views import RecordView, json_for_script, record_view, scholarly_article

__all__ = ["Renderer", "site_files", "build_timestamp"]


def build_timestamp(settings: Settings, newest: str | None) -> str:
    """The build's timestamp: ``SOURCE_DATE_EPOCH`` if set, else ``newest``
    (the latest ``updated_at``/``built_at`` of the published documents,
    normalised to UTC) — never the wall clock, so two builds of the same
    input are byte-identical."""
    if settings.source_date_epoch is not None:
        return datetime.fromtimestamp(settings.source_date_epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return newest or "1970-01-01T00:00:00Z"


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


def _target_json(t: AliasTarget, settings: Settings) -> dict:
    r, base = routes_for(t.suffix), settings.base_url
    return {"pith_number": t.pith_number, "version": t.version, "html": base + r.page,
            "record": base + r.record_json if t.has_record else None,
            "bundle": base + r.bundle_json if t.has_bundle else None,
            "state": base + r.state_json if t.has_bundle else None}


_DERIVED = ("Derived by this mirror from verified documents; not signed. Signed data: the record, "
            "or the events in the bundle.")


def _derived_api(pith_number: str, bundle: VerifiedBundle) -> tuple[bytes, bytes]:
    """``graph.json`` and ``events.json`` at the paths the resolver's links
    name, from the merged state and the events of a verified bundle."""
    body = bundle.body
    snapshots, events = body["state"]["current"]["graph_snapshots"], body["events"]
    head = {"pith_number": pith_number, "derived_from": "bundle", "note": _DERIVED}
    return (_json_bytes({**head, "graph_snapshots": snapshots}), _json_bytes({**head, "events": events}))


def _alias_json(alias: Alias, settings: Settings) -> bytes:
    return _json_bytes({
        "alias_kind": alias.kind,
        "alias_value": alias.value,
        "resolved": alias.resolved.pith_number if alias.resolved else None,
        "pith_numbers": [_target_json(t, settings) for t in alias.targets],
        "note": "Derived by this mirror from verified documents; not signed. Verify the record or bundle.",
    })


class Renderer:
    """Renders pages and derived files for one build (one per process).

    ``nav_pages`` are ``(path, title)`` of the Markdown pages; ``built`` is the
    build timestamp shown on pages, or None (only with ``SOURCE_DATE_EPOCH``
    do pages carry it, so that a page changes only when its record does).
    Methods raise :class:`ConfigError` for a template error."""

    def __init__(self, theme: Theme, settings: Settings, nav_pages: tuple[tuple[str, str], ...], when: str | None):
        self.settings, self.theme = settings, theme
        self.strings = ui_strings(settings.language, settings.strings)
        self.env = make_environment(theme, settings)
        self.env.globals["nav_pages"] = list(nav_pages)
        self.built = when if settings.source_date_epoch is not None else None

    def page(self, template: str, **context) -> bytes:
        try:
            return self.env.get_template(template).render(built_at=self.built, **context).encode("utf-8")
        except jinja2.TemplateError as e:
            where = f"{e.filename}:{e.lineno}" if isinstance(e, jinja2.TemplateSyntaxError) else template
            raise ConfigError(f"template {where}: {e} — fix it in the site's templates/, or remove it there to use "
                              "the default theme's") from e

    def entry_files(self, entry: MirrorEntry) -> tuple[RecordView, list[OutputFile]]:
        """The record page, the verified documents (their exact bytes) and, for
        a bundle, its state and the derived API files of one Pith Number
        (docs/protocol.md §5). A record alone gets two files: its page and its
        JSON — its graph and events are in the record itself, so derived
        copies would add nothing but files (docs/protocol.md §9)."""
        view = record_view(entry, self.strings)
        r, out = view.routes, []
        if entry.record is not None:
            out.append(OutputFile(r.record_json, entry.record.source.data))
        if entry.bundle is not None:
            out.append(OutputFile(r.bundle_json, entry.bundle.source.data))
            out.append(OutputFile(r.well_known_bundle, entry.bundle.source.data))
            out.append(OutputFile(r.state_json, entry.bundle.state_json))
            out.append(OutputFile(r.well_known_state, entry.bundle.state_json))
            graph, events = _derived_api(entry.pith_number, entry.bundle)
            out.append(OutputFile(r.graph_json, graph))
            out.append(OutputFile(r.events_json, events))
        jsonld = json_for_script(scholarly_article(view, self.settings.base_url))
        out.append(OutputFile(r.page + "index.html", self.page("record.html", record=view, jsonld=jsonld)))
        return view, out

    def alias_files(self, alias: Alias, titles: dict[str, str]) -> list[OutputFile]:
        """``pith.json`` and the redirect page of one alias (:mod:`sitegen.site.aliases`)."""
        return [OutputFile(alias.path + "pith.json", _alias_json(alias, self.settings)),
                OutputFile(alias.path + "index.html", self.page("alias.html", alias=alias, titles=titles))]

    def listing_page(self, facet: str, label: str, total: int, path: str, items: list, *, older: str | None,
                     newer: str) -> OutputFile:
        """One page of a listing (:mod:`sitegen.site.listings`): ``items`` newest
        first, links to the ``older`` and ``newer`` pages."""
        kind, _ = facet.split("/", 1)
        root, heading = FACET_ROOTS[kind][0], self.strings.text(_FACET_HEADINGS[kind])
        return OutputFile(path + "index.html", self.page(
            "listing.html", path=path, heading=self.strings.text(f"listing.{kind}", label=label), items=items,
            total=total, landing=False, older=older, newer=newer, first=None, root=listing_root(facet),
            parent={"path": root, "title": heading}))

    def listing_landing(self, facet: str, label: str, total: int, items: list, *, older: str | None,
                        first: str) -> OutputFile:
        """A listing's landing page: its newest records."""
        kind, _ = facet.split("/", 1)
        root, heading = FACET_ROOTS[kind][0], self.strings.text(_FACET_HEADINGS[kind])
        path = listing_root(facet)
        return OutputFile(path + "index.html", self.page(
            "listing.html", path=path, heading=self.strings.text(f"listing.{kind}", label=label), items=items,
            total=total, landing=True, older=older, newer=None, first=first, root=path,
            parent={"path": root, "title": heading}))

    def listing_pages_redirect(self, facet: str, label: str) -> OutputFile:
        """``…/page/index.html`` of a listing (``years/2024/page/``): a
        redirect page to its landing, so the folder that holds the listing's
        pages answers too. Its bytes depend on the facet and the settings
        only: written once, never changed by records coming and going."""
        kind, _ = facet.split("/", 1)
        root = listing_root(facet)
        return OutputFile(root + "page/index.html", self.page(
            "redirect.html", path=root + "page/", target=root,
            heading=self.strings.text(f"listing.{kind}", label=label)))

    def facet_index(self, kind: str, counts: list[tuple[str, str, int]]) -> OutputFile:
        """``years/`` or ``categories/``: every facet ``(key, label, records)``."""
        root, heading = FACET_ROOTS[kind][0], self.strings.text(_FACET_HEADINGS[kind])
        ordered = sorted(counts, reverse=(kind == "year"))
        facets = [FacetLink(kind, label, f"{root}{key}/", n) for key, label, n in ordered]
        return OutputFile(root + "index.html", self.page("facets.html", path=root, heading=heading, facets=facets))


#: The UI string of each facet index's heading.
_FACET_HEADINGS = {"year": "listing.years", "category": "listing.categories"}


def site_files(settings: Settings, keyring: Keyring, renderer: Renderer, when: str) -> list[OutputFile]:
    """The small site-wide files that depend on no record, and the host files
    of the ``host`` profile (:func:`sitegen.site.hosts.host_files`:
    ``.nojekyll``, ``_headers``). ``robots.txt``, ``_headers`` and
    ``404.html`` are left out when the site's ``static/`` has its own
    (:data:`~sitegen.site.theme.OVERRIDABLE`; the static file is published
    instead, whatever the host)."""
    overridden = static_paths(renderer.theme) & OVERRIDABLE
    files = [
        OutputFile("pith-signing-key.json", _current_key(keyring).source.data),
        OutputFile("pith-mirrors.json", _mirror_manifest(settings, keyring, when)),
    ]
    if "404.html" not in overridden:
        files.append(OutputFile("404.html", renderer.page("404.html")))
    files += [f for f in host_files(settings.host) if f.path not in overridden]
    if "robots.txt" not in overridden:
        files.append(OutputFile("robots.txt",
                                f"User-agent: *\nAllow: /\nSitemap: {settings.base_url}sitemap.xml\n".encode()))
    return files

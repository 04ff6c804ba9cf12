"""Views: the plain, frozen data templates receive, built only from verified
documents (:class:`~sitegen.model.MirrorEntry`).

Templates never see raw JSON. Every value here is text, a number, a boolean or
a tuple of those; Jinja escapes all of it. URLs are built here from validated
parts only (suffixes match ``^[A-Z2-7]{26}$``, arXiv ids match the schema's
format) and percent-encoded.

Signed beats unsigned (docs/protocol.md §4, §6): when a record and a bundle
exist for one Pith Number, the paper data shown (title, authors, abstract
excerpt, headline) is the bundle's signed ``graph_snapshot`` event, the
status its merged state and the aliases its signed ``source_aliases``; the
record's unsigned ``paper`` is shown only when no signed copy exists. The
view says where each shown value comes from (:class:`Provenance`), and no
label claims more than a signature covers: a record's title is verified only
*up to letter case* (``title_canon_sha256`` hashes the lower-cased title).

Every label and sentence a view holds (badges, completeness steps, where each
value comes from) is a UI string of the build's language
(:mod:`sitegen.site.strings`); check details stay as the verifier wrote them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as urlquote

from markupsafe import Markup

from sitegen.model import CheckResult, MirrorEntry
from sitegen.pith.routes import Routes, routes_for
from sitegen.site.authors import Author, parse_authors
from sitegen.site.chars import well_formed
from sitegen.site.strings import Strings, ui_strings
from sitegen.site.tex import TexBudget, tex_to_html, tex_to_text

__all__ = ["RecordView", "Provenance", "record_view", "clean_text", "json_for_script", "MAX_CITED_BY",
           "MAX_CITED_BY_TEX_CHARS"]

#: Citing papers listed on a record page (the resolver's sample holds a
#: handful; the page states the full count).
MAX_CITED_BY = 100
#: Characters of TeX converted in the citing titles of one page (≤ ~0.5 s on
#: hostile input); real titles are ~100 characters, most without TeX.
MAX_CITED_BY_TEX_CHARS = 20_000


@dataclass(frozen=True)
class Status:
    label: str
    on: bool
    detail: str


@dataclass(frozen=True)
class Step:
    number: int
    label: str
    done: bool
    detail: str


@dataclass(frozen=True)
class Citation:
    arxiv_id: str
    title: str
    url: str


@dataclass(frozen=True)
class CheckView:
    document: str
    name: str
    field: str
    detail: str


@dataclass(frozen=True)
class Provenance:
    """Where a group of shown values comes from and what, if anything, a
    signature covers of it (``what``: ``"Title"``; ``source``: one sentence)."""

    what: str
    source: str


@dataclass(frozen=True)
class EventView:
    event_type: str
    event_id: str
    created_at: str
    key_id: str


@dataclass(frozen=True)
class RecordView:
    """Everything a record page shows (docs/protocol.md §6)."""

    suffix: str
    pith_number: str
    short_pith_number: str
    year: str
    title_tex: str
    title: str
    title_html: Markup
    authors: tuple[str, ...]
    author_details: tuple[Author, ...]
    abstract_excerpt: str
    abstract_html: Markup
    headline: str
    arxiv_id: str
    version: int
    arxiv_url: str
    arxiv_version_url: str
    pdf_url: str
    submitted_at: str
    date: str
    primary_cat: str
    cross_cats: tuple[str, ...]
    license: str
    license_is_url: bool
    doi: str
    doi_url: str
    status_source: str
    paper_source: str
    provenance_summary: str
    provenance: tuple[Provenance, ...]
    statuses: tuple[Status, ...]
    completeness: tuple[Step, ...]
    receipt: Mapping[str, str]
    canonical_sha256: str
    aliases: tuple[tuple[str, str], ...]
    canonical_record_json: str
    cited_by_count: int
    cited_by: tuple[Citation, ...]
    events: tuple[EventView, ...]
    checks: tuple[CheckView, ...]
    routes: Routes
    has_record: bool
    has_bundle: bool
    verify_source: str
    updated_at: str


#: Bidi embeddings, overrides, isolates and marks, and invisible characters
#: that can make displayed text differ from what it says (Trojan Source).
#: ZWJ/ZWNJ (U+200C/U+200D) stay: real scripts need them.
_SPOOFING = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C,
                           0x200B, 0x2060, 0xFEFF], "\ufffd")
_SPOOFING.update(dict.fromkeys([*range(0x00, 0x20), 0x7F], "\ufffd"))
_SPOOFING.update({0x09: " ", 0x0A: " ", 0x0D: " "})


def clean_text(text: str) -> str:
    """Display form of untrusted text: control characters and the bidi and
    invisible characters above become a visible U+FFFD (tab/newline a space),
    and so does every character no output format may carry (C1 controls,
    surrogates, U+FFFE, U+FFFF and the other noncharacters:
    :func:`~sitegen.site.chars.well_formed`). Jinja autoescaping then handles
    markup. Linear time."""
    return well_formed(text.translate(_SPOOFING))


def json_for_script(obj: Any) -> Markup:
    """JSON safe inside ``<script type="application/ld+json">``: ``<``, ``>``
    and ``&`` are written as ``\\u`` escapes, so no record text can close the
    element (``</script>``) or open a comment. The result is JSON, not HTML."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _arxiv_url(kind: str, arxiv_id: str) -> str:
    return f"https://arxiv.org/{kind}/{urlquote(arxiv_id, safe='/.')}"


def _receipt_view(receipt: Mapping[str, Any]) -> dict[str, str]:
    keys = ("key_id", "public_key_fingerprint", "signature_b64", "signed_message", "signed_at",
            "first_computed_at", "last_reissued_at", "builder_version", "receipt_version",
            "signature_status")
    return {k: clean_text(str(receipt[k])) for k in keys if receipt.get(k) is not None}


def _check_views(document: str, checks: tuple[CheckResult, ...]) -> tuple[CheckView, ...]:
    return tuple(CheckView(document, c.name, c.field, clean_text(c.detail)) for c in checks)


#: The status badges: ``(UI string, flag)`` (``status.<name>`` is the label,
#: ``status.<name>_detail`` the tooltip).
_BADGES = (("content_addressed", "content_addressed"), ("receipt", "pith_receipt"),
           ("attested", "author_attested"), ("anchored", "externally_anchored"),
           ("stored", "storage_verified"), ("refs", "references_resolved"))


def _statuses(flags: Mapping[str, Any], t: Strings) -> tuple[Status, ...]:
    """The status badges. Details name the claim, never that this mirror
    checked it: only the receipt and the canonical hash are verified here."""
    def n(key: str) -> int:
        value = flags.get(key, 0)
        return int(value) if isinstance(value, int) else 0
    badges = tuple(Status(t.text(f"status.{name}"), bool(flags.get(flag)), t.text(f"status.{name}_detail"))
                   for name, flag in _BADGES)
    cites = n("citation_signatures")
    detail = t.text(_counted("status.citations_detail", cites), n=cites)
    citations = Status(t.text("status.citations"), cites > 0, detail)
    return (*badges, citations)


def _completeness(flags: Mapping[str, Any], t: Strings) -> tuple[Step, ...]:
    cites = flags.get("citation_signatures", 0)
    reps = flags.get("replication_records", 0)
    cites = cites if isinstance(cites, int) and not isinstance(cites, bool) else 0
    reps = reps if isinstance(reps, int) and not isinstance(reps, bool) else 0
    steps: tuple[tuple[str, bool, dict[str, int]], ...] = (("anchor", bool(flags.get("externally_anchored")), {}),
             ("archive", bool(flags.get("storage_verified")), {}),
             ("author", bool(flags.get("author_attested")), {}),
             ("citations", cites > 0, {"n": cites}),
             ("replications", reps > 0, {"n": reps}))
    return tuple(Step(i, t.text(f"completeness.{name}"), done,
                      t.text(_counted(f"completeness.{name}_detail", values.get("n")), **values))
                 for i, (name, done, values) in enumerate(steps, 1))


def _counted(key: str, n: int | None) -> str:
    """``key``, or its singular ``key_one`` when the count ``n`` is 1 (the catalogues' plural convention)."""
    return key + "_one" if n == 1 else key


def _flags_from_state(current: Mapping[str, Any]) -> dict[str, Any]:
    """Status flags derived from a verified merged state (its events are signed)."""
    return {
        "content_addressed": True,
        "pith_receipt": current.get("record_created") is not None,
        "author_attested": bool(current.get("author_attestations")),
        "externally_anchored": bool(current.get("timestamp_anchors")),
        "storage_verified": bool(current.get("storage_attestations")),
        "references_resolved": False,
        "citation_signatures": len(current.get("citation_signatures") or ()),
        "replication_records": len(current.get("replication_records") or ()),
        "graph_snapshot": bool(current.get("graph_snapshots")),
    }


def _signed_paper(bundle: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The paper of the newest ``graph_snapshot`` in a verified bundle's merged
    state (a signed event: docs/protocol.md §4.2), or None."""
    if bundle is None:
        return None
    snapshots = bundle["state"]["current"]["graph_snapshots"]
    return snapshots[-1]["payload"]["graph_snapshot"]["paper"] if snapshots else None


def _provenance(paper_source: str, signed_aliases: bool, status_source: str,
                has_citations: bool, t: Strings) -> tuple[Provenance, ...]:
    """One line per group of shown values: where it comes from, what is signed
    (``paper_source``: ``bundle``, ``record`` or ``none``)."""
    rows = [
        Provenance(t.text("provenance.title"), t.text(f"provenance.title_{paper_source}")),
        Provenance(t.text("provenance.paper"), t.text(f"provenance.paper_{paper_source}")),
        Provenance(t.text("provenance.canonical"), t.text("provenance.canonical_source")),
        Provenance(t.text("provenance.aliases"),
                   t.text("provenance.aliases_signed" if signed_aliases else "provenance.aliases_unsigned")),
        Provenance(t.text("provenance.status"), status_source),
    ]
    if has_citations:
        rows.append(Provenance(t.text("provenance.cited_by"), t.text("provenance.cited_by_source")))
    return tuple(rows)


def record_view(entry: MirrorEntry, strings: Strings | None = None) -> RecordView:
    """Build the record page view for a verified entry, preferring signed data
    (module docstring): the bundle's ``graph_snapshot`` paper, merged state and
    aliases over the record's unsigned ``paper``, status and aliases. Labels
    and sentences are ``strings`` (default: English)."""
    t = strings if strings is not None else ui_strings()
    record = entry.record.body if entry.record else None
    bundle = entry.bundle.body if entry.bundle else None
    document = record if record is not None else bundle
    assert document is not None  # a MirrorEntry holds a record, a bundle or both
    cr = document["canonical_record"]
    source, meta = cr["source"], cr["metadata"]
    arxiv_id, version = source["id"], source["version"]

    paper, paper_source = _signed_paper(bundle), "bundle"
    if paper is None:
        paper, paper_source = (record["paper"], "record") if record is not None else (None, "none")
    if bundle is not None:
        current = bundle["state"]["current"]
        aliases = bundle["source_aliases"]
        flags = _flags_from_state(current)
        status_source = t.text("status.source_bundle")
    else:
        assert record is not None
        current = None
        aliases = record["aliases"]
        flags = record["verification_status"]
        status_source = t.text("status.source_record")
    if record is not None:
        receipt = record["receipt"]
    else:
        assert current is not None
        receipt = current["record_created"]["payload"]["receipt"]
    cites = (record.get("inbound_citations") if record is not None else None) or {"count": 0, "sample": []}
    updated_at = record["updated_at"] if record is not None else document["built_at"]

    doi = next((a["alias_value"] for a in aliases if a["alias_kind"] == "doi"),
               f"10.48550/arXiv.{arxiv_id}")
    events: tuple[EventView, ...] = ()
    checks = _check_views(t.text("document.record"), entry.record.report.checks) if entry.record else ()
    if entry.bundle is not None:
        events = tuple(EventView(e["event_type"], e["event_id"], e["created_at"], e["signature"]["key_id"])
                       for e in entry.bundle.body["events"])
        checks += _check_views(t.text("document.bundle"), entry.bundle.report.checks)

    license_text = meta["license"]
    routes = routes_for(entry.suffix)
    authors = parse_authors(clean_text(paper["authors_text"])) if paper else ()
    title_tex = clean_text(paper["title"]) if paper else f"arXiv:{arxiv_id}"
    citing = TexBudget(MAX_CITED_BY_TEX_CHARS)
    cited_by = tuple(Citation(c["citing_arxiv_id"], citing.text(clean_text(c["citing_title"])),
                              _arxiv_url("abs", c["citing_arxiv_id"]))
                     for c in cites["sample"][:MAX_CITED_BY])
    return RecordView(
        suffix=entry.suffix,
        pith_number=entry.pith_number,
        short_pith_number=f"pith:{entry.suffix[:8]}",
        year=entry.pith_number.split(":")[1],
        title_tex=title_tex,
        title=tex_to_text(title_tex),
        title_html=tex_to_html(title_tex),
        authors=tuple(a.name for a in authors),
        author_details=authors,
        abstract_excerpt=tex_to_text(clean_text(paper["abstract_excerpt"])) if paper else "",
        abstract_html=tex_to_html(clean_text(paper["abstract_excerpt"])) if paper else Markup(""),
        headline=tex_to_text(clean_text(paper.get("headline", ""))) if paper else "",
        arxiv_id=arxiv_id,
        version=version,
        arxiv_url=_arxiv_url("abs", arxiv_id),
        arxiv_version_url=_arxiv_url("abs", f"{arxiv_id}v{version}"),
        pdf_url=_arxiv_url("pdf", f"{arxiv_id}v{version}"),
        submitted_at=meta["submitted_at"],
        date=meta["submitted_at"][:10],
        primary_cat=meta["primary_cat"],
        cross_cats=tuple(meta["cross_cats_sorted"]),
        license=clean_text(license_text),
        license_is_url=license_text.startswith(("https://", "http://")),
        doi=doi,
        doi_url=f"https://doi.org/{urlquote(doi, safe='/.')}",
        status_source=status_source,
        paper_source=paper_source,
        provenance_summary=t.text(f"provenance.summary_{paper_source}"),
        provenance=_provenance(paper_source, bundle is not None, status_source, bool(cited_by), t),
        statuses=_statuses(flags, t),
        completeness=_completeness(flags, t),
        receipt=_receipt_view(receipt),
        canonical_sha256=document["canonical_sha256"],
        aliases=tuple((clean_text(a["alias_kind"]), clean_text(a["alias_value"])) for a in aliases),
        canonical_record_json=json.dumps(cr, indent=2, sort_keys=True, ensure_ascii=True),
        cited_by_count=cites["count"],
        cited_by=cited_by,
        events=events,
        checks=checks,
        routes=routes,
        has_record=record is not None,
        has_bundle=bundle is not None,
        verify_source=routes.record_json if record is not None else routes.bundle_json,
        updated_at=updated_at,
    )


def scholarly_article(view: RecordView, base_url: str) -> dict[str, Any]:
    """schema.org ``ScholarlyArticle`` for a record page (docs/protocol.md §6):
    DOI as ``@id``, the arXiv abstract page as ``sameAs``, the Pith Number
    among the identifiers."""
    article: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "@id": view.doi_url,
        "url": base_url + view.routes.page,
        "name": view.title,
        "headline": view.title,
        "author": [{"@type": "Person", "name": a.name,
                    **({"affiliation": [{"@type": "Organization", "name": x} for x in a.affiliations]}
                       if a.affiliations else {})} for a in view.author_details],
        "datePublished": view.date,
        "identifier": [
            {"@type": "PropertyValue", "propertyID": "DOI", "value": view.doi},
            {"@type": "PropertyValue", "propertyID": "arXiv", "value": view.arxiv_id},
            {"@type": "PropertyValue", "propertyID": "Pith Number", "value": view.pith_number},
        ],
        "sameAs": [view.arxiv_url, view.doi_url],
        "about": [view.primary_cat, *view.cross_cats],
    }
    if view.abstract_excerpt:
        article["description"] = view.abstract_excerpt
    if view.license_is_url:
        article["license"] = view.license
    return article

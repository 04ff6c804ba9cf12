"""The URL layout: every path sitegen publishes for a Pith Number, and every
path a document's ``links`` may name — defined once (docs/protocol.md §5, §9).

Paths are built only from values the verifier established: a suffix it
recomputed from the canonical hash (``^[A-Z2-7]{26}$``), an arXiv id and
version that passed the shape check — never from an alias string or a link.
Templates receive these paths through views; they never assemble a route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sitegen.errors import quote
from sitegen.pith.numbers import SHORT_LEN

__all__ = ["check_route", "RESOLVER_HOST", "Routes", "routes_for", "record_link_paths", "bundle_link_paths",
           "alias_paths", "SHORT_LENGTHS", "ARXIV_ALIAS_KINDS", "SHORT_ALIAS_KINDS"]

_BAD_SEGMENT = re.compile(r'[\x00-\x1f\x7f\\:*?"<>|]')
_MAX_SEGMENT, _MAX_PATH = 255, 1024


def check_route(rel: str) -> str:
    """Return ``rel`` if it is a safe relative POSIX path; raise ``ValueError``:
    empty, overlong, absolute, ``.``/``..``/empty segments, backslashes, NUL,
    control or Windows-reserved characters (threat: writing outside the tree)."""
    if not isinstance(rel, str) or not rel or len(rel) > _MAX_PATH:
        raise ValueError("empty or overlong output path")
    if rel.startswith("/"):
        raise ValueError("absolute output path")
    for segment in rel.split("/"):
        if segment in ("", ".", "..") or len(segment) > _MAX_SEGMENT or _BAD_SEGMENT.search(segment):
            raise ValueError(f"unsafe path segment {quote(segment, 40)}")
    return rel


#: The resolver's host: every ``links`` URL in a Pith document names it
#: (observed on every real document, docs/protocol.md §5).
RESOLVER_HOST = "pith.science"
#: Lengths of the short-prefix aliases ``pith_short_<n>`` (docs/protocol.md §2).
SHORT_LENGTHS = (8, 12, 16)
#: Alias kinds grouped by what they are derived from: the arXiv id, or the suffix.
ARXIV_ALIAS_KINDS = ("arxiv", "arxiv_version", "doi")
SHORT_ALIAS_KINDS = tuple(f"pith_short_{n}" for n in SHORT_LENGTHS)


@dataclass(frozen=True)
class Routes:
    """Output paths (relative, POSIX) of one Pith Number.

    Observed (the resolver's layout, docs/protocol.md §5): ``page`` (served as
    ``/pith/S/``; hosts redirect ``/pith/S``), ``record_json``, ``bundle_json``,
    ``state_json``, ``well_known_bundle``, ``graph_json``, ``events_json``.
    Ours: ``well_known_state`` (the state beside the well-known bundle, so a
    client that knows only the well-known path finds both)."""

    page: str
    record_json: str
    bundle_json: str
    state_json: str
    well_known_bundle: str
    well_known_state: str
    graph_json: str
    events_json: str

    @property
    def page_file(self) -> str:
        """The file behind :attr:`page`."""
        return self.page + "index.html"


def routes_for(suffix: str) -> Routes:
    """Routes for ``suffix`` (already validated by the verifier)."""
    return Routes(
        page=f"pith/{suffix}/",
        record_json=f"pith/{suffix}.json",
        bundle_json=f"pith/{suffix}/bundle.json",
        state_json=f"pith/{suffix}/state.json",
        well_known_bundle=f".well-known/pith/{suffix}/bundle.json",
        well_known_state=f".well-known/pith/{suffix}/state.json",
        graph_json=f"api/pith-number/{suffix}/graph.json",
        events_json=f"api/pith-number/{suffix}/events.json",
    )


def record_link_paths(suffix: str) -> dict[str, str]:
    """The resolver paths a record's ``links`` must point at (docs/protocol.md §4.1, §5)."""
    return {
        "html": f"/pith/{suffix}",
        "json": f"/pith/{suffix}.json",
        "graph_json": f"/api/pith-number/{suffix}/graph.json",
        "events_json": f"/api/pith-number/{suffix}/events.json",
        "paper": f"/paper/{suffix[:SHORT_LEN]}",
    }


def bundle_link_paths(suffix: str) -> dict[str, str]:
    """The resolver paths a bundle's ``links`` must point at (docs/protocol.md §4.2, §5)."""
    return {
        "resolver": f"/pith/{suffix}",
        "bundle": f"/pith/{suffix}/bundle.json",
        "state": f"/pith/{suffix}/state.json",
        "well_known_bundle": f"/.well-known/pith/{suffix}/bundle.json",
    }


def alias_paths(arxiv_id: str, version: int, suffix: str) -> list[tuple[str, str, str]]:
    """``(kind, value, path)`` for every alias of one verified Pith Number
    (ours, docs/protocol.md §9): ``arxiv/<id>/``, ``arxiv/<id>v<N>/``,
    ``doi/10.48550/arxiv.<id>/``, ``paper/<prefix>/``."""
    doi = f"10.48550/arxiv.{arxiv_id}"
    return [
        ("arxiv", arxiv_id, f"arxiv/{arxiv_id}/"),
        ("arxiv_version", f"{arxiv_id}v{version}", f"arxiv/{arxiv_id}v{version}/"),
        ("doi", doi, f"doi/{doi}/"),
        *((f"pith_short_{n}", suffix[:n], f"paper/{suffix[:n]}/") for n in SHORT_LENGTHS),
    ]

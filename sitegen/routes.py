"""The mirror's URL layout: output paths for one Pith Number (PROTOCOL.md §5).

Paths are built only from a suffix the verifier recomputed from the canonical
hash (it matches ``^[A-Z2-7]{26}$``), never from a document field.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Routes", "routes_for"]


@dataclass(frozen=True)
class Routes:
    """Output paths (relative, POSIX) for one Pith Number (PROTOCOL.md §5)."""

    page: str
    record_json: str
    bundle_json: str
    state_json: str
    well_known_bundle: str
    well_known_state: str
    graph_json: str
    events_json: str


def routes_for(suffix: str) -> Routes:
    """Routes of the mirror for ``suffix`` (already validated by the verifier)."""
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

"""``pith-open-graph-merge-v1``: recompute a bundle's state from its events.

The resolver promises that any mirror "can recompute the same current state"
(PROTOCOL.md §4.3). What is **observed** (the seed bundle reproduces its
published ``state_sha256`` byte for byte):

* ``current.canonical_record`` and ``current.record_created`` come from the
  ``record`` event; ``record_created`` = ``{event_id, target, created_at,
  signer, payload}``.
* ``current.source_aliases`` is the bundle's ``source_aliases``.
* ``current.graph_snapshots`` lists ``{event_id, target, created_at, signer,
  payload}`` of every ``graph`` event.
* the other slots of ``current`` are empty lists; ``applied_event_ids`` lists
  the valid events in application order.

What is **our design** (the resolver publishes no rule for it):

* Application order is ``(created_at, target rank, event_id)`` with ``record``
  first — independent of the order of events in the file.
* An event is valid iff it passes :func:`sitegen.events.verify_event`; invalid
  events are counted and listed as ``{event_id, reasons}``, never applied. An
  event id seen twice is applied once.
* Two different valid ``record`` events are an equivocation: the first in
  application order wins, both ids are listed.
* With no valid ``record`` event, ``canonical_record`` and ``record_created``
  are ``null``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from sitegen import protocol, schema
from sitegen.events import verify_event
from sitegen.model import Keyring

__all__ = ["MERGE_VERSION", "STATE_VERSION", "merge"]

MERGE_VERSION = "pith-open-graph-merge-v1"
STATE_VERSION = "1.0"

_TARGET_RANK = {"record": 0, "graph": 1}
_EMPTY_SLOTS = ("author_attestations", "timestamp_anchors", "storage_attestations",
                "citation_signatures", "replication_records", "corrections", "mirror_hints")


def _entry(event: Mapping[str, Any]) -> dict[str, Any]:
    return {key: event[key] for key in ("event_id", "target", "created_at", "signer", "payload")}


def _event_reasons(event: Any, keyring: Keyring, subject: str, index: int) -> list[str]:
    problems = schema.validate(event, schema.EVENT, f"events[{index}]")
    if problems:
        return [f"{path}: {message}" for path, message in problems]
    return [f"{r.field}: {r.detail}" for r in verify_event(event, keyring=keyring, subject=subject,
                                                             field=f"events[{index}]") if not r.ok]


def merge(events: Sequence[Any], source_aliases: Sequence[Any], keyring: Keyring, *,
          pith_number: str) -> dict[str, Any]:
    """Replay ``events`` into a ``pith_open_graph_state`` for ``pith_number``.

    Pure: depends only on its arguments, not on the order of ``events``.
    Returns the state as a JSON-ready dict including ``state_sha256``
    (PROTOCOL.md §4.2–4.3; the rules are in this module's docstring).
    """
    valid: dict[str, Mapping[str, Any]] = {}
    invalid: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        reasons = _event_reasons(event, keyring, pith_number, index)
        if reasons:
            event_id = event.get("event_id") if isinstance(event, dict) else None
            invalid.append({"event_id": event_id if isinstance(event_id, str) else None,
                            "reasons": reasons})
        else:
            valid.setdefault(event["event_id"], event)
    ordered = sorted(valid.values(),
                     key=lambda e: (e["created_at"], _TARGET_RANK.get(e["target"], 99), e["event_id"]))

    record_event: Mapping[str, Any] | None = None
    equivocations: list[dict[str, Any]] = []
    graph_snapshots: list[dict[str, Any]] = []
    applied: list[str] = []
    for event in ordered:
        if event["target"] == "record":
            if record_event is not None:
                equivocations.append({"target": "record",
                                      "event_ids": [record_event["event_id"], event["event_id"]]})
                continue
            record_event = event
        elif event["target"] == "graph":
            graph_snapshots.append(_entry(event))
        applied.append(event["event_id"])

    current: dict[str, Any] = {
        "canonical_record": record_event["payload"]["canonical_record"] if record_event else None,
        "source_aliases": list(source_aliases),
        "graph_snapshots": graph_snapshots,
        **{slot: [] for slot in _EMPTY_SLOTS},
        "record_created": _entry(record_event) if record_event else None,
    }
    state: dict[str, Any] = {
        "state_type": "pith_open_graph_state",
        "state_version": STATE_VERSION,
        "pith_number": pith_number,
        "merge_version": MERGE_VERSION,
        "event_count": len(events),
        "valid_event_count": len(valid),
        "invalid_event_count": len(invalid),
        "equivocation_count": len(equivocations),
        "current": current,
        "equivocations": equivocations,
        "invalid_events": invalid,
        "applied_event_ids": applied,
    }
    state["state_sha256"] = protocol.state_sha256(state)
    return state

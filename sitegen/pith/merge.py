"""``pith-open-graph-merge-v1``: recompute a bundle's state from its events.

The specification, with each rule marked observed (reproduced from the real
seed bundle) or ours, is docs/merge.md; this module follows it section by
section. Summary: events valid on their own (the caller says which, having
verified them: :func:`sitegen.verify.event.event_reasons`) are applied in
``(created_at, target rank, event_id)`` order; ``prev_event`` chains are
per (target, signer); a fork of a chain, or a second record event that does
not supersede the first, is an equivocation; ``supersedes`` removes a
signer's own earlier entries; invalid events are listed, never applied. The
result does not depend on the order of events in the file.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sitegen.pith.canonical import canonical_json, state_sha256
from sitegen.pith.events import TARGET_SLOTS

__all__ = ["MERGE_VERSION", "STATE_VERSION", "merge"]

MERGE_VERSION = "pith-open-graph-merge-v1"
STATE_VERSION = "1.0"

#: docs/merge.md §3: application order of targets at equal ``created_at``.
_TARGET_RANK = {target: rank for rank, target in enumerate(TARGET_SLOTS)}


_POSITION = re.compile(r"^events\[\d+\]")


def _entry(event: Mapping[str, Any]) -> dict[str, Any]:
    return {key: event[key] for key in ("event_id", "target", "created_at", "signer", "payload")}


def _application_order(valid: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """docs/merge.md §3: a topological order — an event never precedes the
    events its ``prev_event`` and ``supersedes`` name — taking, among the
    events whose dependencies are placed, the smallest
    ``(created_at, target rank, event_id)`` first."""
    def key(e: Mapping[str, Any]) -> tuple[str, int, str]:
        return (e["created_at"], _TARGET_RANK[e["target"]], e["event_id"])

    waits: dict[str, set[str]] = {}
    children: dict[str, list[str]] = {}
    for eid, e in valid.items():
        deps = {d for d in (e["prev_event"], *e["supersedes"]) if d in valid and d != eid}
        waits[eid] = deps
        for d in deps:
            children.setdefault(d, []).append(eid)
    ready = [key(valid[eid]) for eid, deps in waits.items() if not deps]
    heapq.heapify(ready)
    order: list[Mapping[str, Any]] = []
    placed: set[str] = set()
    while len(order) < len(valid):
        if not ready:  # unreachable for hashed events (a cycle needs a hash fixpoint); stay total
            eid = min((k for k in waits if k not in placed), key=lambda k: key(valid[k]))
            waits[eid] = set()
            heapq.heappush(ready, key(valid[eid]))
        eid = heapq.heappop(ready)[2]
        if eid in placed:
            continue
        placed.add(eid)
        order.append(valid[eid])
        for child in children.get(eid, ()):
            waits[child].discard(eid)
            if not waits[child]:
                heapq.heappush(ready, key(valid[child]))
    return order


def merge(events: Sequence[Any], source_aliases: Sequence[Any], *, pith_number: str,
          reasons: Sequence[list[str]]) -> dict[str, Any]:
    """Replay ``events`` into a ``pith_open_graph_state`` for ``pith_number``.

    Pure: depends only on its arguments, not on the order of ``events``.
    ``reasons[i]`` is what docs/merge.md §2 found wrong with ``events[i]``
    (``["<field>: <problem>", …]``, empty when valid); only a valid event
    is read beyond its ``event_id``.
    Returns the state as a JSON-ready dict including ``state_sha256``
    (docs/protocol.md §4.2–4.3, docs/merge.md).
    """
    # §2 validity on its own; identical ids are one event.
    valid: dict[str, Mapping[str, Any]] = {}
    invalid: dict[tuple[str, bytes], dict[str, Any]] = {}
    for index, event in enumerate(events):
        why = reasons[index]
        event_id = event.get("event_id") if isinstance(event, dict) else None
        event_id = event_id if isinstance(event_id, str) else None
        if why:
            # Reasons name the event's position; the key ignores it so a reordered file merges the same.
            key = (event_id or "", canonical_json(event) if event_id is None else b"")
            invalid.setdefault(key, {"event_id": event_id, "reasons": [_POSITION.sub("event", r) for r in why]})
        else:
            valid.setdefault(cast(str, event_id), event)  # §2: a valid event has a string event_id

    ordered = _application_order(valid)

    # §4 application.
    slots: dict[str, list[dict[str, Any]]] = {slot: [] for target, slot in TARGET_SLOTS.items() if target != "record"}
    record_event: Mapping[str, Any] | None = None
    applied: list[str] = []
    applied_by_id: dict[str, Mapping[str, Any]] = {}
    superseded: set[str] = set()
    chain_heads: dict[tuple[str, str, str], str] = {}  # (target, signer, prev_event) → first child
    equivocations: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []

    def same_log(other: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
        return bool(other["target"] == event["target"]
                    and other["signer"]["signer_id"] == event["signer"]["signer_id"])

    for event in ordered:
        eid, target, signer = event["event_id"], event["target"], event["signer"]["signer_id"]
        prev = event["prev_event"]
        # §4.1 prev_event names an earlier applied event of the same log.
        if prev is not None and not (prev in applied_by_id and same_log(applied_by_id[prev], event)):
            rejected.append({"event_id": eid, "reasons": [f"prev_event {prev} is not an earlier applied event "
                                                           "of the same target and signer"]})
            continue
        # §4.3 supersedes only the signer's own applied, live entries of the same target.
        bad = [s for s in event["supersedes"]
               if not (s in applied_by_id and s not in superseded and same_log(applied_by_id[s], event))]
        if bad:
            rejected.append({"event_id": eid, "reasons": [f"supersedes {s}, which is not a live applied event "
                                                           "of the same target and signer" for s in bad]})
            continue
        # §4.2 a fork of a chain is an equivocation.
        if prev is not None:
            first = chain_heads.get((target, signer, prev))
            if first is not None:
                equivocations.append({"target": target, "signer_id": signer, "prev_event": prev,
                                      "event_ids": [first, eid]})
                continue
            chain_heads[(target, signer, prev)] = eid
        # §4.4 the record slot holds one event unless superseded.
        if target == "record" and record_event is not None and record_event["event_id"] not in event["supersedes"]:
            equivocations.append({"target": target, "signer_id": signer, "prev_event": prev,
                                  "event_ids": [record_event["event_id"], eid]})
            continue
        superseded.update(event["supersedes"])
        # §4.5 apply.
        if target == "record":
            record_event = event
        else:
            slot = slots[TARGET_SLOTS[target]]
            slot[:] = [e for e in slot if e["event_id"] not in event["supersedes"]]
            slot.append(_entry(event))
        applied.append(eid)
        applied_by_id[eid] = event

    invalid_list = sorted([*invalid.values(), *rejected], key=lambda e: (e["event_id"] or "", e["reasons"]))
    current: dict[str, Any] = {
        "canonical_record": record_event["payload"]["canonical_record"] if record_event else None,
        "source_aliases": list(source_aliases),
        **slots,
        "record_created": _entry(record_event) if record_event else None,
    }
    state: dict[str, Any] = {
        "state_type": "pith_open_graph_state",
        "state_version": STATE_VERSION,
        "pith_number": pith_number,
        "merge_version": MERGE_VERSION,
        "event_count": len(events),
        "valid_event_count": len(valid) - len(rejected),
        "invalid_event_count": len(invalid_list),
        "equivocation_count": len(equivocations),
        "current": current,
        "equivocations": sorted(equivocations, key=lambda e: e["event_ids"]),
        "invalid_events": invalid_list,
        "applied_event_ids": applied,
    }
    state["state_sha256"] = state_sha256(state)
    return state

"""Open-graph event kinds: what each event type targets, where it lands in
``state.current``, and the payload shape it must carry (docs/protocol.md §4.2,
§8). Pure data; the checks that use it are in :mod:`sitegen.verify.event`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sitegen.pith import shapes

__all__ = ["EVENT_TARGETS", "TARGET_SLOTS", "CITATION_RELATIONSHIPS", "PAYLOADS"]

#: target → its slot in ``state.current``, in application rank order
#: (docs/merge.md §1, §3). The slot names are observed in the seed state.
TARGET_SLOTS: Mapping[str, str] = {
    "record": "record_created",
    "graph": "graph_snapshots",
    "author": "author_attestations",
    "timestamp": "timestamp_anchors",
    "storage": "storage_attestations",
    "citation": "citation_signatures",
    "replication": "replication_records",
    "correction": "corrections",
    "mirror": "mirror_hints",
}

#: event_type → the target it must name. The first two are observed in the
#: seed bundle (docs/protocol.md §4.2); the others are ours (docs/merge.md §1).
EVENT_TARGETS: Mapping[str, str] = {
    "record_created": "record",
    "graph_snapshot": "graph",
    "author_attestation": "author",
    "timestamp_anchor": "timestamp",
    "storage_attestation": "storage",
    "citation_signature": "citation",
    "replication_record": "replication",
    "correction": "correction",
    "mirror_hint": "mirror",
}

#: Citation relationships a ``citation_signature`` may name (docs/merge.md §2).
CITATION_RELATIONSHIPS = ("supports", "refutes", "extends", "uses_method", "depends_on", "replaces",
                          "compares", "cites")

PAYLOADS: Mapping[str, Any] = {
    "record_created": {
        "canonical_record": shapes.CANONICAL_RECORD,
        "canonical_sha256": shapes.HEX64,
        "receipt": shapes.RECEIPT,
        "source_kind": shapes.Const("arxiv"),
        "source_id": shapes.ARXIV_ID,
        "source_version": int,
        "attestation_state": shapes.Opt(str),
    },
    "graph_snapshot": {
        "graph_snapshot": {"paper": shapes.PAPER, "source": shapes.SOURCE},
    },
    "citation_signature": {
        "relationship": shapes.Regex(re.compile(rf"\A(?:{'|'.join(CITATION_RELATIONSHIPS)})\Z"),
                                     "one of " + ", ".join(CITATION_RELATIONSHIPS)),
    },
    **{kind: {} for kind in ("author_attestation", "timestamp_anchor", "storage_attestation",
                             "replication_record", "correction", "mirror_hint")},
}

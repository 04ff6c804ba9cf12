"""Open-graph events: the checks that make one event valid (PROTOCOL.md §4.2).

Used by the merge (to decide which events apply) and by the bundle verifier
(to report why an event is invalid). A valid event has a correct content hash
and event id, names the bundle's Pith Number as subject, is signed by a
trusted key over its raw content digest, and carries a payload of the shape
its event type requires.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from sitegen import protocol, schema
from sitegen.checks import Checks, check_signature
from sitegen.model import CheckResult, Keyring

__all__ = ["EVENT_TARGETS", "TARGET_SLOTS", "CITATION_RELATIONSHIPS", "verify_event"]

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
#: seed bundle (PROTOCOL.md §4.2); the others are ours (docs/merge.md §1).
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

#: Citation relationships the resolver describes (PROTOCOL.md §4.3).
CITATION_RELATIONSHIPS = ("supports", "refutes", "extends", "uses_method", "depends_on", "replaces",
                          "compares", "cites")

_PAYLOADS = {
    "record_created": {
        "canonical_record": schema.CANONICAL_RECORD,
        "canonical_sha256": schema.HEX64,
        "receipt": schema.RECEIPT,
        "source_kind": schema.Const("arxiv"),
        "source_id": schema.ARXIV_ID,
        "source_version": int,
        "attestation_state": schema.Opt(str),
    },
    "graph_snapshot": {
        "graph_snapshot": {"paper": schema.PAPER, "source": schema.SOURCE},
    },
    "citation_signature": {
        "relationship": schema.Regex(re.compile(rf"\A(?:{'|'.join(CITATION_RELATIONSHIPS)})\Z"),
                                     "one of " + ", ".join(CITATION_RELATIONSHIPS)),
    },
    **{kind: {} for kind in ("author_attestation", "timestamp_anchor", "storage_attestation",
                             "replication_record", "correction", "mirror_hint")},
}


def verify_event(event: Mapping[str, Any], *, keyring: Keyring, subject: str,
                 field: str) -> list[CheckResult]:
    """Run every event-level check on ``event`` (already schema-checked as
    :data:`sitegen.schema.EVENT`); return the results. ``field`` is the event's
    path in its document (``events[1]``), ``subject`` the bundle's Pith Number.
    """
    checks = Checks()
    digest = protocol.event_content_sha256(event)
    # Threat: an event whose content was changed after signing.
    checks.equal("event.content_sha256", f"{field}.content_sha256", event["content_sha256"], digest,
                 expected_what="the event content hashes to", passed=f"content hashes to {digest}")
    checks.equal("event.event_id", f"{field}.event_id", event["event_id"], f"sha256:{digest}",
                 expected_what="expected")
    # Threat: mix-and-match — an authentic event of another record spliced in.
    checks.equal("event.subject", f"{field}.subject_pith_number", event["subject_pith_number"], subject,
                 expected_what="the bundle's Pith Number is")
    sig, signer = event["signature"], event["signer"]
    # Threat: an event claiming one signer while signed by another key.
    checks.equal("event.signer", f"{field}.signature.key_id", sig["key_id"], signer["key_id"],
                 expected_what="signer.key_id is")
    checks.equal("event.signer", f"{field}.signature.public_key_fingerprint",
                 sig["public_key_fingerprint"], signer["public_key_fingerprint"],
                 expected_what="signer.public_key_fingerprint is")
    check_signature(checks, "event", f"{field}.signature", keyring=keyring, block=sig,
                    digest_hex=digest, what="the event content hash",
                    signed_at=event["created_at"], date_field=f"{field}.created_at")
    etype, target = event["event_type"], event["target"]
    known = etype in EVENT_TARGETS
    if checks.add("event.type", f"{field}.event_type", known,
                  f"unsupported event type {etype!r} (supported: {', '.join(EVENT_TARGETS)})",
                  f"{etype}"):
        checks.equal("event.target", f"{field}.target", target, EVENT_TARGETS[etype],
                     expected_what=f"{etype} events target")
        problems = schema.validate(event["payload"], _PAYLOADS[etype], f"{field}.payload")
        for path, message in problems:
            checks.add("event.payload", path, False, message)
        if not problems:
            checks.add("event.payload", f"{field}.payload", True, "", f"{etype} payload is well-formed")
    return checks.results

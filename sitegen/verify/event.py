"""Open-graph events: the checks that make one event valid (docs/protocol.md §4.2).

The bundle verifier reports them, and hands the merge (:mod:`sitegen.pith.merge`)
what it found, so the merge knows which events apply. A valid event has a correct content hash
and event id, names the bundle's Pith Number as subject, is signed by a
trusted key over its raw content digest, and carries a payload of the shape
its event type requires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sitegen.model import CheckResult, Keyring
from sitegen.pith import canonical, shapes
from sitegen.pith.events import EVENT_TARGETS, PAYLOADS
from sitegen.pith.merge import merge
from sitegen.verify.checks import Checks, check_signature

__all__ = ["verify_event", "event_reasons", "merge_events"]

def verify_event(event: Mapping[str, Any], *, keyring: Keyring, subject: str,
                 field: str) -> list[CheckResult]:
    """Run every event-level check on ``event`` (already schema-checked as
    :data:`sitegen.pith.shapes.EVENT`); return the results. ``field`` is the event's
    path in its document (``events[1]``), ``subject`` the bundle's Pith Number.
    """
    checks = Checks()
    digest = canonical.event_content_sha256(event)
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
        problems = shapes.validate(event["payload"], PAYLOADS[etype], f"{field}.payload")
        for path, message in problems:
            checks.add("event.payload", path, False, message)
        if not problems:
            checks.add("event.payload", f"{field}.payload", True, "", f"{etype} payload is well-formed")
    return checks.results


def event_reasons(event: Any, *, keyring: Keyring, subject: str, index: int) -> list[str]:
    """Why ``event`` (at ``events[index]``) is not valid on its own, as
    ``"<field>: <problem>"`` lines; ``[]`` when it is (docs/merge.md §2)."""
    problems = shapes.validate(event, shapes.EVENT, f"events[{index}]")
    if problems:
        return [f"{path}: {message}" for path, message in problems]
    return [f"{r.field}: {r.detail}" for r in verify_event(event, keyring=keyring, subject=subject,
                                                             field=f"events[{index}]") if not r.ok]


def merge_events(events: Sequence[Any], source_aliases: Sequence[Any], keyring: Keyring, *,
                 pith_number: str) -> dict[str, Any]:
    """Verify every event, then replay them with :func:`sitegen.pith.merge.merge`:
    the state a mirror recomputes for a bundle (docs/merge.md)."""
    reasons = [event_reasons(e, keyring=keyring, subject=pith_number, index=i) for i, e in enumerate(events)]
    return merge(events, source_aliases, pith_number=pith_number, reasons=reasons)

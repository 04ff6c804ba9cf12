"""Verify one ``pith_open_graph_bundle`` (docs/protocol.md §1–4.3).

Shape → canonical identity → embedded keys against the keyring → every event
→ the record receipt inside the ``record`` event → bundle signature → state
hash → replay of the events with :func:`sitegen.pith.merge.merge`, which must
reproduce the published state exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sitegen.errors import quote
from sitegen.model import DocumentReport, Keyring, ParsedDocument, VerifiedBundle
from sitegen.pith import canonical, shapes
from sitegen.pith.merge import MERGE_VERSION, merge
from sitegen.pith.numbers import format_pith_number
from sitegen.pith.routes import bundle_link_paths
from sitegen.verify.checks import (
    Checks,
    check_aliases,
    check_canonical_identity,
    check_embedded_key,
    check_links,
    check_paper,
    check_receipt,
    check_schema,
    check_signature,
)
from sitegen.verify.event import verify_event

__all__ = ["verify_bundle", "state_differences"]


def state_differences(published: Any, replayed: Any, path: str = "state") -> list[str]:
    """Field-by-field differences between two JSON values, as dotted paths
    with both values quoted; at most the first 20."""
    out: list[str] = []

    def walk(a: Any, b: Any, p: str) -> None:
        if len(out) >= 20:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if k not in a:
                    out.append(f"{p}.{k}: missing from the published state")
                elif k not in b:
                    out.append(f"{p}.{k}: not produced by the merge")
                else:
                    walk(a[k], b[k], f"{p}.{k}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{p}[{i}]")
        elif canonical.canonical_json(a) != canonical.canonical_json(b):
            out.append(f"{p}: published {quote(a, 60)}, merge gives {quote(b, 60)}")

    walk(published, replayed, path)
    return out


def _check_record_event(checks: Checks, field: str, payload: Mapping[str, Any], *,
                        bundle: Mapping[str, Any], digest: str, keyring: Keyring) -> None:
    cr = bundle["canonical_record"]
    checks.equal("bundle.record_event", f"{field}.payload.canonical_record", payload["canonical_record"],
                 cr, expected_what="the bundle's canonical_record is")
    checks.equal("bundle.record_event", f"{field}.payload.canonical_sha256", payload["canonical_sha256"],
                 digest, expected_what="canonical_record hashes to")
    source = cr["source"]
    for key in ("kind", "id", "version"):
        checks.equal("bundle.record_event", f"{field}.payload.source_{key}", payload[f"source_{key}"],
                     source[key], expected_what=f"canonical_record.source.{key} is")
    check_receipt(checks, "bundle.receipt", f"{field}.payload.receipt", keyring=keyring,
                  receipt=payload["receipt"], digest_hex=digest)


def verify_bundle(doc: ParsedDocument, keyring: Keyring) -> tuple[DocumentReport, VerifiedBundle | None]:
    """Run every bundle check on ``doc``; never raises for bad input."""
    body = doc.body
    checks = Checks()
    if not check_schema(checks, "bundle.schema", body, shapes.BUNDLE):
        return DocumentReport(doc.source.rel, "bundle", None, tuple(checks.results)), None

    cr = body["canonical_record"]
    digest, suffix = check_canonical_identity(checks, "bundle", body)
    pith_number = format_pith_number(cr["metadata"]["submitted_at"][:4], suffix)
    check_aliases(checks, "bundle", "source_aliases", body["source_aliases"], cr["source"], suffix)
    check_links(checks, "bundle", "links", body["links"], bundle_link_paths(suffix))
    for i, key in enumerate(body["public_keys"]):
        check_embedded_key(checks, "bundle", f"public_keys[{i}]", key, keyring)

    record_events = 0
    own_reasons: list[list[str]] = []  # handed to the merge, which would otherwise verify each event again
    for i, event in enumerate(body["events"]):
        field = f"events[{i}]"
        results = verify_event(event, keyring=keyring, subject=pith_number, field=field)
        checks.extend(results)
        own_reasons.append([f"{r.field}: {r.detail}" for r in results if not r.ok])
        if own_reasons[-1]:
            continue
        payload = event["payload"]
        if event["event_type"] == "record_created":
            record_events += 1
            _check_record_event(checks, field, payload, bundle=body, digest=digest, keyring=keyring)
        elif event["event_type"] == "graph_snapshot":
            snap = payload["graph_snapshot"]
            check_paper(checks, "bundle.graph_snapshot", f"{field}.payload.graph_snapshot.paper",
                        snap["paper"], cr["metadata"])
            checks.equal("bundle.graph_snapshot", f"{field}.payload.graph_snapshot.source",
                         snap["source"], cr["source"], expected_what="canonical_record.source is")
    checks.add("bundle.record_event", "events", record_events >= 1,
               "has no valid record_created event", f"{record_events} record_created event(s)")

    signature = body["bundle_signature"]
    bundle_digest = canonical.bundle_sha256(body)
    checks.equal("bundle.bundle_sha256", "bundle_signature.bundle_sha256", signature["bundle_sha256"],
                 bundle_digest, expected_what="the bundle hashes to",
                 passed=f"bundle hashes to {bundle_digest}")
    check_signature(checks, "bundle.signature", "bundle_signature", keyring=keyring, block=signature,
                    digest_hex=bundle_digest, what="the bundle hash", signed_at=body["built_at"],
                    date_field="built_at")

    state = body["state"]
    computed_state_hash = canonical.state_sha256(state)
    checks.equal("bundle.state_sha256", "state.state_sha256", state["state_sha256"], computed_state_hash,
                 expected_what="the state hashes to", passed=f"state hashes to {computed_state_hash}")
    checks.equal("bundle.state.pith_number", "state.pith_number", state["pith_number"], pith_number,
                 expected_what="the bundle's Pith Number is")
    checks.equal("bundle.merge_version", "merge_version", body["merge_version"], MERGE_VERSION,
                 expected_what="the supported merge is")
    checks.equal("bundle.merge_version", "state.merge_version", state["merge_version"], MERGE_VERSION,
                 expected_what="the supported merge is")
    checks.equal("bundle.state.canonical_record", "state.current.canonical_record",
                 state["current"].get("canonical_record"), cr,
                 expected_what="the bundle's canonical_record is")
    replayed = merge(body["events"], body["source_aliases"], pith_number=pith_number, reasons=own_reasons)
    diffs = state_differences(state, replayed)
    if diffs:
        for diff in diffs:
            field, _, message = diff.partition(": ")
            checks.add("bundle.state.replay", field, False, f"{message} (replaying the events)")
    else:
        checks.add("bundle.state.replay", "state", True, "",
                   f"replaying {len(body['events'])} events reproduces state_sha256 {replayed['state_sha256']}")

    report = DocumentReport(doc.source.rel, "bundle", pith_number, tuple(checks.results))
    if not report.ok:
        return report, None
    return report, VerifiedBundle(source=doc.source, body=body, suffix=suffix, pith_number=pith_number,
                                  state_json=canonical.canonical_json(state), report=report)

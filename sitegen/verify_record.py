"""Verify one ``pith_number_record`` (PROTOCOL.md §1–4.1).

Cheap checks first: shape → canonical hash and Pith Number → trusted key →
signature → consistency of the unsigned fields with the signed canonical
record. Returns a report listing every check, and a :class:`VerifiedRecord`
only when all pass.
"""

from __future__ import annotations

from sitegen import schema
from sitegen.checks import (Checks, check_aliases, check_canonical_identity, check_links,
                            check_paper, check_receipt, check_schema)
from sitegen.events import verify_event
from sitegen.model import DocumentReport, Keyring, ParsedDocument, VerifiedRecord

__all__ = ["verify_record", "record_link_paths"]


def record_link_paths(suffix: str) -> dict[str, str]:
    """The resolver paths a record's ``links`` must point at (PROTOCOL.md §5)."""
    return {
        "html": f"/pith/{suffix}",
        "json": f"/pith/{suffix}.json",
        "graph_json": f"/api/pith-number/{suffix}/graph.json",
        "events_json": f"/api/pith-number/{suffix}/events.json",
        "paper": f"/paper/{suffix[:8]}",
    }


def verify_record(doc: ParsedDocument, keyring: Keyring) -> tuple[DocumentReport, VerifiedRecord | None]:
    """Run every record check on ``doc``; never raises for bad input."""
    body = doc.body
    checks = Checks()
    if not check_schema(checks, "record.schema", body, schema.RECORD):
        return DocumentReport(doc.source.rel, "record", None, tuple(checks.results)), None

    cr = body["canonical_record"]
    digest, suffix = check_canonical_identity(checks, "record", body)
    pith_number = f"pith:{cr['metadata']['submitted_at'][:4]}:{suffix}"

    check_receipt(checks, "record.receipt", "receipt", keyring=keyring, receipt=body["receipt"],
                  digest_hex=digest)

    check_paper(checks, "record.paper", "paper", body["paper"], cr["metadata"])
    check_aliases(checks, "record", "aliases", body["aliases"], cr["source"], suffix)
    check_links(checks, "record", "links", body["links"], record_link_paths(suffix))
    for i, event in enumerate(body["events"]):
        shape = schema.validate(event, schema.EVENT, f"events[{i}]")
        for path, message in shape:
            checks.add("event.schema", path, False, message)
        if not shape:
            checks.extend(verify_event(event, keyring=keyring, subject=pith_number, field=f"events[{i}]"))

    report = DocumentReport(doc.source.rel, "record", pith_number, tuple(checks.results))
    if not report.ok:
        return report, None
    return report, VerifiedRecord(source=doc.source, body=body, suffix=suffix,
                                  pith_number=pith_number, report=report)

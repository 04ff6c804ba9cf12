"""Verify one ``pith_number_record`` (docs/protocol.md §1–4.1).

Cheap checks first: shape → canonical hash and Pith Number → trusted key →
signature → consistency of the unsigned fields with the signed canonical
record. Returns a report listing every check, and a :class:`VerifiedRecord`
only when all pass.
"""

from __future__ import annotations

from sitegen.model import DocumentReport, Keyring, ParsedDocument, VerifiedRecord
from sitegen.pith import shapes
from sitegen.pith.numbers import format_pith_number
from sitegen.pith.routes import record_link_paths
from sitegen.verify.checks import (
    Checks,
    check_aliases,
    check_canonical_identity,
    check_links,
    check_paper,
    check_receipt,
    check_schema,
)
from sitegen.verify.event import verify_event

__all__ = ["verify_record"]


def verify_record(doc: ParsedDocument, keyring: Keyring) -> tuple[DocumentReport, VerifiedRecord | None]:
    """Run every record check on ``doc``; never raises for bad input."""
    body = doc.body
    checks = Checks()
    if not check_schema(checks, "record.schema", body, shapes.RECORD):
        return DocumentReport(doc.source.rel, "record", None, tuple(checks.results)), None

    cr = body["canonical_record"]
    digest, suffix = check_canonical_identity(checks, "record", body)
    pith_number = format_pith_number(cr["metadata"]["submitted_at"][:4], suffix)

    check_receipt(checks, "record.receipt", "receipt", keyring=keyring, receipt=body["receipt"],
                  digest_hex=digest)

    check_paper(checks, "record.paper", "paper", body["paper"], cr["metadata"])
    check_aliases(checks, "record", "aliases", body["aliases"], cr["source"], suffix)
    check_links(checks, "record", "links", body["links"], record_link_paths(suffix))
    for i, event in enumerate(body["events"]):
        shape = shapes.validate(event, shapes.EVENT, f"events[{i}]")
        for path, message in shape:
            checks.add("event.schema", path, False, message)
        if not shape:
            checks.extend(verify_event(event, keyring=keyring, subject=pith_number, field=f"events[{i}]"))

    report = DocumentReport(doc.source.rel, "record", pith_number, tuple(checks.results))
    if not report.ok:
        return report, None
    return report, VerifiedRecord(source=doc.source, body=body, suffix=suffix,
                                  pith_number=pith_number, report=report)

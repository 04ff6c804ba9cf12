"""Verify stage: every parsed document, then agreement between documents.

Contract: :func:`verify_documents` takes parsed documents and the keyring and
returns a report per document, the :class:`MirrorEntry` values that may be
published (one per Pith Number, built only from documents that passed every
check), and the problems found. It never raises for bad input.

Cross-document rules (ours, docs/protocol.md §4 says records and bundles describe
the same canonical record):
* two records, or two bundles, for one Pith Number are a conflict — both are
  rejected (threat: one mirror path, two competing documents);
* a record and a bundle for one Pith Number must agree on the canonical
  record, its hash, source and receipt signature (threat: mix-and-match).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from sitegen.errors import Problem
from sitegen.model import (
    CheckResult,
    DocumentReport,
    Keyring,
    MirrorEntry,
    ParsedDocument,
    VerifiedBundle,
    VerifiedRecord,
)
from sitegen.verify.bundle import verify_bundle
from sitegen.verify.record import verify_record

__all__ = ["verify_documents", "verify_document"]


def verify_document(doc: ParsedDocument,
                    keyring: Keyring) -> tuple[DocumentReport, VerifiedRecord | VerifiedBundle | None]:
    """Verify one parsed document: ``(report, verified-or-None)``."""
    if doc.kind == "record":
        return verify_record(doc, keyring)
    return verify_bundle(doc, keyring)


def _fail(report: DocumentReport, name: str, field: str, message: str) -> DocumentReport:
    return replace(report, checks=(*report.checks, CheckResult(name, field, False, message)))


def _agreement(record: VerifiedRecord, bundle: VerifiedBundle) -> list[tuple[str, str]]:
    r, b = record.body, bundle.body
    out = []
    for field in ("canonical_record", "canonical_sha256", "source"):
        if r[field] != b[field]:
            out.append((field, f"differs from {bundle.source.rel}"))
    receipt = next(e["payload"]["receipt"] for e in b["events"] if e["event_type"] == "record_created")
    if r["receipt"]["signature_b64"] != receipt["signature_b64"] or r["receipt"]["key_id"] != receipt["key_id"]:
        out.append(("receipt.signature_b64", f"differs from the record_created receipt in {bundle.source.rel}"))
    return out


def verify_documents(docs: list[ParsedDocument], keyring: Keyring
                     ) -> tuple[list[DocumentReport], list[MirrorEntry], list[Problem]]:
    """Verify ``docs`` and group the verified ones by Pith Number.

    Returns ``(reports, entries, problems)``: ``reports`` in input order,
    ``entries`` sorted by suffix, ``problems`` one per failed check.
    """
    reports: dict[str, DocumentReport] = {}
    records: dict[str, list[VerifiedRecord]] = defaultdict(list)
    bundles: dict[str, list[VerifiedBundle]] = defaultdict(list)
    for doc in docs:
        report, verified = verify_document(doc, keyring)
        reports[doc.source.rel] = report
        if isinstance(verified, VerifiedRecord):
            records[verified.suffix].append(verified)
        elif isinstance(verified, VerifiedBundle):
            bundles[verified.suffix].append(verified)

    entries: list[MirrorEntry] = []
    for suffix in sorted(set(records) | set(bundles)):
        rs, bs = records.get(suffix, []), bundles.get(suffix, [])
        rejected = False
        for group in (rs, bs):
            if len(group) > 1:
                rejected = True
                names = ", ".join(v.source.rel for v in group)
                for v in group:
                    reports[v.source.rel] = _fail(reports[v.source.rel], "mirror.unique", "pith_number",
                                                  f"{v.pith_number} is claimed by {len(group)} "
                                                  f"documents of the same type ({names})")
        if rejected:
            continue
        record, bundle = (rs[0] if rs else None), (bs[0] if bs else None)
        if record and bundle:
            disagreements = _agreement(record, bundle)
            if disagreements:
                for field, message in disagreements:
                    reports[record.source.rel] = _fail(reports[record.source.rel], "mirror.agreement",
                                                       field, message)
                reports[bundle.source.rel] = _fail(reports[bundle.source.rel], "mirror.agreement", "",
                                                   f"disagrees with the record {record.source.rel}")
                continue
            record = replace(record, report=reports[record.source.rel])
            bundle = replace(bundle, report=reports[bundle.source.rel])
        first = record or bundle
        assert first is not None  # every group holds a record or a bundle
        pn = first.pith_number
        entries.append(MirrorEntry(suffix=suffix, pith_number=pn, record=record, bundle=bundle))

    ordered = [reports[d.source.rel] for d in docs]
    problems = [Problem(r.rel, c.field, c.detail, c.name) for r in ordered for c in r.failures]
    return ordered, entries, problems

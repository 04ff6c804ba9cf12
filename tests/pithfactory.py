"""Deterministic Pith fixtures signed by a test key the tests generate.

Ed25519 signatures are deterministic, so every document built here is the
same bytes on every run. ``make_record`` / ``make_bundle`` produce documents
that pass every check when the test key is trusted; ``resign_*`` re-sign a
mutated document so that exactly one rule (the one under test) is broken.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import nacl.signing

from sitegen.model import Keyring, SourceFile
from sitegen.pith import canonical, keys, numbers
from sitegen.pith.keys import parse_key_document
from sitegen.verify.event import merge_events as merge

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"
SEED_RECORDS = sorted((CONTENT / "records").glob("*.json"))
SEED_BUNDLES = sorted((CONTENT / "bundles").glob("*.json"))
REGISTRY_KEY = CONTENT / "keys" / "pith-v1-2026-05.json"

TEST_KEY_ID = "sitegen-test-2026"
OTHER_KEY_ID = "attacker-2026"


def signing_key(label: str = "sitegen test key") -> nacl.signing.SigningKey:
    """A deterministic Ed25519 key derived from ``label``."""
    return nacl.signing.SigningKey(hashlib.sha256(label.encode()).digest())


TEST_KEY = signing_key()
ATTACKER_KEY = signing_key("attacker key")
# Trusted, but limited: the operator revoked one, one has rotated, one is not valid yet.
REVOKED_KEY, REVOKED_KEY_ID = signing_key("revoked key"), "revoked-2026"
RETIRED_KEY, RETIRED_KEY_ID = signing_key("retired key"), "retired-2025"
FUTURE_KEY, FUTURE_KEY_ID = signing_key("future key"), "future-2027"


def key_document(sk: nacl.signing.SigningKey = TEST_KEY, key_id: str = TEST_KEY_ID) -> dict:
    raw = bytes(sk.verify_key)
    return {
        "key_id": key_id,
        "algorithm": "ed25519",
        "format": "raw",
        "public_key_b64": base64.b64encode(raw).decode(),
        "public_key_hex": raw.hex(),
        "fingerprint_sha256_b32_first128bits": keys.key_fingerprint_b32(raw),
        "fingerprint_sha256_hex": keys.key_fingerprint(raw),
        "rotates_at": None,
        "url": "https://mirror.test/pith-signing-key.json",
        "notes": "sitegen test key",
    }


def limited_key_documents() -> list[dict]:
    """Key documents of the revoked, retired and not-yet-valid test keys."""
    return [
        dict(key_document(REVOKED_KEY, REVOKED_KEY_ID), revoked=True),
        dict(key_document(RETIRED_KEY, RETIRED_KEY_ID), not_before="2025-01-01T00:00:00Z",
             rotates_at="2026-01-01T00:00:00Z"),
        dict(key_document(FUTURE_KEY, FUTURE_KEY_ID), not_before="2027-01-01T00:00:00Z"),
    ]


def keyring_of(*docs: dict) -> Keyring:
    keys = []
    for doc in docs:
        key, problems = parse_key_document(SourceFile(Path("k.json"), "k.json", json.dumps(doc).encode()))
        assert key is not None and not problems, problems
        keys.append(key)
    return Keyring.of(keys)


def sign_hex(sk: nacl.signing.SigningKey, digest_hex: str) -> str:
    return base64.b64encode(sk.sign(bytes.fromhex(digest_hex)).signature).decode()


def canonical_record(*, arxiv_id: str = "2101.00001", version: int = 1, title: str = "A Test Paper",
                     submitted_at: str = "2021-01-04T12:00:00Z", primary_cat: str = "cs.LG",
                     cross_cats: tuple = ("stat.ML",),
                     license: str = "http://creativecommons.org/licenses/by/4.0/") -> dict:
    return {
        "source": {"id": arxiv_id, "kind": "arxiv", "version": version},
        "metadata": {
            "license": license,
            "primary_cat": primary_cat,
            "submitted_at": submitted_at,
            "cross_cats_sorted": sorted(cross_cats),
            "title_canon_sha256": canonical.title_canon_sha256(title),
            "abstract_canon_sha256": hashlib.sha256(b"abstract of " + title.encode()).hexdigest(),
        },
        "schema_version": "1.0",
    }


def _receipt(sk, key_id: str, digest: str) -> dict:
    return {
        "kind": "pith_receipt", "key_id": key_id, "algorithm": "ed25519",
        "signed_at": "2026-05-18T00:00:00.000000Z", "signature_b64": sign_hex(sk, digest),
        "signed_message": "canonical_sha256_bytes", "builder_version": "test-builder",
        "receipt_version": "0.3", "canonical_sha256": digest,
        "last_reissued_at": "2026-05-18T00:00:00.000000Z", "signature_status": "signed_v1",
        "first_computed_at": "2026-05-18T00:00:00.000000Z",
        "public_key_fingerprint": keys.key_fingerprint(bytes(sk.verify_key)),
    }


def _aliases(arxiv_id: str, version: int, suffix: str) -> list[dict]:
    at = "2026-05-18T00:00:00+00:00"
    return [
        {"alias_kind": "arxiv", "alias_value": arxiv_id, "created_at": at},
        {"alias_kind": "arxiv_version", "alias_value": f"{arxiv_id}v{version}", "created_at": at},
        {"alias_kind": "doi", "alias_value": f"10.48550/arxiv.{arxiv_id}", "created_at": at},
        {"alias_kind": "pith_short_12", "alias_value": suffix[:12], "created_at": at},
        {"alias_kind": "pith_short_16", "alias_value": suffix[:16], "created_at": at},
        {"alias_kind": "pith_short_8", "alias_value": suffix[:8], "created_at": at},
    ]


def _paper(cr: dict, title: str, authors: str, abstract: str) -> dict:
    meta = cr["metadata"]
    return {"title": title, "license": meta["license"], "headline": "",
            "cross_cats": list(meta["cross_cats_sorted"]), "primary_cat": meta["primary_cat"],
            "authors_text": authors, "submitted_at": meta["submitted_at"], "abstract_excerpt": abstract}


def make_record(*, sk=TEST_KEY, key_id: str = TEST_KEY_ID, title: str = "A Test Paper",
                authors: str = "Ada Lovelace, Alan Turing", abstract: str = "We test things.",
                **cr_kw) -> dict:
    """A complete ``pith_number_record`` that verifies with ``sk``."""
    cr = canonical_record(title=title, **cr_kw)
    digest = canonical.canonical_sha256(cr)
    suffix = numbers.pith_suffix(digest)
    pn = f"pith:{cr['metadata']['submitted_at'][:4]}:{suffix}"
    base = "https://pith.science"
    return {
        "record_type": "pith_number_record",
        "schema_url": "https://pith.science/schemas/pith-number/v1.json",
        "pith_number": pn, "short_pith_number": f"pith:{suffix[:8]}", "schema_version": "1.0",
        "canonical_sha256": digest, "source": dict(cr["source"]), "attestation_state": "computed",
        "paper": _paper(cr, title, authors, abstract),
        "verification_status": {"content_addressed": True, "pith_receipt": True, "author_attested": False,
                                "externally_anchored": False, "storage_verified": False,
                                "citation_signatures": 0, "replication_records": 0, "graph_snapshot": False,
                                "references_resolved": False},
        "canonical_record": cr, "receipt": _receipt(sk, key_id, digest),
        "aliases": _aliases(cr["source"]["id"], cr["source"]["version"], suffix),
        "events": [], "event_summary": {}, "paper_claims": [],
        "inbound_citations": {"count": 1, "internal_anchor_count": 0,
                              "sample": [{"citing_arxiv_id": "2202.00002", "citing_title": "A Citing Paper",
                                          "ref_index": 3, "is_internal_anchor": False}]},
        "links": {"html": f"{base}/pith/{suffix}", "json": f"{base}/pith/{suffix}.json",
                  "graph_json": f"{base}/api/pith-number/{suffix}/graph.json",
                  "events_json": f"{base}/api/pith-number/{suffix}/events.json",
                  "paper": f"{base}/paper/{suffix[:8]}"},
        "created_at": "2026-05-18T00:00:00+00:00", "updated_at": "2026-05-18T00:00:00+00:00",
    }


def sign_event(event: dict, sk=TEST_KEY, key_id: str = TEST_KEY_ID) -> dict:
    """Fill in ``content_sha256``, ``event_id`` and ``signature`` of ``event``."""
    event = {k: v for k, v in event.items() if k not in canonical.EVENT_UNSIGNED_FIELDS}
    event.setdefault("schema_version", "1.0")
    digest = canonical.event_content_sha256(event)
    event["signature"] = {"signature_status": "signed_v1", "algorithm": "ed25519", "key_id": key_id,
                          "public_key_fingerprint": keys.key_fingerprint(bytes(sk.verify_key)),
                          "signature_b64": sign_hex(sk, digest),
                          "signed_message": "open_graph_event_sha256_bytes",
                          "signed_at": "2026-05-26T00:00:00.000000Z"}
    event["content_sha256"] = digest
    event["event_id"] = f"sha256:{digest}"
    return event


def _signer(sk, key_id: str) -> dict:
    return {"signer_id": "pith.science", "signer_type": "pith_registry", "key_id": key_id,
            "public_key_fingerprint": keys.key_fingerprint(bytes(sk.verify_key))}


def make_bundle(*, sk=TEST_KEY, key_id: str = TEST_KEY_ID, title: str = "A Bundled Paper",
                authors: str = "Grace Hopper, Edsger W. Dijkstra", abstract: str = "Bundled.",
                **cr_kw) -> dict:
    """A complete ``pith_open_graph_bundle`` (record + graph events) signed by ``sk``."""
    cr_kw.setdefault("arxiv_id", "2102.00007")
    record = make_record(sk=sk, key_id=key_id, title=title, authors=authors, abstract=abstract, **cr_kw)
    cr, suffix = record["canonical_record"], record["pith_number"].split(":")[2]
    pn = record["pith_number"]
    created = "2026-05-17T23:49:53Z"
    events = [
        sign_event({"event_type": "record_created", "subject_pith_number": pn, "target": "record",
                    "payload": {"canonical_record": cr, "canonical_sha256": record["canonical_sha256"],
                                "receipt": record["receipt"], "source_kind": "arxiv",
                                "source_id": cr["source"]["id"], "source_version": cr["source"]["version"],
                                "attestation_state": "computed"},
                    "signer": _signer(sk, key_id), "created_at": created, "supersedes": [],
                    "prev_event": None}, sk, key_id),
        sign_event({"event_type": "graph_snapshot", "subject_pith_number": pn, "target": "graph",
                    "payload": {"graph_snapshot": {"paper": record["paper"], "source": cr["source"],
                                                   "claims": {"count": 0, "items": []}},
                                "verdict_id": None},
                    "signer": _signer(sk, key_id), "created_at": created, "supersedes": [],
                    "prev_event": None}, sk, key_id),
    ]
    base = "https://pith.science"
    bundle = {
        "bundle_type": "pith_open_graph_bundle", "bundle_version": "1.0",
        "pith_number": pn, "short_pith_number": f"pith:{suffix[:8]}",
        "canonical_record": cr, "canonical_sha256": record["canonical_sha256"],
        "source": dict(cr["source"]),
        "source_aliases": [dict(a, created_at="2026-05-17T23:49:53Z") for a in record["aliases"]],
        "events": events, "timestamp_proofs": [], "mirror_hints": [],
        "public_keys": [key_document(sk, key_id)],
        "merge_version": "pith-open-graph-merge-v1", "built_at": "2026-05-26T05:38:29Z",
        "links": {"resolver": f"{base}/pith/{suffix}", "bundle": f"{base}/pith/{suffix}/bundle.json",
                  "state": f"{base}/pith/{suffix}/state.json",
                  "well_known_bundle": f"{base}/.well-known/pith/{suffix}/bundle.json"},
    }
    return resign_bundle(bundle, sk=sk, key_id=key_id)


def resign_bundle(bundle: dict, *, sk=TEST_KEY, key_id: str = TEST_KEY_ID, replay: bool = True) -> dict:
    """Recompute the state (by merge, if ``replay``) and the bundle signature."""
    bundle = copy.deepcopy(bundle)
    if replay:
        kr = keyring_of(key_document(sk, key_id))
        bundle["state"] = merge(bundle["events"], bundle["source_aliases"], kr, pith_number=bundle["pith_number"])
    else:
        bundle["state"]["state_sha256"] = canonical.state_sha256(bundle["state"])
    bundle.pop("bundle_signature", None)
    digest = canonical.bundle_sha256(bundle)
    bundle["bundle_signature"] = {
        "signature_status": "signed_v1", "algorithm": "ed25519", "key_id": key_id,
        "public_key_fingerprint": keys.key_fingerprint(bytes(sk.verify_key)),
        "signature_b64": sign_hex(sk, digest), "signed_message": "bundle_sha256_bytes",
        "signed_at": "2026-05-26T05:38:29.622833Z", "bundle_sha256": digest,
    }
    return bundle


def dump(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def make_site(root: Path, *, seeds: bool = True, test_key: bool = True,
              docs: dict[str, Any] | None = None) -> Path:
    """Create a site directory under ``root``: the seeds (optional), the
    registry key, the test key, and extra ``docs`` (name → dict or bytes)."""
    site = root / "site-src"
    (site / "content" / "keys").mkdir(parents=True)
    shutil.copy(REGISTRY_KEY, site / "content" / "keys" / REGISTRY_KEY.name)
    if test_key:
        for doc in [key_document(), *limited_key_documents()]:
            (site / "content" / "keys" / f"{doc['key_id']}.json").write_text(json.dumps(doc, indent=2))
    if seeds:
        shutil.copytree(CONTENT / "records", site / "content" / "records")
        shutil.copytree(CONTENT / "bundles", site / "content" / "bundles")
    for name, doc in (docs or {}).items():
        path = site / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(doc if isinstance(doc, bytes) else dump(doc))
    return site


def load_json(path: Path) -> Any:
    return json.loads(path.read_bytes())

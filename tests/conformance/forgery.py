"""Forgery: authentic documents changed after signing, replayed, relabelled,
signed by the wrong key, or mixed with other records' parts.

Seed cases mutate the real registry-signed documents; factory cases re-sign
with the test key so that exactly the named rule breaks.
"""

from __future__ import annotations

import copy

from conformance.cases import BUNDLE, OTHER_RECORD, RECORD, Case, doc_case, mutated, write
from conformance.cases import flip as _flip
from conformance.cases import set_path as _set
from pithfactory import (
    ATTACKER_KEY,
    FUTURE_KEY,
    FUTURE_KEY_ID,
    OTHER_KEY_ID,
    RETIRED_KEY,
    RETIRED_KEY_ID,
    REVOKED_KEY,
    REVOKED_KEY_ID,
    TEST_KEY,
    TEST_KEY_ID,
    dump,
    key_document,
    make_bundle,
    make_record,
    resign_bundle,
    sign_event,
    sign_hex,
    signing_key,
)
from sitegen.pith import keys


def _attacker_receipt(doc):
    doc["receipt"]["key_id"] = OTHER_KEY_ID
    doc["receipt"]["public_key_fingerprint"] = keys.key_fingerprint(bytes(ATTACKER_KEY.verify_key))
    doc["receipt"]["signature_b64"] = sign_hex(ATTACKER_KEY, doc["canonical_sha256"])


def _attacker_under_trusted_id(doc):
    doc["receipt"]["signature_b64"] = sign_hex(ATTACKER_KEY, doc["canonical_sha256"])


_SUFFIX = RECORD["pith_number"].split(":")[2]

RECORD_ATTACKS = [
    ("forged_title_hash_in_canonical_record", _set("canonical_record.metadata.title_canon_sha256", "0" * 64),
     "record.canonical_sha256", "canonical_sha256"),
    ("forged_license_in_canonical_record", _set("canonical_record.metadata.license", ""),
     "record.canonical_sha256", "canonical_sha256"),
    ("forged_submitted_at_changes_year", _set("canonical_record.metadata.submitted_at", "2016-11-12T17:36:46Z"),
     "record.pith_number", "pith_number"),
    ("relabelled_with_another_pith_number", _set("pith_number", OTHER_RECORD["pith_number"]),
     "record.pith_number", "pith_number"),
    ("short_pith_number_of_another_record", _set("short_pith_number", OTHER_RECORD["short_pith_number"]),
     "record.short_pith_number", "short_pith_number"),
    ("receipt_replayed_from_another_record", _set("receipt", copy.deepcopy(OTHER_RECORD["receipt"])),
     "record.receipt.signature", "receipt.signature_b64"),
    ("receipt_names_another_digest", _set("receipt.canonical_sha256", OTHER_RECORD["canonical_sha256"]),
     "record.receipt.canonical_sha256", "receipt.canonical_sha256"),
    ("receipt_signature_bit_flip", _set("receipt.signature_b64", _flip),
     "record.receipt.signature", "receipt.signature_b64"),
    ("signature_by_untrusted_key", _attacker_receipt, "record.receipt.key", "receipt.key_id"),
    ("attacker_signature_under_trusted_key_id", _attacker_under_trusted_id,
     "record.receipt.signature", "receipt.signature_b64"),
    ("trusted_key_id_with_foreign_fingerprint", _set("receipt.public_key_fingerprint", "0" * 32),
     "record.receipt.fingerprint", "receipt.public_key_fingerprint"),
    ("malformed_signature_base64", _set("receipt.signature_b64", "not base64!"),
     "record.schema", "receipt.signature_b64"),
    ("non_canonical_base64_signature", _set("receipt.signature_b64", lambda s: s[:-3] + chr(ord(s[-3]) + 1) + "=="),
     "record.receipt.signature", "receipt.signature_b64"),
    ("truncated_signature", _set("receipt.signature_b64", lambda s: s[:40]),
     "record.schema", "receipt.signature_b64"),
    ("source_differs_from_canonical_record", _set("source.version", 9),
     "record.source", "source"),
    ("displayed_title_not_the_signed_one", _set("paper.title", "A Completely Different Paper"),
     "record.paper.title", "paper.title"),
    ("displayed_primary_category_forged", _set("paper.primary_cat", "hep-th"),
     "record.paper.primary_cat", "paper.primary_cat"),
    ("displayed_date_forged", _set("paper.submitted_at", "2011-01-01T00:00:00Z"),
     "record.paper.submitted_at", "paper.submitted_at"),
    ("displayed_cross_categories_forged", _set("paper.cross_cats", ["math.CO"]),
     "record.paper.cross_cats", "paper.cross_cats"),
    ("displayed_license_forged", _set("paper.license", "http://creativecommons.org/publicdomain/zero/1.0/"),
     "record.paper.license", "paper.license"),
    ("arxiv_alias_points_at_another_paper", _set("aliases.0.alias_value", "1709.05011"),
     "record.aliases", "aliases[0].alias_value"),
    ("versioned_alias_wrong_version", _set("aliases.1.alias_value", lambda v: v[:-1] + "9"),
     "record.aliases", "aliases[1].alias_value"),
    ("doi_alias_points_at_another_paper", _set("aliases.2.alias_value", "10.48550/arxiv.1709.05011"),
     "record.aliases", "aliases[2].alias_value"),
    ("short_alias_of_another_record", _set("aliases.5.alias_value", "BIMLI3TH"),
     "record.aliases", "aliases[5].alias_value"),
    ("link_points_at_another_record", _set("links.html", OTHER_RECORD["links"]["html"]),
     "record.links", "links.html"),
    ("javascript_url_in_links", _set("links.json", "javascript:alert(1)"), "record.links", "links.json"),
    # The right path on the wrong host: readers (and `links`-following clients) sent to another site.
    ("record_link_to_another_host_with_the_right_path", _set("links.html", f"https://evil.example/pith/{_SUFFIX}"),
     "record.links", "links.html"),
    ("record_json_link_to_another_host_with_the_right_path",
     _set("links.json", f"https://evil.example/pith/{_SUFFIX}.json"), "record.links", "links.json"),
    ("record_link_with_userinfo_spoofing_the_host",
     _set("links.html", f"https://pith.science@evil.example/pith/{_SUFFIX}"), "record.links", "links.html"),
    ("record_link_to_a_lookalike_subdomain",
     _set("links.graph_json", f"https://pith.science.evil.example/api/pith-number/{_SUFFIX}/graph.json"),
     "record.links", "links.graph_json"),
    ("record_link_to_the_right_host_on_another_port",
     _set("links.paper", f"https://pith.science:8443/paper/{_SUFFIX[:8]}"), "record.links", "links.paper"),
    ("missing_receipt", lambda d: d.pop("receipt"), "record.schema", "receipt"),
    ("version_as_string", _set("canonical_record.source.version", "1"),
     "record.schema", "canonical_record.source.version"),
    ("version_as_boolean", _set("canonical_record.source.version", True),
     "record.schema", "canonical_record.source.version"),
    ("arxiv_id_path_traversal", _set("canonical_record.source.id", "../../../etc/passwd"),
     "record.schema", "canonical_record.source.id"),
    ("category_with_markup", _set("canonical_record.metadata.primary_cat", "<b>cs</b>"),
     "record.schema", "canonical_record.metadata.primary_cat"),
    ("suffix_path_traversal_in_pith_number", _set("pith_number", "pith:2017:../../../../../etc/passwd"),
     "record.schema", "pith_number"),
]



def _bundle_event_payload_forged(b):
    b["events"][1]["payload"]["graph_snapshot"]["paper"]["authors_text"] = "Mallory"


BUNDLE_ATTACKS = [
    ("event_payload_forged_after_signing", _bundle_event_payload_forged,
     "event.content_sha256", "events[1].content_sha256"),
    ("event_id_not_its_content_hash", _set("events.0.event_id", "sha256:" + "0" * 64),
     "event.event_id", "events[0].event_id"),
    ("event_signature_bit_flip", _set("events.1.signature.signature_b64", _flip),
     "event.signature", "events[1].signature.signature_b64"),
    ("event_subject_is_another_pith_number", _set("events.1.subject_pith_number", OTHER_RECORD["pith_number"]),
     "event.subject", "events[1].subject_pith_number"),
    ("event_signer_differs_from_signature_key", _set("events.1.signer.key_id", "someone-else"),
     "event.signer", "events[1].signature.key_id"),
    ("bundle_signature_bit_flip", _set("bundle_signature.signature_b64", _flip),
     "bundle.signature.signature", "bundle_signature.signature_b64"),
    ("bundle_field_changed_after_signing", _set("built_at", "2030-01-01T00:00:00Z"),
     "bundle.bundle_sha256", "bundle_signature.bundle_sha256"),
    ("state_hash_forged", _set("state.state_sha256", "0" * 64), "bundle.state_sha256", "state.state_sha256"),
    ("state_count_forged", _set("state.valid_event_count", 3), "bundle.state_sha256", "state.state_sha256"),
    ("embedded_key_substituted_under_trusted_id",
     _set("public_keys.0", dict(key_document(ATTACKER_KEY, "pith-v1-2026-05"))),
     "bundle.public_keys", "public_keys[0].public_key_b64"),
    ("embedded_untrusted_extra_key", lambda b: b["public_keys"].append(key_document(ATTACKER_KEY, OTHER_KEY_ID)),
     "bundle.public_keys", "public_keys[1].key_id"),
    ("canonical_record_forged", _set("canonical_record.metadata.primary_cat", "math.CO"),
     "bundle.canonical_sha256", "canonical_sha256"),
    ("state_current_record_differs", _set("state.current.canonical_record.source.version", 2),
     "bundle.state.canonical_record", "state.current.canonical_record"),
    ("bundle_links_point_elsewhere", _set("links.bundle", "https://evil.test/pith/X/bundle.json"),
     "bundle.links", "links.bundle"),
    ("unknown_merge_version", _set("merge_version", "pith-open-graph-merge-v9"),
     "bundle.merge_version", "merge_version"),
    ("event_missing_signature", lambda b: b["events"][0].pop("signature"), "bundle.schema", "events[0].signature"),
    ("bundle_relabelled_with_another_pith_number", _set("pith_number", OTHER_RECORD["pith_number"]),
     "bundle.pith_number", "pith_number"),
    ("bundle_short_number_of_another_record", _set("short_pith_number", OTHER_RECORD["short_pith_number"]),
     "bundle.short_pith_number", "short_pith_number"),
    ("bundle_alias_points_at_another_paper", _set("source_aliases.0.alias_value", "1709.05011"),
     "bundle.aliases", "source_aliases[0].alias_value"),
    ("state_about_another_pith_number", _set("state.pith_number", OTHER_RECORD["pith_number"]),
     "bundle.state.pith_number", "state.pith_number"),
]





def _edit_event(index: int, edit, *, sk=TEST_KEY, key_id=TEST_KEY_ID):
    def attack():
        bundle = make_bundle()
        event = copy.deepcopy(bundle["events"][index])
        edit(event)
        bundle["events"][index] = sign_event(event, sk, key_id)
        return resign_bundle(bundle)
    return attack


def _paper(key, value):
    return _edit_event(1, lambda e: e["payload"]["graph_snapshot"]["paper"].__setitem__(key, value))


def _receipt(key, value):
    return _edit_event(0, lambda e: e["payload"]["receipt"].__setitem__(key, value))


def _receipt_by_attacker(e):
    r = e["payload"]["receipt"]
    r["key_id"], r["public_key_fingerprint"] = OTHER_KEY_ID, keys.key_fingerprint(bytes(ATTACKER_KEY.verify_key))
    r["signature_b64"] = sign_hex(ATTACKER_KEY, r["canonical_sha256"])


def _event_fingerprint_mismatch():
    bundle = make_bundle()
    event = copy.deepcopy(bundle["events"][1])
    event["signer"]["public_key_fingerprint"] = "0" * 32
    event = sign_event(event)
    event["signature"]["public_key_fingerprint"] = "0" * 32  # outside the content hash
    bundle["events"][1] = event
    return resign_bundle(bundle)


def _event_by_untrusted_key(e):
    e["signer"]["key_id"] = OTHER_KEY_ID


def _bundle_signed_by_attacker():
    return resign_bundle(make_bundle(), sk=ATTACKER_KEY, key_id=OTHER_KEY_ID, replay=False)


def _bundle_signature_foreign_fingerprint():
    bundle = make_bundle()
    bundle["bundle_signature"]["public_key_fingerprint"] = "0" * 32
    return bundle


def _bundle_source_differs():
    bundle = make_bundle()
    bundle["source"]["version"] = 2
    return resign_bundle(bundle)


FACTORY_ATTACKS = [
    ("graph_snapshot_title_not_the_signed_one", _paper("title", "Another Title"),
     "bundle.graph_snapshot.title", "events[1].payload.graph_snapshot.paper.title"),
    ("graph_snapshot_category_forged", _paper("primary_cat", "hep-th"),
     "bundle.graph_snapshot.primary_cat", "events[1].payload.graph_snapshot.paper.primary_cat"),
    ("graph_snapshot_license_forged", _paper("license", ""),
     "bundle.graph_snapshot.license", "events[1].payload.graph_snapshot.paper.license"),
    ("graph_snapshot_date_forged", _paper("submitted_at", "2001-01-01T00:00:00Z"),
     "bundle.graph_snapshot.submitted_at", "events[1].payload.graph_snapshot.paper.submitted_at"),
    ("graph_snapshot_cross_categories_forged", _paper("cross_cats", []),
     "bundle.graph_snapshot.cross_cats", "events[1].payload.graph_snapshot.paper.cross_cats"),
    ("graph_snapshot_about_another_version",
     _edit_event(1, lambda e: e["payload"]["graph_snapshot"]["source"].__setitem__("version", 7)),
     "bundle.graph_snapshot", "events[1].payload.graph_snapshot.source"),
    ("record_event_receipt_names_another_digest", _receipt("canonical_sha256", "0" * 64),
     "bundle.receipt.canonical_sha256", "events[0].payload.receipt.canonical_sha256"),
    ("record_event_receipt_foreign_fingerprint", _receipt("public_key_fingerprint", "0" * 32),
     "bundle.receipt.fingerprint", "events[0].payload.receipt.public_key_fingerprint"),
    ("record_event_receipt_forged_signature", _receipt("signature_b64", sign_hex(ATTACKER_KEY, "0" * 64)),
     "bundle.receipt.signature", "events[0].payload.receipt.signature_b64"),
    ("record_event_receipt_by_untrusted_key", _edit_event(0, _receipt_by_attacker),
     "bundle.receipt.key", "events[0].payload.receipt.key_id"),
    ("event_signed_by_untrusted_key", _edit_event(1, _event_by_untrusted_key, sk=ATTACKER_KEY, key_id=OTHER_KEY_ID),
     "event.key", "events[1].signature.key_id"),
    ("event_trusted_key_id_foreign_fingerprint", _event_fingerprint_mismatch,
     "event.fingerprint", "events[1].signature.public_key_fingerprint"),
    ("event_of_unsupported_type", _edit_event(1, lambda e: e.__setitem__("event_type", "teleport")),
     "event.type", "events[1].event_type"),
    ("event_targets_the_wrong_slot", _edit_event(1, lambda e: e.__setitem__("target", "record")),
     "event.target", "events[1].target"),
    ("event_payload_missing_paper", _edit_event(1, lambda e: e["payload"]["graph_snapshot"].pop("paper")),
     "event.payload", "events[1].payload.graph_snapshot.paper"),
    ("bundle_signed_by_untrusted_key", _bundle_signed_by_attacker,
     "bundle.signature.key", "bundle_signature.key_id"),
    ("bundle_signature_foreign_fingerprint", _bundle_signature_foreign_fingerprint,
     "bundle.signature.fingerprint", "bundle_signature.public_key_fingerprint"),
    ("bundle_source_differs_from_canonical_record", _bundle_source_differs, "bundle.source", "source"),
    ("bundle_source_version_zero", lambda: make_bundle(version=0),
     "bundle.source_version", "canonical_record.source.version"),
]


def _without_record_event():
    bundle = make_bundle()
    bundle["events"] = bundle["events"][1:]
    return resign_bundle(bundle)


def _state_not_following_from_events():
    bundle = make_bundle()
    bundle["state"]["current"]["graph_snapshots"] = []
    return resign_bundle(bundle, replay=False)


def _bundle_link(key: str, url: str):
    """A bundle, validly signed, whose ``links[key]`` is ``url`` ({S}: its suffix)."""
    def make():
        bundle = make_bundle()
        bundle["links"][key] = url.format(S=bundle["pith_number"].split(":")[2])
        return resign_bundle(bundle)
    return make


FACTORY_ATTACKS += [
    ("bundle_link_to_another_host_with_the_right_path",
     _bundle_link("bundle", "https://evil.example/pith/{S}/bundle.json"), "bundle.links", "links.bundle"),
    ("bundle_well_known_link_to_another_host_with_the_right_path",
     _bundle_link("well_known_bundle", "https://evil.example/.well-known/pith/{S}/bundle.json"),
     "bundle.links", "links.well_known_bundle"),
    ("bundle_link_with_userinfo_spoofing_the_host",
     _bundle_link("resolver", "https://pith.science@evil.example/pith/{S}"), "bundle.links", "links.resolver"),
    ("bundle_without_record_event", _without_record_event, "bundle.record_event", "events"),
    ("state_does_not_follow_from_events", _state_not_following_from_events,
     "bundle.state.replay", "state.current.graph_snapshots"),
]
def _bundle_signature_by(sk, key_id):
    return lambda: resign_bundle(make_bundle(), sk=sk, key_id=key_id, replay=False)


FACTORY_ATTACKS += [
    ("event_signed_by_a_revoked_key", _edit_event(1, lambda e: e["signer"].__setitem__("key_id", REVOKED_KEY_ID),
                                                  sk=REVOKED_KEY, key_id=REVOKED_KEY_ID),
     "event.key_validity", "events[1].created_at"),
    ("event_signed_after_its_key_rotated",
     _edit_event(1, lambda e: e["signer"].__setitem__("key_id", RETIRED_KEY_ID), sk=RETIRED_KEY, key_id=RETIRED_KEY_ID),
     "event.key_validity", "events[1].created_at"),
    ("bundle_signed_after_its_key_rotated", _bundle_signature_by(RETIRED_KEY, RETIRED_KEY_ID),
     "bundle.signature.key_validity", "built_at"),
    ("bundle_signed_before_its_key_is_valid", _bundle_signature_by(FUTURE_KEY, FUTURE_KEY_ID),
     "bundle.signature.key_validity", "built_at"),
    ("record_event_receipt_by_a_revoked_key", _edit_event(0, lambda e: e["payload"].__setitem__(
        "receipt", make_record(sk=REVOKED_KEY, key_id=REVOKED_KEY_ID, title="A Bundled Paper", arxiv_id="2102.00007",
                               authors="Grace Hopper, Edsger W. Dijkstra", abstract="Bundled.")["receipt"])),
     "bundle.receipt.key_validity", "events[0].payload.receipt.signed_at"),
]
FACTORY_RECORD_ATTACKS = [
    ("record_signed_by_a_revoked_key", lambda: make_record(sk=REVOKED_KEY, key_id=REVOKED_KEY_ID),
     "record.receipt.key_validity", "receipt.signed_at"),
    ("record_signed_after_its_key_rotated", lambda: make_record(sk=RETIRED_KEY, key_id=RETIRED_KEY_ID),
     "record.receipt.key_validity", "receipt.signed_at"),
    ("record_signed_before_its_key_is_valid", lambda: make_record(sk=FUTURE_KEY, key_id=FUTURE_KEY_ID),
     "record.receipt.key_validity", "receipt.signed_at"),
    ("record_without_signing_date_for_a_windowed_key",
     lambda: {**make_record(sk=RETIRED_KEY, key_id=RETIRED_KEY_ID),
              "receipt": {k: v for k, v in make_record(sk=RETIRED_KEY, key_id=RETIRED_KEY_ID)["receipt"].items()
                          if k != "signed_at"}},
     "record.receipt.key_validity", "receipt.signed_at"),
    ("record_source_version_zero", lambda: make_record(version=0),
     "record.source_version", "canonical_record.source.version"),
]




def _twin_records(content):
    """Two documents claiming one Pith Number with different (unsigned) content."""
    twin = copy.deepcopy(RECORD)
    twin["paper"]["abstract_excerpt"] = "A different, unsigned abstract."
    return write(content, "twin_of_a_seed_record.json", dump(twin))


SECOND_KEY = signing_key("second trusted key")
SECOND_KEY_ID = "second-2026"


def _record_and_bundle_disagree(content):
    """A record and a bundle for one Pith Number whose receipts differ."""
    record = make_record(sk=SECOND_KEY, key_id=SECOND_KEY_ID, title="A Bundled Paper", arxiv_id="2102.00007",
                         authors="Grace Hopper, Edsger W. Dijkstra", abstract="Bundled.")
    write(content, "disagreeing.bundle.json", dump(make_bundle()))
    return write(content, "disagreeing_record.json", dump(record))


# Cases that attack rendering or paths rather than signatures.
INJECTION = {"javascript_url_in_links", "arxiv_id_path_traversal", "category_with_markup",
             "suffix_path_traversal_in_pith_number"}


def _category(name: str) -> str:
    return "injection" if name in INJECTION else "forgery"


CASES = (
    [doc_case(n, _category(n), mutated(RECORD, m), c, f) for n, m, c, f in RECORD_ATTACKS]
    + [doc_case(n, _category(n), mutated(BUNDLE, m), c, f) for n, m, c, f in BUNDLE_ATTACKS]
    + [doc_case(n, "forgery", b, c, f) for n, b, c, f in FACTORY_ATTACKS + FACTORY_RECORD_ATTACKS]
    + [Case("two_documents_claim_one_pith_number", "forgery", _twin_records, "mirror.unique", "pith_number"),
       Case("record_and_bundle_disagree", "forgery", _record_and_bundle_disagree, "mirror.agreement",
            "receipt.signature_b64")]
)

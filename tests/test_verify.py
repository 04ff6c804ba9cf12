"""Every verification check fails on a tampered copy, naming file, field and check.

Cases are named after the attack they represent. Seed cases mutate the real
registry-signed documents; factory cases re-sign with the test key so that
exactly the rule under test is broken.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sitegen import protocol
from sitegen.model import ParsedDocument, SourceFile
from sitegen.verify import verify_documents
from pithfactory import (ATTACKER_KEY, OTHER_KEY_ID, SEED_BUNDLES, SEED_RECORDS, TEST_KEY, TEST_KEY_ID,
                         key_document, keyring_of, load_json, make_bundle, make_record, resign_bundle,
                         sign_event, sign_hex, signing_key)

REGISTRY = load_json(SEED_RECORDS[0].parent.parent / "keys" / "pith-v1-2026-05.json")
KEYRING = keyring_of(REGISTRY, key_document())
RECORD = load_json(SEED_RECORDS[0])           # 5MNN3ESP…, two cross-listed categories
OTHER_RECORD = load_json(SEED_RECORDS[3])     # BIMLI3TH…
BUNDLE = load_json(SEED_BUNDLES[0])


def _doc(body, kind, rel):
    return ParsedDocument(SourceFile(Path(rel), rel, b""), kind, body)


def _verify(*docs):
    return verify_documents([_doc(b, k, r) for b, k, r in docs], KEYRING)


def _fails(body, kind="record", rel="content/x.json"):
    reports, entries, problems = _verify((body, kind, rel))
    assert not reports[0].ok and entries == []
    return {(p.check, p.field) for p in problems}, problems


def test_every_seed_verifies_with_the_registry_key():
    docs = [(load_json(p), "record", p.name) for p in SEED_RECORDS] + [(BUNDLE, "bundle", SEED_BUNDLES[0].name)]
    reports, entries, problems = _verify(*docs)
    assert problems == [] and all(r.ok for r in reports) and len(entries) == 5
    assert all(len(r.checks) >= 15 for r in reports)


def _set(path: str, value):
    def mutate(doc):
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if callable(value):
            node[int(last) if last.isdigit() else last] = value(node[int(last) if last.isdigit() else last])
        else:
            node[int(last) if last.isdigit() else last] = value
    return mutate


def _flip(sig: str) -> str:
    return ("B" if sig[0] == "A" else "A") + sig[1:]


def _attacker_receipt(doc):
    doc["receipt"]["key_id"] = OTHER_KEY_ID
    doc["receipt"]["public_key_fingerprint"] = protocol.key_fingerprint(bytes(ATTACKER_KEY.verify_key))
    doc["receipt"]["signature_b64"] = sign_hex(ATTACKER_KEY, doc["canonical_sha256"])


def _attacker_under_trusted_id(doc):
    doc["receipt"]["signature_b64"] = sign_hex(ATTACKER_KEY, doc["canonical_sha256"])


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


@pytest.mark.parametrize("name,mutate,check,field", RECORD_ATTACKS, ids=[c[0] for c in RECORD_ATTACKS])
def test_record_attack_is_rejected(name, mutate, check, field):
    doc = copy.deepcopy(RECORD)
    mutate(doc)
    failed, problems = _fails(doc)
    assert (check, field) in failed, problems
    message = next(str(p) for p in problems if (p.check, p.field) == (check, field))
    assert message.startswith(f"content/x.json: {field}: ")


def test_receipt_failure_message_names_the_key():
    doc = copy.deepcopy(RECORD)
    doc["receipt"]["signature_b64"] = _flip(doc["receipt"]["signature_b64"])
    _, problems = _fails(doc)
    assert any(str(p).startswith("content/x.json: receipt.signature_b64: does not verify with key pith-v1-2026-05")
               for p in problems)


def test_record_with_ansi_escape_in_value_is_quoted_safely():
    doc = copy.deepcopy(RECORD)
    doc["aliases"][0]["alias_value"] = "\x1b[31mred\x1b[0m\u202e"
    _, problems = _fails(doc)
    text = "\n".join(str(p) for p in problems)
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b[31mred" in text and "\\u202e" in text


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


@pytest.mark.parametrize("name,mutate,check,field", BUNDLE_ATTACKS, ids=[c[0] for c in BUNDLE_ATTACKS])
def test_seed_bundle_attack_is_rejected(name, mutate, check, field):
    doc = copy.deepcopy(BUNDLE)
    mutate(doc)
    failed, problems = _fails(doc, "bundle", "content/b.json")
    assert (check, field) in failed, problems


# --- factory bundles: one rule broken, everything else validly re-signed ----


def _only_failure(doc, kind="bundle"):
    failed, problems = _fails(doc, kind)
    return failed


def test_factory_bundle_verifies_with_test_key():
    reports, entries, problems = _verify((make_bundle(), "bundle", "b.json"))
    assert problems == [] and len(entries) == 1


def test_state_that_does_not_follow_from_events_is_rejected_field_by_field():
    bundle = make_bundle()
    bundle["state"]["current"]["graph_snapshots"] = []
    bundle["state"]["applied_event_ids"] = bundle["state"]["applied_event_ids"][:1]
    bundle = resign_bundle(bundle, replay=False)  # validly signed, state hash recomputed
    failed = _only_failure(bundle)
    assert {c for c, _ in failed} == {"bundle.state.replay"}
    assert ("bundle.state.replay", "state.current.graph_snapshots") in failed
    assert ("bundle.state.replay", "state.applied_event_ids") in failed


def test_validly_signed_event_about_another_pith_number_is_mix_and_match():
    bundle = make_bundle()
    other = make_bundle(arxiv_id="2103.00009", title="Other")
    foreign = copy.deepcopy(other["events"][1])
    bundle["events"].append(foreign)  # authentic, signed — but about another record
    failed = _only_failure(resign_bundle(bundle))
    assert ("event.subject", "events[2].subject_pith_number") in failed


def test_bundle_signed_entirely_by_untrusted_key_is_rejected():
    bundle = make_bundle(sk=ATTACKER_KEY, key_id=OTHER_KEY_ID)
    failed = _only_failure(bundle)
    assert {("bundle.public_keys", "public_keys[0].key_id"), ("event.key", "events[0].signature.key_id"),
            ("bundle.signature.key", "bundle_signature.key_id")} <= failed


def test_bundle_without_record_event_is_rejected():
    bundle = make_bundle()
    bundle["events"] = bundle["events"][1:]
    failed = _only_failure(resign_bundle(bundle))
    assert ("bundle.record_event", "events") in failed


def test_record_event_payload_for_another_record_is_rejected():
    bundle = make_bundle()
    other = make_bundle(arxiv_id="2103.00009", title="Other")
    event = copy.deepcopy(bundle["events"][0])
    event["payload"] = copy.deepcopy(other["events"][0]["payload"])
    bundle["events"][0] = sign_event(event)
    failed = _only_failure(resign_bundle(bundle))
    assert ("bundle.record_event", "events[0].payload.canonical_record") in failed


def test_unsupported_event_type_is_rejected():
    bundle = make_bundle()
    event = copy.deepcopy(bundle["events"][1])
    event["event_type"] = "teleport"
    bundle["events"][1] = sign_event(event)
    failed = _only_failure(resign_bundle(bundle))
    assert ("event.type", "events[1].event_type") in failed


# --- cross-document rules --------------------------------------------------


def test_two_documents_claiming_one_pith_number_are_both_rejected():
    twin = copy.deepcopy(RECORD)
    twin["paper"]["abstract_excerpt"] = "A different unsigned abstract."
    reports, entries, problems = _verify((RECORD, "record", "a.json"), (twin, "record", "b.json"))
    assert entries == []
    assert {(p.file, p.check) for p in problems} == {("a.json", "mirror.unique"), ("b.json", "mirror.unique")}
    assert "claimed by 2 documents" in problems[0].message


def test_record_and_bundle_that_disagree_are_rejected():
    second = signing_key("second trusted key")
    keyring = keyring_of(key_document(), key_document(second, "second-2026"))
    record = make_record(sk=second, key_id="second-2026", title="A Bundled Paper", arxiv_id="2102.00007",
                         authors="Grace Hopper, Edsger W. Dijkstra", abstract="Bundled.")
    bundle = make_bundle()
    assert record["pith_number"] == bundle["pith_number"]
    reports, entries, problems = verify_documents(
        [_doc(record, "record", "r.json"), _doc(bundle, "bundle", "b.json")], keyring)
    assert entries == []
    assert ("r.json", "mirror.agreement", "receipt.signature_b64") in {(p.file, p.check, p.field) for p in problems}
    assert ("b.json", "mirror.agreement") in {(p.file, p.check) for p in problems}


def test_record_and_bundle_that_agree_form_one_entry():
    record = make_record(title="A Bundled Paper", arxiv_id="2102.00007")
    reports, entries, problems = _verify((record, "record", "r.json"), (make_bundle(), "bundle", "b.json"))
    assert problems == [] and len(entries) == 1
    assert entries[0].record is not None and entries[0].bundle is not None


def test_test_key_signs_and_registry_key_does_not_cover_it():
    # A record validly signed by the test key is rejected by a keyring holding only the registry key.
    from sitegen.verify import verify_documents as vd
    reports, entries, problems = vd([_doc(make_record(), "record", "t.json")], keyring_of(REGISTRY))
    assert ("record.receipt.key", "receipt.key_id") in {(p.check, p.field) for p in problems}
    assert TEST_KEY_ID in problems[0].message or any(TEST_KEY_ID in p.message for p in problems)
    assert sign_hex(TEST_KEY, "0" * 64)  # the key is real, deterministic


# --- factory attacks: re-signed so that exactly the named rule breaks -------


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
    r["key_id"], r["public_key_fingerprint"] = OTHER_KEY_ID, protocol.key_fingerprint(bytes(ATTACKER_KEY.verify_key))
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


FACTORY_ATTACKS += [
    ("bundle_without_record_event", _without_record_event, "bundle.record_event", "events"),
    ("state_does_not_follow_from_events", _state_not_following_from_events,
     "bundle.state.replay", "state.current.graph_snapshots"),
]
FACTORY_RECORD_ATTACKS = [
    ("record_source_version_zero", lambda: make_record(version=0),
     "record.source_version", "canonical_record.source.version"),
]


@pytest.mark.parametrize("name,build,check,field", FACTORY_ATTACKS, ids=[c[0] for c in FACTORY_ATTACKS])
def test_factory_bundle_attack_is_rejected(name, build, check, field):
    failed, problems = _fails(build(), "bundle")
    assert (check, field) in failed, problems


@pytest.mark.parametrize("name,build,check,field", FACTORY_RECORD_ATTACKS, ids=[c[0] for c in FACTORY_RECORD_ATTACKS])
def test_factory_record_attack_is_rejected(name, build, check, field):
    failed, problems = _fails(build(), "record")
    assert (check, field) in failed, problems


def test_every_check_that_runs_on_valid_documents_has_a_failing_attack():
    valid = [(load_json(p), "record", p.name) for p in SEED_RECORDS] + [
        (BUNDLE, "bundle", "seed.bundle.json"), (make_bundle(), "bundle", "f.bundle.json"),
        (make_record(arxiv_id="2109.00001"), "record", "f.json")]
    reports, _, problems = _verify(*valid)
    assert problems == []
    run_on_valid = {c.name for r in reports for c in r.checks}
    attacked = {check for table in (RECORD_ATTACKS, BUNDLE_ATTACKS, FACTORY_ATTACKS, FACTORY_RECORD_ATTACKS)
                for _, _, check, _ in table}
    assert run_on_valid - attacked == set()

"""Every verification check fails on a tampered copy, naming file, field and check.

Cases are named after the attack they represent. Seed cases mutate the real
registry-signed documents; factory cases re-sign with the test key so that
exactly the rule under test is broken.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from conformance.cases import flip
from conformance.forgery import BUNDLE_ATTACKS, FACTORY_ATTACKS, FACTORY_RECORD_ATTACKS, RECORD_ATTACKS
from pithfactory import (
    ATTACKER_KEY,
    OTHER_KEY_ID,
    SEED_BUNDLES,
    SEED_RECORDS,
    TEST_KEY,
    TEST_KEY_ID,
    key_document,
    keyring_of,
    limited_key_documents,
    load_json,
    make_bundle,
    make_record,
    resign_bundle,
    sign_event,
    sign_hex,
    signing_key,
)
from sitegen.model import ParsedDocument, SourceFile
from sitegen.verify.documents import verify_documents

REGISTRY = load_json(SEED_RECORDS[0].parent.parent / "keys" / "pith-v1-2026-05.json")
KEYRING = keyring_of(REGISTRY, key_document(), *limited_key_documents())
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
    doc["receipt"]["signature_b64"] = flip(doc["receipt"]["signature_b64"])
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


@pytest.mark.parametrize("name,mutate,check,field", BUNDLE_ATTACKS, ids=[c[0] for c in BUNDLE_ATTACKS])
def test_seed_bundle_attack_is_rejected(name, mutate, check, field):
    doc = copy.deepcopy(BUNDLE)
    mutate(doc)
    failed, problems = _fails(doc, "bundle", "content/b.json")
    assert (check, field) in failed, problems


# --- factory bundles: one rule broken, everything else validly re-signed ----


def _only_failure(doc, kind="bundle"):
    failed, _problems = _fails(doc, kind)
    return failed


def test_factory_bundle_verifies_with_test_key():
    _reports, entries, problems = _verify((make_bundle(), "bundle", "b.json"))
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
    _reports, entries, problems = _verify((RECORD, "record", "a.json"), (twin, "record", "b.json"))
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
    _reports, entries, problems = verify_documents(
        [_doc(record, "record", "r.json"), _doc(bundle, "bundle", "b.json")], keyring)
    assert entries == []
    assert ("r.json", "mirror.agreement", "receipt.signature_b64") in {(p.file, p.check, p.field) for p in problems}
    assert ("b.json", "mirror.agreement") in {(p.file, p.check) for p in problems}


def test_record_and_bundle_that_agree_form_one_entry():
    record = make_record(title="A Bundled Paper", arxiv_id="2102.00007")
    _reports, entries, problems = _verify((record, "record", "r.json"), (make_bundle(), "bundle", "b.json"))
    assert problems == [] and len(entries) == 1
    assert entries[0].record is not None and entries[0].bundle is not None


def test_test_key_signs_and_registry_key_does_not_cover_it():
    # A record validly signed by the test key is rejected by a keyring holding only the registry key.
    from sitegen.verify.documents import verify_documents as vd
    _reports, _entries, problems = vd([_doc(make_record(), "record", "t.json")], keyring_of(REGISTRY))
    assert ("record.receipt.key", "receipt.key_id") in {(p.check, p.field) for p in problems}
    assert TEST_KEY_ID in problems[0].message or any(TEST_KEY_ID in p.message for p in problems)
    assert sign_hex(TEST_KEY, "0" * 64)  # the key is real, deterministic


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


def test_signature_dated_inside_a_rotated_keys_window_still_verifies():
    from pithfactory import RETIRED_KEY, RETIRED_KEY_ID
    record = make_record(sk=RETIRED_KEY, key_id=RETIRED_KEY_ID)
    record["receipt"]["signed_at"] = "2025-06-01T00:00:00.000000Z"
    reports, entries, problems = _verify((record, "record", "old.json"))
    assert problems == [] and len(entries) == 1
    validity = next(c for c in reports[0].checks if c.name == "record.receipt.key_validity")
    assert validity.ok and "retired-2025 is valid at 2025-06-01" in validity.detail


def test_key_window_that_ends_before_it_starts_is_a_keyring_problem(tmp_path):
    from sitegen.verify.keyring import load_keyring
    keys = tmp_path / "content" / "keys"
    keys.mkdir(parents=True)
    doc = dict(key_document(), not_before="2027-01-01T00:00:00Z", rotates_at="2026-01-01T00:00:00Z")
    (keys / "k.json").write_text(__import__("json").dumps(doc))
    keyring, problems = load_keyring(keys, tmp_path)
    assert len(keyring) == 0 and problems[0].field == "not_before"

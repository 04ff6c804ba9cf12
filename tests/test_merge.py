"""pith-open-graph-merge-v1 for the event kinds seen in the seed."""

from __future__ import annotations

import copy
import itertools

from sitegen import protocol
from sitegen.merge import merge
from pithfactory import (ATTACKER_KEY, REGISTRY_KEY, SEED_BUNDLES, key_document, keyring_of, load_json,
                         make_bundle, make_record, sign_event)

SEED = load_json(SEED_BUNDLES[0])
REGISTRY = keyring_of(load_json(REGISTRY_KEY))
TEST = keyring_of(key_document())


def test_replaying_the_seed_bundle_reproduces_its_published_state_exactly():
    state = merge(SEED["events"], SEED["source_aliases"], REGISTRY, pith_number=SEED["pith_number"])
    assert state["state_sha256"] == SEED["state"]["state_sha256"]
    assert protocol.canonical_json(state) == protocol.canonical_json(SEED["state"])


def test_merge_does_not_depend_on_event_order():
    bundle = make_bundle()
    events = bundle["events"] + [copy.deepcopy(bundle["events"][1])]
    states = {merge(list(p), bundle["source_aliases"], TEST, pith_number=bundle["pith_number"])["state_sha256"]
              for p in itertools.permutations(events)}
    assert len(states) == 1
    seed_states = {merge(list(p), SEED["source_aliases"], REGISTRY, pith_number=SEED["pith_number"])["state_sha256"]
                   for p in itertools.permutations(SEED["events"])}
    assert seed_states == {SEED["state"]["state_sha256"]}


def test_invalid_event_is_listed_and_counted_not_applied():
    bundle = make_bundle()
    forged = copy.deepcopy(bundle["events"][1])
    forged["payload"]["graph_snapshot"]["paper"]["title"] = "Forged"
    state = merge(bundle["events"] + [forged], bundle["source_aliases"], TEST, pith_number=bundle["pith_number"])
    assert state["event_count"] == 3 and state["valid_event_count"] == 2 and state["invalid_event_count"] == 1
    assert state["invalid_events"][0]["event_id"] == forged["event_id"]
    assert any("content_sha256" in r for r in state["invalid_events"][0]["reasons"])
    # The forged copy claims the genuine event's id; only the genuine payload is applied.
    assert state["applied_event_ids"] == [e["event_id"] for e in bundle["events"]]
    snapshots = state["current"]["graph_snapshots"]
    assert len(snapshots) == 1 and snapshots[0]["payload"]["graph_snapshot"]["paper"]["title"] == "A Bundled Paper"


def test_event_signed_by_untrusted_key_is_invalid():
    bundle = make_bundle()
    event = sign_event(copy.deepcopy(bundle["events"][1]), ATTACKER_KEY, "sitegen-test-2026")
    state = merge([bundle["events"][0], event], bundle["source_aliases"], TEST, pith_number=bundle["pith_number"])
    assert state["invalid_event_count"] == 1 and state["current"]["graph_snapshots"] == []


def test_two_different_record_events_are_an_equivocation_and_the_first_wins():
    bundle = make_bundle()
    first = bundle["events"][0]
    second = copy.deepcopy(first)
    second["created_at"] = "2026-05-18T00:00:00Z"
    second = sign_event(second)
    state = merge([second, first], bundle["source_aliases"], TEST, pith_number=bundle["pith_number"])
    assert state["equivocation_count"] == 1
    assert state["equivocations"][0]["event_ids"] == [first["event_id"], second["event_id"]]
    assert state["current"]["record_created"]["event_id"] == first["event_id"]
    assert second["event_id"] not in state["applied_event_ids"]


def test_state_without_a_record_event_has_no_canonical_record():
    bundle = make_bundle()
    state = merge(bundle["events"][1:], bundle["source_aliases"], TEST, pith_number=bundle["pith_number"])
    assert state["current"]["canonical_record"] is None and state["current"]["record_created"] is None


def test_malformed_event_is_invalid_not_a_crash():
    record = make_record()
    state = merge([{"event_type": 3}, "junk"], [], TEST, pith_number=record["pith_number"])
    assert state["invalid_event_count"] == 2 and state["applied_event_ids"] == []

"""pith-open-graph-merge-v1 (docs/merge.md): the real seed, every target,
superseding chains, prev_event chains and forks, equivocations, invalid events,
and independence from event order."""

from __future__ import annotations

import copy
import itertools
import json
import random

import pytest

from pithfactory import (
    ATTACKER_KEY,
    REGISTRY_KEY,
    SEED_BUNDLES,
    TEST_KEY_ID,
    key_document,
    keyring_of,
    load_json,
    make_bundle,
    make_site,
    resign_bundle,
    sign_event,
)
from sitegen.cli import main
from sitegen.pith import canonical
from sitegen.verify.event import merge_events as merge

SEED = load_json(SEED_BUNDLES[0])
REGISTRY = keyring_of(load_json(REGISTRY_KEY))
TEST = keyring_of(key_document())
BASE = make_bundle()
PN = BASE["pith_number"]
RECORD_EVENT, GRAPH_EVENT = BASE["events"]


def event(kind: str, target: str, payload: dict, created_at: str, *, prev=None, supersedes=(),
          signer_id="pith.science", sk=None, key_id=TEST_KEY_ID) -> dict:
    base = {"event_type": kind, "subject_pith_number": PN, "target": target, "payload": payload,
            "signer": dict(RECORD_EVENT["signer"], signer_id=signer_id), "created_at": created_at,
            "supersedes": list(supersedes), "prev_event": prev}
    return sign_event(base, sk, key_id) if sk is not None else sign_event(base)


def run(events, keyring=TEST):
    return merge(events, BASE["source_aliases"], keyring, pith_number=PN)


def test_replaying_the_seed_bundle_reproduces_its_published_state_exactly():
    state = merge(SEED["events"], SEED["source_aliases"], REGISTRY, pith_number=SEED["pith_number"])
    assert state["state_sha256"] == SEED["state"]["state_sha256"]
    assert canonical.canonical_json(state) == canonical.canonical_json(SEED["state"])


def test_seed_merge_does_not_depend_on_event_order():
    states = {merge(list(p), SEED["source_aliases"], REGISTRY, pith_number=SEED["pith_number"])["state_sha256"]
              for p in itertools.permutations(SEED["events"])}
    assert states == {SEED["state"]["state_sha256"]}


KINDS = [("author_attestation", "author", "author_attestations", {"orcid": "0000-0002-1825-0097"}),
         ("timestamp_anchor", "timestamp", "timestamp_anchors", {"proof_type": "opentimestamps"}),
         ("storage_attestation", "storage", "storage_attestations", {"archive": "web.archive.org"}),
         ("citation_signature", "citation", "citation_signatures", {"relationship": "supports"}),
         ("replication_record", "replication", "replication_records", {"outcome": "replicated"}),
         ("correction", "correction", "corrections", {"note": "typo"}),
         ("mirror_hint", "mirror", "mirror_hints", {"base_url": "https://mirror.test"})]


def test_every_target_lands_in_its_slot():
    extra = [event(k, t, p, f"2026-06-0{i + 1}T00:00:00Z") for i, (k, t, _, p) in enumerate(KINDS)]
    state = run([RECORD_EVENT, GRAPH_EVENT, *extra])
    assert state["invalid_events"] == [] and state["equivocations"] == []
    for (_kind, target, slot, payload), e in zip(KINDS, extra, strict=True):
        assert state["current"][slot] == [{"event_id": e["event_id"], "target": target, "created_at": e["created_at"],
                                           "signer": e["signer"], "payload": payload}]
    assert state["applied_event_ids"] == [RECORD_EVENT["event_id"], GRAPH_EVENT["event_id"],
                                          *(e["event_id"] for e in extra)]
    assert state["valid_event_count"] == 9 and state["event_count"] == 9


def test_a_bundle_with_every_kind_builds_and_its_page_shows_them(tmp_path):
    extra = [event(k, t, p, f"2026-06-0{i + 1}T00:00:00Z") for i, (k, t, _, p) in enumerate(KINDS)]
    bundle = resign_bundle(dict(copy.deepcopy(BASE), events=[RECORD_EVENT, GRAPH_EVENT, *extra]))
    site = make_site(tmp_path, seeds=False, docs={"b.json": bundle})
    assert main(["build", str(site), "-o", str(tmp_path / "out"), "-q"]) == 0
    html = (tmp_path / "out" / "pith" / PN.split(":")[2] / "index.html").read_text()
    assert "Bitcoin timestamp — yes" in html and "Author claim — yes" in html and "Replications — yes" in html
    assert html.count(TEST_KEY_ID) >= 9  # the page says which key signed each event


def test_superseding_chain_keeps_only_the_latest_entry():
    a = event("graph_snapshot", "graph", GRAPH_EVENT["payload"], "2026-06-01T00:00:00Z")
    b = event("graph_snapshot", "graph", GRAPH_EVENT["payload"], "2026-06-02T00:00:00Z", supersedes=[a["event_id"]])
    c = event("graph_snapshot", "graph", GRAPH_EVENT["payload"], "2026-06-03T00:00:00Z", supersedes=[b["event_id"]])
    state = run([RECORD_EVENT, c, a, b])
    assert [e["event_id"] for e in state["current"]["graph_snapshots"]] == [c["event_id"]]
    assert state["applied_event_ids"] == [RECORD_EVENT["event_id"], a["event_id"], b["event_id"], c["event_id"]]


def test_a_signer_cannot_supersede_another_signers_event():
    a = event("correction", "correction", {"note": "a"}, "2026-06-01T00:00:00Z", signer_id="alice")
    b = event("correction", "correction", {"note": "b"}, "2026-06-02T00:00:00Z", signer_id="bob",
              supersedes=[a["event_id"]])
    state = run([RECORD_EVENT, a, b])
    assert [e["event_id"] for e in state["current"]["corrections"]] == [a["event_id"]]
    assert state["invalid_events"] == [{"event_id": b["event_id"], "reasons": [
        f"supersedes {a['event_id']}, which is not a live applied event of the same target and signer"]}]


def test_superseding_an_unknown_event_is_invalid():
    ghost = event("correction", "correction", {"note": "x"}, "2026-06-01T00:00:00Z",
                  supersedes=["sha256:" + "1" * 64])
    state = run([RECORD_EVENT, ghost])
    assert [e["event_id"] for e in state["invalid_events"]] == [ghost["event_id"]]
    assert state["valid_event_count"] == 1 and state["invalid_event_count"] == 1


def test_dependencies_order_events_even_against_their_dates():
    # `early` names `later`'s id, so it was made after it whatever its created_at says.
    later = event("correction", "correction", {"note": "later"}, "2026-06-05T00:00:00Z")
    early = event("correction", "correction", {"note": "early"}, "2026-06-01T00:00:00Z", supersedes=[later["event_id"]])
    state = run([RECORD_EVENT, early, later])
    assert state["applied_event_ids"] == [RECORD_EVENT["event_id"], later["event_id"], early["event_id"]]
    assert [e["event_id"] for e in state["current"]["corrections"]] == [early["event_id"]]


def test_prev_event_chain_and_a_fork_is_an_equivocation():
    a = event("author_attestation", "author", {"claim": 1}, "2026-06-01T00:00:00Z", signer_id="orcid:1")
    b = event("author_attestation", "author", {"claim": 2}, "2026-06-02T00:00:00Z", signer_id="orcid:1",
              prev=a["event_id"])
    c = event("author_attestation", "author", {"claim": 3}, "2026-06-03T00:00:00Z", signer_id="orcid:1",
              prev=b["event_id"])
    fork = event("author_attestation", "author", {"claim": "x"}, "2026-06-04T00:00:00Z", signer_id="orcid:1",
                 prev=a["event_id"])
    state = run([RECORD_EVENT, fork, c, b, a])
    attestations = [e["event_id"] for e in state["current"]["author_attestations"]]
    assert attestations == [a["event_id"], b["event_id"], c["event_id"]]
    assert state["equivocations"] == [{"target": "author", "signer_id": "orcid:1", "prev_event": a["event_id"],
                                       "event_ids": [b["event_id"], fork["event_id"]]}]
    assert state["equivocation_count"] == 1 and fork["event_id"] not in state["applied_event_ids"]


def test_prev_event_that_is_not_an_earlier_event_of_the_same_log_is_invalid():
    a = event("author_attestation", "author", {"claim": 1}, "2026-06-01T00:00:00Z", signer_id="orcid:1")
    other_signer = event("author_attestation", "author", {"claim": 2}, "2026-06-02T00:00:00Z", signer_id="orcid:2",
                         prev=a["event_id"])
    dangling = event("author_attestation", "author", {"claim": 3}, "2026-06-03T00:00:00Z", signer_id="orcid:1",
                     prev="sha256:" + "0" * 64)
    state = run([RECORD_EVENT, a, other_signer, dangling])
    assert {e["event_id"] for e in state["invalid_events"]} == {other_signer["event_id"], dangling["event_id"]}


def test_a_second_record_event_is_an_equivocation_unless_it_supersedes():
    second = copy.deepcopy(RECORD_EVENT)
    second["created_at"] = "2026-06-01T00:00:00Z"
    rival = sign_event(second)
    state = run([rival, RECORD_EVENT, GRAPH_EVENT])
    assert state["equivocations"][0]["event_ids"] == [RECORD_EVENT["event_id"], rival["event_id"]]
    assert state["current"]["record_created"]["event_id"] == RECORD_EVENT["event_id"]
    second["supersedes"] = [RECORD_EVENT["event_id"]]
    reissue = sign_event(second)
    state = run([reissue, RECORD_EVENT, GRAPH_EVENT])
    assert state["equivocations"] == [] and state["current"]["record_created"]["event_id"] == reissue["event_id"]


def test_invalid_events_are_listed_with_reasons_and_never_applied():
    forged = copy.deepcopy(GRAPH_EVENT)
    forged["payload"]["graph_snapshot"]["paper"]["title"] = "Forged"
    untrusted = event("correction", "correction", {"note": "x"}, "2026-06-01T00:00:00Z", sk=ATTACKER_KEY)
    bad_relationship = event("citation_signature", "citation", {"relationship": "praises"}, "2026-06-01T00:00:00Z")
    state = run([RECORD_EVENT, GRAPH_EVENT, forged, untrusted, bad_relationship, "junk"])
    assert state["event_count"] == 6 and state["valid_event_count"] == 2 and state["invalid_event_count"] == 4
    reasons = {e["event_id"]: e["reasons"] for e in state["invalid_events"]}
    assert any(r.startswith("event.content_sha256: is ") for r in reasons[forged["event_id"]])
    assert any("does not verify with key" in r for r in reasons[untrusted["event_id"]])
    assert any("one of supports" in r for r in reasons[bad_relationship["event_id"]])
    assert state["current"]["corrections"] == [] and state["current"]["citation_signatures"] == []
    # Only the genuine copy of the forged event's id is applied.
    assert state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]["paper"]["title"] == "A Bundled Paper"


def test_duplicate_event_is_applied_once():
    state = run([RECORD_EVENT, GRAPH_EVENT, copy.deepcopy(GRAPH_EVENT)])
    assert state["applied_event_ids"] == [RECORD_EVENT["event_id"], GRAPH_EVENT["event_id"]]
    assert state["event_count"] == 3 and state["valid_event_count"] == 2


def test_no_record_event_means_no_canonical_record():
    state = run([GRAPH_EVENT])
    assert state["current"]["canonical_record"] is None and state["current"]["record_created"] is None


def _mixed_events():
    a = event("author_attestation", "author", {"claim": 1}, "2026-06-01T00:00:00Z", signer_id="o")
    b = event("author_attestation", "author", {"claim": 2}, "2026-06-01T00:00:00Z", signer_id="o", prev=a["event_id"])
    fork = event("author_attestation", "author", {"claim": 3}, "2026-06-02T00:00:00Z", signer_id="o",
                 prev=a["event_id"])
    g2 = event("graph_snapshot", "graph", GRAPH_EVENT["payload"], "2026-06-01T00:00:00Z",
               supersedes=[GRAPH_EVENT["event_id"]])
    bad = copy.deepcopy(g2)
    bad["signature"]["signature_b64"] = "A" + bad["signature"]["signature_b64"][1:]
    return [RECORD_EVENT, GRAPH_EVENT, a, b, fork, g2, bad, "junk"]


def test_merge_result_does_not_depend_on_event_order():
    events = _mixed_events()
    reference = run(events)
    assert reference["equivocation_count"] == 1 and reference["invalid_event_count"] == 2
    rng = random.Random(7)
    orders = [rng.sample(events, len(events)) for _ in range(150)] + [list(reversed(events))]
    assert {run(order)["state_sha256"] for order in orders} == {reference["state_sha256"]}


@pytest.mark.parametrize("n", [3, 4])
def test_merge_is_order_independent_over_every_permutation(n):
    events = _mixed_events()[:n]
    assert len({run(list(p))["state_sha256"] for p in itertools.permutations(events)}) == 1


def test_bundle_whose_state_came_from_another_merge_is_reported_field_by_field(tmp_path, capsys):
    extra = event("correction", "correction", {"note": "x"}, "2026-06-01T00:00:00Z")
    bundle = resign_bundle(dict(copy.deepcopy(BASE), events=[RECORD_EVENT, GRAPH_EVENT, extra]))
    bundle["state"]["current"]["corrections"] = []  # a merge that dropped the correction
    bundle = resign_bundle(bundle, replay=False)
    site = make_site(tmp_path, seeds=False, docs={"b.json": bundle})
    assert main(["build", str(site), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "content/b.json: state.current.corrections: published [], merge gives [{" in err
    assert json.loads(json.dumps(bundle))  # the fixture itself is plain JSON


def test_the_bundle_verifiers_event_reasons_give_the_same_state_as_merge_events():
    events = _mixed_events()[:-1]  # the verifier only passes schema-valid events
    from sitegen.verify.event import verify_event
    reasons = [[f"{r.field}: {r.detail}" for r in verify_event(e, keyring=TEST, subject=PN, field=f"events[{i}]")
                if not r.ok] for i, e in enumerate(events)]
    from sitegen.pith.merge import merge as pure_merge
    assert pure_merge(events, BASE["source_aliases"], pith_number=PN, reasons=reasons) == run(events)

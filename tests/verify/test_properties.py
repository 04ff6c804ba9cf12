"""Properties of the loader and verifier over generated input (hypothesis).

* Any bytes: loading raises nothing but a clean ``ValueError`` (reported as a
  problem), and verifying any parsed document never raises.
* Any one-byte change to a signed document is rejected unless it leaves the
  signed content untouched (e.g. a digit of an unsigned ``signed_at``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pithfactory import REGISTRY_KEY, SEED_BUNDLES, SEED_RECORDS, key_document, keyring_of, load_json
from sitegen.model import ParsedDocument, SourceFile
from sitegen.pith import canonical
from sitegen.pith.strict_json import classify, parse_strict_json
from sitegen.verify.documents import verify_document

KEYRING = keyring_of(load_json(REGISTRY_KEY), key_document())
RECORD_BYTES = SEED_RECORDS[0].read_bytes()
BUNDLE_BYTES = SEED_BUNDLES[0].read_bytes()
PROFILE = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_and_verify(data: bytes):
    """The pipeline's per-file path. Returns ``(report-or-None, body-or-None)``."""
    try:
        body = parse_strict_json(data)
        kind = classify(body)
    except ValueError:
        return None, None
    report, _ = verify_document(ParsedDocument(SourceFile(Path("f.json"), "f.json", data), kind, body), KEYRING)
    return report, body


@PROFILE
@given(st.binary(max_size=4096))
def test_any_bytes_load_cleanly(data):
    load_and_verify(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=40,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


@pytest.mark.slow
@PROFILE
@given(st.data(), json_values, st.sampled_from(["record", "bundle"]))
def test_any_subtree_replaced_by_any_json_never_crashes_the_verifier(data, value, kind):
    doc = json.loads(RECORD_BYTES if kind == "record" else BUNDLE_BYTES)
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    try:
        encoded = json.dumps(doc, allow_nan=True).encode()
    except (ValueError, UnicodeEncodeError):
        return
    load_and_verify(encoded)


def _record_signed_part(body):
    return canonical.canonical_json(body["canonical_record"])


def _bundle_signed_part(body):
    sig = body["bundle_signature"]
    return (canonical.canonical_json({k: v for k, v in body.items() if k != "bundle_signature"}),
            sig["bundle_sha256"], sig["signature_b64"], sig["key_id"])


def one_byte_changed(original: bytes):
    """Strategy: ``original`` with exactly one byte replaced by a different one."""
    return st.tuples(st.integers(0, len(original) - 1), st.integers(1, 255)).map(
        lambda t: original[:t[0]] + bytes([(original[t[0]] + t[1]) % 256]) + original[t[0] + 1:])


@PROFILE
@given(one_byte_changed(RECORD_BYTES))
def test_one_byte_change_to_a_signed_record_cannot_change_signed_content(mutated):
    report, body = load_and_verify(mutated)
    if report is not None and report.ok:
        assert _record_signed_part(body) == _record_signed_part(json.loads(RECORD_BYTES))
        assert body["paper"]["title"].lower() == json.loads(RECORD_BYTES)["paper"]["title"].lower()


@PROFILE
@given(one_byte_changed(BUNDLE_BYTES))
def test_one_byte_change_to_a_signed_bundle_is_rejected_unless_outside_the_signature(mutated):
    report, body = load_and_verify(mutated)
    if report is not None and report.ok:
        assert _bundle_signed_part(body) == _bundle_signed_part(json.loads(BUNDLE_BYTES))


def test_one_byte_changes_inside_signed_content_are_all_rejected():
    """Exhaustive over the canonical record's title hash: every single-character
    change anywhere in it is rejected (a deterministic complement to the above)."""
    text = BUNDLE_BYTES.decode()
    start = text.index('"title_canon_sha256":"') + len('"title_canon_sha256":"')
    for i in range(start, start + 64):
        new = "0" if text[i] != "0" else "1"
        report, _ = load_and_verify((text[:i] + new + text[i + 1:]).encode())
        assert report is not None and not report.ok

"""docs/protocol.md §1–3 rules, proven on the real seed documents."""

from __future__ import annotations

import base64
import hashlib
import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pithfactory import REGISTRY_KEY, SEED_BUNDLES, SEED_RECORDS, TEST_KEY, canonical_record, load_json, sign_hex
from sitegen.pith import canonical, keys, numbers

SEEDS = SEED_RECORDS + SEED_BUNDLES
REGISTRY_PUBLIC = bytes.fromhex("b2d552b68890857171a78b36a5dccf368a953413288c353f7c9d9d6f94b709b3")


def test_there_are_four_seed_records_and_one_seed_bundle():
    assert len(SEED_RECORDS) == 4 and len(SEED_BUNDLES) == 1


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_canonical_json_equals_orjson_sorted_keys_on_seed(path):
    doc = load_json(path)
    assert canonical.canonical_json(doc) == orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_served_bytes_are_not_canonical_so_hashing_them_would_be_wrong(path):
    raw = path.read_bytes()
    assert canonical.canonical_json(json.loads(raw)) != raw


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_canonical_sha256_and_pith_number_of_seed_match_published(path):
    doc = load_json(path)
    assert canonical.canonical_sha256(doc["canonical_record"]) == doc["canonical_sha256"]
    assert numbers.pith_number(doc["canonical_record"]) == doc["pith_number"]
    suffix = doc["pith_number"].rsplit(":", 1)[1]
    assert numbers.short_pith_number(suffix) == doc["short_pith_number"]
    assert numbers.parse_pith_number(doc["pith_number"]) == (doc["pith_number"][5:9], suffix)


def test_suffix_uses_the_full_digest_not_its_first_16_bytes():
    # docs/protocol.md §2: base32 of only 16 bytes gets the 26th character wrong for ~3 records in 4.
    wrong = 0
    for path in SEEDS:
        doc = load_json(path)
        digest = bytes.fromhex(doc["canonical_sha256"])
        suffix = doc["pith_number"].rsplit(":", 1)[1]
        assert numbers.pith_suffix(doc["canonical_sha256"]) == suffix
        naive = base64.b32encode(digest[:16]).decode()[:26]
        wrong += naive != suffix
    assert wrong >= 1


def test_pith_number_year_comes_from_submitted_at_not_the_arxiv_id():
    cr = canonical_record(arxiv_id="1801.00004", submitted_at="2017-12-29T18:00:00Z")
    assert numbers.pith_number(cr).startswith("pith:2017:")


@pytest.mark.parametrize("path", SEED_RECORDS, ids=lambda p: p.name)
def test_title_canon_sha256_of_seed_title(path):
    doc = load_json(path)
    metadata = doc["canonical_record"]["metadata"]
    assert canonical.title_canon_sha256(doc["paper"]["title"]) == metadata["title_canon_sha256"]


def test_registry_key_fingerprints_match_protocol():
    assert keys.key_fingerprint(REGISTRY_PUBLIC) == "8d4b5ee74e4693bcd1df2446408b0d54"
    assert keys.key_fingerprint_b32(REGISTRY_PUBLIC) == "RVFV5Z2OI2J3ZUO7ERDEBCYNKS"
    doc = load_json(REGISTRY_KEY)
    assert base64.b64decode(doc["public_key_b64"]) == REGISTRY_PUBLIC


@pytest.mark.parametrize("path", SEED_RECORDS, ids=lambda p: p.name)
def test_seed_receipt_verifies_over_raw_digest(path):
    doc = load_json(path)
    assert keys.verify_digest_signature(doc["canonical_sha256"], doc["receipt"]["signature_b64"], REGISTRY_PUBLIC)


def test_seed_bundle_events_bundle_and_state_hashes_match():
    bundle = load_json(SEED_BUNDLES[0])
    for event in bundle["events"]:
        digest = canonical.event_content_sha256(event)
        assert digest == event["content_sha256"] and event["event_id"] == f"sha256:{digest}"
        assert keys.verify_digest_signature(digest, event["signature"]["signature_b64"], REGISTRY_PUBLIC)
    digest = canonical.bundle_sha256(bundle)
    assert digest == bundle["bundle_signature"]["bundle_sha256"]
    assert keys.verify_digest_signature(digest, bundle["bundle_signature"]["signature_b64"], REGISTRY_PUBLIC)
    assert canonical.state_sha256(bundle["state"]) == bundle["state"]["state_sha256"]


SEED = load_json(SEED_RECORDS[0])
GOOD_SIG = SEED["receipt"]["signature_b64"]
GOOD_DIGEST = SEED["canonical_sha256"]


def _flip_last_padding_bit(sig: str) -> str:
    # 64 bytes → the last base64 char before '==' carries 4 unused bits; set one.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = sig[-3]
    return sig[:-3] + alphabet[alphabet.index(last) | 1] + "=="


@pytest.mark.parametrize("name,digest,signature,key", [
    ("tampered_digest", "0" * 64, GOOD_SIG, REGISTRY_PUBLIC),
    ("signature_from_other_key", GOOD_DIGEST, sign_hex(TEST_KEY, GOOD_DIGEST), REGISTRY_PUBLIC),
    ("non_canonical_base64_padding_bits", GOOD_DIGEST, _flip_last_padding_bit(GOOD_SIG), REGISTRY_PUBLIC),
    ("truncated_signature", GOOD_DIGEST, GOOD_SIG[:40], REGISTRY_PUBLIC),
    ("url_safe_alphabet", GOOD_DIGEST, GOOD_SIG.replace("+", "-").replace("/", "_"), REGISTRY_PUBLIC),
    ("embedded_whitespace", GOOD_DIGEST, GOOD_SIG[:20] + "\n" + GOOD_SIG[20:], REGISTRY_PUBLIC),
    ("uppercase_hex_digest", GOOD_DIGEST.upper(), GOOD_SIG, REGISTRY_PUBLIC),
    ("short_key", GOOD_DIGEST, GOOD_SIG, REGISTRY_PUBLIC[:31]),
    ("signature_not_a_string", GOOD_DIGEST, None, REGISTRY_PUBLIC),
])
def test_verify_digest_signature_rejects(name, digest, signature, key):
    if name == "non_canonical_base64_padding_bits":
        assert _flip_last_padding_bit(GOOD_SIG) != GOOD_SIG
        assert base64.b64decode(_flip_last_padding_bit(GOOD_SIG)) == base64.b64decode(GOOD_SIG)
    assert keys.verify_digest_signature(digest, signature, key) is False


def test_signature_is_over_raw_digest_bytes_not_hex_text():
    hex_text_sig = base64.b64encode(TEST_KEY.sign(GOOD_DIGEST.encode()).signature).decode()
    assert not keys.verify_digest_signature(GOOD_DIGEST, hex_text_sig, bytes(TEST_KEY.verify_key))
    assert keys.verify_digest_signature(GOOD_DIGEST, sign_hex(TEST_KEY, GOOD_DIGEST), bytes(TEST_KEY.verify_key))


@pytest.mark.parametrize("value", [
    "pith:2017:bimli3thh5pshA56CBSKDVHQKR", "pith:2017:BIMLI3TH", "pith:17:BIMLI3THH5PSHA56CBSKDVHQKR",
    "pith:2017:../../../../etc/passwd", "pith:2017:BIMLI3THH5PSHA56CBSKDVHQKR\n",
    "pith:2017:BIMLI3THH5PSHA56CBSKDVHQK1",
    None, 7,
])
def test_parse_pith_number_rejects_malformed(value):
    with pytest.raises(ValueError):
        numbers.parse_pith_number(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_canonical_json_is_a_fixed_point_of_parse(value):
    try:
        once = canonical.canonical_json(value)
    except UnicodeEncodeError:
        return  # lone surrogates have no UTF-8 form; the loader rejects them
    assert canonical.canonical_json(json.loads(once)) == once


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(json_values.filter(lambda v: not _has_float(v)))
def test_canonical_json_equals_orjson_for_integer_documents(value):
    try:
        expected = canonical.canonical_json(value)
    except UnicodeEncodeError:
        return
    assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == expected


def _has_float(v) -> bool:
    if isinstance(v, float):
        return True
    if isinstance(v, list):
        return any(_has_float(x) for x in v)
    if isinstance(v, dict):
        return any(_has_float(x) for x in v.values())
    return False


def test_canonical_sha256_is_sha256_of_canonical_json():
    doc = {"b": 1, "a": ["é", {"z": None, "y": True}]}
    assert canonical.canonical_json(doc) == '{"a":["é",{"y":true,"z":null}],"b":1}'.encode()
    assert canonical.canonical_sha256(doc) == hashlib.sha256(canonical.canonical_json(doc)).hexdigest()

"""Key documents in ``content/keys/`` that would make the keyring fail open.

Trust comes only from the operator's keyring (docs/protocol.md §3), so a key
document that cannot be read exactly must stop the build — never become a key
with "no limit". Each case writes one hostile key document beside the trusted
ones (:func:`conformance.cases.key_case`).
"""

from __future__ import annotations

import json

from conformance.cases import key_case
from pithfactory import ATTACKER_KEY, TEST_KEY, TEST_KEY_ID, key_document

_ID = "conformance-key"


def _key(**fields):
    """A self-consistent key document for a fresh key, with ``fields`` set."""
    return lambda: dict(key_document(ATTACKER_KEY, _ID), **fields)


def _surrogate_in_notes() -> bytes:
    return json.dumps(dict(key_document(ATTACKER_KEY, _ID), notes="@")).replace('"@"', '"\\udc00"').encode()


def _fingerprint_of(other):
    def make():
        doc = key_document(ATTACKER_KEY, _ID)
        doc["fingerprint_sha256_hex"] = key_document(other)["fingerprint_sha256_hex"]
        return doc
    return make


def _hex_of(other):
    def make():
        doc = key_document(ATTACKER_KEY, _ID)
        doc["public_key_hex"] = key_document(other)["public_key_hex"]
        return doc
    return make


CASES = [
    # An unreadable end of validity must never read as "valid forever".
    key_case("key_rotation_date_unparsable_fails_open", "malformed", _key(rotates_at="soon"),
             "key.schema", "rotates_at"),
    key_case("key_rotation_date_impossible_month_fails_open", "malformed", _key(rotates_at="2026-13-01T00:00:00Z"),
             "key.schema", "rotates_at"),
    key_case("key_rotation_date_impossible_day_fails_open", "malformed", _key(rotates_at="2026-02-30T00:00:00Z"),
             "key.schema", "rotates_at"),
    key_case("key_rotation_date_impossible_offset_fails_open", "malformed",
             _key(rotates_at="2026-06-01T00:00:00-00:60"), "key.schema", "rotates_at"),
    key_case("key_rotation_date_as_epoch_number_fails_open", "malformed", _key(rotates_at=1780000000),
             "key.schema", "rotates_at"),
    key_case("key_not_before_unparsable_fails_open", "malformed", _key(not_before="yesterday"),
             "key.schema", "not_before"),
    key_case("key_revocation_flag_as_string_fails_open", "malformed", _key(revoked="true"),
             "key.schema", "revoked"),
    key_case("key_window_that_ends_before_it_starts", "malformed",
             _key(not_before="2027-01-01T00:00:00Z", rotates_at="2026-01-01T00:00:00Z"), "key.document", "not_before"),
    key_case("key_document_with_lone_low_surrogate_escape", "malformed", _surrogate_in_notes, "load.json", ""),
    # Ambiguous trust: revoking one id would leave the same key trusted under the other.
    key_case("one_public_key_trusted_under_two_key_ids", "forgery", lambda: key_document(TEST_KEY, _ID),
             "key.keyring", "public_key_b64"),
    key_case("one_key_id_defined_twice_with_different_keys", "forgery", lambda: key_document(ATTACKER_KEY, TEST_KEY_ID),
             "key.keyring", "key_id"),
    # Mislabelled key material: a key file that names another key's fingerprint or bytes.
    key_case("key_document_with_the_fingerprint_of_another_key", "forgery", _fingerprint_of(TEST_KEY),
             "key.document", "fingerprint_sha256_hex"),
    key_case("key_document_hex_and_base64_of_different_keys", "forgery", _hex_of(TEST_KEY),
             "key.document", "public_key_hex"),
]

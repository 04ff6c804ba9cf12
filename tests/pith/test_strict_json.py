"""sitegen.pith.strict_json: the one JSON parser for untrusted documents (docs/protocol.md §1)."""

from __future__ import annotations

import pytest

from pithfactory import SEED_RECORDS
from sitegen.pith.strict_json import parse_strict_json

SEED_BYTES = SEED_RECORDS[0].read_bytes()


@pytest.mark.parametrize("name,data,fragment", [
    ("utf8_bom", b"\xef\xbb\xbf" + SEED_BYTES, "byte order mark"),
    ("invalid_utf8", b'{"record_type": "\xff"}', "invalid UTF-8 at byte 17"),
    ("empty_file", b"", "file is empty"),
    ("whitespace_only", b"  \n", "file is empty"),
    ("truncated_json", SEED_BYTES[:500], "not valid JSON"),
    ("not_json", b"<html></html>", "not valid JSON"),
    ("duplicate_key_smuggling", b'{"record_type": "x", "record_type": "pith_number_record"}',
     "duplicate key 'record_type'"),
    ("nan_constant", b'{"a": NaN}', "NaN is not valid JSON"),
    ("infinity_constant", b'{"a": -Infinity}', "-Infinity is not valid JSON"),
    ("integer_beyond_64_bits", b'{"a": 18446744073709551616}', "does not fit in 64 bits"),
    ("recursion_bomb_arrays", b"[" * 100000 + b"]" * 100000, "nesting is deeper than"),
    ("moderately_deep_nesting", b'{"a":' * 70 + b"1" + b"}" * 70, "nesting is deeper than 64"),
    ("lone_surrogate", b'{"a": "\\ud800"}', "lone UTF-16 surrogate"),
    ("lone_low_surrogate", b'{"a": "\\udc00"}', "lone UTF-16 surrogate"),
    ("reversed_surrogate_pair", b'{"a": "\\ude00\\ud83d"}', "lone UTF-16 surrogate"),
    ("integer_with_5000_digits", b'{"a": ' + b"9" * 5000 + b'}', "does not fit in 64 bits"),
])
def test_parse_strict_json_rejects(name, data, fragment):
    with pytest.raises(ValueError) as e:
        parse_strict_json(data)
    assert fragment in str(e.value)


def test_parse_strict_json_accepts_surrogate_pairs_and_seeds():
    assert parse_strict_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}
    assert parse_strict_json(SEED_BYTES)["record_type"] == "pith_number_record"

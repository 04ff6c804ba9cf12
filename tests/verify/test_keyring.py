"""sitegen.verify.keyring: the trusted keys, each key document checked for consistency."""

from __future__ import annotations

import json

import pytest

from pithfactory import REGISTRY_KEY, key_document
from sitegen.verify.keyring import load_keyring


def _write_keys(tmp_path, docs: dict) -> tuple:
    keys = tmp_path / "content" / "keys"
    keys.mkdir(parents=True)
    for name, doc in docs.items():
        (keys / name).write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    return load_keyring(keys, tmp_path)


def test_keyring_loads_registry_key():
    kr, problems = load_keyring(REGISTRY_KEY.parent, REGISTRY_KEY.parent.parent.parent)
    assert problems == [] and kr.get("pith-v1-2026-05").fingerprint_hex == "8d4b5ee74e4693bcd1df2446408b0d54"


@pytest.mark.parametrize("name,mutate,field,fragment", [
    ("hex_and_b64_disagree", lambda d: d.update(public_key_hex="00" * 32), "public_key_hex",
     "does not match public_key_b64"),
    ("wrong_fingerprint_hex", lambda d: d.update(fingerprint_sha256_hex="0" * 32), "fingerprint_sha256_hex",
     "the key's fingerprint is"),
    ("wrong_fingerprint_b32", lambda d: d.update(fingerprint_sha256_b32_first128bits="A" * 26),
     "fingerprint_sha256_b32_first128bits", "the key's fingerprint is"),
    ("short_key", lambda d: d.update(public_key_b64="AAAA"), "public_key_b64", "decodes to 3 bytes"),
    ("wrong_algorithm", lambda d: d.update(algorithm="rsa"), "algorithm", "expected 'ed25519'"),
    ("missing_key_id", lambda d: d.pop("key_id"), "key_id", "required field is missing"),
])
def test_keyring_rejects_inconsistent_key_document(tmp_path, name, mutate, field, fragment):
    doc = key_document()
    mutate(doc)
    kr, problems = _write_keys(tmp_path, {"k.json": doc})
    assert len(kr) == 0
    assert any(p.field == field and fragment in p.message and p.file == "content/keys/k.json"
               for p in problems), problems


def test_keyring_rejects_two_files_with_the_same_key_id(tmp_path):
    kr, problems = _write_keys(tmp_path, {"a.json": key_document(), "b.json": key_document()})
    assert len(kr) == 1 and problems[0].file == "content/keys/b.json" and "also defined in" in problems[0].message


def test_keyring_without_keys_is_a_problem(tmp_path):
    kr, problems = _write_keys(tmp_path, {})
    assert len(kr) == 0 and "no trusted keys" in problems[0].message

"""The load stage: strict JSON, size cap, file types, symlinks, document types."""

from __future__ import annotations

import json
import os

import pytest

from dataclasses import replace
from pathlib import Path

from sitegen.build.scan import discover_paths
from sitegen.build.workers import load_document
from sitegen.config import load_settings
from sitegen.errors import InputError
from sitegen.pith.strict_json import parse_strict_json
from sitegen.verify.keyring import load_keyring
from pithfactory import REGISTRY_KEY, SEED_RECORDS, key_document, make_site

SEED_BYTES = SEED_RECORDS[0].read_bytes()


@pytest.mark.parametrize("name,data,fragment", [
    ("utf8_bom", b"\xef\xbb\xbf" + SEED_BYTES, "byte order mark"),
    ("invalid_utf8", b'{"record_type": "\xff"}', "invalid UTF-8 at byte 17"),
    ("empty_file", b"", "file is empty"),
    ("whitespace_only", b"  \n", "file is empty"),
    ("truncated_json", SEED_BYTES[:500], "not valid JSON"),
    ("not_json", b"<html></html>", "not valid JSON"),
    ("duplicate_key_smuggling", b'{"record_type": "x", "record_type": "pith_number_record"}', "duplicate key 'record_type'"),
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


def load_content(content_dir: Path, site_dir: Path, *, max_bytes: int):
    """What a build does with content/: discover, then load each file (the workers' path)."""
    settings = replace(load_settings(site_dir), max_document_bytes=max_bytes)
    paths, problems = discover_paths(content_dir, site_dir)
    files = len(paths) + len(problems)
    docs = []
    for path in paths:
        try:
            docs.append(load_document(Path(path), settings))
        except InputError as e:
            problems.append(e.problem)
    return docs, problems, files


def _load(site):
    return load_content(site / "content", site, max_bytes=8 << 20)


def test_load_reports_every_bad_file_in_one_run(tmp_path):
    site = make_site(tmp_path, docs={
        "bad/one.json": b"{",
        "bad/two.json": json.dumps({"record_type": "something_else"}).encode(),
        "bad/three.json": b"[1, 2]",
        "bad/four.json": json.dumps({"record_type": "pith_number_record",
                                     "bundle_type": "pith_open_graph_bundle"}).encode(),
    })
    docs, problems, files = _load(site)
    assert len(docs) == 5 and files == 9
    by_file = {p.file: p for p in problems}
    assert set(by_file) == {"content/bad/one.json", "content/bad/two.json", "content/bad/three.json",
                            "content/bad/four.json"}
    assert "unknown document type (record_type='something_else')" in by_file["content/bad/two.json"].message
    assert by_file["content/bad/three.json"].message == "expected a JSON object at the top level"
    assert "both record_type and bundle_type" in by_file["content/bad/four.json"].message
    assert str(by_file["content/bad/one.json"]).startswith("content/bad/one.json: not valid JSON")


def test_load_ignores_keys_dir_hidden_and_non_json_files(tmp_path):
    site = make_site(tmp_path, docs={"notes.txt": b"hello", ".hidden.json": b"{"})
    (site / "content" / ".git").mkdir()
    (site / "content" / ".git" / "x.json").write_bytes(b"{")
    docs, problems, _ = _load(site)
    assert problems == [] and len(docs) == 5


def test_load_rejects_file_over_size_cap_before_reading(tmp_path):
    site = make_site(tmp_path, seeds=False, docs={"big.json": b" " * 2048 + b"{}"})
    docs, problems, _ = load_content(site / "content", site, max_bytes=1024)
    assert docs == [] and problems[0].check == "load.size"
    assert "2050 bytes, over the 1024-byte cap" in problems[0].message


def test_load_rejects_symlink_pointing_outside_content(tmp_path):
    site = make_site(tmp_path, seeds=False)
    outside = tmp_path / "outside.json"
    outside.write_bytes(SEED_BYTES)
    os.symlink(outside, site / "content" / "evil.json")
    docs, problems, _ = _load(site)
    assert docs == [] and problems[0].file == "content/evil.json"
    assert problems[0].message == "symlink points outside content/"


def test_load_accepts_symlink_inside_content(tmp_path):
    site = make_site(tmp_path, seeds=False, docs={"real/r.json": SEED_BYTES})
    os.symlink(site / "content" / "real" / "r.json", site / "content" / "alias.json")
    docs, problems, _ = _load(site)
    assert problems == [] and len(docs) == 2


def test_load_rejects_directory_named_like_a_document(tmp_path):
    site = make_site(tmp_path, seeds=False)
    (site / "content" / "record.json").mkdir()
    docs, problems, _ = _load(site)
    assert problems[0].file == "content/record.json" and "is a directory" in problems[0].message


def test_load_rejects_symlinked_directory(tmp_path):
    site = make_site(tmp_path, seeds=False)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", site / "content" / "linked")
    _, problems, _ = _load(site)
    assert "symlinked directories are not followed" in problems[0].message


def test_build_reports_missing_content_dir(tmp_path, capsys):
    from sitegen.cli import main
    assert main(["build", str(tmp_path), "-q"]) == 1
    err = capsys.readouterr().err
    assert "content directory not found" in err and "sitegen init" in err


def test_load_rejects_fifo_where_file_expected(tmp_path):
    site = make_site(tmp_path, seeds=False)
    os.mkfifo(site / "content" / "pipe.json")
    _, problems, _ = _load(site)
    assert problems[0].message == "is not a regular file"


# --- keyring -------------------------------------------------------------


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
    ("hex_and_b64_disagree", lambda d: d.update(public_key_hex="00" * 32), "public_key_hex", "does not match public_key_b64"),
    ("wrong_fingerprint_hex", lambda d: d.update(fingerprint_sha256_hex="0" * 32), "fingerprint_sha256_hex", "the key's fingerprint is"),
    ("wrong_fingerprint_b32", lambda d: d.update(fingerprint_sha256_b32_first128bits="A" * 26), "fingerprint_sha256_b32_first128bits", "the key's fingerprint is"),
    ("short_key", lambda d: d.update(public_key_b64="AAAA"), "public_key_b64", "decodes to 3 bytes"),
    ("wrong_algorithm", lambda d: d.update(algorithm="rsa"), "algorithm", "expected 'ed25519'"),
    ("missing_key_id", lambda d: d.pop("key_id"), "key_id", "required field is missing"),
])
def test_keyring_rejects_inconsistent_key_document(tmp_path, name, mutate, field, fragment):
    doc = key_document()
    mutate(doc)
    kr, problems = _write_keys(tmp_path, {"k.json": doc})
    assert len(kr) == 0
    assert any(p.field == field and fragment in p.message and p.file == "content/keys/k.json" for p in problems), problems


def test_keyring_rejects_two_files_with_the_same_key_id(tmp_path):
    kr, problems = _write_keys(tmp_path, {"a.json": key_document(), "b.json": key_document()})
    assert len(kr) == 1 and problems[0].file == "content/keys/b.json" and "also defined in" in problems[0].message


def test_keyring_without_keys_is_a_problem(tmp_path):
    kr, problems = _write_keys(tmp_path, {})
    assert len(kr) == 0 and "no trusted keys" in problems[0].message

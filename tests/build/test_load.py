"""The load stage: size cap, file types, symlinks, document types."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from pithfactory import SEED_RECORDS, make_site
from sitegen.build.scan import discover_paths
from sitegen.build.workers import load_document
from sitegen.config import load_settings
from sitegen.errors import InputError

SEED_BYTES = SEED_RECORDS[0].read_bytes()


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
    _, problems, _ = _load(site)
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

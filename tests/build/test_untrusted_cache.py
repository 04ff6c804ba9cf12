"""The build cache, the write journal and the published tree are untrusted
input: whatever is in them, a build never crashes, never writes outside the
output tree, never deletes before the new tree is verified, and never
publishes stored text as markup — anything wrong means a full rebuild."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from helpers import build_in_child, tree
from pithfactory import dump, make_record, make_site


@pytest.fixture()
def built(tmp_path):
    site = make_site(tmp_path, docs={"extra/r.json": make_record(arxiv_id="2301.00001", title="Extra paper")})
    out = tmp_path / "out"
    assert build_in_child(site, out, quiet=False).returncode == 0
    return site, out, tmp_path / ".out.sitegen-cache"


def _clean(site, tmp_path):
    ref = tmp_path / "reference"
    assert build_in_child(site, ref, quiet=False).returncode == 0
    return tree(ref)


def _same_but_snapshot(a, b):
    skip = "pith-mirror-snapshot.json"
    return {k: v for k, v in a.items() if k != skip} == {k: v for k, v in b.items() if k != skip}


@pytest.mark.parametrize("journal", [b"\x00\xff garbage", b'{"journal": "sitegen-apply-1", "paths": 7}',
                                     b'{"journal": "sitegen-apply-1", "paths": ["../../etc/passwd"]}', b"[]"])
@pytest.mark.slow
def test_damaged_write_journal_means_a_full_build_not_a_crash(built, journal):
    site, out, cache = built
    (cache / "journal.json").write_bytes(journal)
    proc = build_in_child(site, out, quiet=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "interrupted while publishing; rebuilt in full" in proc.stdout
    assert not (cache / "journal.json").exists()


def test_journal_of_deletions_deletes_nothing_when_the_build_then_fails_verification(built):
    site, out, cache = built
    before = tree(out)
    victims = [p for p in before if p.startswith("pith/")][:5]
    (cache / "journal.json").write_text(json.dumps({"journal": "sitegen-apply-1", "paths": victims}))
    forged = make_record(arxiv_id="2301.00002")
    forged["receipt"]["signature_b64"] = "A" * 86 + "=="
    (site / "content" / "forged.json").write_bytes(dump(forged))
    proc = build_in_child(site, out, quiet=False)
    assert proc.returncode == 1 and "record.receipt.signature" in proc.stderr
    assert tree(out) == before  # nothing deleted before (or instead of) a verified tree


@pytest.mark.slow
def test_a_symlink_planted_in_the_output_tree_never_redirects_a_write(built, tmp_path):
    site, out, _cache = built
    outside = tmp_path / "outside"
    outside.mkdir()
    record = out / "pith"
    target = next(p for p in record.iterdir() if p.is_dir())
    os.rename(target, outside / target.name)
    os.symlink(outside / target.name, target)  # pith/<SUFFIX> -> outside the tree
    snapshot_outside = tree(outside)
    # Change every document (the record template changes), so the planted path is written.
    (site / "sitegen.toml").write_text('title = "Another title"\n')
    proc = build_in_child(site, out, quiet=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert tree(outside) == snapshot_outside  # nothing written through the link
    assert not target.is_symlink() and (target / "index.html").is_file()


@pytest.mark.slow
def test_a_forged_cache_row_cannot_make_a_build_delete_a_users_file(built):
    site, out, cache = built
    (out / ".git").mkdir()
    (out / ".git" / "config").write_text("[core]\n")
    db = sqlite3.connect(cache / "store.sqlite")
    db.execute("INSERT INTO outputs VALUES ('.git/config', 'site', 7, ?, '0000')", ("0" * 64,))
    db.commit()
    db.close()
    (site / "content" / "extra" / "r.json").unlink()
    proc = build_in_child(site, out, quiet=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "cache is damaged" in proc.stdout
    assert (out / ".git" / "config").read_text() == "[core]\n"


@pytest.mark.slow
@pytest.mark.parametrize("summary", ['{"x": 1}', "not json", '{"suffix": 5}'])
def test_a_damaged_record_summary_in_the_cache_means_a_full_build(built, tmp_path, summary):
    site, out, cache = built
    db = sqlite3.connect(cache / "store.sqlite")
    db.execute("UPDATE entries SET summary = ?", (summary,))
    db.commit()
    db.close()
    (site / "content" / "extra" / "r.json").unlink()  # an incremental build reads summaries for listings
    proc = build_in_child(site, out, quiet=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "rebuilt in full" in proc.stdout
    assert _same_but_snapshot(tree(out), _clean(site, tmp_path))


def test_markup_stored_in_the_cache_is_published_as_text(built, tmp_path):
    site, out, cache = built
    db = sqlite3.connect(cache / "store.sqlite")
    rows = db.execute("SELECT suffix, summary FROM entries").fetchall()
    for suffix, raw in rows:
        doc = json.loads(raw)
        for key in ("title", "title_html", "title_tex"):
            if key in doc:
                doc[key] = "<script>alert(1)</script>"
        db.execute("UPDATE entries SET summary = ? WHERE suffix = ?", (json.dumps(doc), suffix))
    db.commit()
    db.close()
    (site / "content" / "extra" / "r.json").unlink()
    assert build_in_child(site, out, quiet=False).returncode == 0
    for path, data in tree(out).items():
        if path.endswith(".html"):
            assert b"<script>alert(1)</script>" not in data, path


@pytest.mark.slow
def test_a_cache_that_is_not_a_database_is_replaced(built):
    site, out, cache = built
    (cache / "store.sqlite").write_bytes(b"this is not sqlite" * 100)
    for suffix in ("-wal", "-shm"):
        (cache / f"store.sqlite{suffix}").unlink(missing_ok=True)
    proc = build_in_child(site, out, quiet=False)
    assert proc.returncode == 0 and "cache is damaged" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_cache_that_is_a_symlink_is_replaced_not_followed(built, tmp_path):
    site, out, cache = built
    elsewhere = tmp_path / "elsewhere.sqlite"
    elsewhere.write_bytes(b"precious")
    (cache / "store.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        (cache / f"store.sqlite{suffix}").unlink(missing_ok=True)
    (cache / "store.sqlite").symlink_to(elsewhere)
    proc = build_in_child(site, out, quiet=False)
    assert proc.returncode == 0 and elsewhere.read_bytes() == b"precious"


@pytest.mark.slow
def test_a_published_document_with_a_naive_timestamp_is_not_a_crash(built):
    site, out, _cache = built
    doc_path = next((out / "pith").glob("*.json"))
    doc = json.loads(doc_path.read_bytes())
    doc["updated_at"] = "2026-01-01T00:00:00"  # no offset: cannot be compared with an aware time
    doc_path.write_text(json.dumps(doc))
    (site / "sitegen.toml").write_text('title = "Retitled"\n')  # every entry re-verified, rollback checked
    proc = build_in_child(site, out, quiet=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr

"""The mirror snapshot, `sitegen keygen` and `sitegen verify` (directories and
a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat

import pytest

from browser import serve
from helpers import build
from pithfactory import REGISTRY_KEY, SEED_RECORDS, load_json, make_record, make_site
from sitegen.cli import main
from sitegen.mirror.snapshot import SNAPSHOT_PATH, seal_tree, snapshot_sha256
from sitegen.model import FileEntry
from sitegen.pith import keys


def build_snapshot(site, out, *extra):
    """Build (must succeed); the snapshot it published."""
    assert build(site, out, *extra) == 0
    return json.loads((out / SNAPSHOT_PATH).read_text())


def verify(target, *extra, state=None):
    args = ["verify", str(target), "--keys", str(REGISTRY_KEY.parent)]
    args += ["--state", str(state)] if state else ["--no-state"]
    return main([*args, *extra])


def test_snapshot_lists_every_published_file_with_size_and_hash(tmp_path):
    site = make_site(tmp_path, test_key=False)
    out = tmp_path / "out"
    snap = build_snapshot(site, out)
    assert snap["version"] == 1 and snap["snapshot_sha256"] == snapshot_sha256(snap)
    listed = {}
    for shard in snap["shards"]:
        data = (out / shard["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"] and len(data) == shard["size"]
        listed.update({f["path"]: f for f in json.loads(data)["files"]})
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {SNAPSHOT_PATH} - {s["path"] for s in snap["shards"]}
    for path, f in listed.items():
        data = (out / path).read_bytes()
        assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest()
    assert snap["file_count"] == len(listed) and "signature" not in snap  # no mirror key configured


def test_version_is_stable_for_the_same_tree_and_grows_when_it_changes(tmp_path):
    site = make_site(tmp_path)
    out = tmp_path / "out"
    first = (build_snapshot(site, out), (out / SNAPSHOT_PATH).read_bytes())
    assert build_snapshot(site, out)["version"] == 1 and (out / SNAPSHOT_PATH).read_bytes() == first[1]
    (site / "content" / "new.json").write_text(json.dumps(make_record(arxiv_id="2110.00001")))
    assert build_snapshot(site, out)["version"] == 2
    (site / "content" / "new.json").unlink()
    assert build_snapshot(site, out)["version"] == 3  # removing a record is a new state too, never a rollback


def test_keygen_signs_snapshots_and_never_overwrites_a_secret(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    assert main(["keygen", str(site), "--key-id", "mirror-2026"]) == 0
    secret = site / "mirror-key.secret.json"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert main(["keygen", str(site)]) == 1
    assert "a mirror key already exists" in capsys.readouterr().err
    (site / "sitegen.toml").write_text('mirror_key = "mirror-key.secret.json"\n')
    out = tmp_path / "out"
    snap = build_snapshot(site, out)
    public = load_json(site / "mirror-key.json")
    assert load_json(out / "pith-mirror-key.json") == public
    assert snap["signature"]["key_id"] == "mirror-2026"
    assert keys.verify_digest_signature(snap["snapshot_sha256"], snap["signature"]["signature_b64"],
                                            bytes.fromhex(public["public_key_hex"]))
    assert not (out / "mirror-key.secret.json").exists() and "seed_b64" not in "".join(
        p.read_text(errors="ignore") for p in out.rglob("*") if p.is_file())


def test_a_secret_key_inside_static_is_refused(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    (site / "static").mkdir()
    assert main(["keygen", str(site / "static")]) == 0
    assert main(["build", str(site), "-o", str(tmp_path / "out"), "--mirror-key",
                 str(site / "static" / "mirror-key.secret.json")]) == 1
    assert "must not live in static/" in capsys.readouterr().err


@pytest.fixture
def signed(tmp_path):
    site = make_site(tmp_path, test_key=False)
    main(["keygen", str(site), "--key-id", "mirror-2026"])
    (site / "sitegen.toml").write_text('mirror_key = "mirror-key.secret.json"\n')
    out = tmp_path / "out"
    build_snapshot(site, out)
    return site, out


def test_verify_a_clean_directory(signed, capsys):
    site, out = signed
    assert verify(out, "--mirror-key", str(site / "mirror-key.json")) == 0
    text = capsys.readouterr().out
    listed = json.loads((out / SNAPSHOT_PATH).read_text())["file_count"]
    assert f"files: {listed} ok, 0 missing, 0 changed, 0 extra" in text
    assert "documents: 5 verified" in text and "signature: verified with mirror key mirror-2026" in text


def test_verify_reports_changed_missing_and_extra_files(signed, capsys):
    _site, out = signed
    suffix = load_json(SEED_RECORDS[0])["pith_number"].split(":")[2]
    with open(out / "pith" / suffix / "index.html", "a") as f:
        f.write("<!-- injected -->")
    (out / "robots.txt").unlink()
    (out / "stray.html").write_text("hi")
    assert verify(out) == 1
    captured = capsys.readouterr()
    assert f"changed: pith/{suffix}/index.html" in captured.err
    assert "missing: robots.txt" in captured.err and "extra: stray.html" in captured.err
    assert "result: FAILED" in captured.out


def test_forged_record_with_a_resealed_snapshot_is_caught_twice(signed, capsys):
    site, out = signed
    suffix = load_json(SEED_RECORDS[0])["pith_number"].split(":")[2]
    record = load_json(out / f"pith/{suffix}.json")
    record["paper"]["title"] = "Forged"
    (out / f"pith/{suffix}.json").write_text(json.dumps(record))
    _reseal(out)  # the attacker regenerates the snapshot, but has no mirror key
    assert verify(out, "--mirror-key", str(site / "mirror-key.json")) == 1
    err = capsys.readouterr().err
    assert "signature" in err or "not signed" in err
    assert f"pith/{suffix}.json: paper.title:" in err and "[record.paper.title]" in err


def test_authentic_document_at_another_pith_numbers_path_is_mix_and_match(signed, capsys):
    _, out = signed
    a, b = (load_json(p) for p in SEED_RECORDS[:2])
    sa, sb = (d["pith_number"].split(":")[2] for d in (a, b))
    shutil.copy(out / f"pith/{sa}.json", out / f"pith/{sb}.json")
    _reseal(out)
    assert verify(out) == 1
    assert f"pith/{sb}.json: pith_number: the document is {a['pith_number']}, served at the path of {sb}" in \
        capsys.readouterr().err



def test_forged_well_known_copy_with_a_resealed_snapshot_is_caught(signed, capsys):
    _, out = signed
    bundle = next((out / "pith").glob("*/bundle.json"))
    suffix = bundle.parent.name
    other = load_json(SEED_RECORDS[0])  # any other authentic document, served at the well-known path
    (out / f".well-known/pith/{suffix}/bundle.json").write_text(json.dumps(other))
    (out / f".well-known/pith/{suffix}/state.json").write_text("{}")
    _reseal(out)
    assert verify(out) == 1
    err = capsys.readouterr().err
    for name in ("bundle", "state"):
        assert f".well-known/pith/{suffix}/{name}.json: differs from pith/{suffix}/{name}.json" in err

def _reseal(out):
    """What an attacker without the mirror key can do: rewrite the snapshot unsigned."""
    skip = {SNAPSHOT_PATH, "pith-mirror-key.json"}
    for shard in (out / ".well-known" / "pith-mirror").iterdir():
        shard.unlink()
    entries = [FileEntry(p.relative_to(out).as_posix(), p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
               for p in sorted(out.rglob("*")) if p.is_file() and p.relative_to(out).as_posix() not in skip]
    for f in seal_tree(entries, previous=None, generated_at="2026-05-26T05:38:29Z", base_url="http://x/",
                       mirror_key=None, valid_days=None):
        (out / f.path).parent.mkdir(parents=True, exist_ok=True)
        (out / f.path).write_bytes(f.data)


@pytest.mark.slow
def test_verify_over_http_clean_tampered_and_rolled_back(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    old, new = tmp_path / "v1", tmp_path / "v2"
    build_snapshot(site, old)
    shutil.copytree(old, new)
    (site / "sitegen.toml").write_text('title = "Renamed mirror"\n')  # every page changes
    assert build_snapshot(site, new)["version"] == 2
    state = tmp_path / "seen.json"
    served = tmp_path / "served"
    shutil.copytree(new, served)
    with serve(served) as base:
        assert verify(base, state=state) == 0
        assert json.loads(state.read_text())[base]["version"] == 2
        (served / "index.html").write_text("<p>defaced</p>")
        assert verify(base, state=state) == 1
        assert "changed: index.html" in capsys.readouterr().err
        shutil.rmtree(served)
        shutil.copytree(old, served)  # the mirror is rolled back to an older, authentic snapshot
        assert verify(base, state=state) == 1
        err = capsys.readouterr().err
        assert "stale — snapshot version 1 is older than version 2 seen before (rollback)" in err
        assert verify(base, "--no-state") == 0  # on its own the old snapshot is consistent


def test_expired_snapshot_is_a_freeze(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text("snapshot_valid_days = 7\n")
    out = tmp_path / "out"
    snap = build_snapshot(site, out)
    assert snap["expires"] == "2026-06-02T05:38:29Z"
    assert verify(out) == 1  # today is after the content's date + 7 days
    assert "expired at 2026-06-02T05:38:29Z" in capsys.readouterr().err


def test_verify_of_something_that_is_not_a_mirror(tmp_path, capsys):
    assert verify(tmp_path) == 1
    assert "pith-mirror-snapshot.json: missing" in capsys.readouterr().err
    assert os.path.isdir(tmp_path)


def test_verify_with_a_missing_mirror_key_file_is_a_clean_error(signed, capsys):
    _, out = signed
    assert verify(out, "--mirror-key", str(out / "no-such-key.json")) == 1
    err = capsys.readouterr().err
    assert "cannot read the mirror key" in err and "Traceback" not in err

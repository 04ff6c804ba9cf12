"""`sitegen pull` from a sitegen mirror served on 127.0.0.1: first pull, no-change
pull, incremental pull, mirror of a mirror, selections, conflicts, snapshot trust."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from helpers import build
from pithfactory import make_bundle, make_record, resign_bundle
from pull.upstream import build_mirror, content_documents, empty_site, published_documents, serving, upstream_site
from sitegen.cli import main
from sitegen.mirror.snapshot import SNAPSHOT_PATH

R1 = make_record(arxiv_id="2101.00001", title="First Paper", submitted_at="2021-01-04T12:00:00Z",
                 primary_cat="cs.LG", cross_cats=("stat.ML",))
R2 = make_record(arxiv_id="1905.00002", title="Second Paper", submitted_at="2019-05-02T12:00:00Z",
                 primary_cat="hep-th", cross_cats=())
R3 = make_record(arxiv_id="hep-lat/0305021", title="Old Lattice Paper", submitted_at="2003-05-20T12:00:00Z",
                 primary_cat="hep-lat", cross_cats=("hep-th",), license="")
B1 = make_bundle(arxiv_id="2102.00007", submitted_at="2021-02-10T12:00:00Z")
DOCS = {"records/r1.json": R1, "records/r2.json": R2, "records/r3.json": R3, "bundles/b1.json": B1}


def suffix(doc: dict) -> str:
    return doc["pith_number"].split(":")[2]


def as_content(published: dict[str, bytes]) -> dict[str, bytes]:
    """Published documents under the names a pull gives them in content/."""
    return {(f"bundles/{p.split('/')[1]}.bundle.json" if p.endswith("/bundle.json") else f"records/{p[5:]}"): data
            for p, data in published.items()}


def pull(capsys, source, site, *extra):
    capsys.readouterr()
    rc = main(["pull", source, str(site), "--progress", "off", *extra])
    out = capsys.readouterr()
    return rc, out.out, out.err


def build_downstream(site, out):
    """Build a downstream mirror (must succeed)."""
    assert build(site, out, base_url="http://down.test/") == 0


@pytest.fixture
def upstream(tmp_path):
    """An upstream site (seeds + 4 test documents) built and served."""
    site = upstream_site(tmp_path / "up", DOCS)
    out = tmp_path / "up-out"
    build_mirror(site, out)
    with serving(out) as up:
        yield site, out, up


def test_first_pull_into_an_empty_site_then_build_publishes_the_upstreams_documents_byte_identical(
        tmp_path, upstream, capsys):
    _, up_out, up = upstream
    down = empty_site(tmp_path / "down")
    rc, out, err = pull(capsys, up.url, down)
    assert rc == 0, err
    assert "landed 9 (9 new, 0 updated)" in out
    assert content_documents(down) == as_content(published_documents(up_out))
    build_downstream(down, tmp_path / "down-out")
    assert published_documents(tmp_path / "down-out") == published_documents(up_out)
    assert not (down / ".sitegen-pull" / "quarantine").exists()


def test_a_second_pull_fetches_nothing(tmp_path, upstream, capsys):
    _, _, up = upstream
    down = empty_site(tmp_path / "down")
    assert pull(capsys, up.url, down)[0] == 0
    before = content_documents(down)
    up.clear()
    rc, out, _ = pull(capsys, up.url, down)
    assert rc == 0
    assert up.paths() == [SNAPSHOT_PATH]  # one conditional request, answered 304
    assert "network: 1 request, 0 bytes" in out
    assert content_documents(down) == before


def test_a_second_pull_without_conditional_requests_still_fetches_only_the_snapshot(tmp_path, capsys):
    site = upstream_site(tmp_path / "up", DOCS)
    build_mirror(site, tmp_path / "up-out")
    with serving(tmp_path / "up-out", etag=False, last_modified=False) as up:
        down = empty_site(tmp_path / "down")
        assert pull(capsys, up.url, down)[0] == 0
        up.clear()
        assert pull(capsys, up.url, down)[0] == 0
        assert up.paths() == [SNAPSHOT_PATH]


def _changed_upstream(site):
    """Add a record, change a record's unsigned fields and re-sign the bundle with a later built_at."""
    new = make_record(arxiv_id="2203.00003", title="A New Paper", submitted_at="2022-03-03T12:00:00Z")
    changed = copy.deepcopy(R2)
    changed["inbound_citations"]["count"] = 7
    changed["updated_at"] = "2026-06-01T00:00:00+00:00"
    bundle = resign_bundle(dict(copy.deepcopy(B1), built_at="2026-06-02T00:00:00Z"))
    content = site / "content"
    (content / "records" / "new.json").write_text(json.dumps(new))
    (content / "records" / "r2.json").write_text(json.dumps(changed))
    (content / "bundles" / "b1.json").write_text(json.dumps(bundle))
    return new, changed, bundle


def test_after_the_upstream_adds_and_changes_documents_a_pull_fetches_exactly_those(tmp_path, upstream, capsys):
    site, up_out, up = upstream
    down = empty_site(tmp_path / "down")
    assert pull(capsys, up.url, down)[0] == 0
    new, changed, bundle = _changed_upstream(site)
    build_mirror(site, up_out)
    up.clear()
    rc, out, err = pull(capsys, up.url, down)
    assert rc == 0, err
    assert up.documents_fetched() == {f"pith/{suffix(new)}.json", f"pith/{suffix(changed)}.json",
                                      f"pith/{suffix(bundle)}/bundle.json"}
    assert "landed 3 (1 new, 2 updated)" in out
    build_downstream(down, tmp_path / "down-out")
    assert published_documents(tmp_path / "down-out") == published_documents(up_out)
    up.clear()
    assert pull(capsys, up.url, down)[0] == 0 and up.paths() == [SNAPSHOT_PATH]


def test_mirror_of_a_mirror_gives_the_same_documents(tmp_path, upstream, capsys):
    _, up_out, up = upstream
    middle = empty_site(tmp_path / "middle")
    assert pull(capsys, up.url, middle)[0] == 0
    build_downstream(middle, tmp_path / "middle-out")
    with serving(tmp_path / "middle-out") as mid:
        last = empty_site(tmp_path / "last")
        rc, _, err = pull(capsys, mid.url, last)
        assert rc == 0, err
    assert content_documents(last) == content_documents(middle)
    build_downstream(last, tmp_path / "last-out")
    assert published_documents(tmp_path / "last-out") == published_documents(up_out)


def test_dry_run_says_what_would_be_fetched_and_changes_nothing(tmp_path, upstream, capsys):
    _, _, up = upstream
    down = empty_site(tmp_path / "down")
    rc, out, _ = pull(capsys, up.url, down, "--dry-run")
    assert rc == 0
    assert f"would fetch {up.url}pith/{suffix(R1)}.json" in out
    assert f"would fetch {up.url}pith/{suffix(B1)}/bundle.json" in out
    assert content_documents(down) == {} and not (down / ".sitegen-pull").exists()
    assert not up.documents_fetched()


def test_only_limits_a_mirror_pull_to_the_named_pith_numbers(tmp_path, upstream, capsys):
    _, _, up = upstream
    down = empty_site(tmp_path / "down")
    rc, _, err = pull(capsys, up.url, down, "--only", R1["pith_number"], suffix(B1).lower(), "hep-lat/0305021")
    assert rc == 0, err
    assert sorted(content_documents(down)) == sorted([f"records/{suffix(R1)}.json", f"records/{suffix(R3)}.json",
                                                      f"bundles/{suffix(B1)}.bundle.json"])
    rc, _, err = pull(capsys, up.url, down, "--only", "A" * 26)
    assert rc == 1 and f"{'A' * 26} is not listed by this mirror [fetch.missing]" in err


SEED_BUNDLE = "QBSQ3R6MUIG52QCY6RKY3VHC6O"  # the seed bundle: 2019, cs.LG, cross-listed stat.ML


def test_filters_by_year_category_and_since_and_the_filtered_are_not_fetched_again(tmp_path, upstream, capsys):
    site, up_out, up = upstream
    down = empty_site(tmp_path / "down")
    selection = ["--year", "2019", "--year", "2020-2021", "--category", "hep-th", "--category", "stat.ML"]
    rc, out, err = pull(capsys, up.url, down, *selection)
    assert rc == 0, err
    assert sorted(content_documents(down)) == sorted([f"records/{suffix(R1)}.json", f"records/{suffix(R2)}.json",
                                                      f"bundles/{suffix(B1)}.bundle.json",
                                                      f"bundles/{SEED_BUNDLE}.bundle.json"])
    assert "5 filtered out" in out  # the four 2017/2018 seed records and the 2003 record
    new, _, _ = _changed_upstream(site)  # r2 and b1 (selected) change; a 2022 record (not selected) is added
    build_mirror(site, up_out)
    up.clear()
    assert pull(capsys, up.url, down, *selection)[0] == 0
    assert up.documents_fetched() == {f"pith/{suffix(R2)}.json", f"pith/{suffix(B1)}/bundle.json",
                                      f"pith/{suffix(new)}.json"}  # the filtered-out ones are remembered
    up.clear()
    assert pull(capsys, up.url, down, *selection)[0] == 0 and up.paths() == [SNAPSHOT_PATH]
    down2 = empty_site(tmp_path / "down2")
    assert pull(capsys, up.url, down2, "--since", "2021-01-05")[0] == 0
    assert sorted(content_documents(down2)) == sorted([f"records/{suffix(new)}.json",
                                                       f"bundles/{suffix(B1)}.bundle.json"])


def test_max_stops_after_n_pith_numbers_and_the_next_pull_continues(tmp_path, upstream, capsys):
    _, _, up = upstream
    down = empty_site(tmp_path / "down")
    rc, out, _ = pull(capsys, up.url, down, "--max", "3")
    assert rc == 0 and "6 left for the next pull" in out and len(content_documents(down)) == 3
    rc, out, _ = pull(capsys, up.url, down)
    assert rc == 0 and len(content_documents(down)) == 9


def test_a_local_document_with_other_bytes_is_a_conflict_and_kept_unless_replace(tmp_path, upstream, capsys):
    _, _, up = upstream
    down = empty_site(tmp_path / "down")
    mine = copy.deepcopy(R1)
    mine["paper"]["abstract_excerpt"] = "The operator's own copy."
    (down / "content" / "mine").mkdir()
    (down / "content" / "mine" / "r1.json").write_text(json.dumps(mine))
    rc, _, err = pull(capsys, up.url, down)
    assert rc == 1
    assert f"pith/{suffix(R1)}.json: pith_number: content/mine/r1.json holds other bytes for {R1['pith_number']}" \
        in err and "[pull.conflict]" in err
    assert json.loads((down / "content" / "mine" / "r1.json").read_text()) == mine
    assert not (down / "content" / "records" / f"{suffix(R1)}.json").exists()  # never a second copy
    assert len(content_documents(down)) == 9  # the rest of the pull went on
    rc, _, err = pull(capsys, up.url, down, "--replace")
    assert rc == 0, err
    assert json.loads((down / "content" / "mine" / "r1.json").read_text()) == R1


def test_an_older_document_does_not_replace_a_newer_local_one(tmp_path, upstream, capsys):
    site, up_out, up = upstream
    down = empty_site(tmp_path / "down")
    assert pull(capsys, up.url, down)[0] == 0
    older = resign_bundle(dict(copy.deepcopy(B1), built_at="2026-05-01T00:00:00Z"))
    (site / "content" / "bundles" / "b1.json").write_text(json.dumps(older))
    build_mirror(site, up_out, "--allow-rollback")
    rc, _, err = pull(capsys, up.url, down)
    assert rc == 1 and "[pull.rollback]" in err
    assert json.loads((down / "content" / "bundles" / f"{suffix(B1)}.bundle.json").read_text()) == B1


def _keyed_upstream(tmp_path):
    site = upstream_site(tmp_path / "up", DOCS)
    assert main(["keygen", str(site), "--key-id", "upstream-mirror"]) == 0
    (site / "sitegen.toml").write_text('mirror_key = "mirror-key.secret.json"\n')
    build_mirror(site, tmp_path / "up-out")
    return site


def test_with_a_mirror_key_the_snapshot_must_be_signed_by_it(tmp_path, capsys):
    site = _keyed_upstream(tmp_path)
    with serving(tmp_path / "up-out") as up:
        down = empty_site(tmp_path / "down")
        rc, _out, err = pull(capsys, up.url, down, "--mirror-key", str(site / "mirror-key.json"))
        assert rc == 0, err
        assert "signature: verified with mirror key upstream-mirror" in err
        other = empty_site(tmp_path / "other")
        assert main(["keygen", str(other), "--key-id", "upstream-mirror"]) == 0  # same id, another key
        down2 = empty_site(tmp_path / "down2")
        rc, _, err = pull(capsys, up.url, down2, "--mirror-key", str(other / "mirror-key.json"))
        assert rc == 1 and "signature.signature_b64: does not verify with mirror key upstream-mirror" in err
        assert content_documents(down2) == {}


def test_a_rolled_back_snapshot_is_refused(tmp_path, capsys):
    site = _keyed_upstream(tmp_path)
    key = str(site / "mirror-key.json")
    old = tmp_path / "v1"
    shutil.copytree(tmp_path / "up-out", old)
    (site / "content" / "records" / "new.json").write_text(json.dumps(make_record(arxiv_id="2203.00003")))
    build_mirror(site, tmp_path / "up-out")
    served = tmp_path / "served"
    shutil.copytree(tmp_path / "up-out", served)
    with serving(served) as up:
        down = empty_site(tmp_path / "down")
        assert pull(capsys, up.url, down, "--mirror-key", key)[0] == 0
        before = content_documents(down)
        shutil.rmtree(served)
        shutil.copytree(old, served)  # the upstream replays its older, authentic, signed snapshot
        up.clear()
        rc, _, err = pull(capsys, up.url, down, "--mirror-key", key)
        assert rc == 1
        assert "version: snapshot version 1 is older than version 2 seen before (rollback) [snapshot.rollback]" in err
        assert up.paths() == [SNAPSHOT_PATH] and content_documents(down) == before


def test_a_damaged_state_file_is_a_note_and_a_full_listing(tmp_path, upstream, capsys):
    _, _, up = upstream
    down = empty_site(tmp_path / "down")
    assert pull(capsys, up.url, down)[0] == 0
    state = down / ".sitegen-pull" / "state.json"
    for damage in (b"{not json", b'{"state_type": "sitegen_pull_state", "state_format": 1, "landed": []}',
                   b"\xff\xfe", json.dumps({"state_type": "sitegen_pull_state", "state_format": 1,
                                            "sources": {"x": {"shards": {"a": "\x1b[31m"}}}}).encode()):
        state.write_bytes(damage)
        up.clear()
        rc, _, err = pull(capsys, up.url, down)
        assert rc == 0, err
        assert "the state file" in err and "is damaged" in err and "\x1b" not in err
        assert any(p.startswith(".well-known/pith-mirror/") for p in up.paths())  # listed again
        assert not up.documents_fetched()  # but nothing refetched: the local bytes are the upstream's

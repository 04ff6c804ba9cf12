"""The pull's small parts on their own: names, the snapshot format, snapshot
trust, the state file, selections, Retry-After."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from email.utils import formatdate

import pytest

from pithfactory import make_record
from sitegen.mirror.snapshot import snapshot_sha256
from sitegen.pull.fetch import _retry_after
from sitegen.pull.filters import Selection, parse_years
from sitegen.pull.listing import parse_shard, parse_snapshot
from sitegen.pull.names import UsageError, parse_name
from sitegen.pull.state import PullState, load_state, save_state
from sitegen.pull.trust import check_snapshot

SUFFIX = "BIMLI3THH5PSHA56CBSKDVHQKR"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    (f"pith:2017:{SUFFIX}", {"suffix": SUFFIX, "pith_number": f"pith:2017:{SUFFIX}"}),
    (SUFFIX.lower(), {"suffix": SUFFIX}),
    ("1709.05011", {"arxiv_id": "1709.05011", "arxiv_version": None}),
    ("1709.05011v10", {"arxiv_id": "1709.05011", "arxiv_version": 10}),
    ("hep-lat/0305021v2", {"arxiv_id": "hep-lat/0305021", "arxiv_version": 2}),
    ("math.AG/0101001", {"arxiv_id": "math.AG/0101001", "arxiv_version": None}),
])
def test_names_accepted(text, expected):
    name = parse_name(text)
    assert {k: getattr(name, k) for k in expected} == expected


@pytest.mark.parametrize("text", ["pith:BIMLI3TH", "pith:17:" + SUFFIX, SUFFIX[:-1], SUFFIX + "A", "../x",
                                  "1709.05011v0", "hep-lat/0305021/../..", "1709.05011 OR 1=1", "", "A" * 10000])
def test_names_refused(text):
    with pytest.raises(UsageError):
        parse_name(text)


def _snapshot(**over):
    body = {"snapshot_type": "pith_mirror_snapshot", "snapshot_format": "1.0", "version": 3, "expires": None,
            "shards": [{"prefix": "", "path": ".well-known/pith-mirror/files-all.json", "count": 1, "size": 10,
                        "sha256": "a" * 64}]}
    body.update(over)
    body["snapshot_sha256"] = snapshot_sha256(body)
    return body


@pytest.mark.parametrize("body, reason", [
    ([], "not a pith_mirror_snapshot"),
    (_snapshot(snapshot_type="other"), "not a pith_mirror_snapshot"),
    (_snapshot(snapshot_format="2.0"), "not a format this sitegen reads"),
    (_snapshot(version=-1), "version: not a non-negative integer"),
    (_snapshot(version=True), "version: not a non-negative integer"),
    (_snapshot(shards={}), "shards: not a list"),
    (_snapshot(shards=[{"path": "../../etc/passwd", "sha256": "a" * 64, "size": 1}]), "is not a shard path"),
    (_snapshot(shards=[{"path": "/.well-known/pith-mirror/files-all.json", "sha256": "a" * 64, "size": 1}]),
     "is not a shard path"),
    (_snapshot(shards=[{"path": ".well-known/pith-mirror/files-0.json", "sha256": "A" * 64, "size": 1}]),
     "not a SHA-256"),
    (_snapshot(shards=[{"path": ".well-known/pith-mirror/files-0.json", "sha256": "a" * 64, "size": 1}] * 2),
     "is listed twice"),
    # Shards that overlap: a prefix of one length after shards of another (files-1 covers files-1a).
    (_snapshot(shards=[{"path": f".well-known/pith-mirror/files-{p}.json", "sha256": "a" * 64, "size": 1}
                       for p in ("1", "1a")]), "a prefix of another length"),
    (_snapshot(shards=[{"path": f".well-known/pith-mirror/files-{p}.json", "sha256": "a" * 64, "size": 1}
                       for p in ("all", "0")]), "a prefix of another length"),
    (_snapshot(shards=[{"path": f".well-known/pith-mirror/files-{i:05x}.json", "sha256": "a" * 64, "size": 1}
                       for i in range(2)]), "is not a shard path"),
])
def test_unusable_snapshots_are_refused_with_a_reason(body, reason):
    with pytest.raises(ValueError, match=reason):
        parse_snapshot(json.dumps(body).encode())


def test_a_shard_yields_only_document_paths_and_reports_unsafe_ones():
    files = [{"path": p, "size": 1, "sha256": "b" * 64} for p in
             [f"pith/{SUFFIX}.json", f"pith/{SUFFIX}/bundle.json", f"pith/{SUFFIX}/state.json", "index.html",
              f".well-known/pith/{SUFFIX}/bundle.json", "../../etc/passwd", "/abs.json", "a//b", "x\\y",
              f"pith/{SUFFIX.lower()}.json", "pith/\u202e.json"]]
    docs, unsafe, n_unsafe = parse_shard(json.dumps({"shard": "", "files": files}).encode())
    assert [(d.kind, d.suffix) for d in docs] == [("record", SUFFIX), ("bundle", SUFFIX)]
    assert unsafe == ["../../etc/passwd", "/abs.json", "a//b", "x\\y", "pith/\u202e.json"]
    assert n_unsafe == 5
    with pytest.raises(ValueError, match="listed twice"):
        parse_shard(json.dumps({"files": files[:1] * 2}).encode())
    with pytest.raises(ValueError, match="size"):
        parse_shard(json.dumps({"files": [dict(files[0], size="1")]}).encode())


def test_shards_repeating_each_other_are_refused():
    """A document listed in a shard whose prefix is not its own: the trick that lets shards repeat each
    other and multiply the puller's requests."""
    from sitegen.mirror.snapshot import shard_of
    record = f"pith/{SUFFIX}.json"
    own, other = shard_of(record, 1), "0" if shard_of(record, 1) != "0" else "1"
    shard = json.dumps({"shard": other, "files": [{"path": record, "size": 1, "sha256": "b" * 64}]}).encode()
    assert [d.path for d in parse_shard(shard, own)[0]] == [record]
    with pytest.raises(ValueError, match="does not belong to the shard of prefix"):
        parse_shard(shard, other)


def test_a_snapshot_listing_more_shards_than_a_mirror_makes_is_refused():
    from sitegen.pull.listing import MAX_SHARDS
    shards = [{"path": f".well-known/pith-mirror/files-{i % 16**4:04x}.json", "sha256": "a" * 64, "size": 1}
              for i in range(MAX_SHARDS + 1)]
    with pytest.raises(ValueError, match=f"more than the {MAX_SHARDS}"):
        parse_snapshot(json.dumps({"snapshot_type": "pith_mirror_snapshot", "snapshot_format": "1.0",
                                   "version": 1, "shards": shards}).encode())


def test_a_shard_of_many_unsafe_paths_keeps_only_a_count_beyond_the_first_ones():
    from sitegen.pull.listing import MAX_REPORTED_UNSAFE
    files = [{"path": f"../x{i}", "size": 1, "sha256": "b" * 64} for i in range(5000)]
    docs, unsafe, n_unsafe = parse_shard(json.dumps({"shard": "", "files": files}).encode())
    assert docs == [] and len(unsafe) == MAX_REPORTED_UNSAFE and n_unsafe == 5000


def test_an_alias_map_entry_of_the_wrong_type_is_no_answer_not_a_crash():
    from sitegen.pull.fetch import Response
    from sitegen.pull.sources import _from_alias_maps

    class Upstream:
        def get(self, url, *, max_bytes):
            body = {"arxiv_shard_digits": 0} if url.endswith("index.json") else {"1709.05011": 5}
            return Response(url, 200, json.dumps(body).encode())

    assert _from_alias_maps(Upstream(), "http://mirror.test/", "1709.05011", None) == []


def test_snapshot_trust_rules():
    body = _snapshot()
    assert check_snapshot(body, mirror_key=None, seen=None, now=NOW).ok
    tampered = dict(body, version=4)
    assert [p[2] for p in check_snapshot(tampered, mirror_key=None, seen=None, now=NOW).problems] == ["snapshot.hash"]
    seen = {"version": 4, "snapshot_sha256": "c" * 64}
    assert [p[2] for p in check_snapshot(body, mirror_key=None, seen=seen, now=NOW).problems] == ["snapshot.rollback"]
    assert check_snapshot(body, mirror_key=None, seen=seen, now=NOW, allow_rollback=True).ok
    same = {"version": 3, "snapshot_sha256": "c" * 64}
    assert [p[2] for p in check_snapshot(body, mirror_key=None, seen=same, now=NOW).problems] == \
        ["snapshot.equivocation"]
    expired = _snapshot(expires="2026-05-01T00:00:00Z")
    assert [p[2] for p in check_snapshot(expired, mirror_key=None, seen=None, now=NOW).problems] == \
        ["snapshot.expires"]


def test_the_state_file_round_trips_and_any_damage_is_a_note(tmp_path):
    path = tmp_path / "state.json"
    assert load_state(path) == (PullState(), None)
    state = PullState(landed={f"records/{SUFFIX}.json": "d" * 64})
    src = state.source("http://x/")
    src.seen = {"version": 2, "snapshot_sha256": "e" * 64}
    src.select("f1")
    src.snapshot = {"version": 2, "snapshot_sha256": "e" * 64, "etag": None, "last_modified": "Mon, 1 Jun 2026"}
    src.shards[".well-known/pith-mirror/files-all.json"] = "f" * 64
    src.documents[f"pith/{SUFFIX}.json"] = {"sha256": "d" * 64, "etag": '"x"', "last_modified": None}
    src.resume.add(SUFFIX)
    save_state(path, state)
    assert load_state(path) == (state, None)
    good = json.loads(path.read_text())
    for damaged in [b"", b"[]", b"\xef\xbb\xbf{}", b'{"state_type": "sitegen_pull_state", "state_format": 2}',
                    json.dumps(dict(good, extra=1)).encode(),
                    json.dumps(dict(good, landed={"a": 1})).encode(),
                    json.dumps(dict(good, sources={"http://x/": {"seen": {"version": "2"}}})).encode(),
                    json.dumps(dict(good, sources={"http://x/": {"resume": ["../x"]}})).encode(),
                    json.dumps(dict(good, sources={"http://x/": {"documents": {"p": {"sha256": "d" * 64,
                                                                                      "etag": "x" * 999}}}})).encode(),
                    b'{"a": ' * 100 + b"1" + b"}" * 100]:
        path.write_bytes(damaged)
        state2, note = load_state(path)
        assert state2 == PullState() and "is damaged" in note
    path.unlink()
    os.symlink("/etc/passwd", path)
    state2, note = load_state(path)
    assert state2 == PullState() and "symlink points outside" in note


def test_selection_decides_from_the_signed_canonical_record():
    doc = make_record(arxiv_id="2101.00001", submitted_at="2021-01-04T12:00:00Z", primary_cat="cs.LG",
                      cross_cats=("stat.ML",))
    assert Selection(years=parse_years(["2020-2021"])).wants(doc)
    assert not Selection(years=parse_years(["2019"])).wants(doc)
    assert Selection(categories=frozenset({"stat.ML"})).wants(doc)  # cross-listed counts
    assert not Selection(categories=frozenset({"hep-th"})).wants(doc)
    assert Selection(since="2021-01-04").wants(doc) and not Selection(since="2021-01-05").wants(doc)
    assert Selection(years=parse_years(["2019"])).wants({"canonical_record": "junk"})  # verification decides
    unicode_year = {"canonical_record": {"metadata": {"submitted_at": "\u00b2\u00b2\u00b2\u00b2-01-01",
                                                      "primary_cat": "hep-th", "cross_cats_sorted": []}}}
    assert not Selection(years=parse_years(["2019"])).wants(unicode_year)  # '\u00b2'.isdigit(), but no year
    assert Selection().id != Selection(since="2021-01-05").id


def test_retry_after_in_seconds_or_as_a_date():
    assert _retry_after("7") == 7.0
    later = _retry_after(formatdate(datetime.now(UTC).timestamp() + 30, usegmt=True))
    assert later is not None and 25 < later <= 30
    assert _retry_after("soon") is None and _retry_after(None) is None
    assert _retry_after("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0


def test_the_ci_example_uses_only_options_that_exist():
    import re
    import shlex

    from pithfactory import REPO
    from sitegen.cli import _parser

    text = (REPO / "docs" / "pull-and-publish.yml").read_text()
    commands = re.findall(r"run: (sitegen (?:pull|build) .*)", text)
    assert len(commands) == 2
    for command in commands:
        argv = shlex.split(command.replace("$UPSTREAM", "https://mirror.example/")
                           .replace("${{ github.repository_owner }}", "owner")
                           .replace("${{ github.event.repository.name }}", "mirror")
                           .replace("${{", "").replace("}}", ""))
        _parser().parse_args(argv[1:])  # exits (SystemExit) on an unknown option


def test_landing_across_filesystems_copies_beside_the_target_then_renames(tmp_path, monkeypatch):
    import errno

    from sitegen.pull import landing

    real = os.replace
    calls: list[str] = []

    def cross_device_once(src, dst, **dir_fds):
        if not calls:
            calls.append(str(src))
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(src, dst, **dir_fds)

    with landing.Workspace(tmp_path) as ws:
        q = ws.quarantine(b'{"x": 1}')
        monkeypatch.setattr(landing.os, "replace", cross_device_once)
        (tmp_path / "content").mkdir()
        dest = tmp_path / "content" / "records" / f"{SUFFIX}.json"
        ws.land(q, tmp_path / "content", f"records/{SUFFIX}.json")
    assert dest.read_bytes() == b'{"x": 1}' and not q.exists() and calls
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]  # no temporary file left beside it


def test_one_pull_per_site_at_a_time(tmp_path):
    from sitegen.errors import SitegenError
    from sitegen.pull.landing import Workspace

    with Workspace(tmp_path), pytest.raises(SitegenError, match="another sitegen pull is running"):
        Workspace(tmp_path).__enter__()
    with Workspace(tmp_path):  # released
        pass

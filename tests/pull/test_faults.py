"""A misbehaving upstream: every fault is a clean per-document error (or is
retried and passes), the rest of the pull goes on, and ``content/`` never
holds a partial or unverified file — even when the pull itself is SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pithfactory import ATTACKER_KEY, OTHER_KEY_ID, REPO, dump, make_bundle, make_record
from pull.upstream import build_mirror, content_documents, empty_site, reseal, resolver_tree, serving, upstream_site
from sitegen.cli import main
from sitegen.pull import PullOptions, pull
from sitegen.pull.fetch import Limits
from sitegen.verify.keyring import load_keyring

R1 = make_record(arxiv_id="2101.00001", title="First Paper")
R2 = make_record(arxiv_id="2101.00002", title="Second Paper")
B1 = make_bundle(arxiv_id="2102.00007")
S1, S2, SB = (d["pith_number"].split(":")[2] for d in (R1, R2, B1))
FAST = Limits(timeout=0.5, retries=2, backoff=0.01, max_backoff=0.05, max_retry_after=5)


def run(up, site, *, limits=FAST, **kw):
    keyring, problems = load_keyring(site / "content" / "keys", site)
    assert not problems
    names = kw.pop("names", ())
    if not names and kw.get("layout") == "resolver":
        from sitegen.pull.names import parse_names
        names = tuple(parse_names([S1, S2, SB]))
    return pull(PullOptions(source=up.url, site_dir=site, names=names, limits=limits, **kw), keyring)


def checks(report) -> list[str]:
    return [p.check for p in report.problems]


@pytest.fixture
def resolver(tmp_path):
    """The resolver's layout: records R1, R2, and B1 as a bundle only."""
    with serving(resolver_tree(tmp_path / "resolver", [R1, R2, B1])) as up:
        yield up, empty_site(tmp_path / "down")


def landed(site) -> set[str]:
    return set(content_documents(site))


ALL = {f"records/{S1}.json", f"records/{S2}.json", f"bundles/{SB}.bundle.json"}


def test_a_clean_resolver_pull_lands_every_named_document_and_a_missing_bundle_is_normal(resolver):
    up, site = resolver
    report = run(up, site, layout="resolver")
    assert report.ok, report.problems
    assert landed(site) == ALL
    assert report.counts["absent"] == 3  # no bundle for R1, R2; no record for B1


def test_a_connection_dropped_mid_body_is_retried(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["drop"]
    report = run(up, site, layout="resolver")
    assert report.ok, report.problems
    assert up.paths().count(f"pith/{S1}.json") == 2 and landed(site) == ALL


def test_a_connection_that_always_drops_is_a_clean_error_and_the_rest_goes_on(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["drop"] * 3
    report = run(up, site, layout="resolver")
    assert checks(report) == ["fetch.connection"]
    assert "the connection broke after" in str(report.problems[0]) and "(after 3 attempts)" in str(report.problems[0])
    assert landed(site) == ALL - {f"records/{S1}.json"}


def test_500_then_success_lands(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["500", "500"]
    report = run(up, site, layout="resolver")
    assert report.ok and landed(site) == ALL
    assert up.paths().count(f"pith/{S1}.json") == 3


@pytest.mark.slow
def test_429_with_retry_after_is_honoured(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["429:1"]
    start = time.monotonic()
    report = run(up, site, layout="resolver")
    assert report.ok and landed(site) == ALL
    assert time.monotonic() - start >= 1.0


def test_a_retry_after_beyond_the_bound_fails_the_document_without_waiting(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["429:3600"]
    start = time.monotonic()
    report = run(up, site, layout="resolver")
    assert checks(report) == ["fetch.http"] and "retry after 3600 s" in str(report.problems[0])
    assert time.monotonic() - start < 3


def test_a_hanging_response_times_out(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["hang:4"] * 2
    start = time.monotonic()
    report = run(up, site, layout="resolver", limits=Limits(timeout=0.3, retries=1, backoff=0.01))
    assert checks(report) == ["fetch.timeout"] and "no answer within 0.3 s" in str(report.problems[0])
    assert time.monotonic() - start < 3 and landed(site) == ALL - {f"records/{S1}.json"}


def test_an_endless_body_stops_at_the_size_cap(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["endless"]
    report = run(up, site, layout="resolver", max_bytes=256 * 1024)
    assert checks(report) == ["fetch.size"] and "exceeds the 262144-byte cap" in str(report.problems[0])
    assert landed(site) == ALL - {f"records/{S1}.json"}


@pytest.mark.slow
def test_a_body_dripping_slowly_hits_the_deadline(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["drip"]
    start = time.monotonic()
    report = run(up, site, layout="resolver", limits=Limits(timeout=0.5, deadline=1.0, retries=0))
    assert checks(report) == ["fetch.timeout"] and "too slow" in str(report.problems[0])
    assert time.monotonic() - start < 3


def test_headers_dripping_slowly_hit_the_deadline(resolver):
    """Each header byte comes within the read timeout; the whole exchange still ends at the deadline."""
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["headerdrip"]
    start = time.monotonic()
    report = run(up, site, layout="resolver", limits=Limits(timeout=0.5, deadline=1.0, retries=0))
    assert checks(report) == ["fetch.timeout"] and "too slow: no complete answer after 1 s" in str(report.problems[0])
    assert time.monotonic() - start < 4 and landed(site) == ALL - {f"records/{S1}.json"}


def test_a_retry_after_in_unicode_digits_is_a_clean_error(resolver):
    """'\u00b2' passes str.isdigit() but not float(): it must not crash the pull."""
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["429:\u00b2"] * 3
    report = run(up, site, layout="resolver")
    assert checks(report) == ["fetch.http"] and "HTTP 429" in str(report.problems[0])
    assert landed(site) == ALL - {f"records/{S1}.json"}


def test_a_content_length_in_unicode_digits_is_ignored_not_a_crash(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["length:\u00b2"]
    report = run(up, site, layout="resolver")
    assert report.ok, report.problems
    assert landed(site) == ALL


def test_a_symlinked_content_folder_is_not_written_through(resolver, tmp_path):
    """content/records -> a folder outside the site holding the user's own file of that name."""
    up, site = resolver
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / f"{S1}.json").write_bytes(b"the user's own file")
    (site / "content" / "records").symlink_to(outside, target_is_directory=True)
    report = run(up, site, layout="resolver")
    assert set(checks(report)) == {"pull.write"}
    assert "content/records is a symbolic link or not a folder" in str(report.problems[0])
    assert (outside / f"{S1}.json").read_bytes() == b"the user's own file"
    assert sorted(p.name for p in outside.iterdir()) == [f"{S1}.json"]
    assert (site / "content" / "bundles" / f"{SB}.bundle.json").is_file()  # the rest of the pull went on


def test_truncated_json_is_a_parse_error_and_never_lands(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["truncate"]
    report = run(up, site, layout="resolver")
    assert checks(report) == ["load.json"]
    assert str(report.problems[0]).startswith(f"{up.url}pith/{S1}.json: not valid JSON")
    assert landed(site) == ALL - {f"records/{S1}.json"}


def test_an_html_answer_is_the_wrong_type(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["html"]
    report = run(up, site, layout="resolver")
    assert checks(report) == ["fetch.type"] and "served as 'text/html', expected JSON" in str(report.problems[0])


def test_a_redirect_to_another_host_is_not_followed_and_one_within_the_host_is(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["redirect:http://evil.example/pith/x.json"]
    up.faults[f"pith/{S2}.json"] = [f"redirect:/pith/{S2}.json"]
    report = run(up, site, layout="resolver")
    assert checks(report) == ["fetch.redirect"] and "evil.example" in str(report.problems[0])
    assert landed(site) == ALL - {f"records/{S1}.json"}


def test_a_forged_document_with_one_byte_changed_never_lands(resolver, tmp_path):
    up, site = resolver
    path = tmp_path / "resolver" / "pith" / f"{S1}.json"
    data = path.read_bytes()
    i = data.index(b'"primary_cat": "cs.LG"') + len(b'"primary_cat": "cs.L')
    path.write_bytes(data[:i] + b"H" + data[i + 1:])
    report = run(up, site, layout="resolver")
    assert report.problems and all(c.startswith("record.") for c in checks(report))
    assert landed(site) == ALL - {f"records/{S1}.json"}


def test_a_document_signed_by_an_untrusted_key_never_lands(tmp_path):
    stranger = make_record(arxiv_id="2101.00009", sk=ATTACKER_KEY, key_id=OTHER_KEY_ID)
    s = stranger["pith_number"].split(":")[2]
    with serving(resolver_tree(tmp_path / "resolver", [R1, stranger])) as up:
        site = empty_site(tmp_path / "down")
        from sitegen.pull.names import parse_names
        report = run(up, site, layout="resolver", names=tuple(parse_names([S1, s])))
    assert "record.receipt.key" in checks(report)
    assert landed(site) == {f"records/{S1}.json"}


def test_a_document_served_at_another_pith_numbers_path_is_refused(resolver, tmp_path):
    up, site = resolver
    (tmp_path / "resolver" / "pith" / f"{S1}.json").write_bytes(dump(R2))
    report = run(up, site, layout="resolver")
    assert checks(report) == ["pull.path"]
    assert f"the document is {R2['pith_number']}, served at the path of {S1}" in str(report.problems[0])
    assert landed(site) == ALL - {f"records/{S1}.json"}


@pytest.fixture
def mirror(tmp_path):
    site = upstream_site(tmp_path / "up", {"records/r1.json": R1, "records/r2.json": R2, "bundles/b1.json": B1},
                         seeds=False)
    out = tmp_path / "up-out"
    build_mirror(site, out)
    with serving(out) as up:
        yield up, out, empty_site(tmp_path / "down")


def test_mirror_documents_must_match_the_snapshot_and_a_resealed_forgery_still_fails_verification(mirror):
    up, out, site = mirror
    path = out / "pith" / f"{S1}.json"
    forged = path.read_bytes().replace(b"First Paper", b"Forged Paper")
    path.write_bytes(forged)
    report = run(up, site)
    assert checks(report) == ["pull.snapshot"]
    reseal(out)  # the attacker makes the listing match, but cannot sign the record
    report = run(up, site)
    assert checks(report) == ["record.paper.title"]
    assert f"records/{S1}.json" not in landed(site) and landed(site) == ALL - {f"records/{S1}.json"}


def test_a_mirror_document_dropped_mid_body_is_retried_and_a_truncated_one_fails(mirror):
    up, _, site = mirror
    up.faults[f"pith/{S1}.json"] = ["drop"]
    up.faults[f"pith/{S2}.json"] = ["truncate"]
    report = run(up, site)
    assert checks(report) == ["pull.snapshot"] and f"pith/{S2}.json" in report.problems[0].file
    assert landed(site) == ALL - {f"records/{S2}.json"}
    assert run(up, site).ok and landed(site) == ALL


def test_a_snapshot_listing_paths_outside_the_mirror_is_reported_and_nothing_is_written_outside(mirror, tmp_path):
    up, out, site = mirror
    hostile = ["../../etc/passwd", "/etc/passwd", "pith/../../../x.json", "pith\\..\\x.json", "pith/\x1b[2J.json"]
    reseal(out, lambda files: files.extend({"path": p, "size": 10, "sha256": "0" * 64} for p in hostile))
    before = {p for p in tmp_path.rglob("*")}
    report = run(up, site)
    assert checks(report) == ["snapshot.path"] * len(hostile)
    assert landed(site) == ALL
    assert not any("passwd" in p or "x.json" in p for p in up.paths())
    after = {p for p in tmp_path.rglob("*")}
    assert {p for p in after - before if "content" not in p.parts and ".sitegen-pull" not in p.parts} == set()
    assert "\x1b" not in "".join(str(p) for p in report.problems)


def test_a_snapshot_naming_a_shard_outside_the_shard_directory_is_refused(mirror):
    up, out, site = mirror
    snap = json.loads((out / "pith-mirror-snapshot.json").read_text())
    snap["shards"][0]["path"] = "../../etc/passwd"
    (out / "pith-mirror-snapshot.json").write_text(json.dumps(snap))
    report = run(up, site)
    assert checks(report) == ["snapshot.format"] and "is not a shard path" in str(report.problems[0])
    assert up.paths() == ["pith-mirror-snapshot.json"] and landed(site) == set()


def test_nothing_the_upstream_says_reaches_the_terminal_raw(resolver, capsys):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["redirect:http://\x1b[31mevil.example\x9b2J/x"]
    up.resolve["2101.00002"] = {"pith_number": "pith:2021:\x1b]0;owned\x07\u202e"}
    code = main(["pull", up.url, str(site), "--layout", "resolver", "--only", S1, "2101.00002", "--progress", "off",
                 "--retries", "0"])
    err = capsys.readouterr().err
    assert code == 1 and not any(c in err for c in "\x1b\x9b\x07\u202e")
    assert "[fetch.redirect]" in err and "[pull.resolve]" in err


KILL_SCRIPT = """
import sys
from sitegen.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_sigkill_of_the_pull_leaves_only_verified_documents_and_the_next_pull_completes(tmp_path):
    docs = {f"records/r{i}.json": make_record(arxiv_id=f"2101.{i:05d}", title=f"Paper {i}") for i in range(60)}
    site = upstream_site(tmp_path / "up", docs, seeds=False)
    build_mirror(site, tmp_path / "up-out")
    expected = {f"records/{d['pith_number'].split(':')[2]}.json": dump(d) for d in docs.values()}
    down = empty_site(tmp_path / "down")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with serving(tmp_path / "up-out") as up:
        for round_ in (1, 2):
            for suffix in expected:
                up.faults[f"pith/{suffix[8:]}"] = ["delay:0.03"]
            proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, "pull", up.url, str(down), "-j", "2",
                                     "--progress", "off"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while len(content_documents(down)) < 5 * round_ and time.monotonic() < deadline:
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            got = content_documents(down)
            assert 0 < len(got) < len(expected), "kill the pull mid-way"
            assert all(expected[name] == data for name, data in got.items())  # whole, verified files only
            assert not [p for p in (down / "content").rglob("*") if p.is_file() and p.suffix != ".json"]
        up.faults.clear()
        up.clear()
        assert main(["pull", up.url, str(down), "--progress", "off", "-q"]) == 0
        assert content_documents(down) == expected
        fetched = up.documents_fetched()
        assert fetched and len(fetched) < len(expected)  # finished documents were not fetched again
        assert not (down / ".sitegen-pull" / "quarantine").exists()
        up.clear()
        assert main(["pull", up.url, str(down), "--progress", "off", "-q"]) == 0
        assert up.paths() == ["pith-mirror-snapshot.json"]
    assert main(["build", str(down), "-o", str(tmp_path / "down-out"), "-q"]) == 0


def test_a_document_that_cannot_be_written_is_a_clean_error(resolver):
    up, site = resolver
    (site / "content" / "records").write_text("a file where the records folder should be")
    report = run(up, site, layout="resolver")
    assert checks(report) == ["pull.write", "pull.write"]
    assert "cannot write content/records/" in str(report.problems[0])
    assert landed(site) == {f"bundles/{SB}.bundle.json"}
    assert not list((site / ".sitegen-pull").glob("quarantine/*"))


def test_a_host_answering_every_path_with_its_html_page_is_not_taken_for_a_mirror(mirror):
    from sitegen.errors import SitegenError

    up, _, site = mirror
    up.faults["pith-mirror-snapshot.json"] = ["html"]
    with pytest.raises(SitegenError, match=r"served as 'text/html', expected JSON .*pass --layout resolver"):
        run(up, site)
    assert landed(site) == set()


def test_a_bundle_whose_record_fails_must_still_agree_with_the_local_record(resolver, tmp_path):
    """The fetched record is forged, the fetched bundle is valid on its own but its record_created
    receipt was signed with another trusted key: beside the local record it would disagree."""
    from pithfactory import key_document, signing_key

    up, site = resolver
    assert run(up, site, layout="resolver").ok
    second = signing_key("second registry key")
    (site / "content" / "keys" / "second-2026.json").write_text(json.dumps(key_document(second, "second-2026")))
    rebundled = make_bundle(arxiv_id="2101.00001", title="First Paper", authors=R1["paper"]["authors_text"],
                            abstract=R1["paper"]["abstract_excerpt"], sk=second, key_id="second-2026")
    assert rebundled["pith_number"] == R1["pith_number"]
    tree = tmp_path / "resolver"
    (tree / ".well-known" / "pith" / S1).mkdir(parents=True)
    (tree / ".well-known" / "pith" / S1 / "bundle.json").write_bytes(dump(rebundled))
    record = tree / "pith" / f"{S1}.json"
    record.write_bytes(record.read_bytes().replace(b"First Paper", b"First Pager"))
    report = run(up, site, layout="resolver")
    assert "mirror.agreement" in checks(report) and f"bundles/{S1}.bundle.json" not in landed(site)
    assert f"disagrees with the record content/records/{S1}.json" in " ".join(str(p) for p in report.problems)
    assert (site / "content" / "records" / f"{S1}.json").read_bytes() == dump(R1)


def test_gzip_is_decoded_and_a_decompression_bomb_stops_at_the_cap(resolver):
    up, site = resolver
    up.faults[f"pith/{S1}.json"] = ["gzip"]
    up.faults[f"pith/{S2}.json"] = ["gzipbomb"]
    report = run(up, site, layout="resolver", max_bytes=1024 * 1024)
    assert checks(report) == ["fetch.size"] and f"pith/{S2}.json" in report.problems[0].file
    assert landed(site) == ALL - {f"records/{S2}.json"}
    assert (site / "content" / "records" / f"{S1}.json").read_bytes() == dump(R1)
    assert report.bytes < 4 * 1024 * 1024  # the bomb was not inflated past the cap

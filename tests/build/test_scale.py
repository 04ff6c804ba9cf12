"""Scale smoke test (the benchmark's corpus at 2,000 documents): the worker
pool gives the same bytes as one process, every page is present, incremental
builds equal clean builds, and the build cache is never trusted blindly.
Speed is measured by benchmarks/bench.py, not here."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pithfactory import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import document, generate  # type: ignore[import-not-found]  # benchmarks/, put on sys.path above

from helpers import CHILD_ENV, build_in_child, tree
from sitegen.pith import canonical, numbers
from sitegen.site.lookup import shard_of

SNAPSHOT = "pith-mirror-snapshot.json"
pytestmark = pytest.mark.slow  # a 2,000-document corpus, built again and again


def build_ok(site: Path, out: Path, *extra: str) -> str:
    """A child build that must succeed; its summary (stdout)."""
    proc = build_in_child(site, out, "--progress", "off", *extra, quiet=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def differences(a: Path, b: Path) -> list[str]:
    """Files that differ; the snapshot is compared without the build counter."""
    ta, tb = tree(a), tree(b)
    diff = sorted(p for p in set(ta) | set(tb) if p != SNAPSHOT and ta.get(p) != tb.get(p))
    sa, sb = json.loads(ta[SNAPSHOT]), json.loads(tb[SNAPSHOT])
    for key in ("version", "snapshot_sha256"):
        sa.pop(key), sb.pop(key)
    return diff + ([SNAPSHOT] if sa != sb else [])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    site = tmp_path_factory.mktemp("scale")
    generate(site, records=1980, bundles=20)
    (site / "sitegen.toml").write_text('base_url = "https://mirror.example/"\n')
    return site


@pytest.fixture(scope="module")
def parallel(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("par") / "site"
    stdout = build_ok(corpus, out, "--jobs", "2")
    return out, stdout


def test_two_workers_write_the_same_bytes_as_one(corpus, parallel, tmp_path):
    out2, stdout = parallel
    assert "full build" in stdout and "2,000 documents (1,980 records, 20 bundles verified)" in stdout
    out1 = tmp_path / "site"
    build_ok(corpus, out1, "--jobs", "1")
    assert tree(out1) == tree(out2)  # snapshot included: both are version 1


def test_every_document_has_its_pages(corpus, parallel):
    out, _ = parallel
    suffixes = set()
    for path in sorted((corpus / "content").glob("*/*.json")):
        if path.parent.name == "keys":
            continue
        doc = json.loads(path.read_bytes())
        suffix = numbers.pith_suffix(canonical.canonical_sha256(doc["canonical_record"]))
        suffixes.add(suffix)
        assert (out / "pith" / suffix / "index.html").is_file()
        if path.parent.name == "records":
            assert (out / "pith" / f"{suffix}.json").read_bytes() == path.read_bytes()
        else:
            assert (out / ".well-known" / "pith" / suffix / "bundle.json").read_bytes() == path.read_bytes()
            assert (out / "api" / "pith-number" / suffix / "graph.json").is_file()
        arxiv_id = doc["canonical_record"]["source"]["id"]
        index = json.loads((out / "api/aliases/index.json").read_text())
        shard = shard_of(arxiv_id, index["arxiv_shard_digits"]) or "_"
        assert [v[1] for v in json.loads((out / f"api/aliases/arxiv/{shard}.json").read_text())[arxiv_id]] == [suffix]
        prefix = suffix[:index["suffix_shard_chars"]] or "_"
        assert suffix in json.loads((out / f"api/aliases/suffix/{prefix}.json").read_text())
    assert len(suffixes) == 2000
    # Every record is listed exactly once across the pages of the year listings, and in the sitemaps.
    listed = []
    for page in (out / "years").glob("*/page/*/index.html"):
        html = page.read_text()
        listed += [s for s in suffixes if f'href="/pith/{s}/"' in html]
    assert sorted(listed) == sorted(suffixes)
    assert max(len(p.read_text().split('class="title"')) - 1 for p in (out / "years").glob("*/page/*/index.html")) \
        <= 4 * 50  # a page holds at most four times page_size records
    sitemaps = "".join(p.read_text() for p in out.glob("sitemap-*.xml"))
    assert all(f"https://mirror.example/pith/{s}/" in sitemaps for s in suffixes)
    snapshot = json.loads((out / SNAPSHOT).read_text())
    # The snapshot lists every file but itself and its shards.
    assert snapshot["file_count"] == sum(1 for f in out.rglob("*") if f.is_file()) - len(snapshot["shards"]) - 1


def test_incremental_builds_equal_clean_builds(corpus, tmp_path):
    site = tmp_path / "site-src"
    shutil.copytree(corpus, site)
    out, clean = tmp_path / "out", tmp_path / "clean"
    build_ok(site, out)
    records = sorted((site / "content" / "records").glob("*.json"))
    page_before = out / "index.html"
    unrelated = next(p for p in (out / "pith").iterdir() if p.is_dir()) / "index.html"
    inode = unrelated.stat().st_ino

    records[7].write_bytes(json.dumps(document(10**7, random.Random("changed"), bundle=False)).encode())
    stdout = build_ok(site, out)
    assert "incremental: 1 Pith Number rebuilt" in stdout or "incremental: 2 Pith Numbers rebuilt" in stdout
    assert unrelated.stat().st_ino == inode  # untouched files are not rewritten
    generate(site, records=1, start=10**7 + 1)
    assert "incremental" in build_ok(site, out)
    records[11].unlink()
    assert "incremental" in build_ok(site, out)
    build_ok(site, clean, "--full")
    assert differences(out, clean) == []
    assert page_before.is_file()

    # A template change re-renders what uses it, and only that.
    (site / "templates").mkdir()
    alias = (REPO / "templates" / "alias.html").read_text()
    (site / "templates" / "alias.html").write_text(alias.replace("<h1>", '<h1 class="alias">'))
    page = next(p for p in (out / "pith").iterdir() if p.is_dir()) / "index.html"
    mtime = page.stat().st_mtime_ns
    stdout = build_ok(site, out)
    assert "incremental: 0 Pith Numbers rebuilt" in stdout
    assert page.stat().st_mtime_ns == mtime
    assert all('class="alias"' in p.read_text() for p in (out / "paper").glob("*/index.html"))
    shutil.rmtree(clean)
    build_ok(site, clean, "--full")
    assert differences(out, clean) == []


def test_a_damaged_or_foreign_cache_is_rebuilt_not_trusted(corpus, tmp_path):
    site = tmp_path / "site-src"
    shutil.copytree(corpus, site)
    out = tmp_path / "out"
    build_ok(site, out)
    reference = tree(out)
    store = tmp_path / ".out.sitegen-cache" / "store.sqlite"
    for sidecar in store.parent.glob("store.sqlite-*"):
        sidecar.unlink()
    data = bytearray(store.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # corrupt the header and first page
    store.write_bytes(bytes(data))
    stdout = build_ok(site, out)
    assert "full build (cache is damaged" in stdout
    assert differences(out, tmp_path / "out") == [] and tree(out).keys() == reference.keys()

    # A store whose rows were edited behind sitegen's back no longer describes the published tree.
    db = sqlite3.connect(store)
    db.execute("UPDATE meta SET value = 'x' WHERE key = 'tree_sha256'")
    db.commit()
    db.close()
    assert "full build (cache does not describe the published tree" in build_ok(site, out)

    # A cache made for another output directory is not used for this one.
    other = tmp_path / "other"
    build_ok(site, other)
    shutil.rmtree(tmp_path / ".other.sitegen-cache")
    shutil.copytree(tmp_path / ".out.sitegen-cache", tmp_path / ".other.sitegen-cache")
    assert "full build (cache was made for output_dir" in build_ok(site, other)


def test_a_key_change_invalidates_exactly_the_documents_that_name_it(tmp_path):
    from pithfactory import key_document, make_record, make_site
    site = make_site(tmp_path, test_key=False,
                     docs={"records/extra.json": make_record(arxiv_id="2201.00001")})  # signed by the test key
    keys = site / "content" / "keys"
    (keys / "test.json").write_text(json.dumps(key_document()))
    out = tmp_path / "out"
    build_ok(site, out)
    assert "incremental: 0 Pith Numbers rebuilt" in build_ok(site, out)
    # The registry key document changes (a not_before long past): the five seed Pith Numbers it
    # signs are verified again (4 records, 1 bundle); the test key's record is not.
    registry = next(p for p in keys.iterdir() if p.name.startswith("pith-v1"))
    doc = json.loads(registry.read_text())
    registry.write_text(json.dumps({**doc, "not_before": "2000-01-01T00:00:00Z"}, indent=2))
    stdout = build_ok(site, out)
    assert "(4 records, 1 bundle verified)" in stdout and "incremental: 5 Pith Numbers rebuilt" in stdout
    # The test key is removed: its record no longer verifies — the build fails and publishes nothing.
    (keys / "test.json").unlink()
    proc = build_in_child(site, out)
    assert proc.returncode == 1 and "records/extra.json" in proc.stderr


def test_the_benchmark_command_runs_and_checks_itself(tmp_path):
    """benchmarks/bench.py at a tiny size: it must run and find incremental == clean."""
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench.py"), "--records", "190", "--bundles",
                           "10", "--workdir", str(tmp_path)], capture_output=True, text=True, env=CHILD_ENV)
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["documents"] == 200 and figures["identical_to_clean"] is True
    assert figures["build_docs_per_s"] > 0 and figures["floor_ratio"] > 0 and figures["peak_rss_mb"] > 0

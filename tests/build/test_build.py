"""End-to-end builds of the real seeds through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import html5lib
import pytest

from helpers import soup, tree, tree_stats
from pithfactory import REGISTRY_KEY, REPO, SEED_BUNDLES, SEED_RECORDS, load_json, make_bundle, make_record, make_site
from sitegen.cli import main
from sitegen.pith import canonical
from sitegen.site.authors import parse_authors

BASE = "https://mirror.test/"
RECORDS = {load_json(p)["pith_number"].split(":")[2]: (p, load_json(p)) for p in SEED_RECORDS}
BUNDLES = {load_json(p)["pith_number"].split(":")[2]: (p, load_json(p)) for p in SEED_BUNDLES}


def run(*args: str) -> int:
    return main(["build", *args])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("built")
    site = make_site(root, test_key=False)
    out = root / "out"
    assert run(str(site), "-o", str(out), "--base-url", BASE, "-q") == 0
    return out


def test_output_tree_has_every_route(built):
    files = set(tree(built))
    for s in RECORDS:  # a record alone: its page and its document, nothing derived
        assert {f"pith/{s}/index.html", f"pith/{s}.json"} == {f for f in files if s in f}
    for s in BUNDLES:
        assert {f"pith/{s}/index.html", f"pith/{s}/bundle.json", f"pith/{s}/state.json",
                f".well-known/pith/{s}/bundle.json", f".well-known/pith/{s}/state.json",
                f"api/pith-number/{s}/graph.json", f"api/pith-number/{s}/events.json"} == {f for f in files if s in f}
    assert {"index.html", "404.html", "pith-signing-key.json", "pith-mirrors.json", "robots.txt",
            "sitemap.xml", ".nojekyll", "assets/sitegen.css", "api/aliases/index.json",
            "search/index.json"} <= files
    assert not [f for f in files if f.startswith(("paper/", "arxiv/", "doi/"))]  # aliases are maps, not folders
    for s in BUNDLES:  # no record document is invented for a bundle-only Pith Number
        assert f"pith/{s}.json" not in files


def test_documents_are_published_byte_identical(built):
    for s, (path, _) in RECORDS.items():
        assert (built / f"pith/{s}.json").read_bytes() == path.read_bytes()
    for s, (path, doc) in BUNDLES.items():
        assert (built / f"pith/{s}/bundle.json").read_bytes() == path.read_bytes()
        assert (built / f".well-known/pith/{s}/bundle.json").read_bytes() == path.read_bytes()
        state = (built / f"pith/{s}/state.json").read_bytes()
        assert state == canonical.canonical_json(doc["state"])
        assert canonical.state_sha256(json.loads(state)) == doc["state"]["state_sha256"]
    assert (built / "pith-signing-key.json").read_bytes() == REGISTRY_KEY.read_bytes()


@pytest.mark.parametrize("suffix", sorted(RECORDS))
def test_record_page_shows_the_document(built, suffix):
    _, doc = RECORDS[suffix]
    page = soup(built / f"pith/{suffix}/index.html")
    paper, cr, receipt = doc["paper"], doc["canonical_record"], doc["receipt"]
    assert page.h1.get_text() == paper["title"]
    authors = [a.name for a in parse_authors(paper["authors_text"])]
    assert [li.get_text() for li in page.select("ul.authors li")] == authors
    assert page.select_one(".pith-number .short").get_text() == doc["short_pith_number"]
    assert page.select_one(".pith-number code").get_text() == doc["pith_number"]
    arxiv = page.select_one(".source a")
    assert arxiv["href"] == f"https://arxiv.org/abs/{cr['source']['id']}v{cr['source']['version']}"
    assert arxiv.get_text() == f"arXiv:{cr['source']['id']} v{cr['source']['version']}"
    cats = [c.get_text() for c in page.select(".source .cat")]
    assert cats == [cr["metadata"]["primary_cat"], *cr["metadata"]["cross_cats_sorted"]]
    doi = next(a["alias_value"] for a in doc["aliases"] if a["alias_kind"] == "doi")
    assert page.select_one(".doi a")["href"] == f"https://doi.org/{doi}"
    assert page.select_one("p.abstract").get_text() == paper["abstract_excerpt"]
    assert page.select_one("#canonical-sha256").get_text() == doc["canonical_sha256"]
    receipt_text = page.select_one("dl.receipt").get_text()
    for key in ("signature_b64", "key_id", "public_key_fingerprint", "first_computed_at", "builder_version"):
        assert receipt[key] in receipt_text
    assert [tuple(td.get_text() for td in tr.find_all("td")) for tr in page.select("table.aliases tbody tr")] == \
        [(a["alias_kind"], a["alias_value"]) for a in doc["aliases"]]
    assert json.loads(page.select_one("pre.json").get_text()) == cr
    assert "\\pithnumber{" + suffix + "}" in page.select_one("pre.snippet").get_text()
    cited = [li.get_text() for li in page.select("ul.cited-by li")]
    assert cited == [f"arXiv:{c['citing_arxiv_id']} — {c['citing_title']}" for c in doc["inbound_citations"]["sample"]]
    recipe = page.select_one("#verify-recipe").get_text()
    assert f"curl -sSf {BASE}pith/{suffix}.json" in recipe and doc["canonical_sha256"] in recipe
    checks = page.select("table.checks tbody tr")
    assert len(checks) >= 15 and all(tr.find_all("td")[0].get_text() == "record" for tr in checks)
    assert {"record.receipt.signature", "record.paper.title"} <= {tr.find_all("td")[1].get_text() for tr in checks}
    badges = {li.get_text(" ", strip=True).split(" ")[0]: "on" in li["class"] for li in page.select("ul.badges li")}
    assert badges["receipt"] is doc["verification_status"]["pith_receipt"]
    assert badges["attested"] is doc["verification_status"]["author_attested"]
    assert page.find("link", rel="canonical")["href"] == f"{BASE}pith/{suffix}/"


def test_bundle_page_uses_the_signed_graph_snapshot(built):
    suffix, (_, doc) = next(iter(BUNDLES.items()))
    page = soup(built / f"pith/{suffix}/index.html")
    paper = doc["state"]["current"]["graph_snapshots"][-1]["payload"]["graph_snapshot"]["paper"]
    assert page.h1.get_text() == paper["title"]
    assert page.find("a", href=f"/pith/{suffix}/bundle.json") is not None
    assert page.find("a", href=f"/pith/{suffix}/state.json") is not None
    rows = page.select("table tbody tr")
    codes = [r.find("code").get_text() for r in rows if r.find("code")]
    assert [c for c in codes if c.startswith("sha256:")] == [e["event_id"] for e in doc["events"]]
    recipe = page.select_one("#verify-recipe").get_text()
    assert f"{BASE}pith/{suffix}/bundle.json" in recipe
    assert "bundle.state.replay" in {tr.find_all("td")[1].get_text() for tr in page.select("table.checks tbody tr")}


def test_index_lists_every_record_newest_first(built):
    page = soup(built / "index.html")
    items = page.select("ol.record-list li")
    docs = {**{s: d for s, (_, d) in RECORDS.items()}}
    assert len(items) == 5
    dates = [li.find("time")["datetime"] for li in items]
    assert dates == sorted(dates, reverse=True)
    for s, d in docs.items():
        li = next(li for li in items if li.a["href"] == f"/pith/{s}/")
        assert li.a.get_text() == d["paper"]["title"]
        text = li.get_text(" ")
        assert d["short_pith_number"] in text and f"arXiv:{d['source']['id']}" in text
        assert d["paper"]["submitted_at"][:10] in text and parse_authors(d["paper"]["authors_text"])[0].name in text


def test_short_links_resolve_through_the_suffix_map(built):
    index = load_json(built / "api/aliases/index.json")
    assert index["format"] == "sitegen-aliases-1" and index["suffix_shard_chars"] == 0
    suffixes = load_json(built / "api/aliases/suffix/_.json")
    assert suffixes == sorted([*RECORDS, *BUNDLES])
    for s in [*RECORDS, *BUNDLES]:
        assert [x for x in suffixes if x.startswith(s[:8])] == [s]


def test_site_wide_files(built):
    assert (built / ".nojekyll").read_bytes() == b""
    assert "Sitemap: https://mirror.test/sitemap.xml" in (built / "robots.txt").read_text()
    assert not (built / "_headers").exists()  # host = "generic": tests/site/test_hosting.py has each host's files
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    index = ET.parse(built / "sitemap.xml").getroot()
    assert index.tag == f"{ns}sitemapindex"
    children = [e.text for e in index.iter(f"{ns}loc")]
    assert children == [f"{BASE}sitemap-all.xml"]
    entries = ET.parse(built / "sitemap-all.xml").getroot()
    locs = [e.text for e in entries.iter(f"{ns}loc")]
    assert len(locs) == len(set(locs))
    assert {BASE} | {f"{BASE}pith/{s}/" for s in [*RECORDS, *BUNDLES]} <= set(locs)
    assert {f"{BASE}years/", f"{BASE}categories/", f"{BASE}years/2017/", f"{BASE}categories/cs.lg/",
            f"{BASE}years/2017/page/first/"} <= set(locs)
    lastmods = [e.text for e in entries.iter(f"{ns}lastmod")]
    assert lastmods and all(len(m) == 20 and m.endswith("Z") for m in lastmods)  # one format: YYYY-MM-DDTHH:MM:SSZ
    manifest = load_json(built / "pith-mirrors.json")
    mirror = manifest["mirrors"][0]
    assert manifest["manifest_type"] == "pith_mirror_manifest" and manifest["manifest_version"] == "1.0"
    assert mirror["base_url"] == "https://mirror.test" and mirror["mirror_type"] == "https"
    assert mirror["bundle_pattern"] == "https://mirror.test/pith/{suffix}/bundle.json"
    assert mirror["well_known_pattern"] == "https://mirror.test/.well-known/pith/{suffix}/bundle.json"
    assert mirror["public_key"] == load_json(REGISTRY_KEY)
    assert manifest["generated_at"] == "2026-05-26T05:38:29Z"  # newest content timestamp, not the clock
    assert "Not found" in soup(built / "404.html").h1.get_text()


def test_every_page_is_valid_html5(built):
    parser = html5lib.HTMLParser(strict=True)
    pages = sorted(built.rglob("*.html"))
    assert len(pages) >= 12
    for page in pages:
        parser.parse(page.read_bytes())  # raises ParseError on any HTML5 parse error


def test_every_page_is_readable_without_javascript(built):
    for page in built.rglob("*.html"):
        html = soup(page)
        assert html.find("main").get_text(strip=True), page  # the content is in the HTML itself
        for script in html.find_all("script"):  # data blocks, or deferred enhancements from the theme
            assert script.get("type") == "application/ld+json" or (script.get("src", "").startswith("/assets/")
                                                                  and script.has_attr("defer")), page


def _internal_links(root: Path) -> set[str]:
    links = set()
    for page in root.rglob("*.html"):
        for tag in soup(page).find_all(["a", "link"]):
            href = str(tag.get("href", ""))
            if href.startswith("/"):
                links.add(href)
    return links


def test_links_respect_a_sub_path_base_url(tmp_path):
    site = make_site(tmp_path, test_key=False)
    out = tmp_path / "out"
    assert run(str(site), "-o", str(out), "--base-url", "https://user.github.io/mirror", "-q") == 0
    links = _internal_links(out)
    assert links and all(link.startswith("/mirror/") for link in links), sorted(links)[:5]
    for link in links:
        rel = link[len("/mirror/"):]
        target = out / rel / "index.html" if rel.endswith("/") or rel == "" else out / rel
        assert target.is_file(), link


def test_two_builds_are_byte_identical(tmp_path):
    site = make_site(tmp_path, test_key=False)
    assert run(str(site), "-o", str(tmp_path / "a"), "-q") == 0
    assert run(str(site), "-o", str(tmp_path / "b"), "-q") == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_rebuild_keeps_unchanged_files_and_their_mtimes(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    out = tmp_path / "out"
    assert run(str(site), "-o", str(out)) == 0
    before = tree_stats(out)
    capsys.readouterr()
    assert run(str(site), "-o", str(out)) == 0
    assert f"(0 written, {len(before)} unchanged)" in capsys.readouterr().out
    after = tree_stats(out)
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}


def test_failed_build_reports_every_bad_file_and_leaves_output_untouched(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    out = tmp_path / "out"
    assert run(str(site), "-o", str(out), "-q") == 0
    before = tree_stats(out)
    forged = load_json(SEED_RECORDS[0])
    forged["receipt"]["signature_b64"] = "A" + forged["receipt"]["signature_b64"][1:]
    (site / "content" / "records" / "forged.json").write_text(json.dumps(forged))
    (site / "content" / "records" / "broken.json").write_text("{")
    capsys.readouterr()
    assert run(str(site), "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert "content/records/forged.json: receipt.signature_b64: does not verify with key pith-v1-2026-05" in err
    assert "content/records/broken.json: not valid JSON" in err
    assert "2 of 7 content files failed verification" in err and "left unchanged" in err
    assert tree_stats(out) == before
    # No staging tree is left behind; the build cache beside the output is kept.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == [".out.lock",
                                                                                     ".out.sitegen-cache"]


def test_skip_invalid_publishes_valid_documents_and_lists_skipped(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    forged = load_json(SEED_RECORDS[0])
    forged["paper"]["title"] = "Forged"
    (site / "content" / "records" / SEED_RECORDS[0].name).write_text(json.dumps(forged))
    out = tmp_path / "out"
    assert run(str(site), "-o", str(out), "--skip-invalid") == 0
    captured = capsys.readouterr()
    assert f"skipped: content/records/{SEED_RECORDS[0].name}: paper.title:" in captured.err
    assert "1 document skipped" in captured.out
    forged_suffix = forged["pith_number"].split(":")[2]
    assert not (out / "pith" / forged_suffix).exists() and not (out / f"pith/{forged_suffix}.json").exists()
    assert len(list((out / "pith").glob("*/index.html"))) == 4


def test_build_summary_names_documents_and_checks(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    assert run(str(site), "-o", str(tmp_path / "out")) == 0
    out = capsys.readouterr().out
    assert ("sitegen build: 5 documents (4 records, 1 bundle verified), 5 Pith Numbers published; "
            "full build (no cache yet)") in out
    assert "verified: 133 checks passed, 0 failed" in out
    assert "timings: load" in out


def test_source_date_epoch_sets_the_build_time(tmp_path, monkeypatch):
    site = make_site(tmp_path, test_key=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert run(str(site), "-o", str(tmp_path / "out"), "-q") == 0
    assert load_json(tmp_path / "out" / "pith-mirrors.json")["generated_at"] == "2026-01-01T00:00:00Z"
    assert soup(tmp_path / "out" / "index.html").find("time", datetime="2026-01-01T00:00:00Z") is not None


def test_sitegen_toml_settings_and_cli_flags_win(tmp_path):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text('title = "My Mirror"\nbase_url = "https://m.example/x/"\n'
                                       'output_dir = "public"\n')
    assert run(str(site), "-q") == 0
    index = soup(site / "public" / "index.html")
    assert index.h1.get_text() == "My Mirror" and index.find("link", rel="canonical")["href"] == "https://m.example/x/"
    assert run(str(site), "-q", "--title", "Flag Title") == 0
    assert soup(site / "public" / "index.html").h1.get_text() == "Flag Title"


def test_unknown_setting_is_a_config_error(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text('base_ulr = "https://typo/"\n')
    assert run(str(site), "-q") == 1
    assert "sitegen.toml: base_ulr: unknown setting" in capsys.readouterr().err


def test_site_templates_and_static_override_the_theme_file_by_file(tmp_path):
    site = make_site(tmp_path, test_key=False)
    (site / "templates").mkdir()
    (site / "templates" / "404.html").write_text('{% extends "base.html" %}{% block main %}<h1>Lost</h1>{% endblock %}')
    (site / "static" / "assets").mkdir(parents=True)
    (site / "static" / "assets" / "sitegen.css").write_text("body{}")
    (site / "static" / "CNAME").write_text("mirror.example\n")
    out = tmp_path / "out"
    assert run(str(site), "-o", str(out), "-q") == 0
    assert soup(out / "404.html").h1.get_text() == "Lost"
    assert soup(out / "index.html").select_one("ol.record-list") is not None  # default template still used
    assert (out / "assets" / "sitegen.css").read_text() == "body{}"
    assert (out / "CNAME").read_text() == "mirror.example\n"


def test_static_file_colliding_with_a_generated_page_fails_cleanly(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    out = tmp_path / "out"
    assert run(str(site), "-o", str(out), "-q") == 0
    before = tree_stats(out)
    (site / "static").mkdir()
    (site / "static" / "index.html").write_text("<p>mine</p>")
    assert run(str(site), "-o", str(out), "-q") == 1
    assert "index.html: two files map to this output path" in capsys.readouterr().err
    assert tree_stats(out) == before


def test_missing_keys_fail_the_build_even_with_skip_invalid(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    (site / "content" / "keys" / REGISTRY_KEY.name).unlink()
    assert run(str(site), "-o", str(tmp_path / "out"), "--skip-invalid") == 1
    assert "content/keys/: no trusted keys" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_validly_signed_fixtures_build_alongside_seeds(tmp_path):
    site = make_site(tmp_path, docs={"records/t.json": make_record(arxiv_id="hep-lat/0305021", license=""),
                                     "bundles/t.bundle.json": make_bundle()})
    out = tmp_path / "out"
    assert run(str(site), "-o", str(out), "-q") == 0
    record = make_record(arxiv_id="hep-lat/0305021", license="")
    suffix = record["pith_number"].split(":")[2]
    page = soup(out / f"pith/{suffix}/index.html")
    assert page.select_one(".source a")["href"] == "https://arxiv.org/abs/hep-lat/0305021v1"
    assert page.select_one(".doi a")["href"] == "https://doi.org/10.48550/arxiv.hep-lat/0305021"
    # A (validated) old-style id never becomes a path: it is a key of the alias map.
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*0305021*")) == []
    index = load_json(out / "api/aliases/index.json")
    assert index["arxiv_shard_digits"] == 0
    assert load_json(out / "api/aliases/arxiv/_.json")["hep-lat/0305021"] == [[1, suffix]]


def test_python_m_sitegen_build_in_a_site_directory(tmp_path):
    site = make_site(tmp_path, test_key=False)
    proc = subprocess.run([sys.executable, "-m", "sitegen", "build", "-q"], cwd=site, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert (site / "site" / "index.html").is_file()


def test_cli_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2

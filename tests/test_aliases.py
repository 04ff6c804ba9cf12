"""Static alias resolution and the derived API documents (issue: protocol depth)."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup

from sitegen.pith.routes import alias_paths
from sitegen.site.aliases import AliasTarget, group_aliases
from sitegen.cli import main
from pithfactory import SEED_BUNDLES, SEED_RECORDS, load_json, make_record, make_site

BASE = "https://mirror.test/"


def _build(tmp_path, **kw):
    site = make_site(tmp_path, **kw)
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "--base-url", BASE, "-q"]) == 0
    return out


def test_every_alias_of_every_seed_has_a_redirect_page_and_a_json_document(tmp_path):
    out = _build(tmp_path, test_key=False)
    for path in SEED_RECORDS + SEED_BUNDLES:
        doc = load_json(path)
        suffix = doc["pith_number"].split(":")[2]
        aliases = doc.get("aliases") or doc["source_aliases"]
        for alias in aliases:
            kind, value = alias["alias_kind"], alias["alias_value"]
            folder = {"arxiv": f"arxiv/{value}/", "arxiv_version": f"arxiv/{value}/", "doi": f"doi/{value.lower()}/"}.get(
                kind, f"paper/{value}/")
            data = json.loads((out / folder / "pith.json").read_text())
            assert data["alias_kind"] == kind and data["resolved"] == doc["pith_number"]
            assert data["pith_numbers"][0]["html"] == f"{BASE}pith/{suffix}/"
            assert "not signed" in data["note"]
            page = BeautifulSoup((out / folder / "index.html").read_bytes(), "html.parser")
            assert page.find("meta", attrs={"http-equiv": "refresh"})["content"] == f"0; url=/pith/{suffix}/"
        if "bundle_type" in doc:
            data = json.loads((out / f"arxiv/{doc['source']['id']}/pith.json").read_text())
            assert data["pith_numbers"][0]["bundle"] == f"{BASE}pith/{suffix}/bundle.json"
            assert data["pith_numbers"][0]["record"] is None


def test_unversioned_id_and_doi_resolve_to_the_newest_version_and_list_all(tmp_path):
    v1 = make_record(arxiv_id="hep-lat/0305021", version=1, title="Lattice paper")
    v2 = make_record(arxiv_id="hep-lat/0305021", version=2, title="Lattice paper")
    out = _build(tmp_path, seeds=False, docs={"v1.json": v1, "v2.json": v2})
    for folder in ("arxiv/hep-lat/0305021/", "doi/10.48550/arxiv.hep-lat/0305021/"):
        data = json.loads((out / folder / "pith.json").read_text())
        assert data["resolved"] == v2["pith_number"]
        assert [t["pith_number"] for t in data["pith_numbers"]] == [v2["pith_number"], v1["pith_number"]]
        page = BeautifulSoup((out / folder / "index.html").read_bytes(), "html.parser")
        assert len(page.select("main li")) == 2
    assert json.loads((out / "arxiv/hep-lat/0305021v1/pith.json").read_text())["resolved"] == v1["pith_number"]


def test_ambiguous_short_prefix_gets_a_chooser_and_no_redirect():
    a = AliasTarget("pith:2020:AAAAAAAABBBBBBBBCCCCCCCCDD", "AAAAAAAABBBBBBBBCCCCCCCCDD", 1)
    b = AliasTarget("pith:2021:AAAAAAAAZZZZZZZZCCCCCCCCDD", "AAAAAAAAZZZZZZZZCCCCCCCCDD", 3)
    items = [(k, v, p, t) for t in (a, b) for k, v, p in alias_paths("2001.00001", t.version, t.suffix)]
    groups = {g.path: g for g in group_aliases(items)}
    short = groups["paper/AAAAAAAA/"]
    assert short.resolved is None and short.targets == (b, a)
    assert groups["paper/AAAAAAAABBBB/"].resolved == a  # longer prefixes still tell them apart
    assert groups["arxiv/2001.00001/"].resolved == b    # unversioned id: newest version wins


def test_api_graph_and_events_are_derived_from_verified_data(tmp_path):
    out = _build(tmp_path, test_key=False)
    bundle = load_json(SEED_BUNDLES[0])
    suffix = bundle["pith_number"].split(":")[2]
    graph = json.loads((out / f"api/pith-number/{suffix}/graph.json").read_text())
    events = json.loads((out / f"api/pith-number/{suffix}/events.json").read_text())
    assert graph["graph_snapshots"] == bundle["state"]["current"]["graph_snapshots"]
    assert events["events"] == bundle["events"] and events["derived_from"] == "bundle"
    record = load_json(SEED_RECORDS[0])
    rs = record["pith_number"].split(":")[2]
    rgraph = json.loads((out / f"api/pith-number/{rs}/graph.json").read_text())
    assert rgraph["graph_snapshots"] == [record["graph_snapshot"]] and "not signed" in rgraph["note"]
    # The record's own links name exactly these paths.
    assert record["links"]["graph_json"].endswith(f"/api/pith-number/{rs}/graph.json")

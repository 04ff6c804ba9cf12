"""Static alias resolution: the sharded alias maps programs read (and the 404
router uses), optional per-alias pages for small mirrors, and the derived API
documents (docs/protocol.md §9)."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup

from helpers import build
from pithfactory import SEED_BUNDLES, SEED_RECORDS, load_json, make_record, make_site
from sitegen.pith.routes import alias_paths
from sitegen.site.aliases import AliasTarget, group_aliases
from sitegen.site.aliasmap import alias_params
from sitegen.site.lookup import shard_of

BASE = "https://mirror.test/"


def make_and_build(tmp_path, toml: str = "", **kw):
    """A site made by :func:`make_site` (``kw``) with ``toml``, built; the output tree."""
    site = make_site(tmp_path, **kw)
    if toml:
        (site / "sitegen.toml").write_text(toml)
    out = tmp_path / "out"
    assert build(site, out, base_url=BASE) == 0
    return out


def resolve(out, alias: str) -> list[str]:
    """What a program does with the alias maps (README, Static alias resolution): suffixes, newest version first."""
    index = json.loads((out / "api/aliases/index.json").read_text())
    if alias.lower().startswith("10.48550/arxiv."):
        alias = alias[len("10.48550/arxiv."):]
    if alias.startswith("pith:"):
        prefix = alias.split(":")[-1]
        shard = prefix[:index["suffix_shard_chars"]] or "_"
        return [s for s in json.loads((out / f"api/aliases/suffix/{shard}.json").read_text()) if s.startswith(prefix)]
    arxiv_id, _, version = alias.rpartition("v") if alias[-1].isdigit() and "v" in alias[-4:] else (alias, "", "")
    shard = shard_of(arxiv_id, index["arxiv_shard_digits"]) or "_"
    versions = json.loads((out / f"api/aliases/arxiv/{shard}.json").read_text()).get(arxiv_id, [])
    return [s for v, s in versions if not version or v == int(version)]


def test_every_alias_of_every_seed_resolves_through_the_maps(tmp_path):
    out = make_and_build(tmp_path, test_key=False)
    for path in SEED_RECORDS + SEED_BUNDLES:
        doc = load_json(path)
        suffix = doc["pith_number"].split(":")[2]
        for alias in doc.get("aliases") or doc["source_aliases"]:
            kind, value = alias["alias_kind"], alias["alias_value"]
            query = f"pith:{value}" if kind.startswith("pith_short") else value
            assert resolve(out, query)[0] == suffix, (kind, value)
    assert not (out / "arxiv").exists() and not (out / "paper").exists() and not (out / "doi").exists()


def test_unversioned_id_and_doi_resolve_to_the_newest_version_and_list_all(tmp_path):
    v1 = make_record(arxiv_id="hep-lat/0305021", version=1, title="Lattice paper")
    v2 = make_record(arxiv_id="hep-lat/0305021", version=2, title="Lattice paper")
    s1, s2 = (d["pith_number"].split(":")[2] for d in (v1, v2))
    out = make_and_build(tmp_path, seeds=False, docs={"v1.json": v1, "v2.json": v2})
    assert resolve(out, "hep-lat/0305021") == [s2, s1]
    assert resolve(out, "10.48550/arXiv.hep-lat/0305021") == [s2, s1]
    assert resolve(out, "hep-lat/0305021v1") == [s1]


def test_alias_maps_shard_as_the_index_says_and_hold_every_record_once():
    params = alias_params(1_000_000)
    assert params.arxiv_shard_digits == 3 and params.suffix_shard_chars == 2
    assert alias_params(500).arxiv_shard_digits == 0 and alias_params(500).suffix_shard_chars == 0


def test_alias_pages_remain_an_option_for_small_mirrors(tmp_path):
    out = make_and_build(tmp_path, toml="alias_pages = true\n", test_key=False)
    doc = load_json(SEED_RECORDS[3])
    suffix = doc["pith_number"].split(":")[2]
    for folder in (f"arxiv/{doc['source']['id']}/", f"paper/{suffix[:8]}/"):
        data = json.loads((out / folder / "pith.json").read_text())
        assert data["resolved"] == doc["pith_number"] and "not signed" in data["note"]
        page = BeautifulSoup((out / folder / "index.html").read_bytes(), "html.parser")
        assert page.find("meta", attrs={"http-equiv": "refresh"})["content"] == f"0; url=/pith/{suffix}/"
    assert (out / "api/aliases/index.json").is_file()  # the maps are there too


def test_ambiguous_short_prefix_gets_a_chooser_and_no_redirect():
    a = AliasTarget("pith:2020:AAAAAAAABBBBBBBBCCCCCCCCDD", "AAAAAAAABBBBBBBBCCCCCCCCDD", 1)
    b = AliasTarget("pith:2021:AAAAAAAAZZZZZZZZCCCCCCCCDD", "AAAAAAAAZZZZZZZZCCCCCCCCDD", 3)
    items = [(k, v, p, t) for t in (a, b) for k, v, p in alias_paths("2001.00001", t.version, t.suffix)]
    groups = {g.path: g for g in group_aliases(items)}
    short = groups["paper/AAAAAAAA/"]
    assert short.resolved is None and short.targets == (b, a)
    assert groups["paper/AAAAAAAABBBB/"].resolved == a  # longer prefixes still tell them apart
    assert groups["arxiv/2001.00001/"].resolved == b    # unversioned id: newest version wins


def test_api_graph_and_events_are_derived_for_bundles_only(tmp_path):
    out = make_and_build(tmp_path, test_key=False)
    bundle = load_json(SEED_BUNDLES[0])
    suffix = bundle["pith_number"].split(":")[2]
    graph = json.loads((out / f"api/pith-number/{suffix}/graph.json").read_text())
    events = json.loads((out / f"api/pith-number/{suffix}/events.json").read_text())
    assert graph["graph_snapshots"] == bundle["state"]["current"]["graph_snapshots"]
    assert events["events"] == bundle["events"] and events["derived_from"] == "bundle"
    assert "not signed" in graph["note"]
    record = load_json(SEED_RECORDS[0])
    assert not (out / "api/pith-number" / record["pith_number"].split(":")[2]).exists()

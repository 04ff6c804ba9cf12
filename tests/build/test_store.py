"""sitegen.build.store on a tiny store: each named method, and the store as
untrusted input (replaced when it is not the one this build expects, and
every value read back checked)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sitegen.build.store import CacheDamaged, SourceRow, Store, cache_dir_for, open_store, parse_summary
from sitegen.site.summary import Summary

A, B, C = "A" * 26, "B" * 26, "C" * 26


def summary(suffix: str, *, arxiv_id: str = "2101.00001", version: int = 1, submitted_at: str = "2021-01-04T12:00:00Z",
            bundle: bool = False) -> Summary:
    year = submitted_at[:4]
    return Summary(suffix=suffix, pith_number=f"pith:{year}:{suffix}", short_pith_number=f"pith:{suffix[:8]}",
                   year=year, title_tex=f"Paper {suffix[0]}", authors=("Ada Lovelace",), abstract_excerpt="",
                   arxiv_id=arxiv_id, version=version, doi=f"10.48550/arxiv.{arxiv_id}", submitted_at=submitted_at,
                   date=submitted_at[:10], updated_at="2026-05-18T00:00:00+00:00", primary_cat="cs.LG",
                   cross_cats=("stat.ML",), has_record=True, has_bundle=bundle)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


@pytest.fixture
def store(tmp_path: Path, out: Path):
    s = open_store(tmp_path / "store.sqlite", output_dir=out, published_tree=None)
    yield s
    s.close()


def add(store: Store, s: Summary, *, facets=(), terms=(), page_start: bool = False) -> None:
    store.add_entry(s, s.to_json(), inputs="fp", updated_at=s.updated_at, facets=facets, page_start=page_start,
                    lookup=(1, 2, 3), terms=terms)


# --- opening: a new store, or the previous one only when it is exactly what this build expects ------------------

def test_cache_dir_is_hidden_beside_the_output_tree(tmp_path):
    assert cache_dir_for(tmp_path / "site") == tmp_path / ".site.sitegen-cache"


def test_a_new_store_says_why_it_is_new(store):
    assert not store.reused and store.reason == "no cache yet"
    assert store.meta("format") == "sitegen-store-3" and store.meta("missing", "default") == "default"


def test_the_store_is_reused_only_for_the_tree_it_describes(tmp_path, out, store):
    store.set_meta(tree_sha256="t1")
    store.commit()
    store.close()
    path = tmp_path / "store.sqlite"
    again = open_store(path, output_dir=out, published_tree="t1")
    assert again.reused and again.reason == ""
    again.close()
    other = open_store(path, output_dir=out, published_tree="t2")
    assert not other.reused and "does not describe the published tree" in other.reason
    other.close()


def test_a_store_made_for_another_output_directory_is_replaced(tmp_path, out, store):
    store.set_meta(tree_sha256="t1")
    store.commit()
    store.close()
    other = open_store(tmp_path / "store.sqlite", output_dir=tmp_path / "elsewhere", published_tree="t1")
    assert not other.reused and "output_dir" in other.reason
    other.close()


def test_a_store_that_is_not_a_database_is_replaced(tmp_path, out):
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"not a database, " * 100)
    store = open_store(path, output_dir=out, published_tree="t1")
    assert not store.reused and "damaged" in store.reason and store.meta("format") == "sitegen-store-3"
    store.close()


def test_a_symlinked_store_is_replaced_not_followed(tmp_path, out):
    target = tmp_path / "elsewhere.sqlite"
    target.write_bytes(b"x")
    path = tmp_path / "store.sqlite"
    path.symlink_to(target)
    store = open_store(path, output_dir=out, published_tree="t1")
    assert not store.reused and "not a regular file" in store.reason
    store.close()
    assert target.read_bytes() == b"x" and not path.is_symlink()


def test_discard_starts_empty_with_the_given_reason(tmp_path, out):
    store = open_store(tmp_path / "store.sqlite", output_dir=out, published_tree=None, discard="--full")
    assert not store.reused and store.reason == "--full"
    store.close()


def test_meta_json_round_trips_and_damage_is_reported(store):
    assert store.meta_json("inputs", {"default": True}) == {"default": True}
    store.set_meta(inputs='{"a": [1, 2]}', broken="{nope")
    assert store.meta_json("inputs", None) == {"a": [1, 2]}
    with pytest.raises(CacheDamaged, match="meta broken is not JSON"):
        store.meta_json("broken", None)


def test_abandon_rolls_back_and_closes(tmp_path, out, store):
    store.set_meta(tree_sha256="uncommitted")
    store.abandon()
    store.abandon()  # twice is harmless
    again = open_store(tmp_path / "store.sqlite", output_dir=out, published_tree="uncommitted")
    assert not again.reused
    again.close()


# --- sources ------------------------------------------------------------------------------------------------------

def test_sources_are_remembered_grouped_and_forgotten(store):
    store.remember_sources([SourceRow("records/b.json", "sig-b", "h-b", B, "k1"),
                            SourceRow("records/a.json", "sig-a", "h-a", A, "k1 k2"),
                            SourceRow("bundles/a.json", "sig-c", "h-c", A, "k2"),
                            SourceRow("bad.json", "sig-d", "h-d", None, "")])
    assert list(store.sources_by_path()) == [("bad.json", "sig-d", None), ("bundles/a.json", "sig-c", A),
                                             ("records/a.json", "sig-a", A), ("records/b.json", "sig-b", B)]
    assert [r.path for r in store.members(A)] == ["bundles/a.json", "records/a.json"]
    assert [r.path for r in store.source_groups()] == ["bundles/a.json", "records/a.json", "records/b.json",
                                                       "bad.json"]
    assert store.unidentified_paths() == ["bad.json"]
    assert store.entry_task_count() == 3  # two suffixes and one unidentified file
    assert sorted(store.suffixes_naming_key("k2")) == [A]
    assert sorted(store.suffixes_naming_key("k1")) == [A, B]
    assert store.suffixes_naming_key("k") == []  # whole key ids only
    store.forget_source("bad.json")
    assert store.unidentified_paths() == []


# --- entries and facets ---------------------------------------------------------------------------------------------

def test_entries_are_added_counted_listed_and_dropped(store):
    store.remember_sources([SourceRow("records/a.json", "s", "h", A, "k"),
                            SourceRow("records/c.json", "s", "h", C, "k")])
    add(store, summary(A, submitted_at="2021-01-04T12:00:00Z"), facets=[("year/2021", "2021")], terms=[(7, "paper")])
    add(store, summary(B, arxiv_id="2101.00002", submitted_at="2022-02-02T00:00:00Z", bundle=True),
        facets=[("year/2022", "2022")])
    assert store.entry_count() == 2 and store.bundle_count() == 1
    assert sorted(store.all_suffixes()) == [A, B]
    assert store.entry_summary(A) == summary(A, submitted_at="2021-01-04T12:00:00Z")
    assert store.entry_summary(C) is None
    assert [s.suffix for s in store.newest(10)] == [B, A] and [s.suffix for s in store.newest(1)] == [B]
    assert [s for s, _ in store.sitemap_records()] == [B, A]
    assert store.suffixes_not_published() == [C]
    assert store.facet_counts() == {"year/2021": ("2021", 1), "year/2022": ("2022", 1)}
    assert store.sources_of_facet("year/2021") == ["records/a.json"]
    assert store.has_arxiv("2101.00001", 1) and store.has_arxiv("2101.00001", None)
    assert not store.has_arxiv("2101.00001", 2)
    store.drop_entry(A, 3, [(7, "paper")])
    assert store.all_suffixes() == [B] and "year/2021" not in store.facet_counts()


def test_arxiv_clusters_group_versions_in_order(store):
    add(store, summary(B, version=2))
    add(store, summary(A, version=1))
    add(store, summary(C, arxiv_id="2101.00002"))
    clusters = {arxiv: [parse_summary(s).version for s in members] for arxiv, members in store.arxiv_clusters(None)}
    assert clusters == {"2101.00001": [1, 2], "2101.00002": [1]}
    assert [arxiv for arxiv, _ in store.arxiv_clusters(["2101.00002"])] == ["2101.00002"]


def test_a_forged_summary_is_cache_damage(store):
    store.db.execute("INSERT INTO entries VALUES (?, 'fp', ?, '2021', '2101.00001', 1, 'u', 1, 2, 3)",
                     (A, '{"suffix": "<script>"}'))
    with pytest.raises(CacheDamaged, match="summary"):
        store.entry_summary(A)


# --- outputs --------------------------------------------------------------------------------------------------------

def test_outputs_are_owned_once_released_and_totalled(store):
    store.add_outputs([("pith/A/index.html", "A", 10, "h1", "0a"), ("pith/A.json", "A", 5, "h2", "0b"),
                       ("index.html", "site", 7, "h3", "1c")])
    assert store.owner_of("pith/A.json") == "A" and store.owner_of("nope") is None
    assert sorted(store.outputs_of("A")) == [("pith/A.json", "h2"), ("pith/A/index.html", "h1")]
    assert store.output_totals() == (3, 22)
    assert store.owners_with_prefix("si") == ["site"]
    with pytest.raises(sqlite3.IntegrityError):
        store.add_outputs([("index.html", "A", 1, "h", "1c")])
    assert sorted(store.release_outputs("A")) == [("pith/A.json", "h2"), ("pith/A/index.html", "h1")]
    assert store.outputs_of("A") == [] and store.output_totals() == (1, 7)


@pytest.mark.parametrize("path", [".git/config", "../outside", "/etc/passwd", "a//b", ".htaccess"])
def test_a_forged_output_path_is_cache_damage_not_a_deletion(store, path):
    store.add_outputs([(path, "A", 1, "h", "00")])
    with pytest.raises(CacheDamaged, match="not a route sitegen writes"):
        store.outputs_of("A")


def test_the_paths_sitegen_publishes_under_a_dot_are_accepted(store):
    store.add_outputs([(".well-known/pith/A/bundle.json", "A", 1, "h", "00"), (".nojekyll", "site", 0, "h", "01")])
    assert store.outputs_of("A") == [(".well-known/pith/A/bundle.json", "h")]
    assert store.outputs_of("site") == [(".nojekyll", "h")]


def test_case_collisions_are_found(store):
    store.add_outputs([("paper/abc/index.html", "x", 1, "h", "00"), ("paper/ABC/index.html", "y", 1, "h", "01"),
                       ("other.html", "z", 1, "h", "02")])
    assert store.case_collisions() == [("paper/ABC/index.html", "y", "paper/abc/index.html", "x")]
    assert store.case_collisions(["paper/abc/index.html"]) == [
        ("paper/abc/index.html", "x", "paper/ABC/index.html", "y")]
    assert store.case_collisions(["other.html"]) == []


def test_seal_rows_and_shard_rows_group_outputs_by_shard(store):
    store.add_outputs([("b.html", "s", 2, "hb", "0a1"), ("a.html", "s", 1, "ha", "0a2"),
                       ("c.html", "s", 3, "hc", "1ff")])
    assert [(prefix, list(rows)) for prefix, rows in store.seal_rows(1)] == [
        ("0", [("a.html", 1, "ha"), ("b.html", 2, "hb")]), ("1", [("c.html", 3, "hc")])]
    assert store.shard_rows("0a") == [("a.html", 1, "ha"), ("b.html", 2, "hb")]
    assert store.shard_rows("") == [("a.html", 1, "ha"), ("b.html", 2, "hb"), ("c.html", 3, "hc")]


def test_a_forged_size_is_cache_damage(store):
    store.add_outputs([("a.html", "s", -1, "h", "00")])
    with pytest.raises(CacheDamaged, match="expected a count"):
        store.output_totals()


# --- snapshot shards ------------------------------------------------------------------------------------------------

def test_shards_are_remembered_and_forgotten(store):
    store.remember_shard("0", 2, 30, 100, "s0")
    store.remember_shard("1", 1, 5, 60, "s1")
    assert store.shards() == {"0": (2, 30, 100, "s0"), "1": (1, 5, 60, "s1")}
    store.forget_shards(["0"])
    assert list(store.shards()) == ["1"]
    store.forget_shards()
    assert store.shards() == {}


def test_a_full_search_index_streams_the_document_shards_and_equals_the_shard_by_shard_one(store):
    """The full build reads the documents in one sorted pass, one shard in memory at a time; an
    incremental build reads a shard at a time. Both write the same files."""
    from sitegen.build.lookups import search_index
    from sitegen.build.plan import lookup_positions
    from sitegen.site.search import entry_terms, search_params

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    summaries = [summary("QQQQ" + alphabet[i % 32] + alphabet[i // 32] + "Q" * 20, arxiv_id=f"2101.{i:05d}",
                         submitted_at=f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00Z") for i in range(120)]
    for s in summaries:
        store.add_entry(s, s.to_json(), inputs="fp", updated_at=s.updated_at, facets=(), page_start=False,
                        lookup=lookup_positions(s), terms=entry_terms(s))
    assert search_params(len(summaries)).doc_shards == 8

    def run(**kw) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        search_index(store, lambda owner, out: files.update((f.path, f.data) for f in out),
                     lambda prefix: None, **kw)
        return files

    full = run(full=True, changed=[])
    by_shard = run(full=False, changed=summaries)
    docs = {p: d for p, d in full.items() if p.startswith("search/d/")}
    assert len(docs) == 8 and docs == {p: d for p, d in by_shard.items() if p.startswith("search/d/")}

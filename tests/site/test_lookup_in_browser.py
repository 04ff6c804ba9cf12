"""The static lookup files in a real browser (headless Chromium, loopback
HTTP): the JavaScript twin of sitegen.site.lookup agrees with Python; the
404 router resolves every alias kind; search finds records through inline
postings, chunk files and the alias maps, pages through results, and follows
incremental builds (a record added is found, a record removed is not)."""

from __future__ import annotations

import json
import shutil

import pytest

from browser import chromium, serve
from pithfactory import SEED_RECORDS, load_json, make_record, make_site
from sitegen.cli import main
from sitegen.site import lookup, search

pytestmark = pytest.mark.slow  # headless Chromium: page loads of a second or so each; CI runs them

SEED = load_json(SEED_RECORDS[3])  # ImageNet Training in Minutes, 1709.05011v10
SEED_SUFFIX = SEED["pith_number"].split(":")[2]
V1 = make_record(arxiv_id="hep-lat/0305021", version=1, title="Lattice gauge theory at finite density")
V2 = make_record(arxiv_id="hep-lat/0305021", version=2, title="Lattice gauge theory at finite density")
V1_SUFFIX, V2_SUFFIX = (d["pith_number"].split(":")[2] for d in (V1, V2))
COMMON = {f"common/c{i:02d}.json": make_record(arxiv_id=f"2105.{i:05d}", title=f"Common topic number {i}",
                                               submitted_at=f"2021-05-{i + 1:02d}T00:00:00Z",
                                               authors="Grace Hopper" if i % 5 == 0 else "Ada Lovelace")
          for i in range(25)}


def hrefs(page) -> list[str]:
    return page.locator("#search-results li a").evaluate_all("els => els.map(e => e.getAttribute('href'))")


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    """Seeds, two versions of one old-style id, 25 records sharing a title
    word — with tiny postings limits, so terms go to chunk files."""
    root = tmp_path_factory.mktemp("lookup")
    src = make_site(root, docs={"v1.json": V1, "v2.json": V2, **COMMON})
    out = root / "out"
    out.mkdir()
    limits = (search.INLINE_MAX, search.CHUNK)
    search.INLINE_MAX, search.CHUNK = 4, 6  # read when the index is written (workers fork after this)
    try:
        with serve(out) as base:
            assert main(["build", str(src), "-o", str(out), "--base-url", base, "-q", "--jobs", "1"]) == 0
            yield base, out, src
    finally:
        search.INLINE_MAX, search.CHUNK = limits


SAMPLES = ["", "a", "quantum", "Schrödinger", "1709.05011", "hep-lat/0305021", "Ünïcode İstanbul ½ x² ß",
           "日本語のタイトル", "emoji 🙂 and 𝔸 math", "x" * 40, "BIMLI3THH5PSHA56CBSKDVHQKR"]


def test_the_javascript_lookup_agrees_with_python(site, browser):
    base, _, _ = site
    page = browser.new_page()
    page.goto(f"{base}no-such-page/")
    page.wait_for_function("() => window.sitegenLookup !== undefined")
    js = page.evaluate("""samples => samples.map(s => [sitegenLookup.cyrb53(s), sitegenLookup.shardOf(s, 3),
                                                      sitegenLookup.tokens(s)])""", SAMPLES)
    assert js == [[lookup.cyrb53(s), lookup.shard_of(s, 3), lookup.tokens(s)] for s in SAMPLES]
    keys = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 39 + 5, 2 ** 40 - 1]
    encoded = list(lookup.encode_keys(keys))
    assert page.evaluate("bytes => sitegenLookup.decodeKeys(new Uint8Array(bytes))", encoded) == keys


@pytest.mark.parametrize("path,suffix", [
    ("arxiv/1709.05011/", SEED_SUFFIX),
    ("arxiv/1709.05011v10/", SEED_SUFFIX),
    ("arxiv/1709.05011v10", SEED_SUFFIX),
    ("doi/10.48550/arXiv.1709.05011/", SEED_SUFFIX),
    ("doi/10.48550/arxiv.1709.05011/", SEED_SUFFIX),
    (f"paper/{SEED_SUFFIX[:8]}/", SEED_SUFFIX),
    (f"paper/{SEED_SUFFIX[:12]}/", SEED_SUFFIX),
    (f"paper/{SEED_SUFFIX[:16].lower()}/", SEED_SUFFIX),
    ("arxiv/hep-lat/0305021/", V2_SUFFIX),        # unversioned: the newest version
    ("arxiv/hep-lat/0305021v1/", V1_SUFFIX),
    ("doi/10.48550/arxiv.hep-lat/0305021/", V2_SUFFIX),
])
def test_the_404_router_sends_every_alias_to_its_record(site, browser, path, suffix):
    base, _, _ = site
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + path)
    page.wait_for_url(f"{base}pith/{suffix}/", timeout=10_000)
    assert page.locator("h1").count() == 1 and errors == []


@pytest.mark.parametrize("path", ["arxiv/1709.05011v99/", "arxiv/2999.99999/", "paper/ZZZZZZZZ/"])
def test_an_unknown_alias_says_so(site, browser, path):
    base, _, _ = site
    page = browser.new_page()
    page.goto(base + path)
    page.wait_for_function("() => document.getElementById('alias-status').textContent.startsWith('No record')")
    assert page.url == base + path


def test_without_javascript_the_404_page_links_to_the_alias_maps(site, browser):
    base, _, _ = site
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}arxiv/1709.05011/")
    link = page.locator("#alias-router a", has_text="alias maps")
    assert link.get_attribute("href") == "/api/aliases/index.json"
    assert json.loads(page.request.get(base + "api/aliases/index.json").text())["format"] == "sitegen-aliases-1"


@pytest.mark.parametrize("query,suffix", [("Minutes", SEED_SUFFIX), ("imagenet training", SEED_SUFFIX),
                                          ("1709.05011", SEED_SUFFIX), ("10.48550/arXiv.1709.05011", SEED_SUFFIX),
                                          (SEED["pith_number"], SEED_SUFFIX), (f"pith:{SEED_SUFFIX[:8]}", SEED_SUFFIX),
                                          ("hep-lat/0305021v1", V1_SUFFIX), ("lattice density", V2_SUFFIX)])
def test_search_finds_records(site, browser, query, suffix):
    base, _, _ = site
    page = browser.new_page()
    page.goto(f"{base}search/")
    page.fill("#search-q", query)
    page.press("#search-q", "Enter")
    page.wait_for_selector("#search-results li a", timeout=10_000)
    assert f"/pith/{suffix}/" in hrefs(page), (query, hrefs(page))


def test_search_pages_through_a_common_term_newest_first_and_intersects_chunks(site, browser):
    base, out, _ = site
    term = json.loads((out / "search" / "t" / f"{lookup.shard_of('common', 1)}.json").read_text())["common"]
    assert term[0] == 25 and isinstance(term[1], list) and len(term[1][1]) == 5  # five chunk files of six keys
    page = browser.new_page()
    page.goto(f"{base}search/?q=common")
    page.wait_for_selector("#search-results li a")
    first = hrefs(page)
    assert len(first) == 10
    while page.locator("#search-more").is_visible():
        page.click("#search-more")
        page.wait_for_timeout(200)
    every = hrefs(page)
    expected = [f"/pith/{COMMON[f'common/c{i:02d}.json']['pith_number'].split(':')[2]}/" for i in reversed(range(25))]
    assert every == expected  # all 25, newest first, each once
    page.goto(f"{base}search/?q=common+hopper")
    page.wait_for_selector("#search-results li a")
    assert hrefs(page) == [e for i, e in zip(reversed(range(25)), expected, strict=True) if i % 5 == 0]
    page.goto(f"{base}search/?q=common+nosuchword")
    page.wait_for_function("() => document.getElementById('search-status').textContent === 'No records found.'")


def test_search_follows_incremental_builds(tmp_path, browser):
    """A record added by an incremental build is found; a removed one is not;
    and the tree equals a clean build's."""
    kept = make_record(arxiv_id="2106.00001", title="Holographic entanglement entropy")
    added = make_record(arxiv_id="2106.00002", title="Turbulent superconductor dynamics")
    src = make_site(tmp_path, docs={"kept.json": kept, "gone.json": make_record(arxiv_id="2106.00003",
                                                                               title="Vanishing neutrino mass")})
    out = tmp_path / "out"
    out.mkdir()
    with serve(out) as base:
        def build(*extra: str) -> None:
            assert main(["build", str(src), "-o", str(out), "--base-url", base, "-q", *extra]) == 0

        def found(query: str) -> list[str]:
            page = browser.new_page()
            page.goto(f"{base}search/?q={query}")
            page.wait_for_function(
                "() => /found|shown|identifier/.test(document.getElementById('search-status').textContent)")
            result = hrefs(page)
            page.close()
            return result

        build()
        assert found("neutrino") and not found("superconductor")
        (src / "content" / "added.json").write_text(json.dumps(added))
        (src / "content" / "gone.json").unlink()
        build()
        assert found("superconductor") == [f"/pith/{added['pith_number'].split(':')[2]}/"]
        assert found("neutrino") == []
        assert found("2106.00003") == []
        clean = tmp_path / "clean"
        build_clean = main(["build", str(src), "-o", str(clean), "--base-url", base, "-q"])
        assert build_clean == 0
        skip = "pith-mirror-snapshot.json"
        tree = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        ref = {p.relative_to(clean).as_posix(): p.read_bytes() for p in clean.rglob("*") if p.is_file()}
        assert {k: v for k, v in tree.items() if k != skip} == {k: v for k, v in ref.items() if k != skip}
        shutil.rmtree(clean)


def test_search_and_router_work_under_a_sub_path(tmp_path, browser):
    src = make_site(tmp_path, docs={"v1.json": V1})
    host = tmp_path / "host"
    out = host / "mirror"
    out.mkdir(parents=True)
    with serve(host, not_found=out / "404.html") as origin:
        base = origin + "mirror/"
        assert main(["build", str(src), "-o", str(out), "--base-url", base, "-q"]) == 0
        page = browser.new_page()
        page.goto(f"{base}search/?q=lattice")
        page.wait_for_selector("#search-results li a")
        assert hrefs(page) == [f"/mirror/pith/{V1_SUFFIX}/"]
        page.goto(f"{base}arxiv/hep-lat/0305021/")
        page.wait_for_url(f"{base}pith/{V1_SUFFIX}/")


# -- found by an outside review: the published tree's lookup files are untrusted ------------------------


def test_a_record_this_mirror_lacks_shows_the_404_page_once_not_a_reload_loop(site, browser):
    base, _, _ = site
    missing = "AAAAAAAAAAAAAAAAAAAAAAAAAA"
    for path in (f"pith/{missing}/", f"pith/{missing}"):  # without the slash: one hop to it, then rest
        page = browser.new_page()
        loads: list[str] = []
        page.on("load", lambda loaded, seen=loads: seen.append(loaded.url))
        page.goto(base + path)
        page.wait_for_timeout(1500)  # a loop reloaded ~300 times in this window
        assert 1 <= len(loads) <= 2 and page.url == f"{base}pith/{missing}/", len(loads)
        page.close()


def test_lookup_files_naming_no_suffix_send_the_browser_nowhere(site, browser, tmp_path):
    """Alias-map values and search rows that are not suffixes (an off-site or script URL, a path
    climbing out) and an inline postings list longer than the index allows are ignored."""
    _, out, _ = site
    tree = tmp_path / "hostile"
    shutil.copytree(out, tree)
    params = json.loads((tree / "api" / "aliases" / "index.json").read_text())
    arxiv_shard = lookup.shard_of("1709.05011", params["arxiv_shard_digits"]) or "_"
    shard = tree / "api" / "aliases" / "arxiv" / f"{arxiv_shard}.json"
    aliases = json.loads(shard.read_text())
    aliases["1709.05011"] = [[10, "/../..//evil.example"], [9, "javascript:alert(1)"], [8, "\\\\evil.example"]]
    shard.write_text(json.dumps(aliases))
    for doc_shard in (tree / "search" / "d").glob("*.json"):
        rows = json.loads(doc_shard.read_text())
        doc_shard.write_text(json.dumps({k: [["//evil.example", *d[1:]] for d in v] for k, v in rows.items()}))
    index = json.loads((tree / "search" / "index.json").read_text())
    term_shard = tree / "search" / "t" / f"{lookup.shard_of('lattice', index['term_shard_digits']) or '_'}.json"
    terms = json.loads(term_shard.read_text())
    too_many = list(range(index["inline_max"] + 1))
    terms["lattice"] = [len(too_many), __import__("base64").b64encode(lookup.encode_keys(too_many)).decode()]
    term_shard.write_text(json.dumps(terms))
    with serve(tree) as base:
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(base + "arxiv/1709.05011/")
        page.wait_for_function("() => document.getElementById('alias-status').textContent.startsWith('No record')")
        assert page.url == base + "arxiv/1709.05011/"
        for query in ("minutes", "lattice"):
            page.goto(f"{base}search/?q={query}")
            page.wait_for_function("() => document.getElementById('search-status').textContent === 'No records found.'")
            assert hrefs(page) == []
        assert all(url.startswith(base) for url in requests), [u for u in requests if not u.startswith(base)]

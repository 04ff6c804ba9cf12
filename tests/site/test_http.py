"""Serve the built tree from a real HTTP server on 127.0.0.1 and fetch it."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

from browser import fetch, serve
from pithfactory import SEED_BUNDLES, SEED_RECORDS, load_json, make_site
from sitegen.cli import main


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Build the seeds under the sub-path /mirror/ of a live loopback server."""
    root = tmp_path_factory.mktemp("http")
    docroot = root / "docroot"
    docroot.mkdir()
    with serve(docroot, not_found=docroot / "mirror" / "404.html") as origin:
        base = origin + "mirror/"
        site = make_site(root, test_key=False)
        assert main(["build", str(site), "-o", str(docroot / "mirror"), "--base-url", base, "-q"]) == 0
        yield base, docroot / "mirror"


def test_record_page_and_every_json_path_are_served(served):
    base, out = served
    for path in SEED_RECORDS:
        doc = load_json(path)
        s = doc["pith_number"].split(":")[2]
        status, headers, body, _ = fetch(f"{base}pith/{s}/")
        assert status == 200 and headers.get_content_type() == "text/html"
        assert BeautifulSoup(body, "html.parser").h1.get_text() == doc["paper"]["title"]
        status, headers, body, _ = fetch(f"{base}pith/{s}.json")
        assert status == 200 and headers.get_content_type() == "application/json" and body == path.read_bytes()
    for path in SEED_BUNDLES:
        s = load_json(path)["pith_number"].split(":")[2]
        for rel in (f"pith/{s}/bundle.json", f".well-known/pith/{s}/bundle.json"):
            status, headers, body, _ = fetch(base + rel)
            assert status == 200 and headers.get_content_type() == "application/json" and body == path.read_bytes()
        status, headers, body, _ = fetch(f"{base}pith/{s}/state.json")
        assert status == 200 and load_json(out / f"pith/{s}/state.json") == load_json(path)["state"]
    for rel in ("pith-signing-key.json", "pith-mirrors.json", "sitemap.xml", "robots.txt"):
        assert fetch(base + rel)[0] == 200


def test_slashless_record_url_redirects_to_the_page(served):
    base, _ = served
    s = load_json(SEED_RECORDS[0])["pith_number"].split(":")[2]
    status, _, body, final = fetch(f"{base}pith/{s}")
    assert status == 200 and final.endswith(f"/pith/{s}/") and b"<h1>" in body


def test_missing_document_is_a_404_with_the_mirror_404_page(served):
    base, _ = served
    status, _, body, _ = fetch(f"{base}pith/AAAAAAAAAAAAAAAAAAAAAAAAAA/bundle.json")
    assert status == 404 and b"Not found" in body


def test_every_internal_link_of_every_page_resolves_over_http(served):
    base, out = served
    origin = base.split("/mirror/")[0]
    links = set()
    for page in out.rglob("*.html"):
        for tag in BeautifulSoup(page.read_bytes(), "html.parser").find_all(["a", "link"]):
            href = tag.get("href", "")
            if href.startswith("/"):
                links.add(href)
            elif href.startswith(base):
                links.add(href[len(origin):])
    records = [load_json(p)["pith_number"].split(":")[2] for p in SEED_RECORDS]
    bundles = [load_json(p)["pith_number"].split(":")[2] for p in SEED_BUNDLES]
    expected = {"/mirror/", "/mirror/assets/sitegen.css", "/mirror/pith-mirrors.json", "/mirror/pith-signing-key.json",
                *(f"/mirror/pith/{s}/" for s in records + bundles), *(f"/mirror/pith/{s}.json" for s in records),
                *(f"/mirror/pith/{s}/bundle.json" for s in bundles), *(f"/mirror/pith/{s}/state.json" for s in bundles),
                *(f"/mirror/.well-known/pith/{s}/bundle.json" for s in bundles)}
    expected |= {"/mirror/years/", "/mirror/categories/", "/mirror/search/", "/mirror/feed.xml",
                 "/mirror/years/2017/", "/mirror/categories/cs.lg/", "/mirror/pith-mirror-snapshot.json"}
    assert expected <= links
    assert not {link for link in links if link.startswith(("/mirror/arxiv/", "/mirror/doi/", "/mirror/paper/"))}
    for link in sorted(links):
        status = fetch(origin + link)[0]
        assert status == 200, link


@pytest.mark.skipif(shutil.which("curl") is None, reason="the recipe uses curl")
@pytest.mark.parametrize("path", [SEED_RECORDS[0], SEED_BUNDLES[0]], ids=["record", "bundle"])
def test_the_pages_verify_recipe_works_against_this_mirror(served, tmp_path, path):
    _base, out = served
    doc = load_json(path)
    s = doc["pith_number"].split(":")[2]
    page = BeautifulSoup((out / f"pith/{s}/index.html").read_bytes(), "html.parser")
    recipe = page.select_one("#verify-recipe").get_text()
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", recipe], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == doc["canonical_sha256"]

"""``years/<YYYY>/page/`` and ``categories/<cat>/page/`` answer (they were a
404): a small redirect page to the listing's landing — meta refresh and a
link, no script (the CSP allows none inline) — written once per listing and
never rewritten when records come and go, served over HTTP under a sub-path,
followed by a browser, left out of the sitemap, removed with its listing."""

from __future__ import annotations

import json
import os
import re

import pytest
from bs4 import BeautifulSoup

from browser import chromium, fetch, serve
from helpers import build
from pithfactory import make_record, make_site

#: A record of 2017 in cs.CV and of 2020 in hep-th (its own year and category).
R2017 = make_record(arxiv_id="1705.00001", title="A 2017 vision paper", submitted_at="2017-05-02T00:00:00Z",
                    primary_cat="cs.CV", cross_cats=())
LONE = make_record(arxiv_id="2006.00001", title="A lone string theory paper", submitted_at="2020-06-02T00:00:00Z",
                   primary_cat="hep-th", cross_cats=())


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The seeds and LONE under the sub-path /mirror/ of a loopback server."""
    root = tmp_path_factory.mktemp("redirects")
    docroot = root / "docroot"
    docroot.mkdir()
    site = make_site(root, docs={"lone.json": LONE})
    with serve(docroot, not_found=docroot / "mirror" / "404.html") as origin:
        base = origin + "mirror/"
        assert build(site, docroot / "mirror", base_url=base) == 0
        yield base, docroot / "mirror", site


@pytest.mark.parametrize("listing", ["years/2017/", "years/2020/", "categories/cs.lg/", "categories/hep-th/"])
def test_the_page_folder_of_a_listing_redirects_to_its_landing(served, listing):
    base, _out, _ = served
    status, headers, body, _ = fetch(f"{base}{listing}page/")
    assert status == 200 and headers.get_content_type() == "text/html"
    page = BeautifulSoup(body, "html.parser")
    assert page.find("meta", attrs={"http-equiv": "refresh"})["content"] == f"0; url=/mirror/{listing}"
    assert page.find("link", rel="canonical")["href"] == f"{base}{listing}"
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert [a["href"] for a in page.main.find_all("a")] == [f"/mirror/{listing}"]
    assert all(s.get("src") for s in page.find_all("script"))  # no inline script
    assert fetch(f"{base}{listing}")[0] == 200


def test_the_slashless_page_folder_redirects_too(served):
    base, _, _ = served
    status, _, _, url = fetch(f"{base}categories/cs.lg/page")  # urllib follows the host's 301
    assert status == 200 and url == f"{base}categories/cs.lg/page/"


@pytest.mark.slow
def test_a_browser_lands_on_the_listing(served):
    base, _, _ = served
    with chromium() as browser:
        page = browser.new_page(java_script_enabled=False)  # a meta refresh, not a script
        page.goto(f"{base}years/2018/page/")
        page.wait_for_url(f"{base}years/2018/", timeout=10_000)
        assert page.locator("h1").inner_text() == "Records from 2018"
        page.close()


def test_the_redirect_pages_are_not_in_the_sitemap(served):
    _, out, _ = served
    locs = [loc for f in out.glob("sitemap*.xml") for loc in re.findall(r"<loc>([^<]+)</loc>", f.read_text())]
    assert any(loc.endswith("/page/first/") for loc in locs)
    assert not [loc for loc in locs if loc.endswith("/page/")]


def test_the_redirect_page_is_written_once_and_removed_with_its_listing(tmp_path):
    site = make_site(tmp_path, docs={"lone.json": LONE})
    out = tmp_path / "out"
    assert build(site, out, base_url="https://mirror.test/") == 0
    redirect, landing = out / "years/2017/page/index.html", out / "years/2017/index.html"
    before, landing_before = os.stat(redirect), landing.read_bytes()
    (site / "content" / "r2017.json").write_text(json.dumps(R2017))
    assert build(site, out, base_url="https://mirror.test/") == 0
    assert landing.read_bytes() != landing_before  # the listing changed…
    after = os.stat(redirect)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # …its redirect page did not
    assert (out / "categories/hep-th/page/index.html").is_file()
    (site / "content" / "lone.json").unlink()
    assert build(site, out, base_url="https://mirror.test/") == 0
    assert not (out / "categories/hep-th").exists() and not (out / "years/2020").exists()
    assert (out / "years/2017/page/index.html").is_file()

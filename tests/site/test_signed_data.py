"""Signed beats unsigned, and every label says exactly what a signature covers.

A record's ``paper`` (authors, abstract excerpt, headline, the title's
capitals) and ``verification_status`` are not signed; a bundle's
``graph_snapshot`` events and merged state are. When both documents exist for
one Pith Number, pages show the signed data; a record's title is only ever
called verified *up to letter case* (``title_canon_sha256`` hashes the
lower-cased title)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup

from helpers import soup
from pithfactory import make_bundle, make_record, make_site, resign_bundle
from sitegen.cli import main
from sitegen.pith import canonical

BASE = "https://mirror.test/"
SIGNED = {"title": "Signed Title of a Paper", "authors": "Grace Hopper, Edsger W. Dijkstra",
          "abstract": "The signed abstract."}
UNSIGNED = {"title": "SIGNED TITLE OF A PAPER", "authors": "Mallory Forger, Trudy Intruder",
            "abstract": "An unsigned abstract the resolver made up."}


def suffix_of(doc: dict) -> str:
    return doc["pith_number"].split(":")[2]


def both_documents(arxiv_id: str, *, snapshot: bool = True) -> tuple[dict, dict]:
    """A bundle (signed paper ``SIGNED``) and a record of the same Pith Number
    whose unsigned paper differs in everything but the lower-cased title."""
    bundle = make_bundle(arxiv_id=arxiv_id, **SIGNED)
    if not snapshot:
        bundle["events"] = [e for e in bundle["events"] if e["event_type"] != "graph_snapshot"]
        bundle = resign_bundle(bundle)
    record = make_record(arxiv_id=arxiv_id, **SIGNED)
    record["paper"].update(title=UNSIGNED["title"], authors_text=UNSIGNED["authors"],
                           abstract_excerpt=UNSIGNED["abstract"], headline="An unsigned headline")
    record["verification_status"]["author_attested"] = True
    assert record["pith_number"] == bundle["pith_number"]  # the title hash ignores letter case
    return record, bundle


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("signed")
    record, bundle = both_documents("2301.00201")
    bare_record, bare_bundle = both_documents("2301.00202", snapshot=False)
    alone = make_record(arxiv_id="2301.00203", title="A Record Alone")
    docs = {"records/both.json": record, "bundles/both.json": bundle,
            "records/bare.json": bare_record, "bundles/bare.json": bare_bundle, "records/alone.json": alone}
    site = make_site(root, seeds=False, docs=docs)
    out = root / "out"
    assert main(["build", str(site), "-o", str(out), "-q", "--base-url", BASE]) == 0
    return out, {"both": record, "bare": bare_record, "alone": alone}


def provenance(page: BeautifulSoup) -> dict[str, str]:
    dl = page.select_one("dl.provenance")
    assert dl is not None
    return {dt.get_text(): dd.get_text() for dt, dd in zip(dl.find_all("dt"), dl.find_all("dd"), strict=True)}


def test_signed_graph_snapshot_beats_the_records_unsigned_paper(built):
    out, docs = built
    html = (out / "pith" / suffix_of(docs["both"]) / "index.html").read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    assert page.h1.get_text() == SIGNED["title"]
    assert [li.get_text() for li in page.select("ul.authors li")] == ["Grace Hopper", "Edsger W. Dijkstra"]
    assert page.select_one("p.abstract").get_text() == SIGNED["abstract"]
    assert page.select_one("p.headline") is None  # the signed snapshot has no headline
    for unsigned in ("Mallory", "Trudy", "made up", "unsigned headline", UNSIGNED["title"]):
        assert unsigned not in html, unsigned  # not in the page, its meta tags nor its JSON-LD
    assert page.find("meta", attrs={"name": "citation_title"})["content"] == SIGNED["title"]
    assert "signed graph_snapshot event" in page.select_one("p.provenance").get_text()
    rows = provenance(page)
    assert rows["Title"].startswith("from the signed graph_snapshot event")
    assert rows["Authors, abstract excerpt, headline"] == ("from the signed graph_snapshot event of the "
                                                           "open graph bundle")
    assert rows["DOI and aliases"].startswith("signed: the bundle's source aliases")
    assert rows["Cited by"] == "as reported by the resolver; not covered by any signature"


def test_status_badges_come_from_the_signed_state_not_the_records_claims(built):
    out, docs = built
    page = soup(out / "pith" / suffix_of(docs["both"]) / "index.html")
    badges = {li.get_text(" ", strip=True).split(" ")[0]: "on" in li["class"] for li in page.select("ul.badges li")}
    assert badges["attested"] is False  # the record claims an author attestation; no signed event says so
    assert provenance(page)["Status and record completeness"].startswith("derived from the merged state")


def test_site_wide_pages_list_the_signed_title(built):
    out, docs = built
    suffix = suffix_of(docs["both"])
    index = soup(out / "index.html")
    assert index.find("a", href=f"/pith/{suffix}/").get_text() == SIGNED["title"]
    ns = "{http://www.w3.org/2005/Atom}"
    feed = ET.parse(out / "feed.xml").getroot()
    entry = next(e for e in feed.iter(f"{ns}entry") if e.findtext(f"{ns}id").endswith(f"{suffix}/"))
    assert entry.findtext(f"{ns}title") == SIGNED["title"]
    assert [a.findtext(f"{ns}name") for a in entry.iter(f"{ns}author")] == ["Grace Hopper", "Edsger W. Dijkstra"]
    year = next(p for p in (out / "years").glob("*/index.html") if f"/pith/{suffix}/" in p.read_text())
    listing = soup(year).find("a", href=f"/pith/{suffix}/").get_text()
    assert listing == SIGNED["title"] and "SIGNED TITLE" not in listing
    docs_index = json.loads(next((out / "search" / "d").glob("*.json")).read_text())
    shown = [d[1] for entries in docs_index.values() for d in entries if d[0] == suffix]
    assert shown == [SIGNED["title"]]  # the search result shows the signed title too


def test_without_a_signed_snapshot_the_records_paper_is_shown_and_labelled_unsigned(built):
    out, docs = built
    page = soup(out / "pith" / suffix_of(docs["bare"]) / "index.html")
    assert page.h1.get_text() == UNSIGNED["title"]
    assert page.select_one("p.headline").get_text() == "An unsigned headline"
    rows = provenance(page)
    assert rows["Title"].startswith("verified up to letter case only")
    assert rows["Authors, abstract excerpt, headline"] == "as published by the resolver; not covered by any signature"
    assert "not covered by any signature" in page.select_one("p.provenance").get_text()


def test_record_title_is_called_verified_only_up_to_letter_case(built):
    out, docs = built
    page = soup(out / "pith" / suffix_of(docs["alone"]) / "index.html")
    assert "Title verified up to letter case" in page.select_one("p.provenance").get_text()
    assert provenance(page)["Title"].startswith("verified up to letter case only")
    for text in page.find_all(string=re.compile("verif", re.I)):
        if re.search(r"\btitle\b", text, re.I):
            assert "up to letter case" in text, text


def test_title_check_pass_message_says_up_to_letter_case(built):
    out, docs = built
    page = soup(out / "pith" / suffix_of(docs["alone"]) / "index.html")
    rows = {tr.find_all("td")[1].get_text(): tr.find_all("td")[3].get_text()
            for tr in page.select("table.checks tbody tr")}
    assert rows["record.paper.title"].startswith("title verified up to letter case: ")
    assert canonical.title_canon_sha256("A RECORD ALONE") == canonical.title_canon_sha256("A Record Alone")


def test_no_page_says_verified_of_unsigned_claims(built):
    out, _ = built
    for path in out.rglob("*.html"):
        text = soup(path).get_text(" ")
        assert "copy verified" not in text and "Internet Archive copy verified" not in text, path
        assert not re.search(r"title is verified(?! up to letter case)", text), path

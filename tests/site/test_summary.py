"""The build cache holds plain data, never markup: a summary stores the
cleaned TeX title and pages derive its HTML when they are rendered, and
``Summary.from_json`` accepts nothing but a well-formed summary."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from bs4 import BeautifulSoup

from pithfactory import dump, key_document, keyring_of, make_bundle, make_record
from sitegen.config import load_settings
from sitegen.model import SourceFile
from sitegen.pith.strict_json import parse_document
from sitegen.site.render import Renderer
from sitegen.site.summary import Summary, SummaryError
from sitegen.site.theme import find_theme
from sitegen.site.views import record_view
from sitegen.verify.documents import verify_documents

RUN = "window.__pwned=1"


def summary_of(doc: dict) -> Summary:
    parsed = parse_document(SourceFile(Path("d.json"), "d.json", dump(doc)))
    _, entries, problems = verify_documents([parsed], keyring_of(key_document()))
    assert not problems, problems
    return Summary.of(record_view(entries[0]))


@pytest.fixture(scope="module")
def summary() -> Summary:
    return summary_of(make_record(arxiv_id="2301.00301", title="On $\\pi$ and Schr\\\"odinger"))


def as_dict(s: Summary) -> dict:
    return orjson.loads(s.to_json())


def test_summary_is_plain_data_and_round_trips(summary):
    stored = as_dict(summary)
    assert "title_html" not in stored and stored["title_tex"] == "On $\\pi$ and Schr\\\"odinger"
    assert all(not isinstance(v, dict) for v in stored.values())
    again = Summary.from_json(summary.to_json())
    assert again == summary
    import dataclasses
    assert summary.to_json() == orjson.dumps(dataclasses.asdict(summary))  # the bytes stored before, unchanged
    assert str(again.title_html).startswith('On <math alttext="\\pi"') and again.title == "On π and Schrödinger"


def test_bundle_summary_round_trips():
    s = summary_of(make_bundle(arxiv_id="2301.00302"))
    assert Summary.from_json(s.to_json()) == s and s.has_bundle and not s.has_record


def render_listing(s: Summary, tmp_path: Path) -> BeautifulSoup:
    settings = load_settings(tmp_path)
    renderer = Renderer(find_theme(tmp_path), settings, (), None)
    page = renderer.listing_landing(f"year/{s.year}", s.year, 1, [s], older=None, first=f"years/{s.year}/page/first/")
    return BeautifulSoup(page.data, "html.parser")


def test_script_in_a_cached_title_renders_escaped(summary, tmp_path):
    tampered = dict(as_dict(summary), title_tex=f"<script>{RUN}</script><img src=x onerror={RUN}>",
                    authors=[f"<script>{RUN}</script>"], abstract_excerpt=f"</title><script>{RUN}</script>")
    s = Summary.from_json(json.dumps(tampered))
    page = render_listing(s, tmp_path)
    link = page.select_one("ol.record-list a.title")
    assert link.get_text() == f"<script>{RUN}</script><img src=x onerror={RUN}>"
    assert [t.name for t in link.find_all(True)] == []
    assert all(script.get("src", "").startswith("/assets/") for script in page.find_all("script"))
    assert page.find("img") is None


def test_markup_stored_as_a_title_html_field_is_refused(summary):
    tampered = dict(as_dict(summary), title_html=f"<script>{RUN}</script>")
    with pytest.raises(ValueError, match="wrong set of fields"):
        Summary.from_json(json.dumps(tampered))


MALFORMED = {
    "not-json": b"{",
    "a-list": b"[]",
    "missing-field": lambda d: {k: v for k, v in d.items() if k != "doi"},
    "extra-field": lambda d: {**d, "extra": 1},
    "suffix-lower-case": lambda d: {**d, "suffix": d["suffix"].lower()},
    "suffix-path-traversal": lambda d: {**d, "suffix": "../../../../etc/passwd/AAAA"},
    "suffix-not-a-string": lambda d: {**d, "suffix": 7},
    "year-two-digits": lambda d: {**d, "year": "21"},
    "year-not-the-pith-numbers": lambda d: {**d, "year": "1999"},
    "pith-number-of-another-suffix": lambda d: {**d, "pith_number": f"pith:{d['year']}:{'A' * 26}"},
    "short-pith-number-wrong": lambda d: {**d, "short_pith_number": "pith:AAAAAAAA"},
    "title-not-a-string": lambda d: {**d, "title_tex": ["x"]},
    "title-with-a-noncharacter": lambda d: {**d, "title_tex": "a\ufffeb"},
    "title-with-a-control-character": lambda d: {**d, "title_tex": "a\x01b"},
    "authors-a-string": lambda d: {**d, "authors": "Ada"},
    "author-not-a-string": lambda d: {**d, "authors": [None]},
    "abstract-a-number": lambda d: {**d, "abstract_excerpt": 1},
    "arxiv-id-path": lambda d: {**d, "arxiv_id": "../x"},
    "arxiv-id-markup": lambda d: {**d, "arxiv_id": "<b>1</b>"},
    "version-a-boolean": lambda d: {**d, "version": True},
    "version-a-string": lambda d: {**d, "version": "1"},
    "version-a-float": lambda d: {**d, "version": 1.0},
    "doi-of-another-paper": lambda d: {**d, "doi": "10.48550/arXiv.9999.99999"},
    "submitted-at-loose": lambda d: {**d, "submitted_at": d["submitted_at"].replace("Z", "+00:00")},
    "submitted-at-impossible-date": lambda d: {**d, "submitted_at": d["year"] + "-02-30T00:00:00Z"},
    "date-not-the-submission-date": lambda d: {**d, "date": d["year"] + "-12-31"},
    "updated-at-junk": lambda d: {**d, "updated_at": "yesterday"},
    "primary-category-markup": lambda d: {**d, "primary_cat": "<script>"},
    "cross-category-path": lambda d: {**d, "cross_cats": ["../x"]},
    "cross-categories-a-string": lambda d: {**d, "cross_cats": "cs.LG"},
    "has-record-an-integer": lambda d: {**d, "has_record": 1},
    "has-bundle-null": lambda d: {**d, "has_bundle": None},
    "neither-record-nor-bundle": lambda d: {**d, "has_record": False, "has_bundle": False},
}


@pytest.mark.parametrize("malformed", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_summary_raises_value_error(summary, malformed):
    data = malformed if isinstance(malformed, bytes) else json.dumps(malformed(as_dict(summary)))
    with pytest.raises(ValueError) as e:
        Summary.from_json(data)
    assert isinstance(e.value, SummaryError) and str(e.value).startswith("summary: ")

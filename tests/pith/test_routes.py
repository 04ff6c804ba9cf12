"""sitegen.pith.routes: the one definition of every path sitegen publishes,
and the lexical check every written, deleted or cached path passes."""

from __future__ import annotations

import pytest

from sitegen.pith.routes import alias_paths, bundle_link_paths, check_route, record_link_paths, routes_for

SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # 26 base32 letters


@pytest.mark.parametrize("rel", [
    "index.html", "pith/AAAA/index.html", ".well-known/pith/S/bundle.json", "a b/c-d_e.f~g",
    "x" * 255, "/".join(["abc"] * 256),  # 1023 characters
    "caf\u00e9/\u00fcber.html",
])
def test_check_route_accepts_relative_posix_paths(rel):
    assert check_route(rel) == rel


@pytest.mark.parametrize("rel,fragment", [
    ("", "empty or overlong"),
    ("a/" * 512 + "b", "empty or overlong"),
    ("/etc/passwd", "absolute"),
    ("../outside", "unsafe path segment"),
    ("pith/../../outside", "unsafe path segment"),
    ("pith/./index.html", "unsafe path segment"),
    ("pith//index.html", "unsafe path segment"),
    ("pith/", "unsafe path segment"),
    ("pith\\..\\outside", "unsafe path segment"),
    ("nul\x00byte", "unsafe path segment"),
    ("line\nbreak", "unsafe path segment"),
    ("del\x7f", "unsafe path segment"),
    ("c:/windows", "unsafe path segment"),
    ("what?.html", "unsafe path segment"),
    ("star*.html", "unsafe path segment"),
    ('quote".html', "unsafe path segment"),
    ("angle<>.html", "unsafe path segment"),
    ("pipe|.html", "unsafe path segment"),
    ("x" * 256, "unsafe path segment"),
])
def test_check_route_refuses_paths_that_could_leave_the_tree(rel, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_route(rel)


def test_check_route_refuses_non_strings():
    with pytest.raises(ValueError):
        check_route(b"index.html")


def test_routes_of_a_pith_number_are_the_resolvers_layout():
    r = routes_for(SUFFIX)
    assert (r.page, r.page_file) == (f"pith/{SUFFIX}/", f"pith/{SUFFIX}/index.html")
    assert r.record_json == f"pith/{SUFFIX}.json"
    assert (r.bundle_json, r.state_json) == (f"pith/{SUFFIX}/bundle.json", f"pith/{SUFFIX}/state.json")
    assert r.well_known_bundle == f".well-known/pith/{SUFFIX}/bundle.json"
    assert (r.graph_json, r.events_json) == (f"api/pith-number/{SUFFIX}/graph.json",
                                             f"api/pith-number/{SUFFIX}/events.json")
    for path in (r.page_file, r.record_json, r.bundle_json, r.state_json, r.well_known_bundle, r.graph_json,
                 r.events_json):
        assert check_route(path) == path


def test_link_paths_are_the_published_routes_as_absolute_urls():
    r = routes_for(SUFFIX)
    record, bundle = record_link_paths(SUFFIX), bundle_link_paths(SUFFIX)
    assert record["json"] == "/" + r.record_json and record["html"] == "/" + r.page.rstrip("/")
    assert (record["graph_json"], record["events_json"]) == ("/" + r.graph_json, "/" + r.events_json)
    assert record["paper"] == f"/paper/{SUFFIX[:8]}"
    assert bundle == {"resolver": "/" + r.page.rstrip("/"), "bundle": "/" + r.bundle_json,
                      "state": "/" + r.state_json, "well_known_bundle": "/" + r.well_known_bundle}


def test_alias_paths_cover_every_alias_kind_once():
    paths = alias_paths("2101.00001", 3, SUFFIX)
    assert [kind for kind, _, _ in paths] == ["arxiv", "arxiv_version", "doi", "pith_short_8", "pith_short_12",
                                              "pith_short_16"]
    assert dict((kind, path) for kind, _, path in paths) == {
        "arxiv": "arxiv/2101.00001/", "arxiv_version": "arxiv/2101.00001v3/",
        "doi": "doi/10.48550/arxiv.2101.00001/", "pith_short_8": f"paper/{SUFFIX[:8]}/",
        "pith_short_12": f"paper/{SUFFIX[:12]}/", "pith_short_16": f"paper/{SUFFIX[:16]}/"}
    for _, _, path in paths:
        assert check_route(path + "index.html")

"""`sitegen pull` from the resolver's layout (no listing: the user names what
to fetch), served on 127.0.0.1; usage errors."""

from __future__ import annotations

import pytest

from pithfactory import dump, make_bundle, make_record
from pull.upstream import content_documents, empty_site, resolver_tree, serving
from sitegen.cli import main

R1 = make_record(arxiv_id="2101.00001", title="First Paper")
R2 = make_record(arxiv_id="hep-th/9901001", title="Old Paper", submitted_at="1999-01-05T12:00:00Z",
                 primary_cat="hep-th", cross_cats=(), license="")
B1 = make_bundle(arxiv_id="2102.00007")
RB = make_record(arxiv_id="2102.00007", title="A Bundled Paper", authors="Grace Hopper, Edsger W. Dijkstra",
                 abstract="Bundled.")  # the record of B1's Pith Number
S1, S2, SB = (d["pith_number"].split(":")[2] for d in (R1, R2, B1))


def pull(capsys, *args):
    capsys.readouterr()
    rc = main(["pull", *args, "--progress", "off"])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def resolver(tmp_path):
    with serving(resolver_tree(tmp_path / "resolver", [R1, R2, RB, B1])) as up:
        up.resolve = {"2101.00001": {"pith_number": R1["pith_number"]},
                      "hep-th/9901001": {"pith_numbers": [{"pith_number": R2["pith_number"]}]}}
        yield up, empty_site(tmp_path / "down")


def test_named_documents_are_fetched_from_the_resolver_layout_and_published(resolver, tmp_path, capsys):
    up, site = resolver
    names = tmp_path / "names.txt"
    names.write_text(f"# what this mirror carries\nhep-th/9901001\n\n{B1['pith_number']}  # bundled\n")
    rc, out, err = pull(capsys, up.url, str(site), "--only", "2101.00001", "--from-file", str(names))
    assert rc == 0, err
    assert content_documents(site) == {f"records/{S1}.json": dump(R1), f"records/{S2}.json": dump(R2),
                                       f"records/{SB}.json": dump(RB), f"bundles/{SB}.bundle.json": dump(B1)}
    assert "resolver layout" in out
    assert f".well-known/pith/{SB}/bundle.json" in up.paths() and "pith-signing-key.json" not in up.paths()
    assert main(["build", str(site), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert (tmp_path / "out" / "pith" / SB / "bundle.json").read_bytes() == dump(B1)


def test_a_second_resolver_pull_asks_conditionally_and_downloads_nothing(resolver, capsys):
    up, site = resolver
    names = ["--only", S1, SB]
    assert pull(capsys, up.url, str(site), *names)[0] == 0
    up.clear()
    rc, out, _ = pull(capsys, up.url, str(site), *names)
    assert rc == 0 and "landed 0" in out
    conditional = [h for p, h in up.log if p.startswith(("pith/", ".well-known/"))]
    assert len(conditional) == 4  # record and bundle of each; bundles of S1 are 404 again
    assert sum(1 for h in conditional if "If-None-Match" in h) == 3
    assert "network: 5 requests, 0 bytes" in out  # the snapshot probe (404) and four documents; no body read


def test_a_pull_cut_short_continues_without_refetching_what_it_finished(resolver, capsys):
    up, site = resolver
    names = ["--only", S1, S2, SB]
    rc, out, _ = pull(capsys, up.url, str(site), *names, "--max", "1")
    assert rc == 0 and "2 left for the next pull" in out
    done = min(S1, S2, SB)  # Pith Numbers are taken in suffix order
    assert set(content_documents(site)) >= {f"records/{done}.json"}
    up.clear()
    assert pull(capsys, up.url, str(site), *names)[0] == 0
    assert len(content_documents(site)) == 4
    assert not any(done in p for p in up.paths())  # not asked for again, not even conditionally


def test_an_arxiv_id_resolved_to_another_paper_is_refused(resolver, capsys):
    up, site = resolver
    up.resolve["2101.00001"] = {"pith_number": R2["pith_number"]}  # a lying resolver
    rc, _, err = pull(capsys, up.url, str(site), "--only", "2101.00001")
    assert rc == 1
    assert "the document is arXiv hep-th/9901001v1, not 2101.00001 as named [pull.path]" in err
    assert content_documents(site) == {}


def test_a_name_the_source_does_not_have_is_reported(resolver, capsys):
    up, site = resolver
    rc, _, err = pull(capsys, up.url, str(site), "--only", "A" * 26, "2301.99999")
    assert rc == 1
    assert f"no record or bundle of {'A' * 26} at this source (HTTP 404) [fetch.missing]" in err
    assert "this source does not resolve arXiv 2301.99999" in err or "[pull.resolve]" in err


@pytest.mark.parametrize("args, message", [
    (["--only", "pith:ABCDEFGH"], "a short Pith Number cannot be resolved"),
    (["--only", "../../etc/passwd"], "is not a Pith Number, a suffix or an arXiv id"),
    (["--only", "\x1b[31mred"], "\\x1b[31mred"),
    (["--year", "20x1"], "--year '20x1': expected YYYY or YYYY-YYYY"),
    (["--since", "yesterday"], "expected a date YYYY-MM-DD"),
    (["--category", "cs/LG"], "not an arXiv category"),
    (["--jobs", "0"], "--jobs and --max must be at least 1"),
])
def test_usage_errors_exit_2_with_a_clean_message(resolver, capsys, args, message):
    up, site = resolver
    rc, _, err = pull(capsys, up.url, str(site), *args)
    assert rc == 2 and message in err and "\x1b" not in err and "Traceback" not in err


def test_a_source_without_a_listing_needs_names_and_a_non_http_source_is_refused(resolver, capsys):
    up, site = resolver
    rc, _, err = pull(capsys, up.url, str(site))
    assert rc == 2 and "name what to fetch with --only or --from-file" in err
    rc, _, err = pull(capsys, "file:///etc", str(site), "--only", S1)
    assert rc == 2 and "must be an http:// or https:// URL" in err


def test_a_names_file_with_a_bad_line_names_the_line(resolver, tmp_path, capsys):
    up, site = resolver
    names = tmp_path / "names.txt"
    names.write_text(f"{S1}\nnot-a-name\n")
    rc, _, err = pull(capsys, up.url, str(site), "--from-file", str(names))
    assert rc == 2 and f"{names}:2: 'not-a-name' is not a Pith Number" in err

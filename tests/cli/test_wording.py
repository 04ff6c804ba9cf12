"""Small things a site owner reads (issue: site owners' experience): counts
of one in the singular everywhere (CLI, serve log, pages), one timestamp
format in the sitemaps, and operating-system errors in plain words — never
``[Errno 17] File exists`` or ``os.strerror`` text."""

from __future__ import annotations

import copy
import re
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup

from pithfactory import REPO, make_record, make_site
from sitegen.cli import main
from sitegen.config import load_settings
from sitegen.serve import Server
from sitegen.site import hosts

#: "1 records", "1 problems", "1 open graph bundles", …: a count of one with a plural noun.
PLURAL_AFTER_ONE = re.compile(r"(?<![\d.,])1 (?:[a-z-]+ )?(records|bundles|problems|years|categories|files|documents|"
                              r"checks|Pith Numbers|papers|signatures|requests|conflicts|aliases|warnings|entries)\b")
LEAKS = re.compile(r"Traceback|\[Errno|\b[A-Z]\w*(Error|Exception)\b|errno|File exists|Not a directory")

ONE = make_record(arxiv_id="2104.00001", title="A paper of its own")  # one citing paper (pithfactory)
ONE["verification_status"].update(citation_signatures=1, replication_records=1)  # unsigned, shown as reported
SUFFIX = ONE["pith_number"].split(":")[2]


@pytest.fixture(scope="module")
def one_of_each(tmp_path_factory):
    """A mirror of exactly one record."""
    root = tmp_path_factory.mktemp("one")
    site = make_site(root, seeds=False, docs={"one.json": ONE})
    return site


def test_a_mirror_of_one_record_says_one_everywhere(one_of_each, tmp_path, capsys):
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["build", str(one_of_each), "-o", str(out), "--base-url", "https://mirror.test/"]) == 0
    printed = capsys.readouterr()
    assert "1 Pith Number published" in printed.out and not PLURAL_AFTER_ONE.search(printed.out + printed.err)
    for page in out.rglob("*.html"):
        text = BeautifulSoup(page.read_bytes(), "html.parser").get_text(" ")
        assert not PLURAL_AFTER_ONE.search(text), (page, PLURAL_AFTER_ONE.search(text))
    record = BeautifulSoup((out / f"pith/{SUFFIX}/index.html").read_bytes(), "html.parser").get_text(" ")
    for phrase in ("1 citing paper known to the resolver", "1 citation signature", "1 replication record"):
        assert phrase in record


def test_the_serve_log_says_one_in_the_singular_and_shows_warnings(one_of_each, monkeypatch):
    monkeypatch.setitem(hosts.HOSTS, "cloudflare", replace(hosts.HOSTS["cloudflare"], max_files=3))
    (one_of_each / "sitegen.toml").write_text('host = "cloudflare"\n')
    lines: list[str] = []
    server = Server(load_settings(one_of_each), host="127.0.0.1", port=0, log=lines.append)
    try:
        assert server.rebuild()
    finally:
        server.close()
        (one_of_each / "sitegen.toml").unlink()
    assert re.fullmatch(r"built 1 Pith Number \(full\), \d+ files changed \(generation 1\)", lines[-1]), lines
    assert lines[0].startswith('warning: host = "cloudflare": the tree has '), lines


LASTMOD = re.compile(r"<lastmod>([^<]*)</lastmod>")


@pytest.mark.parametrize("epoch", [None, "1767225600"])
def test_every_sitemap_lastmod_is_one_utc_format(tmp_path, monkeypatch, epoch):
    if epoch is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    late = copy.deepcopy(ONE)
    late["updated_at"] = "2026-05-18T07:08:09.123456+02:00"  # another offset and fractions: normalised
    site = make_site(tmp_path, docs={"one.json": late})
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "--base-url", "https://mirror.test/", "-q"]) == 0
    stamps = [s for f in sorted(out.glob("sitemap*.xml")) for s in LASTMOD.findall(f.read_text())]
    assert len(stamps) > 5
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps), stamps
    assert "2026-05-18T05:08:09Z" in stamps


def test_an_output_directory_under_a_file_is_named_in_plain_words(one_of_each, tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    capsys.readouterr()
    assert main(["build", str(one_of_each), "-o", str(tmp_path / "afile" / "site"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {tmp_path / 'afile'}: is a file, not a directory — move it, or choose another output " \
                  "directory\n"
    assert main(["build", str(one_of_each), "-o", str(tmp_path / "afile" / "x" / "site"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {tmp_path / 'afile' / 'x'}: cannot prepare the output directory: a part of the path is "
                   "not a directory\n")
    assert not LEAKS.search(err)


def test_no_message_uses_the_raw_os_error_text():
    """Every OSError reaching a message goes through sitegen.errors.os_problem."""
    offenders = [f"{p.relative_to(REPO)}:{i}" for p in sorted((REPO / "sitegen").rglob("*.py")) if p.name != "errors.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1)
                 if re.search(r"\{e\.strerror\}|\{e\}.*OSError|str\(e\.strerror\)", line)]
    assert offenders == []

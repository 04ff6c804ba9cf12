"""Rollback protection: an authentic but older document never silently
replaces a newer published one."""

from __future__ import annotations

import json

from helpers import tree
from pithfactory import make_bundle, make_record, make_site, resign_bundle
from sitegen.cli import main


def _site_with(tmp_path, **docs):
    return make_site(tmp_path, seeds=False, docs=docs)


def _write(site, name, doc):
    (site / "content" / name).write_text(json.dumps(doc))


def test_older_bundle_by_built_at_is_refused_and_named(tmp_path, capsys):
    current = make_bundle()
    site = _site_with(tmp_path, **{"b.json": current})
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    before = tree(out)
    older = dict(current, built_at="2026-05-01T00:00:00Z")
    _write(site, "b.json", resign_bundle(older))
    capsys.readouterr()
    assert main(["build", str(site), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "content/b.json: built_at: would roll back " + current["pith_number"] in err
    assert "from the published bundle built 2026-05-26T05:38:29Z with 2 applied events to one built " \
           "2026-05-01T00:00:00Z with 2" in err and "[mirror.rollback]" in err
    assert "would roll back published documents" in err
    assert tree(out) == before
    assert main(["build", str(site), "-o", str(out), "-q", "--allow-rollback"]) == 0
    assert json.loads((out / f"pith/{current['pith_number'].split(':')[2]}/bundle.json").read_text())["built_at"] == \
        "2026-05-01T00:00:00Z"


def test_bundle_with_fewer_applied_events_is_refused(tmp_path, capsys):
    current = make_bundle()
    site = _site_with(tmp_path, **{"b.json": current})
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    fewer = dict(current, events=current["events"][:1])
    _write(site, "b.json", resign_bundle(fewer))
    assert main(["build", str(site), "-o", str(out), "-q"]) == 1
    assert "with 2 applied events to one built 2026-05-26T05:38:29Z with 1" in capsys.readouterr().err


def test_older_record_is_refused(tmp_path, capsys):
    current = make_record()
    site = _site_with(tmp_path, **{"r.json": current})
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    _write(site, "r.json", dict(current, updated_at="2026-01-01T00:00:00+00:00"))
    assert main(["build", str(site), "-o", str(out), "-q"]) == 1
    assert "content/r.json: updated_at: would roll back" in capsys.readouterr().err


def test_newer_documents_are_published(tmp_path):
    current = make_bundle()
    record = make_record(arxiv_id="2109.00003")
    site = _site_with(tmp_path, **{"b.json": current, "r.json": record})
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    _write(site, "b.json", resign_bundle(dict(current, built_at="2026-07-01T00:00:00Z")))
    _write(site, "r.json", dict(record, updated_at="2026-08-01T00:00:00+00:00"))
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0


def test_rollback_is_refused_even_with_skip_invalid(tmp_path):
    current = make_bundle()
    site = _site_with(tmp_path, **{"b.json": current})
    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    _write(site, "b.json", resign_bundle(dict(current, built_at="2026-05-01T00:00:00Z")))
    assert main(["build", str(site), "-o", str(out), "-q", "--skip-invalid"]) == 1

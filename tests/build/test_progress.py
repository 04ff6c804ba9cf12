"""sitegen.build.progress: the progress display of a build or a pull."""

from __future__ import annotations

import io

from pithfactory import make_site
from sitegen.build import BuildOptions
from sitegen.build import build as build_site
from sitegen.build.progress import Progress
from sitegen.config import load_settings


def test_progress_plain_lines_and_bar():
    out = io.StringIO()
    with Progress("lines", out, interval=0).stage("verify+render", 3) as bar:
        for _ in range(3):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("verify+render: 1/3 (") and lines[-1].startswith("verify+render: 3/3 (")
    out = io.StringIO()
    with Progress("bar", out).stage("scan", 10) as bar:
        bar.update(10)
    assert "scan:" in out.getvalue() and "/10 [" in out.getvalue() and "doc/s" in out.getvalue()  # tqdm drew it
    out = io.StringIO()
    with Progress("off", out).stage("scan", 10) as bar:
        bar.update(10)
    assert out.getvalue() == ""


def test_progress_notes_name_the_uncounted_steps_of_a_long_build_only():
    out = io.StringIO()
    Progress("lines", out, interval=0).note("indexes: search index")  # a build running longer than the interval
    Progress("lines", out, interval=60).note("indexes: listings")     # a small build: quiet
    Progress("off", out, interval=0).note("indexes: sitemaps")
    assert out.getvalue() == "indexes: search index\n"


def test_a_long_build_names_each_index_step_in_its_progress_lines(tmp_path):
    site = make_site(tmp_path, seeds=True)
    out = io.StringIO()
    build_site(load_settings(site), BuildOptions(), progress=Progress("lines", out, interval=0))
    text = out.getvalue()
    for step in ("indexes: alias pages and maps", "indexes: listings", "indexes: search index", "write: snapshot"):
        assert step in text, text

"""A wheel install (not only an editable one) carries the default theme."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from pithfactory import make_site

pytestmark = pytest.mark.slow  # a wheel is built with pip (once per run)


def test_wheel_contains_templates_and_static_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in ("base.html", "record.html", "index.html", "404.html", "alias.html", "sitemap.xml"):
        assert f"sitegen/_theme/templates/{template}" in names
    assert "sitegen/_theme/static/assets/sitegen.css" in names
    assert {"sitegen/_theme/templates/record/abstract.html", "sitegen/_theme/templates/_head.html",
            "sitegen/site/strings/en.toml", "sitegen/site/strings/de.toml"} <= names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_build_from_an_unpacked_wheel_in_a_bare_site_directory(wheel, tmp_path):
    lib = tmp_path / "lib"
    zipfile.ZipFile(wheel).extractall(lib)
    site = make_site(tmp_path, test_key=False)  # holds only content/
    assert sorted(p.name for p in site.iterdir()) == ["content"]
    env = {**os.environ, "PYTHONPATH": str(lib)}
    probe = subprocess.run([sys.executable, "-c", "import sitegen; print(sitegen.__file__)"], cwd=site, env=env,
                           capture_output=True, text=True)
    assert probe.stdout.startswith(str(lib)), probe.stdout
    proc = subprocess.run([sys.executable, "-m", "sitegen", "build", "-q"], cwd=site, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (site / "site" / "assets" / "sitegen.css").is_file()
    assert len(list((site / "site" / "pith").glob("*/index.html"))) == 5

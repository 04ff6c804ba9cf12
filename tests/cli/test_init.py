"""``sitegen init``: a new site that builds at once (issue: site owners' experience)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import fields

import pytest

from pithfactory import CONTENT, REGISTRY_KEY, REPO
from sitegen import config, starter
from sitegen.cli import main
from sitegen.config import Settings, load_settings
from sitegen.errors import ConfigError

FINGERPRINT = "8d4b5ee74e4693bcd1df2446408b0d54"
KEY_URL = "https://pith.science/pith-signing-key.json"
STARTER = {"content/keys/pith-v1-2026-05.json", "content/pages/about.md", "sitegen.toml", ".gitignore"}


def files_under(root) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def init(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["init", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_writes_a_site_with_the_registry_key_settings_about_page_and_gitignore(tmp_path, capsys):
    site = tmp_path / "mysite"
    code, _out, err = init(capsys, str(site))
    assert code == 0 and err == ""
    assert files_under(site) == STARTER
    assert (site / "content/keys/pith-v1-2026-05.json").read_bytes() == REGISTRY_KEY.read_bytes()
    assert (site / "content/pages/about.md").read_bytes() == (CONTENT / "pages" / "about.md").read_bytes()
    ignored = (site / ".gitignore").read_text().splitlines()
    for pattern in ("/site/", ".site.*", ".venv/", "/.site.sitegen-cache/", "mirror-key.secret.json"):
        assert pattern in ignored


def test_init_prints_the_key_fingerprint_where_to_check_it_and_the_next_steps(tmp_path, capsys):
    code, out, _ = init(capsys, str(tmp_path / "mysite"))
    assert code == 0
    assert f"trusted key: pith-v1-2026-05, fingerprint {FINGERPRINT}" in out
    check = next(line for line in out.splitlines() if KEY_URL in line)
    assert "check it" in check and FINGERPRINT in check and "do not build" in check
    steps = out[out.index("next steps:"):]
    assert f"cd {tmp_path / 'mysite'}" in steps
    for command in ("sitegen pull https://pith.science/", "sitegen build", "sitegen serve"):
        assert command in steps
    assert "base_url" in steps


def test_init_in_the_current_directory_says_no_cd(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = init(capsys)
    assert code == 0 and files_under(tmp_path) == STARTER and "  cd " not in out


def test_sitegen_toml_lists_every_setting_commented_out_with_its_default_and_an_explanation():
    text = starter.CONFIG_TEMPLATE
    assert tomllib.loads(text) == {}  # everything is commented out
    lines = text.splitlines()
    settings = {}
    for i, line in enumerate(lines):
        m = re.fullmatch(r"# (\w+) = (.+)", line)
        if m:
            settings[m.group(1)] = tomllib.loads(line[2:])[m.group(1)]
            explanation = lines[i - 1]
            assert explanation.startswith("# ") and not re.fullmatch(r"# \w+ = .+", explanation), m.group(1)
    assert set(settings) == set(config._KEYS)  # every setting of README's Settings section
    defaults = {f.name: f.default for f in fields(Settings)}
    for name in ("title", "max_document_bytes", "page_size", "sitemap_max_urls", "feed_size", "search",
                 "aliases", "alias_pages"):
        assert settings[name] == defaults[name], name
    assert settings["output_dir"] == "site"
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Settings"):readme.index("## Theme")]
    documented = {key or table for key, table in re.findall(r"^(?:(\w+) = |\[(\w+)\])", section, re.M)}
    assert documented == set(settings)  # ``[strings]`` is a table


def test_every_setting_of_the_generated_sitegen_toml_is_accepted_uncommented(tmp_path):
    lines = starter.CONFIG_TEMPLATE.splitlines()
    uncommented = "\n".join(line[2:] for line in lines if re.fullmatch(r"# \w+ = .+", line))
    (tmp_path / "sitegen.toml").write_text(uncommented)
    s = load_settings(tmp_path)
    assert s.base_url_set and s.jobs == 2 and s.snapshot_valid_days == 7 and s.output_dir == tmp_path / "site"


def test_a_new_site_builds_an_empty_mirror_with_its_about_page(tmp_path, capsys):
    site = tmp_path / "mysite"
    assert init(capsys, str(site))[0] == 0
    assert main(["build", str(site)]) == 0
    out = capsys.readouterr().out
    assert "sitegen build: 0 documents (0 records, 0 bundles verified), 0 Pith Numbers published" in out
    assert "verified: nothing to verify — content/ holds no Pith documents yet" in out
    nxt = next(line for line in out.splitlines() if line.startswith("next: "))
    assert f"sitegen pull https://pith.science/ {site}" in nxt and f"sitegen build {site}" in nxt
    published = site / "site"
    assert (published / "about" / "index.html").is_file()
    assert "0 verified Pith records" in (published / "index.html").read_text()
    assert not (published / "pith").exists()
    assert json.loads((published / "search" / "index.json").read_text())["documents"] == 0  # search works, empty
    assert main(["build", str(site)]) == 0  # and so does a rebuild
    assert "nothing to verify" in capsys.readouterr().out


def test_init_refuses_a_directory_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, out, err = init(capsys, str(tmp_path))
    assert code == 1 and out == ""
    assert f"error: {tmp_path}: directory is not empty (notes.txt) — " in err and "--force" in err
    assert files_under(tmp_path) == {"notes.txt"}


def test_init_takes_a_directory_holding_only_hidden_entries(tmp_path, capsys):
    (tmp_path / ".git").mkdir()
    assert init(capsys, str(tmp_path))[0] == 0
    assert files_under(tmp_path) == STARTER


def test_init_refuses_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    code, _, err = init(capsys, str(tmp_path / "f"))
    assert code == 1 and "exists and is not a directory — choose another path" in err


def test_init_force_adds_missing_files_and_keeps_existing_ones(tmp_path, capsys):
    (tmp_path / "sitegen.toml").write_text('title = "Mine"\n')
    (tmp_path / "content" / "pages").mkdir(parents=True)
    (tmp_path / "content" / "pages" / "about.md").write_text("# My about\n")
    code, out, err = init(capsys, str(tmp_path), "--force")
    assert code == 0 and err == ""
    assert (tmp_path / "sitegen.toml").read_text() == 'title = "Mine"\n'
    assert (tmp_path / "content/pages/about.md").read_text() == "# My about\n"
    assert "  kept sitegen.toml (it exists; not overwritten)" in out
    assert "  kept content/pages/about.md (it exists; not overwritten)" in out
    assert "  wrote content/keys/pith-v1-2026-05.json" in out and "  wrote .gitignore" in out
    assert files_under(tmp_path) == STARTER


def test_init_force_never_follows_or_replaces_a_symlink(tmp_path, capsys):
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    site = tmp_path / "site"
    site.mkdir()
    (site / ".gitignore").symlink_to(outside)
    assert init(capsys, str(site), "--force")[0] == 0
    assert outside.read_text() == "untouched" and (site / ".gitignore").is_symlink()


def test_init_force_says_when_a_kept_key_file_is_not_the_shipped_key(tmp_path, capsys):
    keys = tmp_path / "content" / "keys"
    keys.mkdir(parents=True)
    (keys / "pith-v1-2026-05.json").write_text("{}")
    code, out, _ = init(capsys, str(tmp_path), "--force")
    assert code == 0 and "is not the key sitegen ships — check it too" in out


def test_shipped_key_is_pinned_to_the_registry_fingerprint(monkeypatch, tmp_path):
    assert starter.registry_key() == REGISTRY_KEY.read_bytes()
    forged = tmp_path / "keys"
    forged.mkdir()
    doc = REGISTRY_KEY.read_text().replace("pith-v1-2026-05", "pith-v1-2026-06")
    (forged / "pith-v1-2026-05.json").write_text(doc)
    monkeypatch.setattr(starter, "_starter_root", lambda: tmp_path)
    with pytest.raises(ConfigError, match=r"not the Pith registry key pith-v1-2026-05 .* reinstall sitegen"):
        starter.registry_key()


# --- from a wheel, in a fresh virtual environment ----------------------------------------

@pytest.mark.slow
def test_wheel_carries_the_registry_key_and_about_page(wheel):
    with zipfile.ZipFile(wheel) as z:
        assert z.read("sitegen/_starter/keys/pith-v1-2026-05.json") == REGISTRY_KEY.read_bytes()
        assert z.read("sitegen/_starter/pages/about.md") == (CONTENT / "pages" / "about.md").read_bytes()


@pytest.mark.slow
def test_init_then_build_from_a_wheel_installed_in_a_fresh_venv(wheel, tmp_path):
    """The issue's done-criterion: `sitegen init site && cd site && sitegen build`."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(f"{venv}/bin/sitegen init site && cd site && {venv}/bin/sitegen build", shell=True,
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert FINGERPRINT in proc.stdout and "nothing to verify" in proc.stdout and "next: " in proc.stdout
    assert "Traceback" not in proc.stderr
    site = work / "site"
    assert (site / "content/keys/pith-v1-2026-05.json").read_bytes() == REGISTRY_KEY.read_bytes()
    assert (site / "site" / "about" / "index.html").is_file() and (site / "site" / "assets" / "sitegen.css").is_file()
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import sitegen; print(sitegen.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True)
    assert probe.stdout.startswith(str(venv)), probe.stdout  # the wheel, not this checkout

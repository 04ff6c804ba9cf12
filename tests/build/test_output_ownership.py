"""The output directory is the user's: sitegen refuses a directory it did not
make, and with ``--force`` (or in a tree it made) never deletes a file it did
not write — full builds, incremental builds, and builds killed mid-way."""

from __future__ import annotations

import json
import subprocess

import pytest

from helpers import build_in_child, tree
from pithfactory import make_record, make_site


def git_worktree(out):
    """A directory that is a git checkout with a tracked file and some history."""
    out.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(out)], check=True)
    (out / "CNAME").write_text("mirror.example.org\n")
    (out / "notes" / "deploy.txt").parent.mkdir()
    (out / "notes" / "deploy.txt").write_text("deployed by hand\n")
    subprocess.run(["git", "-C", str(out), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(out), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"],
                   check=True)
    return tree(out)


@pytest.fixture()
def site(tmp_path):
    return make_site(tmp_path, seeds=True, docs={"extra/r.json": make_record(arxiv_id="2301.00001")})


def test_building_into_a_directory_sitegen_did_not_make_is_refused_and_loses_nothing(site, tmp_path):
    out = tmp_path / "gh-pages"
    before = git_worktree(out)
    proc = build_in_child(site, out)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{out}: this directory was not made by sitegen" in proc.stderr and "--force" in proc.stderr
    assert tree(out) == before


@pytest.mark.slow
def test_force_publishes_into_a_git_worktree_and_every_foreign_file_survives_every_build(site, tmp_path):
    out = tmp_path / "gh-pages"
    before = git_worktree(out)
    assert build_in_child(site, out, "--force").returncode == 0
    after = tree(out)
    assert {k: v for k, v in after.items() if k in before} == before  # .git, CNAME, notes/ untouched
    assert "pith-mirror-snapshot.json" in after and "index.html" in after
    # Incremental: a document changes, one goes away.
    (site / "content" / "extra" / "r.json").unlink()
    assert build_in_child(site, out).returncode == 0
    assert {k: v for k, v in tree(out).items() if k in before} == before
    # Full: the tree is swapped for a new one; foreign files are carried over.
    assert build_in_child(site, out, "--full").returncode == 0
    final = tree(out)
    assert {k: v for k, v in final.items() if k in before} == before
    assert subprocess.run(["git", "-C", str(out), "log", "--oneline"], capture_output=True,
                          text=True).stdout.count("\n") == 1


def test_a_directory_holding_only_git_is_a_fresh_worktree_and_needs_no_force(site, tmp_path):
    out = tmp_path / "pages"
    out.mkdir()
    subprocess.run(["git", "init", "-q", str(out)], check=True)
    head = (out / ".git" / "HEAD").read_bytes()
    assert build_in_child(site, out).returncode == 0
    assert (out / ".git" / "HEAD").read_bytes() == head and (out / "index.html").is_file()


@pytest.mark.slow
def test_a_sitegen_tree_with_user_files_needs_no_force_and_keeps_them(site, tmp_path):
    out = tmp_path / "out"
    assert build_in_child(site, out).returncode == 0
    (out / "README.md").write_text("hosted by me\n")
    (out / "pith" / "notes.txt").write_text("a note inside sitegen's folder\n")
    (out / ".well-known" / "security.txt").write_text("Contact: mailto:x@example.org\n")
    assert build_in_child(site, out, "--full").returncode == 0
    assert (out / "README.md").read_text() == "hosted by me\n"
    assert (out / "pith" / "notes.txt").read_text() == "a note inside sitegen's folder\n"
    assert (out / ".well-known" / "security.txt").is_file()


@pytest.mark.slow
def test_files_sitegen_no_longer_publishes_are_removed_by_a_full_build(site, tmp_path):
    out = tmp_path / "out"
    suffix = make_record(arxiv_id="2301.00001")["pith_number"].split(":")[2]
    assert build_in_child(site, out).returncode == 0
    gone = [p for p in tree(out) if suffix in p]
    assert gone
    (site / "content" / "extra" / "r.json").unlink()
    assert build_in_child(site, out, "--full").returncode == 0
    assert not [p for p in tree(out) if suffix in p]


@pytest.mark.slow
def test_a_foreign_file_in_the_way_of_the_new_tree_is_kept_aside_not_deleted(site, tmp_path):
    out = tmp_path / "out"
    assert build_in_child(site, out).returncode == 0
    (out / "arxiv").write_text("a file where the alias folder will go\n")  # the user's, not listed
    (site / "sitegen.toml").write_text('alias_pages = true\n')
    proc = build_in_child(site, out, "--full")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "kept at" in proc.stderr and (out / "arxiv").is_dir()
    kept = tmp_path / ".out.sitegen-cache" / "kept" / "arxiv"
    assert kept.read_text() == "a file where the alias folder will go\n"


@pytest.mark.slow
def test_an_output_path_through_a_symlink_publishes_into_the_real_directory(site, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert build_in_child(site, tmp_path / "link").returncode == 0
    assert (tmp_path / "link").is_symlink() and (tmp_path / "link" / "index.html").is_file()
    assert build_in_child(site, tmp_path / "link", "--full").returncode == 0 and (tmp_path / "link").is_symlink()


def test_the_builder_refuses_an_output_directory_that_is_a_symlink(site, tmp_path):
    from dataclasses import replace

    from sitegen.build import build as run_build
    from sitegen.config import load_settings
    from sitegen.errors import ConfigError
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    settings = replace(load_settings(site), output_dir=tmp_path / "link")
    with pytest.raises(ConfigError, match="is a symlink"):
        run_build(settings)
    assert list((tmp_path / "real").iterdir()) == []


@pytest.mark.slow
def test_a_damaged_snapshot_makes_the_tree_foreign_so_nothing_is_deleted(site, tmp_path):
    out = tmp_path / "out"
    assert build_in_child(site, out).returncode == 0
    (out / "pith-mirror-snapshot.json").write_text("{not json")
    before = tree(out)
    proc = build_in_child(site, out)
    assert proc.returncode == 1 and "not made by sitegen" in proc.stderr and tree(out) == before
    assert build_in_child(site, out, "--force").returncode == 0
    assert json.loads((out / "pith-mirror-snapshot.json").read_text())["snapshot_type"] == "pith_mirror_snapshot"


def test_static_file_differing_only_in_case_from_a_generated_page_is_an_error_naming_both(site, tmp_path):
    out = tmp_path / "out"
    (site / "static").mkdir()
    (site / "static" / "Robots.txt").write_text("User-agent: *\n")
    proc = build_in_child(site, out)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "differ only in letter case" in proc.stderr and "Robots.txt" in proc.stderr and "robots.txt" in proc.stderr
    assert not out.exists()


def test_categories_spelled_in_two_cases_share_one_listing_path(tmp_path):
    upper = make_record(arxiv_id="2301.00011", primary_cat="cs.LG")
    lower = make_record(arxiv_id="2301.00012", primary_cat="cs.lg")
    site = make_site(tmp_path, seeds=False, docs={"a.json": upper, "b.json": lower})
    out = tmp_path / "out"
    assert build_in_child(site, out).returncode == 0
    listing = (out / "categories" / "cs.lg" / "index.html").read_text()
    assert "2301.00011" in listing and "2301.00012" in listing and "Records in cs.LG" in listing
    assert not (out / "categories" / "cs.LG").exists()
    paths = [p.relative_to(out).as_posix().lower() for p in out.rglob("*")]
    assert len(paths) == len(set(paths))  # no two paths differ only in letter case


# -- found by an outside review: every way a build could still lose a user's file ---------------------


def test_an_incremental_build_keeps_aside_a_hand_written_file_where_a_new_page_goes(site, tmp_path):
    out = tmp_path / "out"
    assert build_in_child(site, out).returncode == 0
    (out / "guide").mkdir()
    (out / "guide" / "index.html").write_text("my hand-written guide\n")
    (site / "content" / "pages").mkdir(exist_ok=True)
    (site / "content" / "pages" / "guide.md").write_text("# Guide\n\nhello\n")
    proc = build_in_child(site, out, quiet=False)
    assert proc.returncode == 0 and "; incremental:" in proc.stdout, (proc.stdout, proc.stderr)
    kept = tmp_path / ".out.sitegen-cache" / "kept" / "guide" / "index.html"
    assert kept.read_text() == "my hand-written guide\n"
    assert "guide/index.html: a file sitegen did not write was in the way of a new page; kept at" in proc.stderr
    assert "Guide" in (out / "guide" / "index.html").read_text()


def test_a_second_file_kept_aside_at_the_same_path_never_replaces_the_first(tmp_path):
    from sitegen.build.outdir import kept_aside
    cache = tmp_path / "cache"
    first = kept_aside(cache, "guide/index.html")
    first.write_text("v1")
    second = kept_aside(cache, "guide/index.html")
    second.write_text("v2")
    (cache / "kept" / "notes").write_text("a file where a folder of a later path goes")
    third = kept_aside(cache, "notes/todo.txt")
    third.write_text("v3")
    assert first.read_text() == "v1" and second.name == "index.html.1" and second.read_text() == "v2"
    assert third.name == "notes%2Ftodo.txt" and third.read_text() == "v3"


def test_a_forged_snapshot_listing_the_users_files_does_not_get_them_deleted(site, tmp_path):
    from pull.upstream import reseal
    out = tmp_path / "out"
    assert build_in_child(site, out).returncode == 0
    (out / "CNAME").write_text("mirror.example.org\n")
    (out / "notes").mkdir()
    (out / "notes" / "todo.txt").write_text("deploy on friday\n")
    reseal(out, lambda files: files.extend({"path": p, "size": 7, "sha256": "0" * 64}
                                           for p in ("CNAME", "notes/todo.txt")))
    proc = build_in_child(site, out)
    assert proc.returncode == 0, proc.stderr
    assert (out / "CNAME").read_text() == "mirror.example.org\n"
    assert (out / "notes" / "todo.txt").read_text() == "deploy on friday\n"


def test_only_the_exact_names_of_sitegens_leftover_trees_are_cleaned_up(site, tmp_path):
    out = tmp_path / "out"
    for name in (".out.staging-notes", ".out.old-drafts", ".out.staging-12x"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "plan.txt").write_text("important\n")
    (tmp_path / ".out.staging-4242").mkdir()  # sitegen's name, but no marker and not empty: not touched
    (tmp_path / ".out.staging-4242" / "plan.txt").write_text("important\n")
    assert build_in_child(site, out).returncode == 0
    for name in (".out.staging-notes", ".out.old-drafts", ".out.staging-12x"):
        assert (tmp_path / name / "plan.txt").read_text() == "important\n"
    assert not (out / "plan.txt").exists()
    assert (tmp_path / ".out.staging-4242" / "plan.txt").read_text() == "important\n"


@pytest.mark.parametrize("folder", ["content", "content/pages", "templates", "templates/record", "static",
                                    ".git", ".sitegen-pull"])
def test_an_output_directory_inside_an_input_of_the_build_is_refused(site, tmp_path, folder):
    """`-o templates` made the next build run the published pages — with unsigned record text in them —
    as templates."""
    proc = build_in_child(site, site / folder)
    shown = folder.split("/")[0] + "/"
    assert proc.returncode == 1 and f"must not be inside {shown}" in proc.stderr, proc.stderr
    assert not (site / folder / "index.html").exists()


def test_an_output_directory_inside_the_default_theme_is_refused(site, tmp_path):
    from pithfactory import REPO
    proc = build_in_child(site, REPO / "templates" / "out")
    assert proc.returncode == 1 and "must not be inside" in proc.stderr and "templates" in proc.stderr
    assert not (REPO / "templates" / "out").exists()

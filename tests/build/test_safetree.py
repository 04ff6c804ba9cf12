"""sitegen.build.safetree: directories of a published tree are opened one
component at a time without following symlinks, so a planted symlink can
never make a write land outside the tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitegen.build.safetree import SafeTree, TreeAltered


@pytest.fixture
def root(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "pith" / "S").mkdir(parents=True)
    (out / "pith" / "S" / "index.html").write_text("page")
    (out / "index.html").write_text("home")
    return out


def test_root_that_is_a_symlink_is_refused(root, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(root)
    with pytest.raises(TreeAltered, match="not a directory"):
        SafeTree(link)


def test_root_that_is_a_file_is_refused(root):
    with pytest.raises(TreeAltered):
        SafeTree(root / "index.html")


def test_missing_root_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        SafeTree(tmp_path / "missing")


def test_dir_fd_opens_real_directories_and_split_names_the_file(root):
    with SafeTree(root) as tree:
        assert tree.dir_fd("") == tree.root_fd
        folder_fd, name = tree.split("pith/S/index.html")
        assert name == "index.html" and folder_fd is not None
        fd = os.open(name, os.O_RDONLY, dir_fd=folder_fd)
        try:
            assert os.read(fd, 10) == b"page"
        finally:
            os.close(fd)
        assert tree.split("index.html") == (tree.root_fd, "index.html")


def test_missing_directory_is_none_unless_created(root):
    with SafeTree(root) as tree:
        assert tree.dir_fd("api/pith-number") is None
        assert not (root / "api").exists()
        assert tree.dir_fd("api/pith-number", create=True) is not None
    assert (root / "api" / "pith-number").is_dir()


@pytest.mark.parametrize("where", ["pith", "pith/S"])
def test_symlinked_directory_on_the_way_is_refused(root, tmp_path, where):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = root / where
    os.rename(target, tmp_path / "moved")
    target.symlink_to(outside)
    with SafeTree(root) as tree, pytest.raises(TreeAltered) as e:
        tree.split("pith/S/index.html", create=True)
    assert e.value.path == where and "symlink" in str(e.value)
    assert list(outside.iterdir()) == []


def test_file_where_a_directory_is_kept_is_refused(root):
    (root / "api").write_text("not a directory")
    with SafeTree(root) as tree, pytest.raises(TreeAltered) as e:
        tree.dir_fd("api/pith-number", create=True)
    assert e.value.path == "api"


def test_symlink_planted_after_the_descriptor_was_cached_is_not_followed(root, tmp_path):
    """The cached descriptor still names the real directory: writes go there, not through the new link."""
    outside = tmp_path / "outside"
    outside.mkdir()
    with SafeTree(root) as tree:
        fd = tree.dir_fd("pith/S")
        os.rename(root / "pith" / "S", tmp_path / "real-S")
        (root / "pith" / "S").symlink_to(outside)
        assert tree.dir_fd("pith/S") == fd
        os.close(os.open("new.html", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    assert (tmp_path / "real-S" / "new.html").exists() and list(outside.iterdir()) == []


def test_descriptor_cache_is_bounded(root):
    for i in range(10):
        (root / f"d{i}").mkdir()
    with SafeTree(root, cache_size=3) as tree:
        for i in range(10):
            assert tree.dir_fd(f"d{i}") is not None
        assert len(tree._fds) == 3
    assert tree.root_fd == -1 and not tree._fds


def test_remove_empty_parents_stops_at_the_first_non_empty_directory(root):
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "keep.txt").write_text("kept")
    with SafeTree(root) as tree:
        tree.remove_empty_parents("a/b/c/gone.html")
    assert not (root / "a" / "b").exists() and (root / "a" / "keep.txt").exists()

"""sitegen.build.publish on tiny trees: the sinks workers write through, and
the two ways a build becomes the published tree (a swap, or an incremental
apply) — never through a symlink, never deleting what sitegen does not write."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from helpers import tree
from sitegen.build.publish import PendingSink, Publisher, SinkSpec, StagingSink
from sitegen.build.safetree import TreeAltered
from sitegen.errors import ConfigError


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def published(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "pith").mkdir(parents=True)
    (out / "index.html").write_bytes(b"home")
    (out / "pith" / "A.json").write_bytes(b"record A")
    return out


# --- sinks --------------------------------------------------------------------------------------------------------

def test_staging_sink_links_unchanged_files_and_writes_the_rest(tmp_path, published):
    staging = tmp_path / "staging"
    staging.mkdir()
    sink = StagingSink(staging, published)
    entry = sink.put("pith/A.json", b"record A")
    assert (entry.path, entry.size, entry.sha256) == ("pith/A.json", 8, sha(b"record A"))
    sink.put("index.html", b"home, changed")
    sink.put("new/page.html", b"new", old_sha256=None)
    assert (sink.written, sink.unchanged, sink.total) == (2, 1, 8 + 13 + 3)
    assert (staging / "pith" / "A.json").stat().st_ino == (published / "pith" / "A.json").stat().st_ino
    assert (staging / "index.html").stat().st_ino != (published / "index.html").stat().st_ino
    assert tree(staging) == {"index.html": b"home, changed", "new/page.html": b"new", "pith/A.json": b"record A"}
    assert (published / "index.html").read_bytes() == b"home"  # the published tree is not touched


def test_staging_sink_never_links_through_a_symlink(tmp_path, published):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"record A")
    os.unlink(published / "pith" / "A.json")
    (published / "pith" / "A.json").symlink_to(secret)
    staging = tmp_path / "staging"
    staging.mkdir()
    sink = StagingSink(staging, published)
    sink.put("pith/A.json", b"record A", old_sha256=sha(b"record A"))
    written = staging / "pith" / "A.json"
    assert sink.written == 1 and not written.is_symlink() and written.stat().st_ino != secret.stat().st_ino


def test_a_path_written_twice_is_a_config_error(tmp_path, published):
    staging = tmp_path / "staging"
    staging.mkdir()
    sink = StagingSink(staging, published)
    sink.put("about/index.html", b"a")
    with pytest.raises(ConfigError, match="two files map to this output path"):
        sink.put("about/index.html", b"b")


@pytest.mark.parametrize("rel", ["../escape.html", "/etc/passwd", "a//b.html"])
def test_sinks_refuse_a_path_that_is_not_a_route(tmp_path, published, rel):
    staging = tmp_path / "staging"
    staging.mkdir()
    for sink in (StagingSink(staging, published), PendingSink(staging, published)):
        with pytest.raises(RuntimeError, match="refusing to write"):
            sink.put(rel, b"x")
    assert list(staging.iterdir()) == [] and not (tmp_path / "escape.html").exists()


def test_pending_sink_keeps_only_changed_bytes_content_addressed(tmp_path, published):
    pending = tmp_path / "pending"
    pending.mkdir()
    sink = PendingSink(pending, published)
    sink.put("pith/A.json", b"record A", old_sha256=sha(b"record A"))
    sink.put("index.html", b"new home", old_sha256=sha(b"home"))
    sink.put("copy.html", b"new home")
    assert (sink.written, sink.unchanged) == (2, 1)
    assert tree(pending) == {sha(b"new home"): b"new home"}


def test_sink_spec_opens_the_sink_of_its_kind(tmp_path, published):
    assert isinstance(SinkSpec("staging", tmp_path, published).open(), StagingSink)
    assert isinstance(SinkSpec("pending", tmp_path, published).open(), PendingSink)


# --- publishing ---------------------------------------------------------------------------------------------------

def test_a_full_publish_into_a_new_directory_renames_the_staging_tree(tmp_path):
    out, cache = tmp_path / "site", tmp_path / "cache"
    cache.mkdir()
    publisher = Publisher.full(out, cache)
    assert publisher.is_full and publisher.target.name.startswith(".site.staging-")
    publisher.sink.put("index.html", b"home")
    assert publisher.publish() == []
    assert tree(out) == {"index.html": b"home"} and not publisher.target.exists()


def test_abandon_removes_what_was_staged(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    publisher = Publisher.full(tmp_path / "site", cache)
    publisher.sink.put("index.html", b"home")
    publisher.abandon()
    assert not publisher.target.exists() and not (tmp_path / "site").exists()


def test_an_incremental_publish_moves_puts_in_and_deletes_what_is_gone(tmp_path, published):
    cache = tmp_path / "cache"
    cache.mkdir()
    publisher = Publisher.incremental(published, cache)
    assert not publisher.is_full
    publisher.sink.put("index.html", b"new home", old_sha256=sha(b"home"))
    publisher.sink.put("pith/B/index.html", b"page B")
    publisher.publish(puts=[("pith/B/index.html", sha(b"page B"))], deletes=["pith/A.json"],
                      snapshot=("index.html", sha(b"new home")))
    assert tree(published) == {"index.html": b"new home", "pith/B/index.html": b"page B"}
    assert not (cache / "pending").exists() and not (cache / "journal.json").exists()


@pytest.mark.parametrize("rel", [".git/config", ".htaccess"])
def test_an_incremental_publish_refuses_to_delete_what_sitegen_never_writes(tmp_path, published, rel):
    (published / ".git").mkdir()
    (published / ".git" / "config").write_bytes(b"[core]")
    (published / ".htaccess").write_bytes(b"deny")
    before = tree(published)
    cache = tmp_path / "cache"
    cache.mkdir()
    publisher = Publisher.incremental(published, cache)
    with pytest.raises(RuntimeError, match="sitegen never writes such a path"):
        publisher.publish(deletes=["pith/A.json", rel])
    assert tree(published) == before


def test_an_incremental_publish_through_a_symlinked_directory_changes_nothing(tmp_path, published):
    outside = tmp_path / "outside"
    outside.mkdir()
    (published / "api").symlink_to(outside)
    before = tree(published)
    cache = tmp_path / "cache"
    cache.mkdir()
    publisher = Publisher.incremental(published, cache)
    publisher.sink.put("index.html", b"new home")
    publisher.sink.put("api/graph.json", b"{}")
    with pytest.raises(TreeAltered):
        publisher.publish(puts=[("index.html", sha(b"new home")), ("api/graph.json", sha(b"{}"))])
    assert tree(published) == before and list(outside.iterdir()) == []

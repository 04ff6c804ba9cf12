"""sitegen.build.ledger: which owner publishes which files — claim and drop
on a tiny store, for a full build and for an incremental one."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.build.ledger import Ledger
from sitegen.build.store import open_store
from sitegen.errors import ConfigError
from sitegen.mirror.snapshot import path_hash
from sitegen.model import FileEntry


@pytest.fixture
def store(tmp_path: Path):
    s = open_store(tmp_path / "store.sqlite", output_dir=tmp_path / "out", published_tree=None)
    yield s
    s.close()


def entries(**sha: str) -> list[FileEntry]:
    """``FileEntry`` rows from ``name=sha`` (``_`` in a name stands for ``/``)."""
    return [FileEntry(name.replace("_", "/") + ".html", 1, h) for name, h in sha.items()]


def test_a_full_build_records_owners_and_queues_nothing(store):
    ledger = Ledger.full(store)
    ledger.claim("A", entries(pith_A=("1" * 64), paper_A=("2" * 64)))
    ledger.claim("site", entries(index=("3" * 64)))
    assert (ledger.puts, ledger.deletes, ledger.changed_hashes) == ([], [], set())
    assert store.owner_of("pith/A.html") == "A" and store.owner_of("index.html") == "site"
    assert ledger.release("A") == []  # a full build starts from nothing: there is nothing to release
    ledger.drop([("old.html", "x")])
    assert ledger.deletes == []


def test_an_incremental_claim_queues_only_changed_and_new_files(store):
    Ledger.full(store).claim("A", entries(same="a" * 64, changed="b" * 64, gone="c" * 64))
    ledger = Ledger.incremental(store)
    old = ledger.release("A")
    assert sorted(old) == [("changed.html", "b" * 64), ("gone.html", "c" * 64), ("same.html", "a" * 64)]
    assert store.outputs_of("A") == []  # released: to be claimed again
    ledger.claim("A", entries(same="a" * 64, changed="d" * 64, new="e" * 64), old)
    assert ledger.puts == [("changed.html", "d" * 64), ("new.html", "e" * 64)]
    assert ledger.deletes == ["gone.html"]
    assert ledger.changed_hashes == {path_hash(p) for p in ("changed.html", "new.html", "gone.html")}
    assert sorted(store.outputs_of("A")) == [("changed.html", "d" * 64), ("new.html", "e" * 64),
                                             ("same.html", "a" * 64)]


def test_drop_deletes_files_no_owner_publishes_any_more(store):
    Ledger.full(store).claim("B", entries(b1="1" * 64, b2="2" * 64))
    ledger = Ledger.incremental(store)
    ledger.drop(ledger.release("B"))
    assert sorted(ledger.deletes) == ["b1.html", "b2.html"] and ledger.puts == []
    assert ledger.changed_hashes == {path_hash("b1.html"), path_hash("b2.html")}
    assert store.owner_of("b1.html") is None


def test_a_path_claimed_by_two_owners_is_a_config_error_naming_it(store):
    ledger = Ledger.full(store)
    ledger.claim("site", entries(about="1" * 64))
    with pytest.raises(ConfigError, match=r"about\.html: two files map to this output path"):
        ledger.claim("static", entries(about="2" * 64))


def test_a_path_claimed_twice_by_one_owner_is_a_config_error(store):
    ledger = Ledger.full(store)
    with pytest.raises(ConfigError, match=r"x\.html: two files map"):
        ledger.claim("site", [FileEntry("x.html", 1, "1" * 64), FileEntry("x.html", 1, "2" * 64)])


def test_reclaiming_after_a_release_is_not_a_collision(store):
    Ledger.full(store).claim("A", entries(a="1" * 64))
    ledger = Ledger.incremental(store)
    ledger.claim("A", entries(a="1" * 64), ledger.release("A"))
    assert ledger.puts == [] and ledger.deletes == [] and store.owner_of("a.html") == "A"

"""Faults: SIGKILL at random points, a full disk, a read-only filesystem, a
file-size limit — the published tree is always the complete old tree or the
complete new one, and a failed build says why and leaves the old tree intact."""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import CHILD_ENV, build_in_child, tree
from pithfactory import make_record, make_site


def same_tree(published: dict[str, bytes], reference: dict[str, bytes]) -> bool:
    """Byte-identical except the snapshot's monotonic ``version`` (and its hash):
    the snapshot must describe the same tree."""
    snap = "pith-mirror-snapshot.json"
    if {k: v for k, v in published.items() if k != snap} != {k: v for k, v in reference.items() if k != snap}:
        return False
    return json.loads(published[snap])["tree_sha256"] == json.loads(reference[snap])["tree_sha256"]


def generated(n: int, start: int = 0) -> dict:
    return {f"gen/r{i}.json": make_record(arxiv_id=f"2201.{i:05d}", title=f"Generated paper {i}")
            for i in range(start, start + n)}


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """A site whose content can be switched between version A and version B,
    with the reference output tree of each."""
    root = tmp_path_factory.mktemp("versions")
    site = make_site(root, docs=generated(150))
    gen = site / "content" / "gen"
    extra = generated(75, start=150)

    def use(version: str) -> None:
        for name in extra:
            path = site / "content" / name
            if version == "B":
                path.write_bytes(__import__("json").dumps(extra[name]).encode())
            else:
                path.unlink(missing_ok=True)

    refs = {}
    for version in ("A", "B"):
        use(version)
        assert build_in_child(site, root / f"ref-{version}").returncode == 0
        refs[version] = tree(root / f"ref-{version}")
    assert refs["A"] != refs["B"] and gen.is_dir()
    return site, use, refs, root


FOREIGN = {"CNAME": b"mirror.example.org\n", ".git/HEAD": b"ref: refs/heads/gh-pages\n",
           "pith/README.txt": b"the operator's note inside sitegen's folder\n"}


def add_foreign(out: Path) -> None:
    for rel, data in FOREIGN.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)


def sitegen_files(published: dict[str, bytes]) -> dict[str, bytes]:
    """The tree without the operator's own files, which must be there untouched."""
    assert {k: published.get(k) for k in FOREIGN} == FOREIGN, "a file sitegen did not write was lost"
    return {k: v for k, v in published.items() if k not in FOREIGN}


@pytest.mark.slow
def test_sigkill_at_random_points_never_leaves_a_mixed_tree(two_versions):
    """A full build (``--full``) is swapped in atomically: old tree or new tree;
    and the operator's own files survive every kill, wherever it lands."""
    site, use, refs, root = two_versions
    out = root / "published"
    use("A")
    assert build_in_child(site, out).returncode == 0
    add_foreign(out)
    start = time.perf_counter()
    use("B")
    assert build_in_child(site, out).returncode == 0
    duration = time.perf_counter() - start
    rng = random.Random(20261121)
    outcomes = {"A": 0, "B": 0}
    for trial in range(16):
        use("A")
        if sitegen_files(tree(out)) != refs["A"]:
            assert build_in_child(site, out).returncode == 0
        use("B")
        proc = subprocess.Popen([sys.executable, "-m", "sitegen", "build", str(site), "-o", str(out), "-q",
                                 "--full"], env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not all((out / rel).exists() for rel in FOREIGN):  # killed while carrying them over:
            assert build_in_child(site, out).returncode == 0  # the next build finishes it
        published = sitegen_files(tree(out))
        state = "A" if same_tree(published, refs["A"]) else "B" if same_tree(published, refs["B"]) else None
        assert state is not None, f"trial {trial}: the published tree is neither the old nor the new one"
        outcomes[state] += 1
    # Leftovers from killed builds are cleaned up by the next build, which succeeds.
    assert build_in_child(site, out).returncode == 0 and same_tree(sitegen_files(tree(out)), refs["B"])
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".published")) == [
        ".published.lock", ".published.sitegen-cache"]  # no staging tree left behind
    assert outcomes["A"] > 0, outcomes  # some kills did land before the swap


@pytest.mark.slow
def test_sigkill_during_incremental_builds_leaves_whole_files_and_the_next_build_finishes(two_versions):
    """An incremental build replaces files one rename at a time: a kill leaves
    every file whole — each path and its bytes are A's or B's, nothing else —
    the operator's files untouched, and the next build (a full one, since the
    marker of an unfinished apply is there) publishes B exactly."""
    site, use, refs, root = two_versions
    out = root / "incremental"
    use("A")
    assert build_in_child(site, out).returncode == 0
    add_foreign(out)
    use("B")
    start = time.perf_counter()
    assert build_in_child(site, out).returncode == 0
    duration = time.perf_counter() - start
    rng = random.Random(20261122)
    for trial in range(12):
        use("A")
        assert build_in_child(site, out).returncode == 0 and same_tree(sitegen_files(tree(out)), refs["A"])
        use("B")
        proc = subprocess.Popen([sys.executable, "-m", "sitegen", "build", str(site), "-o", str(out), "-q"],
                                env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.02, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for path, data in sitegen_files(tree(out)).items():
            if path != "pith-mirror-snapshot.json":
                assert path in refs["A"] or path in refs["B"], f"trial {trial}: {path} is in neither tree"
                assert data in (refs["A"].get(path), refs["B"].get(path)), f"trial {trial}: {path} is torn"
        assert build_in_child(site, out).returncode == 0
        assert same_tree(sitegen_files(tree(out)), refs["B"]), f"trial {trial}"


@contextlib.contextmanager
def mounted(target: Path, *args: str):
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount here: {proc.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.mark.slow
def test_full_disk_fails_cleanly_and_keeps_the_published_tree(two_versions, tmp_path):
    site, use, _refs, _ = two_versions
    use("A")
    with mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "size=256m", "tmpfs") as disk:
        out = disk / "site"
        assert build_in_child(site, out).returncode == 0
        # Compared with itself, not with refs["A"]: Pagefind numbers pages in directory
        # order, which differs between tmpfs and ext4 (sitegen.search.index_bucket).
        before = tree(out)
        st = os.statvfs(disk)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        # Leave 1 MB free: version B needs several more.
        subprocess.run(["mount", "-o", f"remount,size={used + 1_000_000}", str(disk)], check=True)
        use("B")
        proc = build_in_child(site, out)
        use("A")
        assert proc.returncode == 1
        assert "no space left on the device" in proc.stderr and "the published tree is unchanged" in proc.stderr
        assert "No space left on device" not in proc.stderr  # plain words (os_problem), not the OS's text
        assert "Traceback" not in proc.stderr
        assert tree(out) == before
        assert [p.name for p in disk.iterdir() if "staging" in p.name] == []  # space given back


@pytest.mark.slow
def test_read_only_filesystem_fails_cleanly(two_versions, tmp_path):
    site, use, refs, _ = two_versions
    use("A")
    src = tmp_path / "rw"
    assert build_in_child(site, src / "site").returncode == 0
    with mounted(tmp_path / "ro", "--bind", "-o", "ro", str(src)) as ro:
        proc = build_in_child(site, ro / "site")
        assert proc.returncode == 1 and "the file system is read-only" in proc.stderr and "Traceback" not in proc.stderr
        assert tree(ro / "site") == refs["A"]


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


@pytest.mark.slow
def test_file_size_limit_fails_cleanly(two_versions, tmp_path):
    site, use, refs, _ = two_versions
    use("A")
    out = tmp_path / "site"
    assert build_in_child(site, out).returncode == 0
    big = make_record(arxiv_id="2202.00001", abstract="x" * 40_000)
    (site / "content" / "big.json").write_text(__import__("json").dumps(big))
    try:
        proc = build_in_child(site, out, preexec_fn=_limit_file_size)
    finally:
        (site / "content" / "big.json").unlink()
    # The limit hits the output file or the build cache first; either is a clean error.
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "the file is too large" in proc.stderr or "the build cache failed" in proc.stderr
    assert tree(out) == refs["A"]


def test_output_parent_that_is_a_file_fails_cleanly(tmp_path):
    site = make_site(tmp_path, seeds=False, docs=generated(2))
    (tmp_path / "blocker").write_text("not a directory")
    proc = build_in_child(site, tmp_path / "blocker" / "site")
    assert proc.returncode == 1 and f"{tmp_path / 'blocker'}: is a file, not a directory" in proc.stderr
    assert "Traceback" not in proc.stderr

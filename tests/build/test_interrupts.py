"""Ctrl-C and SIGTERM: one line, exit 130 / 143, no traceback, no hang, no
temporary directory left, and the published tree as it was — for ``build``
(a terminal sends SIGINT to the whole process group, workers included) and
for ``serve``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import CHILD_ENV, like_a_terminal, tree
from pithfactory import make_record, make_site

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def _wait_for_workers(proc: subprocess.Popen) -> list[int]:
    """The build's two worker processes, once it has started them (after
    loading and scanning; a --full rebuild of an unchanged content/ has
    nothing to identify, so the first workers are those of verify + render)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = _children(proc.pid)
        if len(workers) == 2:
            return workers
        time.sleep(0.02)
    raise AssertionError("the build never started its workers")


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupts")
    docs = {f"gen/r{i}.json": make_record(arxiv_id=f"2202.{i:05d}", title=f"Paper {i}") for i in range(1500)}
    return make_site(root, docs=docs), root


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    # A new session: the test plays the terminal and signals the whole group.
    return subprocess.Popen([sys.executable, "-m", "sitegen", *args], cwd=cwd, env=CHILD_ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=like_a_terminal)


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupting_a_full_build_of_the_whole_process_group(big_site, sig, code):
    site, root = big_site
    out = root / f"out-{code}"
    assert subprocess.run([sys.executable, "-m", "sitegen", "build", str(site), "-o", str(out), "-q",
                           "--jobs", "2", "--base-url", "https://mirror.test/"], env=CHILD_ENV).returncode == 0
    (out / "CNAME").write_text("mirror.example.org\n")
    before = tree(out)
    proc = _start(["build", str(site), "-o", str(out), "--full", "--jobs", "2", "--progress", "off",
                   "--base-url", "https://mirror.test/"], root)
    _wait_for_workers(proc)
    time.sleep(0.3)  # well inside verify + render of 1,500 documents
    os.killpg(proc.pid, sig)
    try:
        _stdout, stderr = proc.communicate(timeout=60)  # never hangs
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert ("interrupted" if code == 130 else "terminated") in stderr and "nothing half-done" in stderr
    assert tree(out) == before
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(f".out-{code}.")) == [
        f".out-{code}.lock", f".out-{code}.sitegen-cache"]
    assert not (root / f".out-{code}.sitegen-cache" / "pending").exists()


def test_ctrl_c_stops_serve_with_one_line_and_removes_its_build(big_site, tmp_path):
    site = make_site(tmp_path, seeds=True)
    proc = _start(["serve", str(site), "--port", "0", "--no-watch"], tmp_path)
    line = ""
    deadline = time.monotonic() + 60
    while "Serving" not in line and time.monotonic() < deadline:
        line = proc.stdout.readline()
    url = line.split(" at ", 1)[1].split(" ", 1)[0]
    with urllib.request.urlopen(url) as response:
        assert response.status == 200
    temp_dirs = {p for p in Path("/tmp").glob("sitegen-serve-*")}
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "sitegen serve: stopped"
    assert {p for p in Path("/tmp").glob("sitegen-serve-*")} <= temp_dirs
    assert not any(p.exists() for p in temp_dirs - {p for p in Path("/tmp").glob("sitegen-serve-*")})


def test_a_worker_killed_by_the_out_of_memory_killer_fails_the_build_instead_of_hanging(big_site):
    site, root = big_site
    out = root / "out-oom"
    assert subprocess.run([sys.executable, "-m", "sitegen", "build", str(site), "-o", str(out), "-q",
                           "--jobs", "2", "--base-url", "https://mirror.test/"], env=CHILD_ENV).returncode == 0
    before = tree(out)
    proc = _start(["build", str(site), "-o", str(out), "--full", "--jobs", "2", "--progress", "off",
                   "--base-url", "https://mirror.test/"], root)
    _wait_for_workers(proc)
    time.sleep(0.3)  # a batch in each worker (of the scan, or of verify + render)
    for _ in range(100):  # what the OOM killer does to one process
        try:
            os.kill(_wait_for_workers(proc)[0], signal.SIGKILL)
            break
        except ProcessLookupError:  # the scan's workers ended just now
            continue
    _stdout, stderr = proc.communicate(timeout=60)  # never hangs
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr and "worker process ended" in stderr, stderr
    assert tree(out) == before


def test_a_build_killed_with_sigkill_takes_its_workers_and_its_lock_with_it(big_site):
    site, root = big_site
    out = root / "out-sigkill"
    proc = _start(["build", str(site), "-o", str(out), "--full", "--jobs", "2", "--progress", "off",
                   "--base-url", "https://mirror.test/"], root)
    workers = _wait_for_workers(proc)
    time.sleep(0.3)
    proc.kill()  # SIGKILL to the main process only: nothing of it runs again
    proc.communicate(timeout=30)
    rebuilt = subprocess.run([sys.executable, "-m", "sitegen", "build", str(site), "-o", str(out), "-q",
                              "--jobs", "2", "--base-url", "https://mirror.test/"], env=CHILD_ENV, capture_output=True,
                             text=True)  # at once: the workers' inherited descriptors hold no lock
    assert rebuilt.returncode == 0, rebuilt.stderr  # never "another sitegen build is writing it"
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "a worker outlived its build"

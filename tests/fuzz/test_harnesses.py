"""The atheris harnesses run (a short smoke run over each seed corpus; the long
runs are manual, see tests/fuzz/), and every input a fuzzer once crashed on is
now handled cleanly.

Harnesses: ``fuzz_loader`` (Pith documents), ``fuzz_keys`` (key documents),
``fuzz_snapshot`` (``sitegen verify`` over a mirror snapshot and its shards),
``fuzz_markdown`` (Markdown pages), ``fuzz_journal`` (the write journal of an
interrupted incremental build, as the next build retires the old tree). Saved crashes: ``tests/fuzz/crashes/`` for
the loader, ``tests/fuzz/crashes/<harness>/`` for the others.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from pithfactory import REPO

pytest.importorskip("atheris")

FUZZ = REPO / "tests" / "fuzz"
#: harness → (smoke-run executions, minimum seed corpus size)
HARNESSES = {"fuzz_loader": (3000, 8), "fuzz_keys": (3000, 5), "fuzz_snapshot": (2000, 6),
             "fuzz_markdown": (1500, 2), "fuzz_journal": (500, 6)}


def _load(harness: str):
    spec = importlib.util.spec_from_file_location(harness, FUZZ / f"{harness}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _saved_crashes(harness: str):
    folder = FUZZ / "crashes" if harness == "fuzz_loader" else FUZZ / "crashes" / harness.removeprefix("fuzz_")
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


@pytest.mark.slow
@pytest.mark.parametrize("harness", sorted(HARNESSES))
def test_fuzz_harness_runs_over_its_seed_corpus(tmp_path, harness):
    runs, seeds = HARNESSES[harness]
    proc = subprocess.run([sys.executable, str(FUZZ / f"{harness}.py"), str(tmp_path / "corpus"),
                           f"-runs={runs}", "-print_final_stats=1"], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"stat::number_of_executed_units: {runs}" in proc.stderr
    assert len(list((tmp_path / "corpus").iterdir())) >= seeds


def test_every_saved_loader_crash_is_now_a_clean_rejection():
    crashes = _saved_crashes("fuzz_loader")
    assert crashes
    module = _load("fuzz_loader")
    for crash in crashes:
        module.test_one_input(crash.read_bytes())  # raises if it still crashes


@pytest.mark.parametrize("harness", ["fuzz_keys", "fuzz_snapshot", "fuzz_markdown", "fuzz_journal"])
def test_every_saved_crash_of_the_other_harnesses_is_now_handled(harness):
    module = _load(harness)
    for crash in _saved_crashes(harness):
        module.test_one_input(crash.read_bytes())

"""The atheris harness runs (a short smoke run; the long runs are manual,
see tests/fuzz/fuzz_loader.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pithfactory import REPO

pytest.importorskip("atheris")


def test_fuzz_harness_runs_over_the_seed_corpus(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "fuzz" / "fuzz_loader.py"), str(tmp_path / "corpus"),
                           "-runs=3000", "-print_final_stats=1"], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "stat::number_of_executed_units: 3000" in proc.stderr
    assert len(list((tmp_path / "corpus").iterdir())) >= 8


def test_every_saved_fuzzer_crash_is_now_a_clean_rejection():
    import importlib.util
    spec = importlib.util.spec_from_file_location("fuzz_loader", REPO / "tests" / "fuzz" / "fuzz_loader.py")
    crashes = sorted((REPO / "tests" / "fuzz" / "crashes").iterdir())
    assert crashes
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for crash in crashes:
        module.test_one_input(crash.read_bytes())  # raises if it still crashes

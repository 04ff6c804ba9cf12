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

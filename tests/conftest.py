"""Shared set-up: tests/ on ``sys.path`` (so ``pithfactory``, ``browser``,
``helpers`` and the folders' helper modules import by name under
``--import-mode=importlib``), and fixtures more than one folder uses."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import REPO


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout (``pip wheel``), built once per run."""
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("sitegen-*.whl")
    return path

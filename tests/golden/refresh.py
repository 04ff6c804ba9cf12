"""The golden minimal site: the output of ``python -m sitegen build`` of this
repository's ``content/`` at a fixed build time and base URL, kept under
``tests/golden/site/`` and compared byte for byte by ``test_golden.py``.

When a change to the output is intended (a template, a page, a document
format), refresh it and review the diff like any other change::

    python tests/golden/refresh.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: helpers

from helpers import REPO, SOURCE_DATE_EPOCH, build_in_child, tree  # noqa: E402

GOLDEN = HERE / "site"
BASE_URL = "https://mirror.example/"
#: What the golden site is, for messages.
COMMAND = (f"SOURCE_DATE_EPOCH={SOURCE_DATE_EPOCH} python -m sitegen build . -o OUT "
           f"--base-url {BASE_URL}")


def build_golden(work: Path) -> dict[str, bytes]:
    """Build the repository's site into ``work``/site (a fresh directory, so
    the snapshot's version is 1); every file it wrote, by path."""
    out = work / "site"
    proc = build_in_child(REPO, out, "--base-url", BASE_URL, "--progress", "off")
    if proc.returncode != 0:
        raise RuntimeError(f"{COMMAND} failed:\n{proc.stderr}")
    return tree(out)


def refresh() -> tuple[int, int, int]:
    """Rewrite tests/golden/site/; returns (added, changed, removed) file counts."""
    with tempfile.TemporaryDirectory(prefix="sitegen-golden-") as tmp:
        new = build_golden(Path(tmp))
    old = tree(GOLDEN) if GOLDEN.exists() else {}
    if GOLDEN.exists():
        shutil.rmtree(GOLDEN)
    for rel, data in new.items():
        path = GOLDEN / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    added = len(new.keys() - old.keys())
    removed = len(old.keys() - new.keys())
    changed = sum(1 for k in new.keys() & old.keys() if new[k] != old[k])
    return added, changed, removed


if __name__ == "__main__":
    added, changed, removed = refresh()
    rel = GOLDEN.relative_to(REPO)
    print(f"{rel}: {added} added, {changed} changed, {removed} removed — review with `git diff --stat {rel}`")

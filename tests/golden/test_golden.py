"""The seed build, byte for byte: any change to what sitegen publishes for the
bundled content/ shows up here as a diff. Intended? Refresh the golden copy
(``python tests/golden/refresh.py``) and commit it with the change."""

from __future__ import annotations

import difflib

from golden.refresh import COMMAND, GOLDEN, build_golden
from helpers import tree

MAX_DIFF_LINES = 60


def _describe(rel: str, want: bytes, got: bytes) -> str:
    try:
        a, b = want.decode("utf-8"), got.decode("utf-8")
    except UnicodeDecodeError:
        return f"{rel}: binary, {len(want)} bytes expected, {len(got)} built"
    lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), f"golden/{rel}", f"built/{rel}", lineterm="",
                                      n=1))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more diff lines"]
    return "\n".join(lines)


def test_the_seed_build_is_byte_identical_to_the_golden_site(tmp_path):
    golden = tree(GOLDEN)
    assert golden, f"{GOLDEN} is empty: run python tests/golden/refresh.py"
    built = build_golden(tmp_path)
    if built == golden:
        return
    missing, extra = sorted(golden.keys() - built.keys()), sorted(built.keys() - golden.keys())
    changed = sorted(k for k in golden.keys() & built.keys() if golden[k] != built[k])
    report = [f"the build ({COMMAND}) differs from tests/golden/site/: {len(changed)} changed, "
              f"{len(missing)} no longer written, {len(extra)} new",
              "if the change is intended, run: python tests/golden/refresh.py (and commit the result)"]
    report += [f"no longer written: {rel}" for rel in missing[:20]]
    report += [f"new: {rel}" for rel in extra[:20]]
    report += [_describe(rel, golden[rel], built[rel]) for rel in changed[:5]]
    if len(changed) > 5:
        report.append(f"… and {len(changed) - 5} more changed files: {', '.join(changed[5:25])}")
    raise AssertionError("\n".join(report))

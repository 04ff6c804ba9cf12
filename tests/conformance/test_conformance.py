"""Run every conformance case through the real CLI build.

Each case must: exit 1; print a line ``<file>: <field>: … [<check>]`` naming
the hostile file, the field and sitegen's check (its error class); print no
raw control, bidi or invisible character and no overlong line; and leave the
previously published output tree exactly as it was (bytes, mtimes, inodes).
"""

from __future__ import annotations

import shutil
import unicodedata
from collections import Counter

import pytest

from conformance import forgery, injection, keydocs, malformed
from conformance.cases import CATEGORIES, DIR, KEY_PREFIX
from helpers import tree_stats
from pithfactory import dump, key_document, make_site
from sitegen.cli import main
from sitegen.errors import safe_text

ALL_CASES = forgery.CASES + malformed.CASES + injection.CASES + keydocs.CASES


def test_case_names_are_unique_and_the_suite_is_large():
    names = [c.name for c in ALL_CASES]
    assert len(names) == len(set(names)), [n for n, k in Counter(names).items() if k > 1]
    counts = Counter(c.category for c in ALL_CASES)
    assert set(counts) == set(CATEGORIES) and len(ALL_CASES) >= 60
    print("\nconformance cases by category: " + ", ".join(f"{k} {counts[k]}" for k in CATEGORIES)
          + f" (total {len(ALL_CASES)})")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("conformance")
    site = make_site(root)
    keys = site / "content" / "keys"
    (keys / f"{forgery.SECOND_KEY_ID}.json").write_bytes(dump(key_document(forgery.SECOND_KEY, forgery.SECOND_KEY_ID)))
    out = root / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    return site, out, tree_stats(out)


def _terminal_safe(text: str) -> list[str]:
    bad = []
    for line in text.splitlines():
        if len(line) > 2000:
            bad.append(f"overlong line ({len(line)} chars)")
        for ch in line:
            if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
                bad.append(f"raw U+{ord(ch):04X} in {line[:60]!r}")
                break
    return bad


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_conformance_case_is_rejected_safely(published, capsys, case):
    site, out, before = published
    content = site / "content"
    rel = case.setup(content)
    try:
        capsys.readouterr()
        assert main(["build", str(site), "-o", str(out)]) == 1
        err = capsys.readouterr().err
        prefix = f"{safe_text(rel)}: {case.field}: " if case.field else f"{safe_text(rel)}: "
        lines = [line for line in err.splitlines() if line.startswith(prefix)]
        assert any(line.endswith(f"[{case.check}]") for line in lines), err[-3000:]
        assert _terminal_safe(err) == []
        assert tree_stats(out) == before
    finally:
        shutil.rmtree(content / DIR, ignore_errors=True)
        for hostile_key in (content / "keys").glob(f"{KEY_PREFIX}*"):
            hostile_key.unlink()
        for leftover in ("outside.json", "secret.json", "elsewhere"):
            path = content.parent / leftover
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)

"""The documentation points at things that exist: every test file, folder
and test function the README and docs/ cite (the threat model names its
proof by path; a renamed test must not leave it pointing at nothing)."""

from __future__ import annotations

import ast
import re

import pytest

from pithfactory import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
CITED = re.compile(r"`(tests/[\w./-]*?)(?:::(\w+))?`")


def _citations() -> list[tuple[str, str, str | None]]:
    found = []
    for doc in DOCS:
        for path, test in CITED.findall(doc.read_text(encoding="utf-8")):
            if "<" not in path:  # a pattern such as tests/fuzz/<harness>.py
                found.append((doc.relative_to(REPO).as_posix(), path, test or None))
    return sorted(set(found), key=lambda c: (c[0], c[1], c[2] or ""))


def test_the_docs_cite_tests_at_all():
    assert len(_citations()) >= 20


@pytest.mark.parametrize("doc,path,test", _citations())
def test_every_cited_test_exists(doc, path, test):
    target = REPO / path
    assert target.exists(), f"{doc} cites {path}, which does not exist"
    if test:
        names = {n.name for n in ast.walk(ast.parse(target.read_text())) if isinstance(n, ast.FunctionDef)}
        assert test in names, f"{doc} cites {path}::{test}, which does not exist"

"""Only the verifiers make verified values (docs/decisions/0007): outside
sitegen/verify/, no code constructs a VerifiedRecord, VerifiedBundle or
MirrorEntry, copies one with dataclasses.replace, or uses the class as a value
(which could construct one indirectly). Annotations, imports and isinstance()
checks are fine. An AST scan of every module of sitegen/."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from helpers import REPO

SITEGEN = REPO / "sitegen"
VERIFY = SITEGEN / "verify"
VERIFIED = {"VerifiedRecord", "VerifiedBundle", "MirrorEntry"}
#: ``dataclasses.replace`` outside verify/, by file and first argument: each is
#: known not to be a verified value. A new one fails this test until it is
#: checked and listed here (or moved into sitegen/verify/).
REPLACE_ALLOWED = {
    ("sitegen/config.py", "settings"),
    ("sitegen/pull/run.py", "opts.selection"),
    ("sitegen/pull/run.py", "i"),  # a sources.Item
    ("sitegen/serve.py", "settings"),
    ("sitegen/serve.py", "self.state"),
}


def modules() -> list[Path]:
    return sorted(p for p in SITEGEN.rglob("*.py") if VERIFY not in p.parents)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _annotations(tree: ast.AST) -> Iterator[ast.expr]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if a is not None and a.annotation is not None:
                    yield a.annotation
            if node.returns is not None:
                yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def _isinstance_classes(tree: ast.AST) -> Iterator[ast.expr]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in ("isinstance", "issubclass") and len(node.args) == 2:
            yield node.args[1]


def _replace_functions(tree: ast.AST) -> set[str]:
    """Names under which this module can call ``dataclasses.replace``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "dataclasses":
            names |= {a.asname or a.name for a in node.names if a.name == "replace"}
    return names


def violations(path: Path) -> list[str]:
    rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
    tree = ast.parse(path.read_bytes(), rel)
    allowed: set[int] = set()  # ids of Name/Attribute nodes where a verified class may appear
    for root in [*_annotations(tree), *_isinstance_classes(tree)]:
        allowed |= {id(n) for n in ast.walk(root)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)) and _name(node) in VERIFIED and id(node) not in allowed:
            found.append(f"{rel}:{node.lineno}: uses {_name(node)} other than in an annotation or isinstance()")
    replace_names = _replace_functions(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_replace = (isinstance(func, ast.Name) and func.id in replace_names) or (
            isinstance(func, ast.Attribute) and func.attr == "replace" and isinstance(func.value, ast.Name)
            and func.value.id == "dataclasses")
        if is_replace and (rel, ast.unparse(node.args[0])) not in REPLACE_ALLOWED:
            found.append(f"{rel}:{node.lineno}: dataclasses.replace({ast.unparse(node.args[0])}, …) outside "
                         "sitegen/verify/ (if it is not a verified value, add it to REPLACE_ALLOWED)")
    return found


def test_only_the_verifiers_construct_or_copy_verified_values():
    problems = [v for path in modules() for v in violations(path)]
    assert not problems, "\n".join(problems)


def test_the_scan_sees_every_module_and_the_verifiers_do_construct_them():
    """The scan is not vacuous: it covers sitegen/ and would find the verifiers' own constructions."""
    assert {p.relative_to(SITEGEN).parts[0] for p in modules()} >= {"pith", "site", "build", "mirror", "pull",
                                                                  "cli.py", "model.py"}
    made = [v for path in sorted(VERIFY.rglob("*.py")) for v in violations(path)]
    assert any("MirrorEntry" in v for v in made) and any("VerifiedRecord" in v for v in made)
    assert any("VerifiedBundle" in v for v in made) and any("dataclasses.replace" in v for v in made)


def test_a_planted_construction_or_copy_is_found(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from dataclasses import replace as r\nimport dataclasses\n"
                       "from sitegen.model import MirrorEntry, VerifiedRecord\n"
                       "def f(rec: VerifiedRecord) -> bool:\n"
                       "    make = VerifiedRecord\n"
                       "    r(rec, body={})\n"
                       "    dataclasses.replace(rec)\n"
                       "    return isinstance(rec, (VerifiedRecord, MirrorEntry))\n")
    found = violations(planted)
    assert len(found) == 3 and ":5: uses VerifiedRecord" in found[0], found

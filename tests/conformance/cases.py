"""The conformance case model and helpers to write hostile content.

A :class:`Case` writes one or more hostile files under ``content/`` and
names the problem the build must report: the check (sitegen's error class,
e.g. ``record.receipt.signature`` or ``load.json``) and the ``file: field``
the message must name. Every case is run through the real CLI build.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pithfactory import SEED_BUNDLES, SEED_RECORDS, load_json

CATEGORIES = ("forgery", "malformed", "injection", "terminal")
RECORD = load_json(SEED_RECORDS[0])        # 5MNN3ESP…, two cross-listed categories
OTHER_RECORD = load_json(SEED_RECORDS[3])  # BIMLI3TH…
BUNDLE = load_json(SEED_BUNDLES[0])
DIR = "conformance"


@dataclass(frozen=True)
class Case:
    """One must-fail input. ``setup(content_dir)`` writes it and returns the
    path (relative to the site directory) the error must name."""

    name: str
    category: str
    setup: Callable[[Path], str]
    check: str
    field: str

    def __post_init__(self) -> None:
        assert self.category in CATEGORIES, self.category


def write(content: Path, name: str, data: bytes) -> str:
    path = content / DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"content/{DIR}/{name}"


#: Key-document cases write ``content/keys/<KEY_PREFIX><name>.json``: the prefix
#: sorts after every real key file, so a clash with a trusted key (same id, same
#: key) is reported on the hostile file; the runner deletes these files after.
KEY_PREFIX = "zz-conformance-"


def key_case(name: str, category: str, make: Callable[[], Any], check: str, field: str) -> Case:
    """A case whose hostile file is a key document ``make()`` (a dict → JSON,
    or raw bytes) in ``content/keys/`` — the operator's keyring."""
    def setup(content: Path) -> str:
        doc = make()
        data = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode("utf-8")
        path = content / "keys" / f"{KEY_PREFIX}{name}.json"
        path.write_bytes(data)
        return f"content/keys/{path.name}"
    return Case(name, category, setup, check, field)


def doc_case(name: str, category: str, make: Callable[[], Any], check: str, field: str,
             filename: str | None = None) -> Case:
    """A case whose hostile file is ``make()`` (a dict → JSON, or raw bytes)."""
    def setup(content: Path) -> str:
        doc = make()
        data = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode("utf-8")
        return write(content, filename or f"{name}.json", data)
    return Case(name, category, setup, check, field)


def mutated(seed: dict, mutate: Callable[[dict], Any]) -> Callable[[], dict]:
    def make() -> dict:
        doc = copy.deepcopy(seed)
        mutate(doc)
        return doc
    return make


def set_path(path: str, value: Any) -> Callable[[dict], None]:
    """Mutation setting ``a.b.0.c`` to ``value`` (or ``value(old)`` if callable)."""
    def mutate(doc: dict) -> None:
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        key = int(last) if last.isdigit() else last
        node[key] = value(node[key]) if callable(value) else value
    return mutate


def flip(sig: str) -> str:
    return ("B" if sig[0] == "A" else "A") + sig[1:]

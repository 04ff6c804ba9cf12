"""Load stage: find content files, read them under a size cap, parse strict JSON,
and recognise the document type.

Contract: :func:`load_content` never raises for bad input; it returns the
parsed documents and one :class:`~sitegen.errors.Problem` per bad file, so a
build reports every bad file in one run. Cheap checks come first (file type,
size cap, UTF-8, strict JSON) so hostile input costs little.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from sitegen.errors import InputError, Problem, quote
from sitegen.model import ParsedDocument, SourceFile

__all__ = ["discover_paths", "read_source", "parse_strict_json", "classify", "load_content", "display_path"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]")

#: ``record_type`` / ``bundle_type`` values sitegen recognises (PROTOCOL.md §4).
DOCUMENT_TYPES = {("record_type", "pith_number_record"): "record",
                  ("bundle_type", "pith_open_graph_bundle"): "bundle"}


def _problem(rel: str, message: str, check: str, field: str = "") -> InputError:
    return InputError(Problem(rel, field, message, check))


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a symlink loop: treated as a file, reported when read
        return False


def discover_paths(content_dir: Path, site_dir: Path, *,
                   exclude: tuple[str, ...] = ("keys",)) -> tuple[list[str], list[Problem]]:
    """List every ``*.json`` under ``content_dir`` (sorted), skipping the
    top-level directories named in ``exclude`` and hidden ones.

    Symlinked directories are not followed (each is a problem); a symlinked
    file must resolve to a regular file inside ``content_dir``, which
    :func:`read_source` checks (threat: publishing files from outside the
    content tree). ``os.scandir``: no system call per file. Returns
    ``(paths, problems)``."""
    paths: list[str] = []
    problems: list[Problem] = []
    todo = [str(content_dir)]
    while todo:
        here = todo.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError as e:
            problems.append(Problem(display_path(Path(here), site_dir), "", f"cannot list: {e.strerror}", "load.file"))
            continue
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                if here == str(content_dir) and name in exclude or name.startswith("."):
                    continue
                if name.endswith(".json"):
                    problems.append(Problem(display_path(Path(entry.path), site_dir), "",
                                            "is a directory, expected a JSON file", "load.file"))
                else:
                    todo.append(entry.path)
            elif entry.is_symlink() and _is_dir(entry):
                if not (here == str(content_dir) and name in exclude):
                    problems.append(Problem(display_path(Path(entry.path), site_dir), "", "is a symlink to a "
                                            "directory; symlinked directories are not followed", "load.file"))
            elif name.endswith(".json") and not name.startswith("."):
                paths.append(entry.path)
    paths.sort()
    problems.sort(key=lambda p: p.file)
    return paths, problems


def display_path(path: Path, site_dir: Path) -> str:
    """``path`` as shown to users: relative to the site directory when inside it."""
    try:
        return path.relative_to(site_dir).as_posix()
    except ValueError:
        return path.as_posix()


def read_source(path: Path, site_dir: Path, content_dir: Path, max_bytes: int) -> SourceFile:
    """Read one content file; raises :class:`InputError` if it is a symlink out
    of ``content_dir``, not a regular file, or larger than ``max_bytes``."""
    rel = display_path(path, site_dir)
    if path.is_symlink():
        try:  # strict: a loop or a dangling link is an OSError, not a crash
            target = Path(os.path.realpath(path, strict=True))
        except OSError as e:
            raise _problem(rel, f"symlink cannot be resolved: {e.strerror}", "load.file") from None
        if not target.is_relative_to(Path(os.path.realpath(content_dir))):
            raise _problem(rel, "symlink points outside content/", "load.file")
    try:
        st = os.stat(path)
    except OSError as e:
        raise _problem(rel, f"cannot stat: {e.strerror}", "load.file") from e
    if not stat.S_ISREG(st.st_mode):
        raise _problem(rel, "is not a regular file", "load.file")
    if st.st_size > max_bytes:
        raise _problem(rel, f"file is {st.st_size} bytes, over the {max_bytes}-byte cap "
                       "(max_document_bytes)", "load.size")
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise _problem(rel, f"cannot read: {e.strerror}", "load.file") from e
    if len(data) > max_bytes:
        raise _problem(rel, f"file grew past the {max_bytes}-byte cap while read", "load.size")
    return SourceFile(path=path, rel=rel, data=data)


class _Reject(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _Reject(f"duplicate key {quote(k)}")
            seen.add(k)
    return obj


def _constant(name: str) -> Any:
    raise _Reject(f"{name} is not valid JSON")


def _int(text: str) -> int:
    value = int(text)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _Reject(f"integer {quote(text, 40)} does not fit in 64 bits")
    return value


def _depth_ok(obj: Any, limit: int) -> bool:
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return True


def _strings_encodable(obj: Any) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_strict_json(data: bytes, *, max_depth: int = 64) -> Any:
    """Parse ``data`` as strict RFC 8259 JSON in UTF-8.

    Rejects (``ValueError`` with a short reason): a byte order mark, invalid
    UTF-8, duplicate object keys (threat: two parsers seeing two documents),
    ``NaN``/``Infinity``, integers outside signed 64 bits, nesting deeper than
    ``max_depth``, and lone UTF-16 surrogates (they have no canonical UTF-8 form).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("starts with a UTF-8 byte order mark; Pith documents are plain UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"invalid UTF-8 at byte {e.start}") from None
    if not text.strip():
        raise ValueError("file is empty")
    try:
        obj = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_int)
    except _Reject as e:
        raise ValueError(str(e)) from None
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise ValueError(f"JSON nesting is deeper than {max_depth} levels") from None
    if not _depth_ok(obj, max_depth):
        raise ValueError(f"JSON nesting is deeper than {max_depth} levels")
    if _SURROGATE_ESCAPE.search(text) and not _strings_encodable(obj):
        raise ValueError("string holds a lone UTF-16 surrogate (no UTF-8 form)")
    return obj


def classify(body: Any) -> str:
    """Return ``"record"`` or ``"bundle"`` for a parsed document; raises
    ``ValueError`` naming what was found otherwise (PROTOCOL.md §4)."""
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object at the top level")
    kinds = [kind for (field, value), kind in DOCUMENT_TYPES.items() if body.get(field) == value]
    if len(kinds) == 1:
        return kinds[0]
    if len(kinds) > 1:
        raise ValueError("has both record_type and bundle_type; a document is one or the other")
    found = {f: body[f] for f, _ in DOCUMENT_TYPES if f in body}
    shown = ", ".join(f"{k}={quote(v)}" for k, v in found.items()) or "no record_type or bundle_type"
    raise ValueError(f"unknown document type ({shown}); expected record_type "
                     "'pith_number_record' or bundle_type 'pith_open_graph_bundle'")


def load_one(path: Path, site_dir: Path, content_dir: Path, *, max_bytes: int,
             max_depth: int) -> ParsedDocument:
    """Read, parse and classify one content file; raises :class:`InputError`."""
    source = read_source(path, site_dir, content_dir, max_bytes)
    try:
        body = parse_strict_json(source.data, max_depth=max_depth)
    except ValueError as e:
        raise _problem(source.rel, str(e), "load.json") from None
    try:
        kind = classify(body)
    except ValueError as e:
        raise _problem(source.rel, str(e), "load.type") from None
    return ParsedDocument(source=source, kind=kind, body=body)


def load_content(content_dir: Path, site_dir: Path, *, max_bytes: int,
                 max_depth: int = 64) -> tuple[list[ParsedDocument], list[Problem], int]:
    """Load every Pith document under ``content_dir`` (except ``keys/``).

    Returns ``(documents, problems, files_seen)``; never raises for bad input.
    A missing ``content_dir`` is reported as a problem.
    """
    if not content_dir.is_dir():
        return [], [Problem(display_path(content_dir, site_dir), "", "content directory not found", "load.file")], 0
    found, problems = discover_paths(content_dir, site_dir)
    paths = [Path(p) for p in found]
    files_seen = len(paths) + len(problems)
    docs: list[ParsedDocument] = []
    for path in paths:
        try:
            docs.append(load_one(path, site_dir, content_dir, max_bytes=max_bytes, max_depth=max_depth))
        except InputError as e:
            problems.append(e.problem)
    return docs, problems, files_seen

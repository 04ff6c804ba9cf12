"""Strict JSON and the document types sitegen knows (docs/protocol.md §1, §4).

Pure functions, no I/O. :func:`parse_strict_json` is the one JSON parser for
everything that comes from outside — Pith documents, key documents, the build
store's JSON, a published tree, a remote mirror — and :func:`parse_document`
turns the bytes of one content file into a classified
:class:`~sitegen.model.ParsedDocument`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sitegen.errors import InputError, Problem, quote
from sitegen.model import ParsedDocument, SourceFile

__all__ = ["parse_strict_json", "classify", "parse_document", "DOCUMENT_TYPES", "MAX_JSON_DEPTH"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
#: A ``\u`` escape of any UTF-16 surrogate, high (D800–DBFF) or low (DC00–DFFF).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
#: Default maximum nesting depth (recursion bombs).
MAX_JSON_DEPTH = 64

#: ``record_type`` / ``bundle_type`` values sitegen recognises (docs/protocol.md §4).
DOCUMENT_TYPES = {("record_type", "pith_number_record"): "record",
                  ("bundle_type", "pith_open_graph_bundle"): "bundle"}


class _Reject(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
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
    if len(text.lstrip("-")) > 19:  # before int(): huge digit strings are slow to convert (or refused)
        raise _Reject(f"integer {quote(text, 40)} does not fit in 64 bits")
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


def parse_strict_json(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
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
    ``ValueError`` naming what was found otherwise (docs/protocol.md §4)."""
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


def parse_document(source: SourceFile, *, max_depth: int = MAX_JSON_DEPTH) -> ParsedDocument:
    """Parse and classify the bytes of one content file; raises
    :class:`~sitegen.errors.InputError` (check ``load.json`` or ``load.type``)."""
    try:
        body = parse_strict_json(source.data, max_depth=max_depth)
    except ValueError as e:
        raise InputError(Problem(source.rel, "", str(e), "load.json")) from None
    try:
        kind = classify(body)
    except ValueError as e:
        raise InputError(Problem(source.rel, "", str(e), "load.type")) from None
    return ParsedDocument(source=source, kind=kind, body=body)

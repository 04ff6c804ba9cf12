"""Canonical JSON and the digests defined over it (docs/protocol.md §1, §4).

Pure functions, no I/O. Every digest in the Pith formats is the SHA-256 of
canonical JSON of a parsed value — never of bytes as served (key order
differs between documents).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = [
    "canonical_json",
    "canonical_json_fast",
    "canonical_sha256",
    "sha256_hex",
    "event_content_sha256",
    "bundle_sha256",
    "state_sha256",
    "title_canon_sha256",
    "EVENT_UNSIGNED_FIELDS",
]

#: Event fields excluded from an event's content hash (docs/protocol.md §4.2).
EVENT_UNSIGNED_FIELDS = frozenset({"signature", "content_sha256", "event_id"})


def canonical_json(obj: Any) -> bytes:
    """The canonical JSON bytes of ``obj`` (docs/protocol.md §1).

    Exactly ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode("utf-8")``. Call it on parsed JSON only.

    Raises ``UnicodeEncodeError`` for a string holding a lone surrogate (no
    UTF-8 form) and ``RecursionError`` for absurd nesting; the strict parser
    (:mod:`sitegen.pith.strict_json`) rejects both before a document gets here.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_json_fast(obj: Any) -> bytes:
    """:func:`canonical_json` via orjson, for values made only of strings,
    integers, booleans, null, lists and objects with string keys — the values
    sitegen writes itself. Equal bytes for those (proven by
    ``tests/pith/test_protocol.py``); not for floats, so never for documents
    from outside (decision record docs/decisions/0002-canonical-json.md)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_sha256(obj: Any) -> str:
    """Lowercase hex SHA-256 of :func:`canonical_json` of ``obj`` (docs/protocol.md §1)."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def event_content_sha256(event: Mapping[str, Any]) -> str:
    """Content hash of an open-graph event: canonical SHA-256 of the event
    without ``signature``, ``content_sha256`` and ``event_id`` (docs/protocol.md §4.2)."""
    return canonical_sha256({k: v for k, v in event.items() if k not in EVENT_UNSIGNED_FIELDS})


def bundle_sha256(bundle: Mapping[str, Any]) -> str:
    """Canonical SHA-256 of a bundle without ``bundle_signature`` (docs/protocol.md §4.2)."""
    return canonical_sha256({k: v for k, v in bundle.items() if k != "bundle_signature"})


def state_sha256(state: Mapping[str, Any]) -> str:
    """Canonical SHA-256 of a state without ``state_sha256`` (docs/protocol.md §4.3)."""
    return canonical_sha256({k: v for k, v in state.items() if k != "state_sha256"})


def title_canon_sha256(title: str) -> str:
    """SHA-256 (hex) of the lower-cased title, UTF-8 (docs/protocol.md §4.1).

    Observed on real data; the resolver's whitespace and Unicode
    normalisation, if any, is unknown (every real title seen is ASCII with
    single spaces), so none is applied. The hash covers the title only *up to
    letter case*: pages say so.
    """
    return hashlib.sha256(title.lower().encode("utf-8")).hexdigest()

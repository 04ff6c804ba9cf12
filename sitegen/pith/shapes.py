"""Declarative shapes of Pith documents and a validator that reports every
mismatch with its dotted field path.

The shapes encode docs/protocol.md §3–4: required fields, exact JSON types (a
boolean is never accepted as an integer), and formats of values that later
become URLs or text (arXiv ids, categories, timestamps — which must also name
a real instant). Unknown extra fields are allowed (forward compatibility,
docs/decisions/0003-unknown-fields.md) but are never rendered.

Shape language:
    str, int, bool, dict, list    exact JSON type (int excludes bool)
    {"k": shape, ...}             object with these keys; ``Opt(shape)`` marks optional
    [shape]                       array whose items all match ``shape``
    Const(v) / Regex(p) / Nullable(s) / MapOf(s) / AnyOf(a, b) / Timestamp(strict)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sitegen.errors import quote
from sitegen.pith import numbers, timestamps

__all__ = [
    "Opt", "Const", "Regex", "Nullable", "MapOf", "AnyOf", "Timestamp", "validate",
    "ARXIV_ID", "CATEGORY", "TIMESTAMP", "HEX64", "SIGNATURE_B64", "KEY_ID",
    "SOURCE", "CANONICAL_RECORD", "RECEIPT", "ALIAS", "KEY_DOCUMENT",
    "RECORD", "EVENT", "STATE", "BUNDLE",
]


@dataclass(frozen=True)
class Opt:
    shape: Any


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Regex:
    pattern: re.Pattern[str]
    describe: str


@dataclass(frozen=True)
class Timestamp:
    """An ISO 8601 timestamp naming a real instant (docs/protocol.md §4);
    ``strict``: only the signed-metadata form ``YYYY-MM-DDTHH:MM:SSZ``."""

    strict: bool


@dataclass(frozen=True)
class Nullable:
    shape: Any


@dataclass(frozen=True)
class MapOf:
    shape: Any


@dataclass(frozen=True)
class AnyOf:
    shapes: tuple[Any, ...]


def _rx(pattern: str, describe: str) -> Regex:
    return Regex(re.compile(pattern), describe)


_TYPE_NAMES = {str: "string", int: "integer", bool: "boolean", dict: "object", list: "array"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    for t, name in ((bool, "boolean"), (int, "integer"), (float, "number"),
                    (str, "string"), (dict, "object"), (list, "array")):
        if isinstance(value, t):
            return name
    return type(value).__name__


def _is_type(value: Any, t: type) -> bool:
    if t is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, t)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate(value: Any, shape: Any, path: str = "") -> list[tuple[str, str]]:
    """Check ``value`` against ``shape``; return ``[(field_path, problem), …]``.

    An empty list means the value has the shape. Never raises for any JSON
    value. Problems quote untrusted values with :func:`sitegen.errors.quote`.
    """
    out: list[tuple[str, str]] = []
    _validate(value, shape, path, out)
    return out


def _validate(value: Any, shape: Any, path: str, out: list[tuple[str, str]]) -> None:
    if isinstance(shape, type):
        if not _is_type(value, shape):
            out.append((path, f"expected {_TYPE_NAMES[shape]}, got {_type_name(value)}"))
    elif isinstance(shape, dict):
        if not isinstance(value, dict):
            out.append((path, f"expected object, got {_type_name(value)}"))
            return
        for key, sub in shape.items():
            optional = isinstance(sub, Opt)
            if key not in value:
                if not optional:
                    out.append((_join(path, key), "required field is missing"))
                continue
            _validate(value[key], sub.shape if optional else sub, _join(path, key), out)
    elif isinstance(shape, list):
        if not isinstance(value, list):
            out.append((path, f"expected array, got {_type_name(value)}"))
            return
        for i, item in enumerate(value):
            _validate(item, shape[0], f"{path}[{i}]", out)
    elif isinstance(shape, Const):
        if value != shape.value or type(value) is not type(shape.value):
            out.append((path, f"expected {shape.value!r}, got {quote(value)}"))
    elif isinstance(shape, Regex):
        if not isinstance(value, str):
            out.append((path, f"expected string ({shape.describe}), got {_type_name(value)}"))
        elif not shape.pattern.match(value):
            out.append((path, f"expected {shape.describe}, got {quote(value)}"))
    elif isinstance(shape, Timestamp):
        if not isinstance(value, str):
            out.append((path, f"expected string (a timestamp), got {_type_name(value)}"))
        elif not timestamps.is_timestamp(value, strict=shape.strict):
            form = "'YYYY-MM-DDTHH:MM:SSZ'" if shape.strict else "an ISO 8601 timestamp with Z or an offset"
            out.append((path, f"expected a real date and time, {form}, got {quote(value)}"))
    elif isinstance(shape, Nullable):
        if value is not None:
            _validate(value, shape.shape, path, out)
    elif isinstance(shape, MapOf):
        if not isinstance(value, dict):
            out.append((path, f"expected object, got {_type_name(value)}"))
            return
        for key, item in value.items():
            _validate(item, shape.shape, _join(path, key), out)
    elif isinstance(shape, AnyOf):
        for sub in shape.shapes:
            if not validate(value, sub, path):
                return
        out.append((path, f"unexpected {_type_name(value)} value {quote(value)}"))
    else:  # pragma: no cover - a broken shape table is a bug
        raise TypeError(f"unknown shape {shape!r}")


# --- formats (docs/protocol.md §4, §7) ------------------------------------------
# These fields become URLs and paths, so they are held to real arXiv formats.
#: New-style ``YYMM.NNNN(N)`` or old-style ``archive(.SC)?/YYMMNNN`` (docs/protocol.md §7).
ARXIV_ID = _rx(r"\A(?:[0-9]{4}\.[0-9]{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/[0-9]{7})\Z",
               "an arXiv id such as '1709.05011' or 'hep-lat/0305021'")
CATEGORY = _rx(r"\A[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]+(?:-[a-z]+)*)?\Z",
               "an arXiv category such as 'cs.LG' or 'hep-lat'")
TIMESTAMP = Timestamp(strict=True)
#: Looser timestamps of unsigned / registry-side fields (fractions, offsets).
ANY_TIMESTAMP = Timestamp(strict=False)
HEX64 = Regex(numbers.HEX64_RE, "64 lowercase hex characters")
HEX32 = _rx(r"\A[0-9a-f]{32}\Z", "32 lowercase hex characters")
SIGNATURE_B64 = _rx(r"\A[A-Za-z0-9+/]{86}==\Z", "a base64 Ed25519 signature (88 characters)")
KEY_ID = _rx(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z", "a key id such as 'pith-v1-2026-05'")
PITH_NUMBER = Regex(numbers.PITH_NUMBER_RE, "a Pith Number 'pith:YYYY:<26 base32 chars>'")
SHORT_PITH = Regex(numbers.SHORT_PITH_NUMBER_RE, "a short Pith Number 'pith:<8 base32 chars>'")
EVENT_ID = _rx(r"\Asha256:[0-9a-f]{64}\Z", "'sha256:' and 64 hex characters")

SOURCE = {"id": ARXIV_ID, "kind": Const("arxiv"), "version": int}

CANONICAL_RECORD = {
    "source": SOURCE,
    "metadata": {
        "license": str,
        "primary_cat": CATEGORY,
        "submitted_at": TIMESTAMP,
        "cross_cats_sorted": [CATEGORY],
        "title_canon_sha256": HEX64,
        "abstract_canon_sha256": HEX64,
    },
    "schema_version": Const("1.0"),
}

RECEIPT = {
    "kind": Opt(str),
    "key_id": KEY_ID,
    "algorithm": Const("ed25519"),
    "signed_at": Opt(ANY_TIMESTAMP),
    "signature_b64": SIGNATURE_B64,
    "signed_message": Const("canonical_sha256_bytes"),
    "builder_version": Opt(str),
    "receipt_version": Opt(str),
    "canonical_sha256": HEX64,
    "last_reissued_at": Opt(Nullable(ANY_TIMESTAMP)),
    "signature_status": Opt(str),
    "first_computed_at": Opt(Nullable(ANY_TIMESTAMP)),
    "public_key_fingerprint": HEX32,
}

ALIAS = {"alias_kind": str, "alias_value": str, "created_at": Opt(str)}

KEY_DOCUMENT = {
    "key_id": KEY_ID,
    "algorithm": Const("ed25519"),
    "format": Const("raw"),
    "public_key_b64": str,
    "public_key_hex": HEX64,
    "fingerprint_sha256_b32_first128bits": Regex(numbers.SUFFIX_RE, "26 base32 characters"),
    "fingerprint_sha256_hex": HEX32,
    "rotates_at": Opt(Nullable(ANY_TIMESTAMP)),
    "url": Opt(Nullable(str)),
    "notes": Opt(Nullable(str)),
    # sitegen extensions an operator may add to a key file (not in the resolver's format):
    "not_before": Opt(Nullable(ANY_TIMESTAMP)),
    "revoked": Opt(bool),
}

PAPER = {
    "title": str,
    "license": str,
    "headline": Opt(str),
    "cross_cats": [CATEGORY],
    "primary_cat": CATEGORY,
    "authors_text": str,
    "submitted_at": TIMESTAMP,
    "abstract_excerpt": str,
}

CITATION = {
    "citing_arxiv_id": ARXIV_ID,
    "citing_title": str,
    "ref_index": Opt(Nullable(int)),
    "is_internal_anchor": Opt(bool),
}

RECORD = {
    "record_type": Const("pith_number_record"),
    "pith_number": PITH_NUMBER,
    "short_pith_number": SHORT_PITH,
    "schema_version": Const("1.0"),
    "canonical_sha256": HEX64,
    "source": SOURCE,
    "attestation_state": Opt(str),
    "paper": PAPER,
    "verification_status": MapOf(AnyOf((bool, int))),
    "canonical_record": CANONICAL_RECORD,
    "receipt": RECEIPT,
    "aliases": [ALIAS],
    "events": [dict],
    "inbound_citations": Opt({"count": int, "internal_anchor_count": Opt(int), "sample": [CITATION]}),
    "links": MapOf(str),
    "created_at": ANY_TIMESTAMP,
    "updated_at": ANY_TIMESTAMP,
}

SIGNER = {"signer_id": str, "signer_type": str, "key_id": KEY_ID, "public_key_fingerprint": HEX32}

EVENT_SIGNATURE = {
    "signature_status": Opt(str),
    "algorithm": Const("ed25519"),
    "key_id": KEY_ID,
    "public_key_fingerprint": HEX32,
    "signature_b64": SIGNATURE_B64,
    "signed_message": Const("open_graph_event_sha256_bytes"),
    "signed_at": Opt(ANY_TIMESTAMP),
}

EVENT = {
    "event_type": _rx(r"\A[a-z][a-z0-9_]{0,63}\Z", "an event type such as 'record_created'"),
    "subject_pith_number": str,
    "target": _rx(r"\A[a-z][a-z0-9_]{0,63}\Z", "an event target such as 'record'"),
    "payload": dict,
    "signer": SIGNER,
    "created_at": ANY_TIMESTAMP,
    "supersedes": [str],
    "prev_event": Nullable(str),
    "signature": EVENT_SIGNATURE,
    "content_sha256": HEX64,
    "schema_version": str,
    "event_id": EVENT_ID,
}

STATE = {
    "state_type": Const("pith_open_graph_state"),
    "state_version": str,
    "pith_number": str,
    "merge_version": str,
    "event_count": int,
    "valid_event_count": int,
    "invalid_event_count": int,
    "equivocation_count": int,
    "current": dict,
    "equivocations": list,
    "invalid_events": list,
    "applied_event_ids": [str],
    "state_sha256": HEX64,
}

BUNDLE = {
    "bundle_type": Const("pith_open_graph_bundle"),
    "bundle_version": str,
    "pith_number": PITH_NUMBER,
    "short_pith_number": SHORT_PITH,
    "canonical_record": CANONICAL_RECORD,
    "canonical_sha256": HEX64,
    "source": SOURCE,
    "source_aliases": [ALIAS],
    "events": [EVENT],
    "timestamp_proofs": list,
    "mirror_hints": list,
    "public_keys": [KEY_DOCUMENT],
    "merge_version": str,
    "built_at": ANY_TIMESTAMP,
    "links": MapOf(str),
    "state": STATE,
    "bundle_signature": {
        "signature_status": Opt(str),
        "algorithm": Const("ed25519"),
        "key_id": KEY_ID,
        "public_key_fingerprint": HEX32,
        "signature_b64": SIGNATURE_B64,
        "signed_message": Const("bundle_sha256_bytes"),
        "signed_at": Opt(ANY_TIMESTAMP),
        "bundle_sha256": HEX64,
    },
}

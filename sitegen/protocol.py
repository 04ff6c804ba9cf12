"""Pith protocol primitives: canonical JSON, digests, Pith Numbers, signatures.

Pure functions with no I/O and no state. Every rule cites the section of
PROTOCOL.md it implements; those sections were checked against the real seed
documents (tests/test_protocol.py proves it on every build).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any, Mapping

import nacl.exceptions
import nacl.signing

__all__ = [
    "SUFFIX_RE",
    "PITH_NUMBER_RE",
    "HEX64_RE",
    "canonical_json",
    "canonical_sha256",
    "sha256_hex",
    "pith_suffix",
    "pith_number",
    "short_pith_number",
    "parse_pith_number",
    "title_canon_sha256",
    "key_fingerprint",
    "key_fingerprint_b32",
    "decode_signature_b64",
    "verify_digest_signature",
    "event_content_sha256",
    "bundle_sha256",
    "state_sha256",
    "EVENT_UNSIGNED_FIELDS",
]

#: A Pith Number suffix: 26 characters of RFC 4648 base32 (PROTOCOL.md §2).
SUFFIX_RE = re.compile(r"\A[A-Z2-7]{26}\Z")
#: Full Pith Number ``pith:<YYYY>:<SUFFIX>`` (PROTOCOL.md §2).
PITH_NUMBER_RE = re.compile(r"\Apith:([0-9]{4}):([A-Z2-7]{26})\Z")
#: A lowercase hex SHA-256 digest.
HEX64_RE = re.compile(r"\A[0-9a-f]{64}\Z")

#: Event fields excluded from an event's content hash (PROTOCOL.md §4.2).
EVENT_UNSIGNED_FIELDS = frozenset({"signature", "content_sha256", "event_id"})

_SUFFIX_LEN = 26
_SHORT_LEN = 8


def canonical_json(obj: Any) -> bytes:
    """Return the canonical JSON bytes of ``obj`` (PROTOCOL.md §1).

    Exactly ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode("utf-8")``. Always call this on parsed JSON;
    never hash bytes as served (key order differs between documents).

    Raises ``UnicodeEncodeError`` for strings holding lone surrogates (they have
    no UTF-8 form) and ``RecursionError`` for absurdly deep nesting; the loader
    rejects both before any document reaches the verifier.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_sha256(obj: Any) -> str:
    """Lowercase hex SHA-256 of :func:`canonical_json` of ``obj`` (PROTOCOL.md §1)."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def _b32_26(digest: bytes) -> str:
    # PROTOCOL.md §2: the first 26 characters of base32 of the *full* digest.
    # Encoding only the first 16 bytes gets the 26th character wrong.
    return base64.b32encode(digest).decode("ascii")[:_SUFFIX_LEN]


def pith_suffix(digest_hex: str) -> str:
    """The 26-character suffix for a canonical SHA-256 (hex) (PROTOCOL.md §2).

    Raises ``ValueError`` if ``digest_hex`` is not 64 lowercase hex characters.
    """
    if not HEX64_RE.match(digest_hex):
        raise ValueError("digest must be 64 lowercase hex characters")
    return _b32_26(bytes.fromhex(digest_hex))


def pith_number(canonical_record: Mapping[str, Any]) -> str:
    """The full Pith Number ``pith:<YYYY>:<SUFFIX>`` of a canonical record.

    ``YYYY`` is the first four characters of ``metadata.submitted_at`` — not the
    year in the arXiv id (PROTOCOL.md §2). Raises ``KeyError``/``TypeError`` if
    the record lacks ``metadata.submitted_at``; the verifier checks the shape
    first.
    """
    year = canonical_record["metadata"]["submitted_at"][:4]
    return f"pith:{year}:{pith_suffix(canonical_sha256(canonical_record))}"


def short_pith_number(suffix: str) -> str:
    """The short form ``pith:<first 8 suffix characters>`` (PROTOCOL.md §2)."""
    return f"pith:{suffix[:_SHORT_LEN]}"


def parse_pith_number(value: str) -> tuple[str, str]:
    """Split ``pith:YYYY:SUFFIX`` into ``(year, suffix)``.

    Raises ``ValueError`` if ``value`` is not a well-formed full Pith Number.
    This is the only way a suffix from a document becomes a path component.
    """
    m = PITH_NUMBER_RE.match(value) if isinstance(value, str) else None
    if not m:
        raise ValueError("not a full Pith Number of the form pith:YYYY:<26 base32 chars>")
    return m.group(1), m.group(2)


def title_canon_sha256(title: str) -> str:
    """SHA-256 (hex) of the lower-cased title, UTF-8 (PROTOCOL.md §4.1).

    Verified on real data; the resolver's whitespace and Unicode normalisation,
    if any, is unknown (all real titles seen are ASCII with single spaces), so
    none is applied here.
    """
    return hashlib.sha256(title.lower().encode("utf-8")).hexdigest()


def key_fingerprint(public_key_bytes: bytes) -> str:
    """First 16 bytes (32 hex chars) of SHA-256 of a raw public key (PROTOCOL.md §3)."""
    return hashlib.sha256(public_key_bytes).hexdigest()[:32]


def key_fingerprint_b32(public_key_bytes: bytes) -> str:
    """First 26 base32 characters of SHA-256 of a raw public key (PROTOCOL.md §3)."""
    return _b32_26(hashlib.sha256(public_key_bytes).digest())


def decode_signature_b64(signature_b64: str) -> bytes:
    """Decode a base64 Ed25519 signature strictly.

    Rejects (``ValueError``) anything but canonical, padded RFC 4648 base64 of
    exactly 64 bytes: no whitespace, no URL-safe alphabet, no non-zero padding
    bits. Threat: signature malleability / parser differentials between mirrors.
    """
    if not isinstance(signature_b64, str) or not signature_b64.isascii():
        raise ValueError("signature is not ASCII base64 text")
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"signature is not valid base64 ({e})") from e
    if base64.b64encode(raw).decode("ascii") != signature_b64:
        raise ValueError("signature is not canonical base64")
    if len(raw) != 64:
        raise ValueError(f"signature decodes to {len(raw)} bytes, expected 64")
    return raw


def verify_digest_signature(
    digest_hex: str, signature_b64: str, public_key_bytes: bytes
) -> bool:
    """True iff ``signature_b64`` is an Ed25519 signature by ``public_key_bytes``
    over the **raw 32 digest bytes** of ``digest_hex`` (PROTOCOL.md §3).

    Returns False (never raises) for a malformed digest, signature or key.
    libsodium rejects non-canonical ``S`` values and small-order keys.
    """
    if not isinstance(digest_hex, str) or not HEX64_RE.match(digest_hex):
        return False
    if not isinstance(public_key_bytes, (bytes, bytearray)) or len(public_key_bytes) != 32:
        return False
    try:
        signature = decode_signature_b64(signature_b64)
        nacl.signing.VerifyKey(bytes(public_key_bytes)).verify(
            bytes.fromhex(digest_hex), signature
        )
    except (ValueError, nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError):
        return False
    return True


def event_content_sha256(event: Mapping[str, Any]) -> str:
    """Content hash of an open-graph event: canonical SHA-256 of the event
    without ``signature``, ``content_sha256`` and ``event_id`` (PROTOCOL.md §4.2)."""
    return canonical_sha256({k: v for k, v in event.items() if k not in EVENT_UNSIGNED_FIELDS})


def bundle_sha256(bundle: Mapping[str, Any]) -> str:
    """Canonical SHA-256 of a bundle without ``bundle_signature`` (PROTOCOL.md §4.2)."""
    return canonical_sha256({k: v for k, v in bundle.items() if k != "bundle_signature"})


def state_sha256(state: Mapping[str, Any]) -> str:
    """Canonical SHA-256 of a state without ``state_sha256`` (PROTOCOL.md §4.2)."""
    return canonical_sha256({k: v for k, v in state.items() if k != "state_sha256"})

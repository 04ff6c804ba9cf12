"""Ed25519 keys, key documents and signatures (docs/protocol.md §3).

Pure functions, no I/O: :func:`parse_key_document` turns the bytes of one key
document into a :class:`~sitegen.model.TrustedKey` or the problems that stop
it; :func:`verify_digest_signature` checks a signature over raw digest bytes.
Where keys come from (only ``content/keys/``) is decided by
:mod:`sitegen.verify.keyring`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

import nacl.exceptions
import nacl.signing

from sitegen.errors import Problem, quote
from sitegen.model import SourceFile, TrustedKey
from sitegen.pith import shapes
from sitegen.pith.numbers import HEX64_RE, base32_26
from sitegen.pith.strict_json import parse_strict_json
from sitegen.pith.timestamps import parse_timestamp

__all__ = ["key_fingerprint", "key_fingerprint_b32", "decode_signature_b64", "verify_digest_signature",
           "parse_key_document", "KEY_MATERIAL"]

#: Key document fields that identify the key itself (compared field by field
#: when a document embeds a key, docs/protocol.md §3).
KEY_MATERIAL = ("algorithm", "format", "public_key_b64", "public_key_hex",
                "fingerprint_sha256_b32_first128bits", "fingerprint_sha256_hex")


def key_fingerprint(public_key_bytes: bytes) -> str:
    """First 16 bytes (32 hex characters) of SHA-256 of a raw public key."""
    return hashlib.sha256(public_key_bytes).hexdigest()[:32]


def key_fingerprint_b32(public_key_bytes: bytes) -> str:
    """First 26 base32 characters of SHA-256 of a raw public key."""
    return base32_26(hashlib.sha256(public_key_bytes).digest())


def decode_signature_b64(signature_b64: object) -> bytes:
    """Decode a base64 Ed25519 signature strictly.

    Raises ``ValueError`` for anything but canonical, padded RFC 4648 base64
    of exactly 64 bytes: no whitespace, no URL-safe alphabet, no non-zero
    padding bits. Threat: signature malleability, parser differentials.
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


def verify_digest_signature(digest_hex: object, signature_b64: object, public_key_bytes: object) -> bool:
    """True iff ``signature_b64`` is an Ed25519 signature by ``public_key_bytes``
    over the **raw 32 digest bytes** of ``digest_hex`` (docs/protocol.md §3).

    Never raises: a malformed digest, signature or key is False. libsodium
    rejects non-canonical ``S`` values and small-order keys.
    """
    if not isinstance(digest_hex, str) or not HEX64_RE.match(digest_hex):
        return False
    if not isinstance(public_key_bytes, (bytes, bytearray)) or len(public_key_bytes) != 32:
        return False
    try:
        signature = decode_signature_b64(signature_b64)
        nacl.signing.VerifyKey(bytes(public_key_bytes)).verify(bytes.fromhex(digest_hex), signature)
    except (ValueError, nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError):
        return False
    return True


def parse_key_document(source: SourceFile) -> tuple[TrustedKey | None, list[Problem]]:
    """Check one key document (docs/protocol.md §3); ``(key, [])`` or
    ``(None, problems)``, never raises for bad input.

    The document must be self-consistent — base64 and hex agree, both
    fingerprints are recomputed from the key — (threat: a mislabelled key file
    that makes a signature appear to come from another key), and its validity
    window must parse: an unreadable ``rotates_at`` or ``not_before`` is an
    error, never "no limit" (keys fail closed).
    """
    def bad(field: str, msg: str, check: str = "key.document") -> Problem:
        return Problem(source.rel, field, msg, check)

    try:
        doc = parse_strict_json(source.data)
    except ValueError as e:
        return None, [bad("", str(e), "load.json")]
    shape_problems = shapes.validate(doc, shapes.KEY_DOCUMENT)
    if shape_problems:
        return None, [bad(f, m, "key.schema") for f, m in shape_problems]
    try:
        raw = base64.b64decode(doc["public_key_b64"], validate=True)
    except (binascii.Error, ValueError):
        return None, [bad("public_key_b64", "not valid base64")]
    if len(raw) != 32:
        return None, [bad("public_key_b64", f"decodes to {len(raw)} bytes, expected 32")]
    problems: list[Problem] = []
    if raw.hex() != doc["public_key_hex"]:
        problems.append(bad("public_key_hex", "does not match public_key_b64"))
    fp = key_fingerprint(raw)
    if doc["fingerprint_sha256_hex"] != fp:
        problems.append(bad("fingerprint_sha256_hex",
                            f"is {quote(doc['fingerprint_sha256_hex'])}, the key's fingerprint is {fp!r}"))
    fp32 = key_fingerprint_b32(raw)
    if doc["fingerprint_sha256_b32_first128bits"] != fp32:
        problems.append(bad("fingerprint_sha256_b32_first128bits",
                            f"is {quote(doc['fingerprint_sha256_b32_first128bits'])}, "
                            f"the key's fingerprint is {fp32!r}"))
    if problems:
        return None, problems
    window = {name: _window_end(doc, name) for name in ("not_before", "rotates_at")}
    if window["not_before"] and window["rotates_at"] and window["not_before"] >= window["rotates_at"]:
        return None, [bad("not_before", "is not before rotates_at")]
    return TrustedKey(key_id=doc["key_id"], public_key=raw, fingerprint_hex=fp, fingerprint_b32=fp32,
                      document=doc, source=source, revoked=doc.get("revoked", False), **window), []


def _window_end(doc: Mapping[str, Any], name: str) -> Any:
    # The shape already accepted only real timestamps or null (shapes.KEY_DOCUMENT).
    value = doc.get(name)
    return None if value is None else parse_timestamp(value)

"""The Pith Number: suffix, full and short forms (docs/protocol.md §2).

The one definition of the format; every other module (paths, checks,
shapes, templates through views) imports it from here.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from sitegen.pith.canonical import canonical_sha256

__all__ = [
    "SUFFIX_LEN",
    "SHORT_LEN",
    "SUFFIX_RE",
    "PITH_NUMBER_RE",
    "SHORT_PITH_NUMBER_RE",
    "HEX64_RE",
    "base32_26",
    "pith_suffix",
    "pith_number",
    "format_pith_number",
    "short_pith_number",
    "parse_pith_number",
]

#: Characters of a suffix, and of the short form (docs/protocol.md §2).
SUFFIX_LEN, SHORT_LEN = 26, 8
#: A Pith Number suffix: 26 characters of RFC 4648 base32.
SUFFIX_RE = re.compile(r"\A[A-Z2-7]{26}\Z")
#: Full Pith Number ``pith:<YYYY>:<SUFFIX>``.
PITH_NUMBER_RE = re.compile(r"\Apith:([0-9]{4}):([A-Z2-7]{26})\Z")
#: Short Pith Number ``pith:<first 8 suffix characters>``.
SHORT_PITH_NUMBER_RE = re.compile(r"\Apith:[A-Z2-7]{8}\Z")
#: A lowercase hex SHA-256 digest.
HEX64_RE = re.compile(r"\A[0-9a-f]{64}\Z")


def base32_26(digest: bytes) -> str:
    """The first 26 characters of RFC 4648 base32 of the *whole* ``digest``
    (docs/protocol.md §2, §3: suffixes and key fingerprints). Encoding only
    the first 16 bytes gets the 26th character wrong."""
    return base64.b32encode(digest).decode("ascii")[:SUFFIX_LEN]


def pith_suffix(digest_hex: str) -> str:
    """The suffix for a canonical SHA-256 (hex). Raises ``ValueError`` if
    ``digest_hex`` is not 64 lowercase hex characters."""
    if not HEX64_RE.match(digest_hex):
        raise ValueError("digest must be 64 lowercase hex characters")
    return base32_26(bytes.fromhex(digest_hex))


def format_pith_number(year: str, suffix: str) -> str:
    """``pith:<year>:<suffix>`` from parts already checked."""
    return f"pith:{year}:{suffix}"


def pith_number(canonical_record: Mapping[str, Any]) -> str:
    """The full Pith Number of a canonical record.

    ``YYYY`` is the first four characters of ``metadata.submitted_at`` — not
    the year in the arXiv id (docs/protocol.md §2). Raises ``KeyError`` /
    ``TypeError`` if the record lacks ``metadata.submitted_at`` (the verifier
    checks the shape first).
    """
    year = canonical_record["metadata"]["submitted_at"][:4]
    return format_pith_number(year, pith_suffix(canonical_sha256(canonical_record)))


def short_pith_number(suffix: str) -> str:
    """The short form ``pith:<first 8 suffix characters>``."""
    return f"pith:{suffix[:SHORT_LEN]}"


def parse_pith_number(value: object) -> tuple[str, str]:
    """Split ``pith:YYYY:SUFFIX`` into ``(year, suffix)``; raises
    ``ValueError`` if ``value`` is not a well-formed full Pith Number."""
    m = PITH_NUMBER_RE.match(value) if isinstance(value, str) else None
    if not m:
        raise ValueError("not a full Pith Number of the form pith:YYYY:<26 base32 chars>")
    return m.group(1), m.group(2)

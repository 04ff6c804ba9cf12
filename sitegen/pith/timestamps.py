"""Timestamps in Pith documents (docs/protocol.md §4, §7).

Two forms occur: signed metadata uses ``YYYY-MM-DDTHH:MM:SSZ``; registry-side
fields (receipts, ``updated_at``, ``built_at``) use ISO 8601 with optional
fractions and a ``Z`` or ``±HH:MM`` offset. Both must name a real instant: a
string of the right shape with an impossible date (``2026-02-30``) is
rejected, never silently ignored. Every datetime sitegen handles is aware (UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["STRICT_RE", "ISO_RE", "parse_timestamp", "is_timestamp", "utc_stamp", "format_utc"]

#: Signed metadata: ``YYYY-MM-DDTHH:MM:SSZ``.
STRICT_RE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
#: Registry-side fields: fractions of a second and offsets allowed. The offset's
#: minutes are held to 00–59 here: ``datetime.fromisoformat`` reads ``-00:60`` as
#: ``-01:00`` instead of refusing it.
ISO_RE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
                    r"(?:Z|[+-][0-9]{2}:[0-5][0-9])\Z")
_FRACTION = re.compile(r"\.([0-9]{1,9})")


def parse_timestamp(text: object) -> datetime:
    """An ISO 8601 timestamp (``ISO_RE``) as an aware UTC datetime.

    Raises ``ValueError`` for anything else: another shape, a naive time,
    an impossible date or time. Fractions beyond microseconds are truncated.
    """
    if not isinstance(text, str) or not ISO_RE.match(text):
        raise ValueError("not an ISO 8601 timestamp with a Z or ±HH:MM offset")
    normalised = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text).replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(normalised)
    except ValueError:
        raise ValueError("not a real date and time") from None
    return value.astimezone(UTC)


def is_timestamp(text: object, *, strict: bool = False) -> bool:
    """True if ``text`` is a timestamp :func:`parse_timestamp` accepts
    (``strict``: also of the signed-metadata form ``STRICT_RE``)."""
    if strict and not (isinstance(text, str) and STRICT_RE.match(text)):
        return False
    try:
        parse_timestamp(text)
    except ValueError:
        return False
    return True


def format_utc(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of an aware datetime."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_stamp(text: str) -> str:
    """A timestamp as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; raises ``ValueError``."""
    return format_utc(parse_timestamp(text))

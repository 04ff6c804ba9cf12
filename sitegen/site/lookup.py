"""What the static lookup files share with the browser: one hash, one
tokenizer, one integer encoding — each with a JavaScript twin in
``static/assets/lookup.js`` that must give the same result (ours,
docs/protocol.md §9; ``tests/site/test_lookup_in_browser.py`` runs both on the same
inputs in Chromium).

* :func:`cyrb53` — a 53-bit non-cryptographic string hash over UTF-16 code
  units (exact in JavaScript numbers, no ``crypto.subtle``, which plain-HTTP
  hosts do not offer). It only spreads keys over files; nothing trusts it.
* :func:`tokens` — NFKD, combining marks removed, lower-cased, runs of
  letters and digits (``[\\p{L}\\p{N}]+``), 1 to 32 characters.
* :func:`encode_keys` — ascending integers as deltas in LEB128 varints.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["cyrb53", "top16", "shard_of", "shard_range", "tokens", "encode_keys", "decode_keys", "MAX_TOKEN"]

_M32 = 0xFFFFFFFF
#: Longer runs are not indexed (an identifier-like blob, not a word).
MAX_TOKEN = 32
_WORD = re.compile(r"[^\W_]+")


def _imul(a: int, b: int) -> int:
    return (a * b) & _M32


@lru_cache(maxsize=1 << 17)  # search terms repeat (Zipf): most lookups are cache hits
def cyrb53(text: str, seed: int = 0) -> int:
    """The cyrb53 hash of ``text`` (UTF-16 code units, as JavaScript's
    ``charCodeAt``): an integer below 2**53."""
    h1, h2 = 0xDEADBEEF ^ seed, 0x41C6CE57 ^ seed
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        ch = data[i] | (data[i + 1] << 8)
        h1 = _imul(h1 ^ ch, 2654435761)
        h2 = _imul(h2 ^ ch, 1597334677)
    h1 = _imul(h1 ^ (h1 >> 16), 2246822507)
    h1 ^= _imul(h2 ^ (h2 >> 13), 3266489909)
    h2 = _imul(h2 ^ (h2 >> 16), 2246822507)
    h2 ^= _imul(h1 ^ (h1 >> 13), 3266489909)
    return 4294967296 * (2097151 & h2) + (h1 & _M32)


def top16(text: str) -> int:
    """The top 16 of the 53 bits of :func:`cyrb53` — what the build store keeps
    to find a shard's members with a range query."""
    return cyrb53(text) >> 37


def shard_of(text: str, digits: int) -> str:
    """The shard of ``text`` among ``16**digits`` (``digits`` ≤ 4): the top
    ``4 * digits`` bits of its :func:`cyrb53`, as ``digits`` lower-case hex
    digits (``""`` for one shard). JavaScript: ``Math.floor(h / 2 ** (53 - 4 * digits))``."""
    return format(cyrb53(text) >> (53 - 4 * digits), f"0{digits}x") if digits else ""


def shard_range(shard: str) -> tuple[int, int]:
    """The :func:`top16` values of the members of ``shard`` (inclusive)."""
    digits = len(shard)
    if not digits:
        return 0, 0xFFFF
    lo = int(shard, 16) << (16 - 4 * digits)
    return lo, lo + (1 << (16 - 4 * digits)) - 1


def tokens(text: str) -> list[str]:
    """The search tokens of ``text`` in order (duplicates kept); linear time."""
    if text.isascii():  # no marks to fold away (NFKD leaves ASCII as it is)
        folded = text
    else:
        folded = "".join(c for c in unicodedata.normalize("NFKD", text)
                         if not unicodedata.category(c).startswith("M"))
    return [t for t in _WORD.findall(folded.lower()) if len(t) <= MAX_TOKEN]


def encode_keys(keys: Iterable[int]) -> bytes:
    """Ascending non-negative integers as LEB128 varints of their deltas."""
    out = bytearray()
    last = 0
    for key in keys:
        delta = key - last
        last = key
        while True:
            byte = delta & 0x7F
            delta >>= 7
            if delta:
                out.append(byte | 0x80)
            else:
                out.append(byte)
                break
    return bytes(out)


def decode_keys(data: bytes) -> list[int]:
    """Inverse of :func:`encode_keys`."""
    keys: list[int] = []
    value = shift = last = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        last += value
        keys.append(last)
        value = shift = 0
    return keys

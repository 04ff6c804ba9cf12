"""The operator's keyring: trusted Ed25519 keys from ``content/keys/*.json``.

Each file is a key document in the resolver's format (PROTOCOL.md §3). Trust
comes only from these files; a key embedded in a document (a bundle's
``public_keys``) is at most compared against the key here with the same id.
A key document must be self-consistent: base64 and hex agree, and both
fingerprints are recomputed from the key (threat: a mislabelled key file that
makes a signature appear to come from another key).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone
from pathlib import Path

from sitegen import protocol, schema
from sitegen.errors import InputError, Problem, quote
from sitegen.load import display_path, parse_strict_json, read_source
from sitegen.model import Keyring, SourceFile, TrustedKey

__all__ = ["load_keyring", "parse_key_document", "parse_time"]


def parse_key_document(source: SourceFile) -> tuple[TrustedKey | None, list[Problem]]:
    """Check one key document; returns ``(key, [])`` or ``(None, problems)``."""
    def bad(field: str, msg: str, check: str = "key.document") -> Problem:
        return Problem(source.rel, field, msg, check)

    try:
        doc = parse_strict_json(source.data)
    except ValueError as e:
        return None, [bad("", str(e), "load.json")]
    shape_problems = schema.validate(doc, schema.KEY_DOCUMENT)
    if shape_problems:
        return None, [bad(f, m, "key.schema") for f, m in shape_problems]
    problems: list[Problem] = []
    try:
        raw = base64.b64decode(doc["public_key_b64"], validate=True)
    except (binascii.Error, ValueError):
        return None, [bad("public_key_b64", "not valid base64")]
    if len(raw) != 32:
        return None, [bad("public_key_b64", f"decodes to {len(raw)} bytes, expected 32")]
    if raw.hex() != doc["public_key_hex"]:
        problems.append(bad("public_key_hex", "does not match public_key_b64"))
    fp = protocol.key_fingerprint(raw)
    if doc["fingerprint_sha256_hex"] != fp:
        problems.append(bad("fingerprint_sha256_hex",
                            f"is {quote(doc['fingerprint_sha256_hex'])}, the key's fingerprint is {fp!r}"))
    fp32 = protocol.key_fingerprint_b32(raw)
    if doc["fingerprint_sha256_b32_first128bits"] != fp32:
        problems.append(bad("fingerprint_sha256_b32_first128bits",
                            f"is {quote(doc['fingerprint_sha256_b32_first128bits'])}, "
                            f"the key's fingerprint is {fp32!r}"))
    if problems:
        return None, problems
    window = {name: parse_time(doc.get(name)) for name in ("not_before", "rotates_at")}
    if window["not_before"] and window["rotates_at"] and window["not_before"] >= window["rotates_at"]:
        return None, [bad("not_before", "is not before rotates_at")]
    return TrustedKey(key_id=doc["key_id"], public_key=raw, fingerprint_hex=fp, fingerprint_b32=fp32,
                      document=doc, source=source, revoked=doc.get("revoked", False), **window), []


def parse_time(stamp: object) -> datetime | None:
    """An ISO 8601 timestamp (already format-checked by the schema) as an
    aware datetime, or None."""
    if not isinstance(stamp, str):
        return None
    try:
        value = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def load_keyring(keys_dir: Path, site_dir: Path) -> tuple[Keyring, list[Problem]]:
    """Load every ``*.json`` in ``keys_dir`` into a :class:`Keyring`.

    Returns ``(keyring, problems)``. A missing or empty directory and two files
    with the same ``key_id`` are problems: without trusted keys nothing can be
    verified, and an ambiguous key id is a key-substitution risk.
    """
    rel_dir = display_path(keys_dir, site_dir)
    if not keys_dir.is_dir():
        return Keyring.of([]), [Problem(rel_dir + "/", "", "no keys directory: add the key documents "
                                        "you trust (e.g. pith-v1-2026-05.json)", "key.keyring")]
    keys: list[TrustedKey] = []
    problems: list[Problem] = []
    for path in sorted(keys_dir.iterdir()):
        if path.name.startswith(".") or path.suffix != ".json":
            continue
        try:
            source = read_source(path, site_dir, keys_dir, 1024 * 1024)
        except InputError as e:
            problems.append(e.problem)
            continue
        key, errs = parse_key_document(source)
        problems.extend(errs)
        if key is None:
            continue
        twin = next((k for k in keys if k.key_id == key.key_id), None)
        if twin is not None:
            problems.append(Problem(source.rel, "key_id", f"{key.key_id!r} is also defined in "
                                    f"{twin.source.rel}; key ids must be unique", "key.keyring"))
            continue
        keys.append(key)
    if not keys and not problems:
        problems.append(Problem(rel_dir + "/", "", "no trusted keys; nothing can be verified",
                                "key.keyring"))
    return Keyring.of(keys), problems

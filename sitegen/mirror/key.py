"""The mirror operator's own Ed25519 key, which signs the mirror snapshot.

This key is not a Pith key: it says "this mirror published exactly these
files", not "this record is authentic". ``sitegen keygen`` writes two files
into the site directory:

* ``mirror-key.secret.json`` — ``{key_id, algorithm, seed_b64}``, mode 0600;
  never published (sitegen refuses a secret inside ``content/`` or ``static/``);
* ``mirror-key.json`` — the public key document, in the resolver's key format
  (docs/protocol.md §3), published by every build at ``/pith-mirror-key.json``.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.signing

from sitegen.errors import ConfigError, InputError, WriteError, os_problem, quote
from sitegen.pith import keys
from sitegen.pith.shapes import KEY_ID
from sitegen.reader import read_named_file

__all__ = ["MirrorKey", "generate", "load_secret", "public_document", "SECRET_NAME", "PUBLIC_NAME"]

SECRET_NAME = "mirror-key.secret.json"
PUBLIC_NAME = "mirror-key.json"


@dataclass(frozen=True)
class MirrorKey:
    key_id: str
    signing_key: nacl.signing.SigningKey

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    def sign_digest(self, digest_hex: str) -> str:
        """Base64 Ed25519 signature over the raw digest bytes (as Pith does)."""
        return base64.b64encode(self.signing_key.sign(bytes.fromhex(digest_hex)).signature).decode("ascii")


def public_document(key: MirrorKey) -> dict[str, Any]:
    """The public key document (resolver key format, docs/protocol.md §3)."""
    raw = key.public_key
    return {
        "key_id": key.key_id,
        "algorithm": "ed25519",
        "format": "raw",
        "public_key_b64": base64.b64encode(raw).decode("ascii"),
        "public_key_hex": raw.hex(),
        "fingerprint_sha256_b32_first128bits": keys.key_fingerprint_b32(raw),
        "fingerprint_sha256_hex": keys.key_fingerprint(raw),
        "rotates_at": None,
        "url": None,
        "notes": "Mirror operator key: signs pith-mirror-snapshot.json (snapshot_sha256_bytes). "
                 "It vouches for what this mirror publishes, not for Pith records.",
    }


def generate(site_dir: Path, key_id: str) -> tuple[Path, Path]:
    """Create a new mirror key in ``site_dir``. Returns ``(secret_path, public_path)``.

    Raises :class:`ConfigError` if ``site_dir`` is not a directory or a key
    exists (a secret is never overwritten), :class:`WriteError` if a file
    cannot be written (a half-made secret is removed)."""
    if not site_dir.is_dir():
        raise ConfigError(f"{site_dir}: no such directory — pass the site directory (made by `sitegen init`)")
    _check_key_id(key_id, "--key-id")
    secret_path, public_path = site_dir / SECRET_NAME, site_dir / PUBLIC_NAME
    if secret_path.exists():
        raise ConfigError(f"{secret_path}: a mirror key already exists — keep it, or remove it first to replace it "
                          "(readers who pinned the old key must be told)")
    key = MirrorKey(key_id, nacl.signing.SigningKey.generate())
    secret = {"key_id": key_id, "algorithm": "ed25519",
              "seed_b64": base64.b64encode(bytes(key.signing_key)).decode("ascii")}
    try:
        fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise WriteError(f"{secret_path}: cannot create the secret key: {os_problem(e)} — "
                         "make the site directory writable") from None
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(secret, f, indent=2)
            f.write("\n")
        public_path.write_text(json.dumps(public_document(key), indent=2) + "\n")
    except OSError as e:
        secret_path.unlink(missing_ok=True)
        raise WriteError(f"{site_dir}: cannot write the mirror key: {os_problem(e)} — "
                         "free some space or fix permissions, then run `sitegen keygen` again") from None
    return secret_path, public_path


#: The largest secret key file read (it holds ~150 bytes).
_MAX_SECRET_BYTES = 64 * 1024


#: The fix named by every message about an unusable secret key file.
_SECRET_FIX = "restore it from your backup, or make a new one with `sitegen keygen`"


def load_secret(path: Path, site_dir: Path) -> MirrorKey:
    """Load a secret key file (``mirror_key`` in ``sitegen.toml``, or
    ``--mirror-key``). Raises :class:`ConfigError` reading ``path: field:
    problem — fix`` for a key inside ``content/`` or ``static/`` (it would be
    published), an unreadable file, and a file that is not a sitegen secret key."""
    resolved = path.resolve()
    for published in ("content", "static"):
        if resolved.is_relative_to((site_dir / published).resolve()):
            raise ConfigError(f"{path}: the mirror's secret key must not live in {published}/ (it would be "
                              "published) — move it to the site directory and set mirror_key in sitegen.toml")
    try:
        data = read_named_file(path, max_bytes=_MAX_SECRET_BYTES, rel=str(path),
                               cap_setting="a key file is ~150 bytes")
    except InputError as e:
        raise ConfigError(f"{path}: cannot read the mirror key: {e.problem.message} — check mirror_key in "
                          "sitegen.toml or --mirror-key; `sitegen keygen` makes a key") from None
    try:
        doc = json.loads(data)
    except ValueError:
        raise ConfigError(f"{path}: not JSON — expected the {SECRET_NAME} written by `sitegen keygen`; "
                          f"{_SECRET_FIX}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: not a sitegen mirror key (expected a JSON object) — {_SECRET_FIX}")
    key_id = _secret_field(doc, "key_id", path)
    _check_key_id(key_id, f"{path}: key_id")
    return MirrorKey(key_id, nacl.signing.SigningKey(_seed(doc, path)))


def _check_key_id(key_id: str, where: str) -> None:
    """Raise :class:`ConfigError` unless ``key_id`` is a key id readers accept
    (:data:`sitegen.pith.shapes.KEY_ID`: the rule ``sitegen verify`` applies)."""
    if not KEY_ID.pattern.match(key_id):
        raise ConfigError(f"{where}: {quote(key_id)} is not {KEY_ID.describe} — letters, digits, '.', '_' and '-', "
                          "up to 64 characters")


def _secret_field(doc: dict[str, Any], field: str, path: Path) -> str:
    """``doc[field]``, a non-empty string; raises :class:`ConfigError` naming it."""
    value = doc.get(field)
    if not isinstance(value, str) or not value:
        got = "missing" if field not in doc else f"expected a non-empty string, got {quote(value)}"
        raise ConfigError(f"{path}: {field}: {got} — {_SECRET_FIX}")
    return value


def _seed(doc: dict[str, Any], path: Path) -> bytes:
    """The 32-byte Ed25519 seed of a secret key document; raises
    :class:`ConfigError` naming the field at fault."""
    if doc.get("algorithm") != "ed25519":
        raise ConfigError(f"{path}: algorithm: expected 'ed25519', got {quote(doc.get('algorithm'))} — {_SECRET_FIX}")
    text = _secret_field(doc, "seed_b64", path)
    try:
        seed = base64.b64decode(text, validate=True)
    except ValueError:
        raise ConfigError(f"{path}: seed_b64: not valid base64 — {_SECRET_FIX}") from None
    if len(seed) != 32:
        raise ConfigError(f"{path}: seed_b64: expected a 32-byte Ed25519 seed, got {len(seed)} bytes — {_SECRET_FIX}")
    return seed

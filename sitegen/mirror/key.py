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

import nacl.signing

from sitegen.pith import keys
from sitegen.errors import ConfigError

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


def public_document(key: MirrorKey) -> dict:
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
    """Create a new mirror key in ``site_dir``; raises :class:`ConfigError` if
    one exists (never overwrite a secret). Returns ``(secret_path, public_path)``."""
    secret_path, public_path = site_dir / SECRET_NAME, site_dir / PUBLIC_NAME
    if secret_path.exists():
        raise ConfigError(f"{secret_path}: a mirror key already exists; remove it first to replace it")
    key = MirrorKey(key_id, nacl.signing.SigningKey.generate())
    secret = {"key_id": key_id, "algorithm": "ed25519",
              "seed_b64": base64.b64encode(bytes(key.signing_key)).decode("ascii")}
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(secret, f, indent=2)
        f.write("\n")
    public_path.write_text(json.dumps(public_document(key), indent=2) + "\n")
    return secret_path, public_path


def load_secret(path: Path, site_dir: Path) -> MirrorKey:
    """Load a secret key file; raises :class:`ConfigError` naming the field."""
    resolved = path.resolve()
    for published in ("content", "static"):
        if resolved.is_relative_to((site_dir / published).resolve()):
            raise ConfigError(f"{path}: the mirror's secret key must not live in {published}/ (it would be published)")
    try:
        doc = json.loads(path.read_text())
        key_id, seed = doc["key_id"], base64.b64decode(doc["seed_b64"], validate=True)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: not a sitegen mirror key ({type(e).__name__}: {e})") from None
    if doc.get("algorithm") != "ed25519" or len(seed) != 32 or not isinstance(key_id, str):
        raise ConfigError(f"{path}: seed_b64: expected a 32-byte Ed25519 seed")
    return MirrorKey(key_id, nacl.signing.SigningKey(seed))

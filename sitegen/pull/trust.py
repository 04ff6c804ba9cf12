"""Whether a mirror snapshot may be believed: hash, signature, freshness.

One helper, :func:`check_snapshot`, for every reader of a remote snapshot
(``sitegen pull``; ``sitegen verify`` in :mod:`sitegen.mirror.audit` checks
the same rules and could call it). Our design (the snapshot is sitegen's own
format, :mod:`sitegen.mirror.snapshot`), modelled on TUF's snapshot role:

* ``snapshot.hash`` — ``snapshot_sha256`` must be the SHA-256 of the canonical
  JSON of the snapshot without ``snapshot_sha256`` and ``signature`` (threat:
  a damaged or hand-edited snapshot);
* ``snapshot.signature`` — with the operator's public mirror key, an Ed25519
  signature over the raw digest bytes by that key id (threat: anyone who can
  write to the host rewriting the listing);
* ``snapshot.rollback`` — a version lower than the newest seen before from
  this source (threat: an old, authentic snapshot replayed to hide updates);
* ``snapshot.equivocation`` — the same version with other content;
* ``snapshot.expires`` — a passed ``expires`` (threat: a frozen mirror).

Pure: no I/O; ``now`` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sitegen.errors import quote
from sitegen.mirror.snapshot import snapshot_sha256
from sitegen.model import TrustedKey
from sitegen.pith import keys

__all__ = ["SnapshotVerdict", "check_snapshot"]


@dataclass
class SnapshotVerdict:
    """``digest``: the recomputed ``snapshot_sha256``; ``problems``:
    ``(field, message, check)`` for each failed rule; ``notes``: what was
    established."""

    digest: str
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_snapshot(body: dict[str, Any], *, mirror_key: TrustedKey | None, seen: dict[str, Any] | None,
                   now: datetime, allow_rollback: bool = False) -> SnapshotVerdict:
    """Check the parsed snapshot ``body`` (see the module docstring).
    ``seen``: ``{"version", "snapshot_sha256"}`` of the newest snapshot seen
    before from this source, or None; ``allow_rollback`` turns the rollback and
    equivocation rules into notes."""
    digest = snapshot_sha256(body)
    verdict = SnapshotVerdict(digest)
    if body.get("snapshot_sha256") != digest:
        verdict.problems.append(("snapshot_sha256", "does not match the snapshot's content", "snapshot.hash"))
    sig = body.get("signature")
    if mirror_key is None:
        verdict.notes.append("signature: present, not checked (no --mirror-key)" if sig else "signature: none")
    elif not isinstance(sig, dict):
        verdict.problems.append(("signature", "the snapshot is not signed, but a mirror key was given",
                                 "snapshot.signature"))
    elif sig.get("key_id") != mirror_key.key_id:
        verdict.problems.append(("signature.key_id", f"is {quote(sig.get('key_id'))}, expected "
                                 f"{mirror_key.key_id!r}", "snapshot.signature"))
    elif not keys.verify_digest_signature(digest, sig.get("signature_b64"), mirror_key.public_key):
        verdict.problems.append(("signature.signature_b64", f"does not verify with mirror key {mirror_key.key_id}",
                                 "snapshot.signature"))
    else:
        verdict.notes.append(f"signature: verified with mirror key {mirror_key.key_id}")
    expires = body.get("expires")
    if expires is not None:
        try:
            when = datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except (TypeError, ValueError):
            verdict.problems.append(("expires", f"not a timestamp: {quote(expires)}", "snapshot.expires"))
        else:
            if now >= when:
                verdict.problems.append(("expires", f"the snapshot expired at {expires} (a frozen mirror)",
                                         "snapshot.expires"))
    version = body.get("version")
    if seen and isinstance(version, int):
        problem = None
        if version < seen["version"]:
            problem = (f"snapshot version {version} is older than version {seen['version']} seen before "
                       "(rollback)", "snapshot.rollback")
        elif version == seen["version"] and digest != seen["snapshot_sha256"]:
            problem = (f"snapshot version {version} has other content than when seen before (equivocation)",
                       "snapshot.equivocation")
        if problem and not allow_rollback:
            verdict.problems.append(("version", *problem))
        elif problem:
            verdict.notes.append(f"accepted with --allow-rollback: {problem[0]}")
    return verdict

"""Frozen values handed between build stages.

load → :class:`SourceFile` / :class:`ParsedDocument`
verify → :class:`CheckResult`, :class:`DocumentReport`, :class:`VerifiedRecord`,
         :class:`VerifiedBundle`, :class:`MirrorEntry`
render → :class:`OutputFile`

Only the verify stage constructs ``Verified*`` values; later stages accept
nothing else, so an unverified document cannot reach a template or the output
tree. The parsed JSON inside them (``body``) is shared read-only: no stage
mutates it (views copy what they need).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "SourceFile", "ParsedDocument", "TrustedKey", "Keyring", "CheckResult",
    "DocumentReport", "VerifiedRecord", "VerifiedBundle", "MirrorEntry", "OutputFile", "FileEntry",
]


@dataclass(frozen=True)
class SourceFile:
    """A content file read from disk. ``rel`` is the path shown to users
    (relative to the site directory, POSIX separators); ``data`` its bytes."""

    path: Path
    rel: str
    data: bytes


@dataclass(frozen=True)
class ParsedDocument:
    """A content file that is strict JSON of a known document type.
    ``kind`` is ``"record"`` (``pith_number_record``) or ``"bundle"``
    (``pith_open_graph_bundle``)."""

    source: SourceFile
    kind: str
    body: Mapping[str, Any]


@dataclass(frozen=True)
class TrustedKey:
    """An Ed25519 key the operator trusts, from a key document in ``content/keys/``
    (docs/protocol.md §3). ``document`` is the parsed key document, ``source`` its file."""

    key_id: str
    public_key: bytes
    fingerprint_hex: str
    fingerprint_b32: str
    document: Mapping[str, Any]
    source: SourceFile
    not_before: datetime | None = None
    rotates_at: datetime | None = None
    revoked: bool = False

    def validity_problem(self, signed_at: datetime | None) -> str | None:
        """Why a signature by this key dated ``signed_at`` is not acceptable,
        or None. Revoked keys sign nothing; a key with a validity window
        (``not_before`` ≤ t < ``rotates_at``) needs a date inside it."""
        if self.revoked:
            return f"key {self.key_id} is revoked by the operator"
        if self.not_before is None and self.rotates_at is None:
            return None
        if signed_at is None:
            return f"the signature carries no date, and key {self.key_id} is only valid in a window"
        if self.not_before is not None and signed_at < self.not_before:
            return (f"dated {signed_at.isoformat()}, before key {self.key_id} became valid "
                    f"({self.not_before.isoformat()})")
        if self.rotates_at is not None and signed_at >= self.rotates_at:
            return f"dated {signed_at.isoformat()}, after key {self.key_id} rotated ({self.rotates_at.isoformat()})"
        return None


@dataclass(frozen=True)
class Keyring:
    """The operator's trusted keys by ``key_id``. The only source of trust."""

    by_id: Mapping[str, TrustedKey]

    @classmethod
    def of(cls, keys: list[TrustedKey]) -> Keyring:
        return cls(MappingProxyType({k.key_id: k for k in keys}))

    def get(self, key_id: Any) -> TrustedKey | None:
        return self.by_id.get(key_id) if isinstance(key_id, str) else None

    def __len__(self) -> int:
        return len(self.by_id)

    def keys(self) -> tuple[TrustedKey, ...]:
        return tuple(self.by_id[k] for k in sorted(self.by_id))


@dataclass(frozen=True)
class CheckResult:
    """One named verification check. ``name`` is stable (``record.receipt.signature``);
    ``field`` the dotted JSON path it concerns; ``ok`` its outcome; ``detail``
    the problem when failed, or what was established when passed."""

    name: str
    field: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class DocumentReport:
    """Every check run on one content file, in order."""

    rel: str
    kind: str
    pith_number: str | None
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if not c.ok)


@dataclass(frozen=True)
class VerifiedRecord:
    """A ``pith_number_record`` that passed every check (docs/protocol.md §4.1)."""

    source: SourceFile
    body: Mapping[str, Any]
    suffix: str
    pith_number: str
    report: DocumentReport


@dataclass(frozen=True)
class VerifiedBundle:
    """A ``pith_open_graph_bundle`` that passed every check (docs/protocol.md §4.2),
    with its recomputed ``state`` serialised as canonical JSON in ``state_json``."""

    source: SourceFile
    body: Mapping[str, Any]
    suffix: str
    pith_number: str
    state_json: bytes
    report: DocumentReport


@dataclass(frozen=True)
class MirrorEntry:
    """Everything the mirror publishes for one Pith Number (at least one of
    ``record`` and ``bundle`` is set; when both are, they agree)."""

    suffix: str
    pith_number: str
    record: VerifiedRecord | None
    bundle: VerifiedBundle | None


@dataclass(frozen=True)
class OutputFile:
    """One file of the output tree: ``path`` is relative, POSIX, validated by
    the writer; ``data`` its bytes."""

    path: str
    data: bytes


@dataclass(frozen=True)
class FileEntry:
    """One published file: POSIX path relative to the tree root, size in
    bytes, SHA-256 hex. The writer reports one per file it publishes."""

    path: str
    size: int
    sha256: str

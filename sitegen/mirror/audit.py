"""``sitegen verify``: check a built or deployed mirror against its snapshot.

For a directory or an http(s) URL: fetch ``pith-mirror-snapshot.json`` and
check its shape, hash, signature (with the operator's public mirror key, if
given), its freshness against the snapshot this checker saw before (a lower
version is a rollback; the same version with other content is equivocation;
a passed ``expires`` is a freeze), every shard and every listed file (size and
SHA-256), files present but not listed (directories only), and every Pith
document with the operator's trusted keys — including that each sits at the
path of its own Pith Number.

The mirror is untrusted input (the snapshot format is ours,
:mod:`sitegen.mirror.snapshot`): the snapshot and each shard are parsed
strictly and type-checked at every level before use; every listed path must
pass :func:`~sitegen.mirror.source.check_tree_path` and is read only through
:mod:`sitegen.mirror.source` (confined to the tree, size-capped, time-bounded).
Caps: the snapshot and each shard :data:`MAX_SNAPSHOT_BYTES`; a Pith document
(record, bundle, state) :data:`MAX_DOCUMENT_BYTES`; any other file
:data:`MAX_FILE_BYTES`; and no listed file more than its listed size + 1.

Never raises for what it finds: every problem is a line of the report
(``file: field: problem``, untrusted values quoted). Raises
:class:`~sitegen.errors.SitegenError` only if the target is neither a
directory nor an http(s) URL.
"""

from __future__ import annotations

import hashlib
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sitegen.config import DEFAULT_MAX_DOCUMENT_BYTES
from sitegen.errors import quote
from sitegen.mirror.snapshot import SHARD_SHAPE, SNAPSHOT_PATH, SNAPSHOT_SHAPE, shard_of, snapshot_sha256, tree_sha256
from sitegen.mirror.source import (
    DEFAULT_TIMEOUT,
    DirectorySource,
    HttpSource,
    TooLarge,
    Unreadable,
    check_tree_path,
    open_source,
)
from sitegen.model import Keyring, ParsedDocument, SourceFile, TrustedKey, VerifiedBundle
from sitegen.pith import keys, shapes
from sitegen.pith.strict_json import classify, parse_strict_json
from sitegen.pith.timestamps import parse_timestamp
from sitegen.verify.documents import verify_document

__all__ = ["MirrorReport", "check_mirror", "default_state_file", "MAX_SNAPSHOT_BYTES", "MAX_DOCUMENT_BYTES",
           "MAX_FILE_BYTES"]

#: Cap of the snapshot and of each shard (a shard of 10,000 files is ~1.5 MB).
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024
#: Cap of a Pith document (record, bundle, state): the build's ``max_document_bytes`` default.
MAX_DOCUMENT_BYTES = DEFAULT_MAX_DOCUMENT_BYTES
#: Cap of any other listed file (pages, listings, sitemaps, search index, assets).
MAX_FILE_BYTES = 64 * 1024 * 1024

_RECORD_PATH = re.compile(r"\Apith/([A-Z2-7]{26})\.json\Z")
_BUNDLE_PATH = re.compile(r"\Apith/([A-Z2-7]{26})/bundle\.json\Z")
_STATE_PATH = re.compile(r"\Apith/([A-Z2-7]{26})/state\.json\Z")
#: Copies at the well-known path (docs/protocol.md §5): byte-identical to ``pith/<S>/…``.
_WELL_KNOWN_PATH = re.compile(r"\A\.well-known/(pith/[A-Z2-7]{26}/(?:bundle|state)\.json)\Z")


@dataclass
class MirrorReport:
    """What ``sitegen verify`` found. ``problems`` are failures; ``notes`` are not.
    ``documents_listed`` counts the records and bundles the snapshot lists."""

    target: str
    version: int | None = None
    snapshot_sha256: str | None = None
    generated_at: str | None = None
    file_count: int = 0
    files_ok: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    documents_listed: int = 0
    documents_verified: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.extra or self.problems)


@dataclass(frozen=True)
class _Listed:
    """One file a shard lists, after its path passed the confinement check."""

    path: str
    size: int
    sha256: str


def default_state_file() -> Path:
    """Where the checker remembers snapshots it has seen (per target)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "sitegen" / "seen-snapshots.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(source: DirectorySource | HttpSource, report: MirrorReport, rel: str, cap: int, size: int) -> bytes | None:
    """Read ``rel`` (a confined path) that the snapshot lists with ``size``
    bytes: never more than ``size`` + 1 bytes, and nothing if ``size`` is over
    ``cap``. Records it as missing, changed or a problem and returns None, or
    returns the bytes."""
    if size > cap:
        report.problems.append(f"{rel}: size: listed as {size} bytes, over the {cap}-byte cap for this file; not read")
        return None
    try:
        data = source.get(rel, size)
    except TooLarge:
        report.changed.append(rel)  # longer than listed
        return None
    except Unreadable as e:
        report.problems.append(f"{rel}: {e}")
        return None
    if data is None:
        report.missing.append(rel)
    return data


def _check_signature(report: MirrorReport, snapshot: dict[str, Any], digest: str,
                     mirror_key: TrustedKey | None) -> None:
    sig = snapshot.get("signature")
    if mirror_key is None:
        report.notes.append("signature: present, not checked (pass --mirror-key)" if sig else "signature: none")
        return
    if not isinstance(sig, dict):
        report.problems.append(f"{SNAPSHOT_PATH}: signature: the snapshot is not signed, but a mirror key was given")
        return
    # Threat: a snapshot re-sealed by someone without the operator's mirror key.
    if sig.get("key_id") != mirror_key.key_id:
        report.problems.append(f"{SNAPSHOT_PATH}: signature.key_id: is {quote(sig.get('key_id'))}, "
                               f"expected {mirror_key.key_id!r}")
    elif not keys.verify_digest_signature(digest, sig.get("signature_b64"), mirror_key.public_key):
        report.problems.append(f"{SNAPSHOT_PATH}: signature.signature_b64: does not verify with mirror key "
                               f"{mirror_key.key_id}")
    else:
        report.notes.append(f"signature: verified with mirror key {mirror_key.key_id} ({mirror_key.fingerprint_hex})")


def _check_freshness(report: MirrorReport, snapshot: dict[str, Any], digest: str, seen: dict[str, Any] | None,
                     now: datetime) -> None:
    expires = snapshot["expires"]
    # Threat: a frozen mirror serving an old, authentic snapshot forever.
    if expires is not None and now >= parse_timestamp(expires):
        report.problems.append(f"{SNAPSHOT_PATH}: expires: the snapshot expired at {expires} (a frozen mirror)")
    if not seen:
        report.notes.append("freshness: first snapshot seen for this target")
        return
    version = snapshot["version"]
    # Threat: rollback to an older authentic snapshot, or two snapshots under one version.
    if version < seen["version"]:
        report.problems.append(f"{SNAPSHOT_PATH}: version: stale — snapshot version {version} is older than "
                               f"version {seen['version']} seen before (rollback)")
    elif version == seen["version"] and digest != seen["snapshot_sha256"]:
        report.problems.append(f"{SNAPSHOT_PATH}: version: snapshot version {version} has different content "
                               "than when seen before (equivocation)")
    else:
        report.notes.append(f"freshness: version {version}, newest seen before {seen['version']}")


def _read_snapshot(source: DirectorySource | HttpSource, report: MirrorReport) -> dict[str, Any] | None:
    try:
        raw = source.get(SNAPSHOT_PATH, MAX_SNAPSHOT_BYTES)
    except (TooLarge, Unreadable) as e:
        report.problems.append(f"{SNAPSHOT_PATH}: {e}")
        return None
    if raw is None:
        report.problems.append(f"{SNAPSHOT_PATH}: missing — this is not a sitegen mirror or the upload "
                               "is incomplete")
        return None
    try:
        snapshot = parse_strict_json(raw)
    except ValueError as e:
        report.problems.append(f"{SNAPSHOT_PATH}: {e}")
        return None
    problems = shapes.validate(snapshot, SNAPSHOT_SHAPE)
    for where, message in problems:
        report.problems.append(f"{SNAPSHOT_PATH}: {where or '(top level)'}: {message}")
    return None if problems else snapshot


def _read_shards(source: DirectorySource | HttpSource, report: MirrorReport,
                 snapshot: dict[str, Any]) -> tuple[list[_Listed], set[str]]:
    """Every file the shards list (confined, each once), and the shard paths."""
    entries: list[_Listed] = []
    seen: set[str] = set()
    shard_paths: set[str] = set()
    complete = True
    length = snapshot["shard_prefix_length"]
    for i, desc in enumerate(snapshot["shards"]):
        try:
            path = check_tree_path(desc["path"])
        except ValueError as e:
            report.problems.append(f"{SNAPSHOT_PATH}: shards[{i}].path: {quote(desc['path'])} is not a path "
                                   f"inside the tree ({e}); not read")
            complete = False
            continue
        shard_paths.add(path)
        data = _read(source, report, path, MAX_SNAPSHOT_BYTES, desc["size"])
        if data is None:
            complete = False
            continue
        if _sha(data) != desc["sha256"]:
            report.changed.append(path)
            complete = False
            continue
        try:
            shard = parse_strict_json(data)
        except ValueError as e:
            report.problems.append(f"{path}: {e}")
            complete = False
            continue
        problems = shapes.validate(shard, SHARD_SHAPE)
        for where, message in problems:
            report.problems.append(f"{path}: {where or '(top level)'}: {message}")
        if problems:
            complete = False
            continue
        prefix = desc["prefix"]
        if shard["shard"] != prefix:
            report.problems.append(f"{path}: shard: is {quote(shard['shard'])}, the snapshot lists it as {prefix!r}")
        if desc["count"] != len(shard["files"]):
            report.problems.append(f"{SNAPSHOT_PATH}: shards[{i}].count: is {desc['count']}, "
                                   f"{path} lists {len(shard['files'])} files")
        for j, f in enumerate(shard["files"]):
            where = f"{path}: files[{j}]"
            try:
                rel = check_tree_path(f["path"])
            except ValueError as e:
                # Threat: ../ or an absolute path making the checker read (and vouch for) files outside the tree.
                report.problems.append(f"{where}.path: {quote(f['path'])} is not a path inside the tree ({e}); "
                                       "not read")
                continue
            if f["size"] < 0:
                report.problems.append(f"{where}.size: is {f['size']}, a size cannot be negative")
                continue
            if rel in seen:
                report.problems.append(f"{where}.path: {quote(rel)} is listed twice")
                continue
            if shard_of(rel, length) != prefix:
                report.problems.append(f"{where}.path: {quote(rel)} belongs in shard "
                                       f"{shard_of(rel, length)!r}, not {prefix!r}")
            seen.add(rel)
            entries.append(_Listed(rel, f["size"], f["sha256"]))
    if complete:
        if snapshot["file_count"] != len(entries):
            report.problems.append(f"{SNAPSHOT_PATH}: file_count: is {snapshot['file_count']}, "
                                   f"the shards list {len(entries)} files")
        if tree_sha256(snapshot["shards"]) != snapshot["tree_sha256"]:
            report.problems.append(f"{SNAPSHOT_PATH}: tree_sha256: does not match the shards")
    return entries, shard_paths


def _check_document(report: MirrorReport, rel: str, data: bytes, keyring: Keyring, state_bytes: bytes | None) -> None:
    try:
        body = parse_strict_json(data)
        kind = classify(body)
    except ValueError as e:
        report.problems.append(f"{rel}: {e}")
        return
    doc_report, verified = verify_document(ParsedDocument(SourceFile(Path(rel), rel, data), kind, body), keyring)
    for c in doc_report.failures:
        report.problems.append(f"{rel}: {c.field}: {c.detail} [{c.name}]")
    if verified is None:
        return
    # Threat: an authentic document served at another Pith Number's path (mix-and-match).
    match = _RECORD_PATH.match(rel) or _BUNDLE_PATH.match(rel)
    assert match is not None  # only documents' paths are kept for verifying
    path_suffix = match.group(1)
    if verified.suffix != path_suffix:
        report.problems.append(f"{rel}: pith_number: the document is {verified.pith_number}, "
                               f"served at the path of {path_suffix}")
        return
    if isinstance(verified, VerifiedBundle) and state_bytes is not None and state_bytes != verified.state_json:
        report.problems.append(f"pith/{path_suffix}/state.json: differs from the state of the verified bundle")
        return
    report.documents_verified += 1


def check_mirror(target: str, *, keyring: Keyring | None = None, mirror_key: TrustedKey | None = None,
                 seen: dict[str, Any] | None = None, now: datetime | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> MirrorReport:
    """Check the mirror at ``target`` (directory or URL). ``seen`` is what the
    checker remembered for this target (``{version: int, snapshot_sha256: str}``)
    or None; ``timeout`` the total seconds one HTTP request may take.
    Raises :class:`~sitegen.errors.SitegenError` only if the target is neither
    a directory nor an http(s) URL."""
    source = open_source(target, timeout=timeout)
    report = MirrorReport(target)
    snapshot = _read_snapshot(source, report)
    if snapshot is None:
        return report
    report.version, report.generated_at = snapshot["version"], snapshot["generated_at"]
    digest = snapshot_sha256(snapshot)
    report.snapshot_sha256 = digest
    if snapshot["snapshot_sha256"] != digest:
        report.problems.append(f"{SNAPSHOT_PATH}: snapshot_sha256: does not match the snapshot's content")
    _check_signature(report, snapshot, digest, mirror_key)
    _check_freshness(report, snapshot, digest, seen, now or datetime.now(UTC))

    entries, shard_paths = _read_shards(source, report, snapshot)
    report.file_count = len(entries)
    docs = {e.path for e in entries if _RECORD_PATH.match(e.path) or _BUNDLE_PATH.match(e.path)}
    report.documents_listed = len(docs)
    docs |= {e.path for e in entries if _STATE_PATH.match(e.path) or _WELL_KNOWN_PATH.match(e.path)}
    kept: dict[str, bytes] = {}

    def fetch(entry: _Listed) -> tuple[_Listed, MirrorReport]:
        # Each worker reports into its own report; merged below in listing order.
        part = MirrorReport(target)
        cap = MAX_DOCUMENT_BYTES if entry.path in docs else MAX_FILE_BYTES
        data = _read(source, part, entry.path, cap, entry.size)
        if data is not None:
            if len(data) != entry.size or _sha(data) != entry.sha256:
                part.changed.append(entry.path)
            else:
                part.files_ok = 1
                if entry.path in docs:
                    kept[entry.path] = data
        return entry, part

    with ThreadPoolExecutor(max_workers=8 if source.is_url else 1) as pool:
        for _, part in pool.map(fetch, entries):
            report.files_ok += part.files_ok
            report.missing += part.missing
            report.changed += part.changed
            report.problems += part.problems

    if isinstance(source, DirectorySource):  # not is_url
        report.extra = sorted(source.listing() - {SNAPSHOT_PATH} - shard_paths - {e.path for e in entries})
    if keyring is None:
        report.notes.append("documents: NOT verified (no trusted keys; pass --keys DIR)")
    else:
        for rel in sorted(kept):
            copy = _WELL_KNOWN_PATH.match(rel)
            if copy and kept.get(copy.group(1)) != kept[rel]:
                report.problems.append(f"{rel}: differs from {copy.group(1)} (the well-known copy must be identical)")
        for rel in sorted(p for p in kept if not _STATE_PATH.match(p) and not _WELL_KNOWN_PATH.match(p)):
            state = kept.get(rel.replace("bundle.json", "state.json")) if rel.endswith("bundle.json") else None
            _check_document(report, rel, kept[rel], keyring, state)
    report.missing.sort()
    report.changed.sort()
    return report

"""``sitegen verify``: check a built or deployed mirror against its snapshot.

For a directory or an http(s) URL: fetch ``pith-mirror-snapshot.json`` and
check its hash, its signature (with the operator's public mirror key, if
given), its freshness against the snapshot this checker saw before (a lower
version is a rollback; the same version with other content is equivocation;
a passed ``expires`` is a freeze), every shard and every listed file (size and
SHA-256), files present but not listed (directories only), and every Pith
document with the operator's trusted keys — including that each sits at the
path of its own Pith Number. Never raises for what it finds: it reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote as urlquote

from sitegen.pith import keys
from sitegen.errors import SitegenError, quote, safe_text
from sitegen.pith.strict_json import classify, parse_strict_json
from sitegen.model import Keyring, ParsedDocument, SourceFile, TrustedKey
from sitegen.mirror.snapshot import SNAPSHOT_PATH, snapshot_sha256
from sitegen.verify.documents import verify_document

__all__ = ["MirrorReport", "check_mirror", "default_state_file"]

_RECORD_PATH = re.compile(r"\Apith/([A-Z2-7]{26})\.json\Z")
_BUNDLE_PATH = re.compile(r"\Apith/([A-Z2-7]{26})/bundle\.json\Z")


@dataclass
class MirrorReport:
    """What ``sitegen verify`` found. ``problems`` are failures; ``notes`` are not."""

    target: str
    version: int | None = None
    snapshot_sha256: str | None = None
    generated_at: str | None = None
    file_count: int = 0
    files_ok: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    documents_verified: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.extra or self.problems)


class _Source:
    """Read files of a mirror from a directory or over HTTP(S)."""

    def __init__(self, target: str) -> None:
        self.is_url = target.startswith(("http://", "https://"))
        if self.is_url:
            self.base = target if target.endswith("/") else target + "/"
        else:
            self.root = Path(target)
            if not self.root.is_dir():
                raise SitegenError(f"{target}: not a directory or an http(s) URL")

    def get(self, rel: str) -> bytes | None:
        if not self.is_url:
            try:
                return (self.root / rel).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return None
        try:
            with urllib.request.urlopen(self.base + urlquote(rel, safe="/.-_~"), timeout=30) as response:
                return response.read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise SitegenError(f"{self.base}{rel}: HTTP {e.code}") from None
        except (urllib.error.URLError, OSError) as e:
            raise SitegenError(f"{self.base}{rel}: {e}") from None

    def listing(self) -> set[str] | None:
        if self.is_url:
            return None
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file() or p.is_symlink()}


def default_state_file() -> Path:
    """Where the checker remembers snapshots it has seen (per target)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "sitegen" / "seen-snapshots.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_signature(report: MirrorReport, snapshot: dict, digest: str, mirror_key: TrustedKey | None) -> None:
    sig = snapshot.get("signature")
    if mirror_key is None:
        report.notes.append("signature: present, not checked (pass --mirror-key)" if sig else "signature: none")
        return
    if not isinstance(sig, dict):
        report.problems.append("snapshot is not signed, but a mirror key was given")
        return
    if sig.get("key_id") != mirror_key.key_id:
        report.problems.append(f"signature.key_id: is {quote(sig.get('key_id'))}, expected {mirror_key.key_id!r}")
    elif not keys.verify_digest_signature(digest, sig.get("signature_b64"), mirror_key.public_key):
        report.problems.append(f"signature.signature_b64: does not verify with mirror key {mirror_key.key_id}")
    else:
        report.notes.append(f"signature: verified with mirror key {mirror_key.key_id} ({mirror_key.fingerprint_hex})")


def _check_freshness(report: MirrorReport, snapshot: dict, digest: str, seen: dict | None, now: datetime) -> None:
    expires = snapshot.get("expires")
    if isinstance(expires, str):
        try:
            if now >= datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc):
                report.problems.append(f"expires: the snapshot expired at {expires} (a frozen mirror)")
        except ValueError:
            report.problems.append(f"expires: not a timestamp: {quote(expires)}")
    if not seen:
        report.notes.append("freshness: first snapshot seen for this target")
        return
    version = snapshot["version"]
    if version < seen["version"]:
        report.problems.append(f"version: stale — snapshot version {version} is older than version "
                               f"{seen['version']} seen before (rollback)")
    elif version == seen["version"] and digest != seen["snapshot_sha256"]:
        report.problems.append(f"version: snapshot version {version} has different content than when seen "
                               "before (equivocation)")
    else:
        report.notes.append(f"freshness: version {version}, newest seen before {seen['version']}")


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
    path_suffix = (_RECORD_PATH.match(rel) or _BUNDLE_PATH.match(rel)).group(1)
    if verified.suffix != path_suffix:
        report.problems.append(f"{rel}: pith_number: the document is {verified.pith_number}, "
                               f"served at the path of {path_suffix}")
        return
    if kind == "bundle" and state_bytes is not None and state_bytes != verified.state_json:
        report.problems.append(f"pith/{path_suffix}/state.json: differs from the state of the verified bundle")
        return
    report.documents_verified += 1


def check_mirror(target: str, *, keyring: Keyring | None = None, mirror_key: TrustedKey | None = None,
                 seen: dict[str, Any] | None = None, now: datetime | None = None) -> MirrorReport:
    """Check the mirror at ``target`` (directory or URL). ``seen`` is what the
    checker remembered for this target (``{version, snapshot_sha256}``) or None.
    Raises :class:`SitegenError` only if the target cannot be read at all."""
    source = _Source(target)
    report = MirrorReport(target)
    raw = source.get(SNAPSHOT_PATH)
    if raw is None:
        report.problems.append(f"{SNAPSHOT_PATH}: missing — this is not a sitegen mirror or the upload is incomplete")
        return report
    try:
        snapshot = parse_strict_json(raw)
        shards = snapshot["shards"]
        version = snapshot["version"]
        if snapshot.get("snapshot_type") != "pith_mirror_snapshot" or not isinstance(version, int):
            raise ValueError("not a pith_mirror_snapshot")
    except (ValueError, KeyError, TypeError) as e:
        report.problems.append(f"{SNAPSHOT_PATH}: unreadable snapshot ({safe_text(str(e), 120)})")
        return report
    report.version, report.generated_at = version, snapshot.get("generated_at")
    digest = snapshot_sha256(snapshot)
    report.snapshot_sha256 = digest
    if snapshot.get("snapshot_sha256") != digest:
        report.problems.append(f"{SNAPSHOT_PATH}: snapshot_sha256: does not match the snapshot's content")
    _check_signature(report, snapshot, digest, mirror_key)
    _check_freshness(report, snapshot, digest, seen, now or datetime.now(timezone.utc))

    entries: list[dict] = []
    listed = {SNAPSHOT_PATH}
    for shard in shards:
        path = shard.get("path", "")
        listed.add(path)
        data = source.get(path)
        if data is None:
            report.missing.append(path)
        elif _sha(data) != shard.get("sha256"):
            report.changed.append(path)
        else:
            entries.extend(json.loads(data)["files"])
    report.file_count = len(entries)

    wanted_docs = {e["path"] for e in entries if _RECORD_PATH.match(e["path"]) or _BUNDLE_PATH.match(e["path"])}
    wanted_docs |= {f"pith/{m.group(1)}/state.json" for e in entries if (m := _BUNDLE_PATH.match(e["path"]))}
    kept: dict[str, bytes] = {}

    def fetch(entry: dict) -> tuple[dict, bytes | None]:
        return entry, source.get(entry["path"])

    workers = 8 if source.is_url else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for entry, data in pool.map(fetch, entries):
            listed.add(entry["path"])
            if data is None:
                report.missing.append(entry["path"])
            elif len(data) != entry["size"] or _sha(data) != entry["sha256"]:
                report.changed.append(entry["path"])
            else:
                report.files_ok += 1
                if entry["path"] in wanted_docs:
                    kept[entry["path"]] = data

    present = source.listing()
    if present is not None:
        report.extra = sorted(present - listed)
    if keyring is None:
        report.notes.append("documents: not verified (pass --keys DIR with the key documents you trust)")
    else:
        for rel in sorted(p for p in kept if not p.endswith("state.json")):
            state = kept.get(rel.replace("bundle.json", "state.json")) if rel.endswith("bundle.json") else None
            _check_document(report, rel, kept[rel], keyring, state)
    report.missing.sort()
    report.changed.sort()
    return report

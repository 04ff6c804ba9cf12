"""The pull state file: what earlier pulls did, so the next one does only what changed.

Plain JSON (ours), default ``SITE_DIR/.sitegen-pull/state.json``::

    {state_type: "sitegen_pull_state", state_format: 1,
     landed: {"<content path>": sha256},            what pull wrote into content/
     sources: {"<base URL>": {
        seen: {version, snapshot_sha256} | null,    newest snapshot seen (rollback)
        filter: "<id>" | null,                      the selection the next three were made under
        snapshot: {version, snapshot_sha256, etag, last_modified} | null,  pulled completely
        shards: {"<shard path>": sha256},          shards whose documents were all handled
        filtered: {"<document path>": sha256},     documents the filters left out
        documents: {"<document path>": {sha256, etag, last_modified}},  validators
        resume: ["<suffix>", …]}}}                 finished in an interrupted run

``landed`` is how pull tells its own documents (which an upstream update may
replace) from the operator's (a conflict). The file is untrusted input like
every other file sitegen reads: read through the guarded reader with a size
cap, parsed strictly, every field type-checked. Any damage is reported as a
note and the state starts empty — a full listing, never a crash; what is lost
is said in the note. It is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sitegen.errors import InputError
from sitegen.pith.numbers import HEX64_RE, SUFFIX_RE
from sitegen.pith.strict_json import parse_strict_json
from sitegen.pull.landing import write_synced
from sitegen.reader import read_untrusted

__all__ = ["PullState", "SourceState", "load_state", "save_state", "MAX_STATE_BYTES"]

#: Size cap of the state file (about 1M documents).
MAX_STATE_BYTES = 512 * 1024 * 1024
_TYPE, _FORMAT = "sitegen_pull_state", 1


@dataclass
class SourceState:
    """What the state remembers about one source (see the module docstring)."""

    seen: dict[str, Any] | None = None
    filter: str | None = None
    snapshot: dict[str, Any] | None = None
    shards: dict[str, str] = field(default_factory=dict)
    filtered: dict[str, str] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    resume: set[str] = field(default_factory=set)

    def select(self, filter_id: str) -> None:
        """Forget what was decided under another selection than ``filter_id``."""
        if self.filter != filter_id:
            self.filter, self.snapshot, self.resume = filter_id, None, set()
            self.shards.clear()
            self.filtered.clear()


@dataclass
class PullState:
    landed: dict[str, str] = field(default_factory=dict)
    sources: dict[str, SourceState] = field(default_factory=dict)

    def source(self, url: str) -> SourceState:
        return self.sources.setdefault(url, SourceState())


class _Bad(ValueError):
    pass


def _expect(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise _Bad(f"{where}: {what}")


def _str_or_none(value: Any, where: str) -> str | None:
    _expect(value is None or (isinstance(value, str) and len(value) <= 200), where, "not a short string or null")
    return cast("str | None", value)


def _hex_map(value: Any, where: str) -> dict[str, str]:
    _expect(isinstance(value, dict), where, "not an object")
    for k, v in value.items():
        _expect(isinstance(v, str) and bool(HEX64_RE.match(v)), f"{where}[{k!r}]", "not a SHA-256")
    return dict(value)


def _source(raw: Any, where: str) -> SourceState:
    _expect(isinstance(raw, dict), where, "not an object")
    known = {"seen", "filter", "snapshot", "shards", "filtered", "documents", "resume"}
    _expect(set(raw) <= known, where, f"unknown fields {sorted(set(raw) - known)}")
    st = SourceState()
    seen = raw.get("seen")
    if seen is not None:
        _expect(isinstance(seen, dict) and type(seen.get("version")) is int
                and isinstance(seen.get("snapshot_sha256"), str)
                and bool(HEX64_RE.match(seen["snapshot_sha256"])), f"{where}.seen", "not {version, snapshot_sha256}")
        st.seen = {"version": seen["version"], "snapshot_sha256": seen["snapshot_sha256"]}
    st.filter = _str_or_none(raw.get("filter"), f"{where}.filter")
    snap = raw.get("snapshot")
    if snap is not None:
        _expect(isinstance(snap, dict) and isinstance(snap.get("snapshot_sha256"), str)
                and bool(HEX64_RE.match(snap["snapshot_sha256"])) and type(snap.get("version")) is int,
                f"{where}.snapshot", "not a snapshot record")
        st.snapshot = {"version": snap["version"], "snapshot_sha256": snap["snapshot_sha256"],
                       "etag": _str_or_none(snap.get("etag"), f"{where}.snapshot.etag"),
                       "last_modified": _str_or_none(snap.get("last_modified"), f"{where}.snapshot.last_modified")}
    st.shards = _hex_map(raw.get("shards", {}), f"{where}.shards")
    st.filtered = _hex_map(raw.get("filtered", {}), f"{where}.filtered")
    docs = raw.get("documents", {})
    _expect(isinstance(docs, dict), f"{where}.documents", "not an object")
    for path, doc in docs.items():
        w = f"{where}.documents[{path!r}]"
        _expect(isinstance(doc, dict) and isinstance(doc.get("sha256"), str) and bool(HEX64_RE.match(doc["sha256"])),
                w, "not a document record")
        st.documents[path] = {"sha256": doc["sha256"], "etag": _str_or_none(doc.get("etag"), w),
                              "last_modified": _str_or_none(doc.get("last_modified"), w)}
    resume = raw.get("resume", [])
    _expect(isinstance(resume, list) and all(isinstance(s, str) and SUFFIX_RE.match(s) for s in resume),
            f"{where}.resume", "not a list of suffixes")
    st.resume = set(resume)
    return st


def _parse(data: bytes) -> PullState:
    try:
        raw = parse_strict_json(data)
    except ValueError as e:
        raise _Bad(str(e)) from None
    _expect(isinstance(raw, dict) and raw.get("state_type") == _TYPE, "state_type", f"not {_TYPE!r}")
    _expect(raw.get("state_format") == _FORMAT, "state_format", f"not {_FORMAT}")
    _expect(set(raw) <= {"state_type", "state_format", "landed", "sources"}, "", "unknown fields")
    state = PullState(landed=_hex_map(raw.get("landed", {}), "landed"))
    sources = raw.get("sources", {})
    _expect(isinstance(sources, dict), "sources", "not an object")
    for url, src in sources.items():
        state.sources[url] = _source(src, f"sources[{url!r}]")
    return state


def load_state(path: Path) -> tuple[PullState, str | None]:
    """``(state, note)``: the state in ``path`` (empty if there is none), and
    a note if the file was damaged and ignored. Never raises for bad content."""
    if not path.exists() and not path.is_symlink():
        return PullState(), None
    try:
        data = read_untrusted(path, root=path.parent, max_bytes=MAX_STATE_BYTES, rel=path.name,
                              root_name="the state directory", cap_setting="the state file cap")
        return _parse(data), None
    except (InputError, _Bad) as e:
        reason = e.problem.message if isinstance(e, InputError) else str(e)
        return PullState(), (f"the state file {path} is damaged ({reason[:200]}); ignored — this pull lists "
                             "everything again, and without the record of what earlier pulls wrote, an upstream "
                             "update of a document already in content/ is reported as a conflict (--replace "
                             "takes it), and snapshot rollback protection starts over")


def _dump(state: PullState) -> dict[str, Any]:
    sources = {}
    for url, st in sorted(state.sources.items()):
        sources[url] = {"seen": st.seen, "filter": st.filter, "snapshot": st.snapshot, "shards": st.shards,
                        "filtered": st.filtered, "documents": st.documents, "resume": sorted(st.resume)}
    return {"state_type": _TYPE, "state_format": _FORMAT, "landed": state.landed, "sources": sources}


def save_state(path: Path, state: PullState) -> None:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_synced(path.parent, json.dumps(_dump(state), sort_keys=True, indent=1).encode() + b"\n",
                       prefix=".state-")
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

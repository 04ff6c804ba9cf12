"""Rollback protection: refuse to publish a document older than the one the
current output tree already serves for the same Pith Number.

Per-document signatures cannot stop a mirror operator (or an attacker who
controls ``content/``) from swapping in an authentic but *older* bundle that
drops events — a rollback (docs/protocol.md §10). Before the first
write, each verified document is compared with the published one:

* bundle: fewer applied events (``state.applied_event_ids``) or an earlier
  ``built_at`` than the published bundle;
* record: an earlier ``updated_at`` than the published record.

This is our design; the protocol publishes no version counter. The published
tree is untrusted input like everything else sitegen did not just make: its
files are read through the guarded reader (no symlinks, size cap), parsed
strictly, and an unreadable one — or one whose dates do not parse — is skipped
(it cannot be "newer" than anything).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sitegen.errors import InputError, Problem
from sitegen.model import MirrorEntry
from sitegen.pith.routes import routes_for
from sitegen.pith.strict_json import parse_strict_json
from sitegen.pith.timestamps import parse_timestamp
from sitegen.reader import read_untrusted

__all__ = ["find_rollbacks", "is_older"]


def _published(output_dir: Path, rel: str, max_bytes: int) -> Any:
    try:
        return parse_strict_json(read_untrusted(output_dir / rel, root=output_dir, max_bytes=max_bytes, rel=rel,
                                                root_name="the output directory"))
    except (InputError, ValueError):
        return None


def _when(stamp: Any) -> datetime | None:
    try:
        return parse_timestamp(stamp)
    except ValueError:
        return None


def _applied(bundle: Any) -> int:
    try:
        return len(bundle["state"]["applied_event_ids"])
    except (KeyError, TypeError):
        return 0


def is_older(kind: str, new: Any, old: Any) -> bool:
    """True if the verified document ``new`` of ``kind`` (``"record"`` or
    ``"bundle"``) is older than ``old`` — untrusted parsed JSON of the same
    kind, anything at all (see the module docstring for the rule)."""
    if not isinstance(old, dict):
        return False
    if kind == "bundle":
        old_t, new_t = _when(old.get("built_at")), _when(new.get("built_at"))
        return _applied(new) < _applied(old) or bool(old_t and new_t and new_t < old_t)
    old_t, new_t = _when(old.get("updated_at")), _when(new.get("updated_at"))
    return bool(old_t and new_t and new_t < old_t)


def find_rollbacks(entries: list[MirrorEntry] | tuple[MirrorEntry, ...], output_dir: Path, *,
                   max_bytes: int) -> list[Problem]:
    """One :class:`Problem` (check ``mirror.rollback``) per document that would
    replace a newer published one. ``output_dir`` may not exist (first build);
    ``max_bytes`` caps what is read of a published document."""
    problems: list[Problem] = []
    if not output_dir.is_dir():
        return problems
    for entry in entries:
        routes = routes_for(entry.suffix)
        if entry.bundle is not None:
            old = _published(output_dir, routes.bundle_json, max_bytes)
            if isinstance(old, dict):
                new = entry.bundle.body
                old_n, new_n = _applied(old), _applied(new)
                if is_older("bundle", new, old):
                    problems.append(Problem(
                        entry.bundle.source.rel, "built_at",
                        f"would roll back {entry.pith_number} from the published bundle built "
                        f"{old.get('built_at')} with {old_n} applied events to one built {new['built_at']} "
                        f"with {new_n}; pass --allow-rollback to publish it anyway", "mirror.rollback"))
        if entry.record is not None:
            old = _published(output_dir, routes.record_json, max_bytes)
            if isinstance(old, dict):
                new = entry.record.body
                if is_older("record", new, old):
                    problems.append(Problem(
                        entry.record.source.rel, "updated_at",
                        f"would roll back {entry.pith_number} from the published record updated "
                        f"{old.get('updated_at')} to one updated {new['updated_at']}; pass --allow-rollback "
                        "to publish it anyway", "mirror.rollback"))
    return problems

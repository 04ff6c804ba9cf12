"""The build: load → verify → render → write, each stage timed.

Everything is read and checked before the first write; a failed build
raises and leaves the published output tree exactly as it was.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Iterator

from sitegen.config import Settings
from sitegen.errors import BuildFailed, Problem
from sitegen.keyring import load_keyring
from sitegen.load import load_content
from sitegen.model import DocumentReport, Keyring, MirrorEntry
from sitegen.mirrorkey import load_secret
from sitegen.pages import load_pages
from sitegen.render import find_theme, generated_at, render_site
from sitegen.snapshot import read_previous, seal_tree
from sitegen.rollback import find_rollbacks
from sitegen.verify import verify_documents
from sitegen.write import WriteStats, publish_tree

__all__ = ["build", "BuildResult", "verify_content", "VerifyResult"]


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of loading and verifying ``content/`` (no writes).

    ``files``: content files seen; ``reports``: one per parsed document;
    ``problems``: every problem (load and verification), in file order;
    ``entries``: what may be published, one per Pith Number.
    """

    files: int
    reports: tuple[DocumentReport, ...]
    problems: tuple[Problem, ...]
    entries: tuple[MirrorEntry, ...]
    key_problems: tuple[Problem, ...]
    keyring: Keyring

    @property
    def checks_passed(self) -> int:
        return sum(1 for r in self.reports for c in r.checks if c.ok)

    @property
    def failed_files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.file for p in self.problems))


@dataclass(frozen=True)
class BuildResult:
    """What a successful build published. ``timings`` are ``(stage, seconds)``."""

    verification: VerifyResult
    write: WriteStats
    timings: tuple[tuple[str, float], ...]
    skipped: tuple[str, ...]


class _Timer:
    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings.append((name, time.perf_counter() - start))


def verify_content(settings: Settings, timer: _Timer | None = None) -> VerifyResult:
    """Load the keyring and every content document and verify them all."""
    timer = timer or _Timer()
    with timer.stage("load"):
        keyring, key_problems = load_keyring(settings.keys_dir, settings.site_dir)
        docs, load_problems, files = load_content(settings.content_dir, settings.site_dir,
                                                  max_bytes=settings.max_document_bytes,
                                                  max_depth=settings.max_json_depth)
    with timer.stage("verify"):
        reports, entries, problems = verify_documents(docs, keyring)
    order = {p: i for i, p in enumerate(sorted({*(p.file for p in load_problems), *(p.file for p in problems)}))}
    all_problems = sorted(load_problems + problems, key=lambda p: order[p.file])
    return VerifyResult(files=files, reports=tuple(reports), problems=tuple(all_problems),
                        entries=tuple(entries), key_problems=tuple(key_problems), keyring=keyring)


def build(settings: Settings, *, skip_invalid: bool = False, allow_rollback: bool = False) -> BuildResult:
    """Verify ``settings.content_dir`` and publish the mirror to ``settings.output_dir``.

    Raises :class:`BuildFailed` listing every problem if the keyring is
    unusable, or if any document fails and ``skip_invalid`` is False;
    :class:`~sitegen.errors.ConfigError` for a theme or settings problem;
    :class:`~sitegen.errors.WriteError` if the tree cannot be written. With
    ``skip_invalid``, failed documents are left out and listed in ``skipped``.
    Raises :class:`BuildFailed` (check ``mirror.rollback``) if a document is
    older than the one already published, unless ``allow_rollback``.
    """
    timer = _Timer()
    theme = find_theme(settings.site_dir)
    mirror_key = load_secret(settings.mirror_key, settings.site_dir) if settings.mirror_key else None
    pages = load_pages(settings.content_dir)
    result = verify_content(settings, timer)
    if result.key_problems:
        raise BuildFailed(result.key_problems, len({p.file for p in result.key_problems}), result.files)
    if result.problems and not skip_invalid:
        raise BuildFailed(result.problems, len(result.failed_files), result.files)
    if not allow_rollback:
        rollbacks = find_rollbacks(result.entries, settings.output_dir)
        if rollbacks:
            raise BuildFailed(tuple(rollbacks), len({p.file for p in rollbacks}), result.files)
    when = generated_at(settings, list(result.entries))
    seal = partial(seal_tree, previous=read_previous(settings.output_dir), generated_at=when,
                   base_url=settings.base_url,
                   mirror_key=mirror_key, valid_days=settings.snapshot_valid_days)
    with timer.stage("render+write"):
        files = render_site(list(result.entries), result.keyring, settings, theme, when=when, pages=pages)
        stats = publish_tree(files, settings.output_dir, seal=seal)
    return BuildResult(verification=result, write=stats, timings=tuple(timer.timings),
                       skipped=result.failed_files)

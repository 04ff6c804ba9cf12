"""Worker side of the build: verify, render and write one *entry* at a time.

An entry is everything published for one Pith Number — the content files that
claim its suffix (a record, a bundle, or both), verified together so the
cross-document rules hold (:mod:`sitegen.verify`). Entries are independent:
their output paths are disjoint (``pith/<SUFFIX>…``, ``api/…/<SUFFIX>/``,
``.well-known/pith/<SUFFIX>/``), so workers write them in any order and the
tree is the same whatever the number of workers. Listing pages (one
content-defined page, or a landing, per task) and, with ``alias_pages =
true``, alias pages (all versions of one arXiv id; all suffixes sharing an
8-character prefix) are produced the same way from summaries in the store.

Workers return plain, small results (:class:`EntryResult`); they keep nothing
between tasks but the renderer and the sink (:class:`Worker`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitegen.build.listing_pages import ListingSpec
from sitegen.build.publish import SinkSpec
from sitegen.build.store import CacheDamaged
from sitegen.config import Settings
from sitegen.errors import InputError, Problem
from sitegen.model import FileEntry, Keyring, ParsedDocument, SourceFile
from sitegen.pith.routes import ARXIV_ALIAS_KINDS, SHORT_ALIAS_KINDS, alias_paths
from sitegen.pith.strict_json import parse_document
from sitegen.pith.timestamps import utc_stamp
from sitegen.reader import display_path, read_untrusted
from sitegen.site.aliases import AliasTarget, group_aliases
from sitegen.site.render import Renderer
from sitegen.site.search import entry_terms
from sitegen.site.summary import Summary
from sitegen.site.theme import Theme
from sitegen.verify.documents import verify_documents
from sitegen.verify.rollback import find_rollbacks

__all__ = ["load_document", "WorkContext", "Worker", "EntryTask", "EntryResult", "DocOutcome", "AliasTask",
           "ListingTask", "ARXIV_ALIAS_KINDS", "SHORT_ALIAS_KINDS"]



@dataclass(frozen=True)
class WorkContext:
    """Everything a worker needs, fixed for the whole build (picklable).
    ``sink`` says where files go (:class:`~sitegen.build.publish.SinkSpec`);
    ``build_time`` is shown on pages only with ``SOURCE_DATE_EPOCH``."""

    settings: Settings
    keyring: Keyring
    theme: Theme
    nav_pages: tuple[tuple[str, str], ...]
    build_time: str | None
    sink: SinkSpec
    allow_rollback: bool

    @property
    def published(self) -> Path:
        return self.sink.published


@dataclass(frozen=True)
class EntryTask:
    """One entry to build: its suffix (None: a file the scan could not
    identify), its content files (absolute paths), the files it published last
    time (``(path, sha256)``) and the fingerprint of its inputs."""

    suffix: str | None
    paths: tuple[str, ...]
    old: tuple[tuple[str, str], ...]
    inputs: str


@dataclass(frozen=True)
class DocOutcome:
    rel: str
    kind: str | None
    passed: int
    failed: int


@dataclass(frozen=True)
class EntryResult:
    """What a entry produced. ``summary`` is None when nothing was published
    (every document failed); ``files`` are the entry's published files."""

    suffix: str | None
    inputs: str
    docs: tuple[DocOutcome, ...]
    problems: tuple[Problem, ...]
    rollbacks: tuple[Problem, ...]
    summary: bytes | None
    updated_at: str
    files: tuple[FileEntry, ...]
    written: int
    terms: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class AliasTask:
    """Alias pages of one cluster: ``kinds`` (ARXIV_ALIAS_KINDS or SHORT_ALIAS_KINDS),
    the summaries (JSON) of its members, the owner name recorded for its
    files and their previous ``(path, sha256)``."""

    owner: str
    kinds: tuple[str, ...]
    members: tuple[bytes, ...]
    old: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ListingTask:
    """One owner of a listing (a natural page with its parts, or the
    landing): ``spec`` says which records go where, ``members`` are their
    summaries (JSON, in the order of :func:`~sitegen.build.listing_pages.ListingSpec`
    members), ``old`` the owner's previous ``(path, sha256)``."""

    spec: ListingSpec
    members: tuple[bytes, ...]
    old: tuple[tuple[str, str], ...]

    @property
    def owner(self) -> str:
        return self.spec.owner


@dataclass(frozen=True)
class PagesResult:
    owner: str
    files: tuple[FileEntry, ...]
    written: int


def load_document(path: Path, settings: Settings) -> ParsedDocument:
    """Read one content file through the guarded reader and parse it strictly;
    raises :class:`~sitegen.errors.InputError` (checks ``load.*``)."""
    rel = display_path(path, settings.site_dir)
    data = read_untrusted(path, root=settings.content_dir, max_bytes=settings.max_document_bytes, rel=rel)
    return parse_document(SourceFile(path, rel, data), max_depth=settings.max_json_depth)


class Worker:
    """The per-process state: one renderer and one sink for the build."""

    def __init__(self, ctx: WorkContext) -> None:
        self.ctx = ctx
        self.renderer = Renderer(ctx.theme, ctx.settings, ctx.nav_pages, ctx.build_time)
        self.sink = ctx.sink.open()
        self.content_dir = ctx.settings.content_dir

    def _put_all(self, files, old: dict[str, str]) -> tuple[tuple[FileEntry, ...], int]:
        before = self.sink.written
        entries = tuple(self.sink.put(f.path, f.data, old.get(f.path)) for f in files)
        return entries, self.sink.written - before

    def entry(self, task: EntryTask) -> EntryResult:
        s = self.ctx.settings
        docs, problems = [], []
        for path in task.paths:
            try:
                docs.append(load_document(Path(path), s))
            except InputError as e:
                problems.append(e.problem)
        reports, entries, verify_problems = verify_documents(docs, self.ctx.keyring)
        problems.extend(verify_problems)
        outcomes = [DocOutcome(p.file, None, 0, 1) for p in problems if p.check.startswith("load.")]
        outcomes += [DocOutcome(r.rel, r.kind, sum(c.ok for c in r.checks), sum(not c.ok for c in r.checks))
                     for r in reports]
        entry = entries[0] if entries else None
        if entry is not None and entry.suffix != task.suffix:
            # The scan grouped these files under another suffix (it cannot, for a
            # document that verifies); refuse rather than publish outside the entry.
            for v in (entry.record, entry.bundle):
                if v is not None:
                    problems.append(Problem(v.source.rel, "canonical_record", "was not identified as "
                                            f"{entry.pith_number} when content/ was scanned", "mirror.group"))
            entry = None
        empty = EntryResult(task.suffix, task.inputs, tuple(outcomes), tuple(problems), (), None, "", (), 0, ())
        if entry is None:
            return empty
        rollbacks = () if self.ctx.allow_rollback else tuple(
            find_rollbacks([entry], self.ctx.published, max_bytes=s.max_document_bytes))
        if rollbacks:
            return EntryResult(task.suffix, task.inputs, tuple(outcomes), tuple(problems), rollbacks,
                               None, "", (), 0, ())
        view, files = self.renderer.entry_files(entry)
        entries_written, written = self._put_all(files, dict(task.old))
        summary = Summary.of(view)
        terms = tuple(entry_terms(summary)) if s.search else ()
        if entry.record is not None:
            stamp = entry.record.body["updated_at"]
        else:
            assert entry.bundle is not None  # an entry holds a record, a bundle or both
            stamp = entry.bundle.body["built_at"]
        return EntryResult(task.suffix, task.inputs, tuple(outcomes), tuple(problems), (), summary.to_json(),
                           utc_stamp(stamp), entries_written, written, terms)

    def run(self, task: EntryTask | AliasTask | ListingTask) -> EntryResult | PagesResult:
        """Run any task."""
        if isinstance(task, EntryTask):
            return self.entry(task)
        return self.aliases(task) if isinstance(task, AliasTask) else self.listing(task)

    def aliases(self, task: AliasTask) -> PagesResult:
        members = _summaries(task.members)
        titles = {m.suffix: m.title for m in members}
        items = [(kind, value, path, AliasTarget(m.pith_number, m.suffix, m.version, m.has_record, m.has_bundle))
                 for m in members for kind, value, path in alias_paths(m.arxiv_id, m.version, m.suffix)
                 if kind in task.kinds]
        files = [f for alias in group_aliases(items) for f in self.renderer.alias_files(alias, titles)]
        entries, written = self._put_all(files, dict(task.old))
        return PagesResult(task.owner, entries, written)

    def listing(self, task: ListingTask) -> PagesResult:
        spec = task.spec
        by_suffix = {m.suffix: m for m in _summaries(task.members)}
        files = []
        for page in spec.pages:
            files.append(self.renderer.listing_page(spec.facet, spec.label, spec.total, page.path,
                                                    [by_suffix[m] for m in reversed(page.members)],
                                                    older=page.older, newer=page.newer))
        if spec.landing is not None:
            newest, older, first = spec.landing
            files.append(self.renderer.listing_landing(spec.facet, spec.label, spec.total,
                                                       [by_suffix[m] for m in newest], older=older, first=first))
            files.append(self.renderer.listing_pages_redirect(spec.facet, spec.label))
        entries, written = self._put_all(files, dict(task.old))
        return PagesResult(spec.owner, entries, written)


def _summaries(raw: tuple[bytes, ...]) -> list[Summary]:
    try:
        return [Summary.from_json(m) for m in raw]
    except (ValueError, TypeError) as e:  # from the store: untrusted
        raise CacheDamaged(f"a stored record summary is not valid ({e})") from None


# The pool-initializer pattern: each worker process builds its Worker once,
# here, instead of unpickling it with every batch.
_WORKER: list[Worker] = []  # this process's Worker, set once by init_process (pool initializer)


def init_process(ctx: WorkContext) -> None:
    """Pool initializer: build this process's :class:`Worker`."""
    _WORKER[:] = [Worker(ctx)]


def run_batch(batch: list) -> list:
    """Pool entry point: run a batch of tasks in this process's worker."""
    return [_WORKER[0].run(t) for t in batch]

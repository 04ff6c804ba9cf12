"""Indexes stage: every page that lists records — alias pages, year and
category listings, the home page, facet indexes, the feed, sitemaps, the
search index — and the site-wide files, made from sorted queries on the
store (never from every record held in memory).

A full build renders all of them. An incremental build renders only the
ones that list a changed entry (:class:`~sitegen.build.plan.Touched`), or all
of one kind when its template changed; each owner's previous files are
compared by the ledger, so only changed bytes are published.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import orjson

from sitegen.build.inputs import SiteInputs
from sitegen.build.ledger import Ledger
from sitegen.build.plan import Touched
from sitegen.build.pool import WorkerPool, batched
from sitegen.build.publish import PendingSink, StagingSink
from sitegen.build.store import Store
from sitegen.build.workers import AliasTask, ListingTask, PagesResult
from sitegen.mirror.snapshot import mirror_key_file
from sitegen.model import FileEntry, OutputFile
from sitegen.pith.routes import ARXIV_ALIAS_KINDS, SHORT_ALIAS_KINDS
from sitegen.site.render import Renderer, listing_paths, site_files
from sitegen.site.search import index_part, search_parts, stub_path
from sitegen.site.theme import static_files

__all__ = ["Indexes"]

#: Listing pages per task.
LISTING_PAGES = 20


@dataclass
class Indexes:
    """The indexes stage of one build (see the module docstring).
    ``stubs`` is the search stub directory the search index is made from."""

    inputs: SiteInputs
    store: Store
    ledger: Ledger
    pool: WorkerPool
    sink: StagingSink | PendingSink
    renderer: Renderer
    touched: Touched
    stubs: Path
    cache: Path
    #: ``(path, bytes)`` of the pages rendered from templates in this process, for the link check.
    rendered: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def incremental(self) -> bool:
        return self.ledger.tracks_changes

    def build(self, build_time: str) -> int:
        """Render every index the plan needs; returns files written anew."""
        written = self._aliases()
        counts = self.store.facet_counts()
        written += self._listings(counts)
        self._site_pages(build_time, counts)
        self._search(counts)
        return written

    # -- alias pages and listings (on the worker pool) ------------------------------------------

    def _run(self, tasks: Iterable[AliasTask | ListingTask], olds: dict[str, list[tuple[str, str]]]) -> int:
        """Run page tasks; record their files per owner. A full build streams
        (records each result as it comes); an incremental one also drops what
        an owner in ``olds`` no longer produces."""
        written = 0
        produced: dict[str, list[FileEntry]] = {owner: [] for owner in olds}
        task_list = list(tasks) if self.incremental else tasks
        inline = self.incremental and len(task_list) < 64  # type: ignore[arg-type]
        for result in self.pool.run(batched(task_list, 16), inline=inline):
            assert isinstance(result, PagesResult)
            written += result.written
            if self.incremental:
                produced.setdefault(result.owner, []).extend(result.files)
            else:
                self.ledger.claim(result.owner, result.files)
        for owner, files in produced.items():
            self.ledger.claim(owner, files, olds.get(owner, ()))
        return written

    def _aliases(self) -> int:
        """Alias pages, by cluster: all versions of one arXiv id (``arxiv:<id>``),
        all suffixes sharing an 8-character prefix (``short:<prefix>``)."""
        enabled = self.inputs.settings.aliases
        every = not self.incremental or self.store.meta("alias_fp") != self.inputs.fingerprints.alias
        olds: dict[str, list[tuple[str, str]]] = {}
        if self.incremental:
            if every or not enabled:
                owners = self.store.owners_with_prefix("arxiv:") + self.store.owners_with_prefix("short:")
            else:
                owners = ([f"arxiv:{a}" for a in self.touched.arxiv_ids]
                          + [f"short:{p}" for p in self.touched.short_prefixes])
            olds = {owner: self.ledger.release(owner) for owner in sorted(owners)}
        if not enabled:
            return self._run((), olds)
        arxiv = self.store.arxiv_clusters(None if every else self.touched.arxiv_ids)
        short = self.store.short_clusters(None if every else self.touched.short_prefixes)

        def tasks() -> Iterator[AliasTask]:
            for kind, kinds, clusters in (("arxiv", ARXIV_ALIAS_KINDS, arxiv), ("short", SHORT_ALIAS_KINDS, short)):
                for key, members in clusters:
                    owner = f"{kind}:{key}"
                    if members:
                        yield AliasTask(owner, kinds, tuple(members), tuple(olds.get(owner, ())))
        return self._run(tasks(), olds)

    def _listings(self, counts: dict[str, tuple[str, int]]) -> int:
        """Year and category listings, a window of pages per task."""
        every = not self.incremental or self.store.meta("listing_fp") != self.inputs.fingerprints.listing
        dirty = set(self.touched.facets)
        if every and self.incremental:
            dirty.update(o[len("facet:"):] for o in self.store.owners_with_prefix("facet:"))
        facets = sorted(counts) if not self.incremental else sorted(dirty | (set(counts) if every else set()))
        per_task = LISTING_PAGES * self.inputs.settings.page_size
        olds = {f"facet:{f}": self.ledger.release(f"facet:{f}") for f in facets} if self.incremental else {}

        def tasks() -> Iterator[ListingTask]:
            for facet in facets:
                owner = f"facet:{facet}"
                label, total = counts.get(facet, ("", 0))
                for i, chunk in enumerate(batched(self.store.facet_members(facet), per_task)):
                    yield ListingTask(owner, facet, label, total, 1 + i * LISTING_PAGES, tuple(chunk),
                                      tuple(olds.get(owner, ())))
        return self._run(tasks(), olds)

    # -- pages made in this process -------------------------------------------------------------

    def _site_pages(self, build_time: str, counts: dict[str, tuple[str, int]]) -> None:
        """Static files, the home page, facet indexes, Markdown pages, the feed
        and the sitemaps."""
        s, r, store = self.inputs.settings, self.renderer, self.store
        old = self.ledger.release("site")
        old_map = dict(old)
        files: list[FileEntry] = []

        def put(f: OutputFile, rendered: bool = True) -> None:
            files.append(self.sink.put(f.path, f.data, old_map.get(f.path)))
            if rendered and f.path.endswith(".html"):
                self.rendered.append((f.path, f.data))

        for f in static_files(self.inputs.theme):
            put(f, rendered=False)
        for f in site_files(s, self.inputs.keyring, r, build_time):
            put(f)
        if self.inputs.mirror_key is not None:
            put(mirror_key_file(self.inputs.mirror_key))
        by_kind: dict[str, list[tuple[str, str, int]]] = {"year": [], "category": []}
        for facet, (label, n) in counts.items():
            kind, key = facet.split("/", 1)
            by_kind[kind].append((key, label, n))
        for kind in ("year", "category"):
            put(r.facet_index(kind, by_kind[kind]))
        for md in self.inputs.pages:
            put(OutputFile(md.path + "index.html", r.page("page.html", path=md.path, page_title=md.title,
                                                           body=md.html, description=md.description)))
        top = store.newest(max(s.page_size, s.feed_size) + 1)
        published = store.entry_count()
        stats = {"records": published, "bundles": store.bundle_count(),
                 "years": len(by_kind["year"]), "categories": len(by_kind["category"])}
        put(OutputFile("index.html", r.page("index.html", records=top[:s.page_size], counts=stats,
                                            more=published > s.page_size)))
        put(OutputFile("feed.xml", r.page("feed.xml", records=top[:s.feed_size], generated_at=build_time)))
        if s.search:
            parts = search_parts({key: n for key, _, n in by_kind["year"]}, s.search_split_above)
            put(OutputFile("search/index.html", r.page("search.html", bundles=tuple(parts))))
        children = []
        for n, chunk in enumerate(batched(self._sitemap_urls(build_time, by_kind), s.sitemap_max_urls), 1):
            children.append(f"sitemap-{n}.xml")
            put(OutputFile(children[-1], r.page("sitemap-urls.xml", urls=chunk)))
        put(OutputFile("sitemap.xml", r.page("sitemap.xml", children=children, generated_at=build_time)))
        self.ledger.claim("site", files, old)

    def _sitemap_urls(self, build_time: str, by_kind: dict[str, list[tuple[str, str, int]]]
                      ) -> Iterator[tuple[str, str | None]]:
        """The home page, every record page (newest first), every listing page, every Markdown page."""
        yield "", build_time
        for suffix, updated in self.store.sitemap_records():
            yield f"pith/{suffix}/", updated
        for kind, root in (("year", "years/"), ("category", "categories/")):
            yield root, None
            for key, _, n in sorted(by_kind[kind]):
                for path in listing_paths(f"{kind}/{key}", n, self.inputs.settings.page_size):
                    yield path, None
        for md in self.inputs.pages:
            yield md.path, None

    def _search(self, counts: dict[str, tuple[str, int]]) -> None:
        """The Pagefind index over the search stubs, one part per bucket."""
        s = self.inputs.settings
        previous = self.store.meta_json("search_buckets", [])
        if not s.search:
            for prefix in previous if isinstance(previous, list) else []:
                self.ledger.claim(f"search:{prefix}", (), self.ledger.release(f"search:{prefix}"))
            self.store.set_meta(search_buckets="[]")
            return
        if self.incremental:
            for year, suffix in self.touched.gone_stubs:
                stub_path(self.stubs, year, suffix).unlink(missing_ok=True)
            for year, suffix, html in self.touched.new_stubs:
                target = stub_path(self.stubs, year, suffix)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(html, encoding="utf-8")
        years = {facet.split("/", 1)[1]: n for facet, (_, n) in counts.items() if facet.startswith("year/")}
        parts = search_parts(years, s.search_split_above)
        current = sorted(parts)
        if not self.incremental or previous != current:
            todo = current
        else:
            todo = sorted(p for p in current if p == "" and (self.touched.years or self.touched.gone_stubs)
                          or p.rstrip("/") in self.touched.years)
        for prefix in (p for p in (previous if isinstance(previous, list) else []) if p not in current):
            self.ledger.claim(f"search:{prefix}", (), self.ledger.release(f"search:{prefix}"))
        with tempfile.TemporaryDirectory(prefix="search-", dir=self.cache) as tmp:
            for prefix in todo:
                owner = f"search:{prefix}"
                old = self.ledger.release(owner)
                year = parts[prefix]
                if year is not None and not (self.stubs / year).is_dir():
                    files: list[FileEntry] = []
                else:
                    self.stubs.mkdir(parents=True, exist_ok=True)
                    old_map = dict(old)
                    files = [self.sink.put(f.path, f.data, old_map.get(f.path))
                             for f in index_part(self.stubs, year, prefix, Path(tmp))]
                self.ledger.claim(owner, files, old)
        self.store.set_meta(search_buckets=orjson.dumps(current).decode())

"""Indexes stage: every page and file that lists records — listings, the alias
maps (and, optionally, alias pages), the search index, sitemaps, the home
page, facet indexes, the feed — and the site-wide files, made from sorted and
range queries on the store, never from every record held in memory.

A full build makes all of them. An incremental build makes only what holds a
changed entry (:class:`~sitegen.build.plan.Touched`): the listing pages
around it, its alias-map, search and sitemap shards, and the few site-wide
pages; each owner's previous files are compared by the ledger, so only
changed bytes are published.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from sitegen.build.inputs import SiteInputs
from sitegen.build.ledger import Ledger
from sitegen.build.listing_pages import ListingSpec, all_listing_specs, changed_listing_specs
from sitegen.build.lookups import alias_maps, part_bits, part_of, search_index, sitemap_parts
from sitegen.build.plan import Touched, facets_of
from sitegen.build.pool import WorkerPool, batched
from sitegen.build.progress import Progress
from sitegen.build.publish import PendingSink, StagingSink
from sitegen.build.store import Store
from sitegen.build.workers import AliasTask, ListingTask, PagesResult
from sitegen.mirror.snapshot import mirror_key_file
from sitegen.model import FileEntry, OutputFile
from sitegen.pith.routes import ARXIV_ALIAS_KINDS, SHORT_ALIAS_KINDS
from sitegen.pith.timestamps import utc_stamp
from sitegen.site.listings import listing_root, page_path, starts_page
from sitegen.site.render import Renderer, site_files
from sitegen.site.theme import static_files

__all__ = ["Indexes"]


@dataclass
class Indexes:
    """The indexes stage of one build (see the module docstring)."""

    inputs: SiteInputs
    store: Store
    ledger: Ledger
    pool: WorkerPool
    sink: StagingSink | PendingSink
    renderer: Renderer
    touched: Touched
    progress: Progress = field(default_factory=lambda: Progress("off"))
    _released: dict[str, str] = field(default_factory=dict)
    #: ``(path, bytes)`` of the pages rendered from templates in this process, for the link check.
    rendered: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def incremental(self) -> bool:
        return self.ledger.tracks_changes

    def build(self, build_time: str) -> int:
        """Render every index the plan needs; returns files written anew by workers."""
        s = self.inputs.settings
        counts = self.store.facet_counts()
        changed = self.touched.summaries
        note = self.progress.note
        note("indexes: alias pages and maps")
        written = self._alias_pages()
        if s.aliases:
            alias_maps(self.store, self._publish, self._release_all, full=not self.incremental, changed=changed)
        else:
            self._release_all("aliasmap:")
        note("indexes: listings")
        written += self._listings(counts)
        note("indexes: home page, feed and sitemaps")
        self._site_pages(build_time, counts)
        self._sitemaps(build_time, counts)
        note("indexes: search index")
        if s.search:
            search_index(self.store, self._publish, self._release_all, full=not self.incremental, changed=changed)
        else:
            self._release_all("search:")
        self.ledger.drop(self._released.items())  # released and not made again
        self._released.clear()
        return written

    # -- owners ----------------------------------------------------------------------------------

    def _release_all(self, prefix: str) -> None:
        """Release every owner whose name starts with ``prefix``; their files
        are dropped at the end unless an owner publishes them again."""
        for owner in self.store.owners_with_prefix(prefix):
            self._released.update(self.ledger.release(owner))

    def _publish(self, owner: str, files: Iterable[OutputFile]) -> None:
        """Replace what ``owner`` published with ``files`` (written through the sink)."""
        old = self.ledger.release(owner)
        old_map = dict(old)
        entries = []
        for f in files:
            if f.path in self._released:
                old_map.setdefault(f.path, self._released[f.path])
                old.append((f.path, self._released.pop(f.path)))
            entries.append(self.sink.put(f.path, f.data, old_map.get(f.path)))
        self.ledger.claim(owner, entries, old)

    def _run(self, tasks: Iterable[AliasTask | ListingTask], releases: dict[str, list[tuple[str, str]]]) -> int:
        """Run page tasks on the pool; record their files per owner."""
        written = 0
        produced: dict[str, list[FileEntry]] = {owner: [] for owner in releases}
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
            self.ledger.claim(owner, files, releases.get(owner, ()))
        return written

    # -- alias pages (optional) and listings, rendered by workers ---------------------------------

    def _alias_pages(self) -> int:
        """Per-alias redirect pages (``alias_pages = true``, small mirrors), by
        cluster: all versions of one arXiv id, all suffixes sharing a prefix."""
        enabled = self.inputs.settings.alias_pages
        every = not self.incremental or self.store.meta("alias_fp") != self.inputs.fingerprints.alias
        releases: dict[str, list[tuple[str, str]]] = {}
        if self.incremental:
            if every or not enabled:
                owners = self.store.owners_with_prefix("arxiv:") + self.store.owners_with_prefix("short:")
            else:
                owners = ([f"arxiv:{a}" for a in self.touched.arxiv_ids]
                          + [f"short:{p}" for p in self.touched.short_prefixes])
            releases = {owner: self.ledger.release(owner) for owner in sorted(owners)}
        if not enabled:
            return self._run((), releases)
        arxiv = self.store.arxiv_clusters(None if every else self.touched.arxiv_ids)
        short = self.store.short_clusters(None if every else self.touched.short_prefixes)

        def tasks() -> Iterator[AliasTask]:
            for kind, kinds, clusters in (("arxiv", ARXIV_ALIAS_KINDS, arxiv), ("short", SHORT_ALIAS_KINDS, short)):
                for key, members in clusters:
                    owner = f"{kind}:{key}"
                    if members:
                        yield AliasTask(owner, kinds, tuple(members), tuple(releases.get(owner, ())))
        return self._run(tasks(), releases)

    def _listings(self, counts: dict[str, tuple[str, int]]) -> int:
        """Listing pages and landings (:mod:`sitegen.build.listing_pages`)."""
        size = self.inputs.settings.page_size
        every = not self.incremental or self.store.meta("listing_fp") != self.inputs.fingerprints.listing
        releases: dict[str, list[tuple[str, str]]] = {}
        if every:
            if self.incremental:
                releases = {o: self.ledger.release(o) for o in self.store.owners_with_prefix("facet:")}
            specs: Iterable[ListingSpec] = all_listing_specs(self.store, counts, size)
        else:
            changes: dict[str, list[tuple[str, str]]] = {}
            for summary, gone in self.touched.changes:
                for facet, _ in facets_of(summary):
                    changes.setdefault(facet, []).append((summary.submitted_at, summary.suffix))
                    if gone and starts_page(summary.suffix, size):  # its page is gone (perhaps made again)
                        owner = f"facet:{facet}:{summary.suffix}"
                        releases[owner] = self.ledger.release(owner)
            for facet in changes:
                if facet not in counts:  # the listing is empty now
                    for owner in [f"facet:{facet}", *self.store.owners_with_prefix(f"facet:{facet}:")]:
                        releases[owner] = self.ledger.release(owner)
            specs = list(changed_listing_specs(self.store, counts, size, changes))
            for spec in specs:
                releases.setdefault(spec.owner, []).extend(self.ledger.release(spec.owner))

        def tasks() -> Iterator[ListingTask]:
            for batch in batched(specs, 8):
                members = sorted({m for spec in batch for page in spec.pages for m in page.members}
                                 | {m for spec in batch if spec.landing for m in spec.landing[0]})
                summaries = self.store.summaries_of(members)
                for spec in batch:
                    yield ListingTask(spec, tuple(summaries[m] for m in _members(spec)),
                                      tuple(releases.get(spec.owner, ())))
        return self._run(tasks(), releases)

    # -- pages made in this process ----------------------------------------------------------------

    def _site_pages(self, build_time: str, counts: dict[str, tuple[str, int]]) -> None:
        """Static files, the home page, facet indexes, Markdown pages, the
        feed, the search page, 404 and the small site-wide files."""
        s, r, store = self.inputs.settings, self.renderer, self.store
        files: list[OutputFile] = list(static_files(self.inputs.theme))
        n_static = len(files)  # the operator's own HTML is not checked (sitegen does not render it)
        files += site_files(s, self.inputs.keyring, r, build_time)
        if self.inputs.mirror_key is not None:
            files.append(mirror_key_file(self.inputs.mirror_key))
        by_kind: dict[str, list[tuple[str, str, int]]] = {"year": [], "category": []}
        for facet, (label, n) in counts.items():
            kind, key = facet.split("/", 1)
            by_kind[kind].append((key, label, n))
        for kind in ("year", "category"):
            files.append(r.facet_index(kind, by_kind[kind]))
        for md in self.inputs.pages:
            files.append(OutputFile(md.path + "index.html", r.page("page.html", path=md.path, page_title=md.title,
                                                                    body=md.html, description=md.description)))
        top = store.newest(max(s.page_size, s.feed_size) + 1)
        published = store.entry_count()
        stats = {"records": published, "bundles": store.bundle_count(),
                 "years": len(by_kind["year"]), "categories": len(by_kind["category"])}
        files.append(OutputFile("index.html", r.page("index.html", records=top[:s.page_size], counts=stats,
                                                     more=published > s.page_size)))
        files.append(OutputFile("feed.xml", r.page("feed.xml", records=top[:s.feed_size], generated_at=build_time)))
        if s.search:
            files.append(OutputFile("search/index.html", r.page("search.html")))
        self.rendered.extend((f.path, f.data) for f in files[n_static:] if f.path.endswith(".html"))
        self._publish("site", files)

    def _sitemaps(self, build_time: str, counts: dict[str, tuple[str, int]]) -> None:
        """Sitemap parts by URL hash (a record changes one part), and the index."""
        s, store = self.inputs.settings, self.store
        others = self._other_urls(build_time, counts)
        bits = part_bits(store.entry_count() + len(others), s.sitemap_max_urls)
        while True:  # a part over the limit (unlucky hashing) means one more bit, for every build alike
            by_part: dict[int, list[tuple[str, str | None]]] = {}
            for url, lastmod in others:
                by_part.setdefault(part_of(url or "/", bits), []).append((url, lastmod))
            if bits >= 16 or all(store.count_record_urls(lo, hi) + len(by_part.get(n, [])) <= s.sitemap_max_urls
                                 for n, (_, lo, hi) in enumerate(sitemap_parts(bits))):
                break
            bits += 1
        digests = {str(n): _digest(urls) for n, urls in by_part.items()}
        previous = store.meta_json("sitemap_parts", None)
        every = not self.incremental or not isinstance(previous, dict) or previous.get("bits") != bits
        if every:
            self._release_all("sitemap:")
            todo = set(range(1 << bits))
        else:
            remembered = previous.get("others") if isinstance(previous, dict) else None
            old: dict[str, Any] = remembered if isinstance(remembered, dict) else {}
            todo = {part_of(f"pith/{x.suffix}/", bits) for x in self.touched.summaries}
            todo |= {int(n) for n in set(old) | set(digests) if old.get(n) != digests.get(n)}
        children = []
        for n, (name, lo, hi) in enumerate(sitemap_parts(bits)):
            if n in todo:
                urls: list[tuple[str, str | None]] = [
                    (f"pith/{suffix}/", utc_stamp(updated)) for suffix, updated in store.record_urls(lo, hi)]
                urls = sorted(urls + by_part.get(n, []))
                self._publish(f"sitemap:{name}", [OutputFile(name, self.renderer.page("sitemap-urls.xml", urls=urls))]
                              if urls else [])
            if store.count_record_urls(lo, hi) or by_part.get(n):
                children.append(name)
        self._publish("sitemap:index", [OutputFile("sitemap.xml", self.renderer.page(
            "sitemap.xml", children=children, generated_at=build_time))])
        store.set_meta(sitemap_parts=orjson.dumps({"bits": bits, "others": digests}).decode())

    def _other_urls(self, build_time: str, counts: dict[str, tuple[str, int]]) -> list[tuple[str, str | None]]:
        """Every sitemap URL but the record pages: ``(path, lastmod or None)``."""
        urls: list[tuple[str, str | None]] = [("", build_time), ("years/", None), ("categories/", None)]
        for facet in sorted(counts):
            urls += [(listing_root(facet), None), (page_path(facet, "first"), None)]
        firsts = {facet: self.store.first_row(facet) for facet in counts}
        for facet, suffix in self.store.page_starts():
            first = firsts.get(facet)
            if first is None or first[1] != suffix:
                urls.append((page_path(facet, suffix), None))
        urls += [(md.path, None) for md in self.inputs.pages]
        return urls


def _digest(urls: list[tuple[str, str | None]]) -> str:
    return hashlib.sha256(orjson.dumps(sorted(urls, key=lambda u: u[0]))).hexdigest()[:16]


def _members(spec: ListingSpec) -> list[str]:
    out = [m for page in spec.pages for m in page.members]
    if spec.landing:
        out += list(spec.landing[0])
    return list(dict.fromkeys(out))

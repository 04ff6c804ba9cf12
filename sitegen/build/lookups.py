"""The sharded lookup files of the indexes stage: alias maps
(:mod:`sitegen.site.aliasmap`), the search index (:mod:`sitegen.site.search`)
and the sitemap parts. Each shard is one ledger owner, made from a range
query on the store; a full build (or a change of shard counts) makes all of
them, an incremental build only the shards that hold a changed record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from itertools import groupby
from typing import Any

from sitegen.build.store import Store, parse_summary
from sitegen.model import OutputFile
from sitegen.site.aliasmap import AliasParams, alias_index_file, alias_params, arxiv_shard_file, suffix_shard_file
from sitegen.site.lookup import shard_of, shard_range, top16
from sitegen.site.search import (
    SearchParams,
    doc_entry,
    doc_key,
    doc_shard_file,
    entry_terms,
    index_file,
    search_params,
    term_shard_files,
)
from sitegen.site.summary import Summary

__all__ = ["Publish", "alias_maps", "search_index", "sitemap_parts", "SITEMAP_PART_SIZE"]

#: ``publish(owner, files)`` — replace what ``owner`` published with ``files``.
Publish = Callable[[str, Iterable[OutputFile]], None]
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#: URLs a sitemap part aims for (the protocol allows 50,000).
SITEMAP_PART_SIZE = 25_000


def _hex_shards(digits: int) -> Iterator[str]:
    if digits == 0:
        yield ""
        return
    for n in range(16 ** digits):
        yield format(n, f"0{digits}x")


def _params_changed(store: Store, key: str, params: object) -> bool:
    """Whether the shard layout differs from the last build's (the document
    count alone does not change which file a key lives in)."""
    layout = {k: v for k, v in asdict(params).items() if k != "documents"}  # type: ignore[call-overload]
    old = store.meta_json(key, None)
    return not isinstance(old, dict) or {k: v for k, v in old.items() if k != "documents"} != layout


def alias_maps(store: Store, publish: Publish, release_all: Callable[[str], None], *, full: bool,
               changed: list[Summary]) -> None:
    """Publish the alias maps: every shard, or those holding ``changed``."""
    params: AliasParams = alias_params(store.entry_count())
    every = full or _params_changed(store, "alias_params", params)
    if every:
        release_all("aliasmap:")
        arxiv = list(_hex_shards(params.arxiv_shard_digits))
        prefixes: Iterable[str] = store.suffix_prefixes(params.suffix_shard_chars)
    else:
        arxiv = sorted({shard_of(s.arxiv_id, params.arxiv_shard_digits) for s in changed})
        prefixes = sorted({s.suffix[:params.suffix_shard_chars] for s in changed})
    for shard in arxiv:
        members = store.arxiv_members(*shard_range(shard))
        publish(f"aliasmap:arxiv:{shard}", [arxiv_shard_file(shard, members)] if members else [])
    for prefix in prefixes:
        suffixes = store.suffixes_with_prefix(prefix)
        publish(f"aliasmap:suffix:{prefix}", [suffix_shard_file(prefix, suffixes)] if suffixes else [])
    publish("aliasmap:index", [alias_index_file(params)])
    store.set_meta(alias_params=_json(asdict(params)))


def search_index(store: Store, publish: Publish, release_all: Callable[[str], None], *, full: bool,
                 changed: list[Summary]) -> None:
    """Publish the search index: every shard, or those holding ``changed``."""
    params: SearchParams = search_params(store.entry_count())
    every = full or _params_changed(store, "search_params", params)
    if every:
        release_all("search:")
        term_shards: Iterable[str] = _hex_shards(params.term_shard_digits)
        doc_shards: Iterable[int] = range(params.doc_shards)
    else:
        term_shards = sorted({shard_of(t, params.term_shard_digits) for s in changed for _, t in entry_terms(s)})
        doc_shards = sorted({doc_key(s) % params.doc_shards for s in changed})
    for shard in term_shards:
        publish(f"search:t:{shard}", term_shard_files(shard, store.postings_in(*shard_range(shard))))
    if every:
        # One pass over the store, sorted by shard, one shard in memory at a time (holding
        # every summary at once cost ~1 KB per document: ~1 GB at a million).
        groups = groupby(store.documents_by_shard(params.doc_shards), key=lambda r: r[0])
        current = next(groups, None)
        for n in doc_shards:
            docs: list[tuple[int, Any]] = []
            if current is not None and current[0] == n:
                docs = [(key, doc_entry(parse_summary(raw))) for _, key, raw in current[1]]
                current = next(groups, None)
            publish(f"search:d:{n}", [doc_shard_file(n, docs)] if docs else [])
    else:
        for n in doc_shards:
            docs = [(key, doc_entry(parse_summary(raw))) for key, raw in store.documents_in(params.doc_shards, n)]
            publish(f"search:d:{n}", [doc_shard_file(n, docs)] if docs else [])
    publish("search:index", [index_file(params)])
    store.set_meta(search_params=_json(asdict(params)))


def _json(obj: object) -> str:
    import orjson

    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()


def part_bits(total: int, max_urls: int) -> int:
    """Bits of :func:`~sitegen.site.lookup.top16` naming a sitemap part: the
    fewest giving parts of about ``SITEMAP_PART_SIZE`` URLs (never more than
    ``max_urls``, checked by the caller)."""
    bits = 0
    while total > min(SITEMAP_PART_SIZE, max_urls // 2) * (1 << bits) and bits < 16:
        bits += 1
    return bits


def sitemap_parts(bits: int) -> Iterator[tuple[str, int, int]]:
    """``(name, lo, hi)`` of every sitemap part: ``sitemap-<hex>.xml`` (``sitemap-all.xml`` for one)."""
    for n in range(1 << bits):
        lo = n << (16 - bits)
        yield (f"sitemap-{format(n, '04x')}.xml" if bits else "sitemap-all.xml"), lo, lo + (1 << (16 - bits)) - 1


def part_of(url_path: str, bits: int) -> int:
    return top16(url_path) >> (16 - bits) if bits else 0

"""The static search index (ours, ``sitegen-search-1``, docs/protocol.md §9).

Pagefind, the library this replaced, needs ~75 kB of memory per record
indexed and one fragment file per record — 75 GB and a million files for a
million records (decision record 0008). This index is made from sorted
queries on the build store in bounded memory, is a pure function of the
published records (so an incremental build writes exactly what a clean one
would), and lets the browser fetch only what a query needs:

``search/index.json``
    ``{format, documents, term_shard_digits, doc_shards, inline_max, chunk}``.
``search/t/<shard>.json``
    terms whose :func:`~sitegen.site.lookup.shard_of` is ``<shard>``:
    ``{term: [df, postings]}`` where ``postings`` is the base64 of the
    document keys (ascending, :func:`~sitegen.site.lookup.encode_keys`) when
    ``df <= inline_max``, else ``[hash, [first key of each chunk…]]`` naming
    chunk files ``search/p/<shard>/<hash>-<i>.bin`` of ``chunk`` keys each,
    counted from the oldest (so a new record changes only the last chunk).
``search/d/<n>.json``
    documents whose key ``mod doc_shards`` is ``n``:
    ``{key: [[suffix, title, authors, year, arxiv id, primary category], …]}``.

A document's *key* is ``days(submitted_at since 1986-01-01) << 25 | the
first 25 bits of its suffix`` — ascending keys are oldest first, the newest
results are found in the last chunks, and a key fits a JavaScript number.
Indexed: the title, the authors, the arXiv id (with its version), the
categories and the year — metadata, not abstracts (size). Identifiers such as
DOIs and Pith Numbers are resolved by the search page through the alias maps.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

import orjson

from sitegen.model import OutputFile
from sitegen.site.lookup import cyrb53, encode_keys, shard_of, tokens, top16
from sitegen.site.summary import Summary

__all__ = ["FORMAT", "SearchParams", "search_params", "doc_key", "doc_terms", "entry_terms", "doc_entry",
           "term_shard_files", "doc_shard_file", "index_file", "INDEX_DIR", "INLINE_MAX", "CHUNK"]

FORMAT = "sitegen-search-1"
INDEX_DIR = "search/"
#: Postings kept in the term shard itself; longer lists go to chunk files.
INLINE_MAX = 512
#: Keys per chunk file.
CHUNK = 1024
_EPOCH = date(1986, 1, 1).toordinal()
_SUFFIX_BITS = 25
_B32 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}


@dataclass(frozen=True)
class SearchParams:
    """How many shards an index of ``documents`` records uses (a function of
    the count only, so any build of the same records agrees)."""

    documents: int
    term_shard_digits: int
    doc_shards: int


def search_params(documents: int) -> SearchParams:
    """Term shards: 16 up to 2,000 records, 256 up to 50,000, 4,096 beyond
    (~8 kB a shard at a million records). Document shards: a power of two
    with about 16 documents each."""
    digits = 1 if documents <= 2_000 else 2 if documents <= 50_000 else 3
    shards = 1
    while shards * 16 < documents:
        shards *= 2
    return SearchParams(documents, digits, shards)


def doc_key(summary: Summary) -> int:
    """The document's key (see the module docstring)."""
    y, m, d = (int(x) for x in summary.submitted_at[:10].split("-"))
    days = min(max(date(y, m, d).toordinal() - _EPOCH, 0), (1 << 15) - 1)
    bits = 0
    for c in summary.suffix[:5]:
        bits = (bits << 5) | _B32[c]
    return (days << _SUFFIX_BITS) | bits


def doc_terms(summary: Summary) -> set[str]:
    """Every term a document is found by."""
    text = " ".join([summary.title, *summary.authors, summary.arxiv_id, f"{summary.arxiv_id}v{summary.version}",
                     *summary.categories, summary.year])
    return set(tokens(text))


def entry_terms(summary: Summary) -> list[tuple[int, str]]:
    """``(top16, term)`` of every term of a document, sorted (what the build store keeps)."""
    return sorted((top16(t), t) for t in doc_terms(summary))


def doc_entry(summary: Summary) -> list[str]:
    """What a result shows: suffix, title, authors (three and "et al."),
    year, arXiv id with version, primary category — plain text."""
    authors = ", ".join(summary.authors[:3]) + (" et al." if len(summary.authors) > 3 else "")
    return [summary.suffix, summary.title[:300], authors[:200], summary.year,
            f"{summary.arxiv_id}v{summary.version}", summary.primary_cat]


def _json(obj: object) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS) + b"\n"


def term_shard_files(shard: str, terms: Iterable[tuple[str, list[int]]]) -> Iterator[OutputFile]:
    """The term shard ``shard`` and the chunk files of its long terms, from
    ``(term, ascending keys)`` sorted by term."""
    entries: dict[str, object] = {}
    for term, keys in terms:
        if len(keys) <= INLINE_MAX:
            entries[term] = [len(keys), base64.b64encode(encode_keys(keys)).decode("ascii")]
            continue
        name = format(cyrb53(term), "014x")
        firsts = []
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i:i + CHUNK]
            firsts.append(chunk[0])
            yield OutputFile(f"{INDEX_DIR}p/{shard or '_'}/{name}-{i // CHUNK}.bin", encode_keys(chunk))
        entries[term] = [len(keys), [name, firsts]]
    yield OutputFile(f"{INDEX_DIR}t/{shard or '_'}.json", _json(entries))


def term_shard(term: str, params: SearchParams) -> str:
    return shard_of(term, params.term_shard_digits)


def doc_shard_file(n: int, docs: Iterable[tuple[int, list[str]]]) -> OutputFile:
    """Document shard ``n`` from ``(key, entry)`` pairs."""
    grouped: dict[str, list[list[str]]] = {}
    for key, entry in docs:
        grouped.setdefault(str(key), []).append(entry)
    return OutputFile(f"{INDEX_DIR}d/{n}.json", _json({k: sorted(v) for k, v in grouped.items()}))


def index_file(params: SearchParams) -> OutputFile:
    return OutputFile(f"{INDEX_DIR}index.json", _json({
        "format": FORMAT, "documents": params.documents, "term_shard_digits": params.term_shard_digits,
        "doc_shards": params.doc_shards, "inline_max": INLINE_MAX, "chunk": CHUNK}))

"""Static alias resolution without a file per alias (ours, ``sitegen-aliases-1``,
docs/protocol.md §9).

The resolver answers ``/api/pith-number/resolve?arxiv=<id>`` with a query
string, which a static host cannot serve. A file per alias (arXiv id,
versioned id, DOI, three short prefixes: six folders and twelve files per
record) does not scale to a million records. Instead sitegen publishes two
sharded maps, and ``404.html`` carries a small router (``assets/router.js``)
that reads them and sends a browser from ``/arxiv/<id>/``, ``/arxiv/<id>v<N>/``,
``/doi/10.48550/arxiv.<id>/`` or ``/paper/<prefix>/`` to the record page:

``api/aliases/index.json``
    ``{format, documents, arxiv_shard_digits, suffix_shard_chars}``.
``api/aliases/arxiv/<shard>.json``
    ``{arxiv_id: [[version, suffix], …]}`` (versions descending) for the
    arXiv ids whose :func:`~sitegen.site.lookup.shard_of` is ``<shard>``.
    A DOI ``10.48550/arXiv.<id>`` is its arXiv id (case-insensitive).
``api/aliases/suffix/<first chars>.json``
    the sorted suffixes starting with those characters: any prefix of
    eight or more characters (a short Pith Number) resolves by filtering it.

Programs use the same files (README, *Static alias resolution*). Paths are
built from verified suffixes and arXiv ids only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from sitegen.model import OutputFile

__all__ = ["FORMAT", "AliasParams", "alias_params", "arxiv_shard_file", "suffix_shard_file", "alias_index_file",
           "ALIAS_DIR"]

FORMAT = "sitegen-aliases-1"
ALIAS_DIR = "api/aliases/"


@dataclass(frozen=True)
class AliasParams:
    """Shard counts for ``documents`` records (a function of the count only):
    arXiv shards of ≤ ~512 ids, suffix shards of ≤ ~1,024 suffixes."""

    documents: int
    arxiv_shard_digits: int
    suffix_shard_chars: int


def alias_params(documents: int) -> AliasParams:
    digits = 0
    while documents > 512 * 16 ** digits and digits < 4:
        digits += 1
    chars = 0
    while documents > 1024 * 32 ** chars and chars < 4:
        chars += 1
    return AliasParams(documents, digits, chars)


def _json(obj: object) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS) + b"\n"


def arxiv_shard_file(shard: str, members: Iterable[tuple[str, int, str]]) -> OutputFile:
    """The arXiv shard ``shard`` from ``(arxiv_id, version, suffix)``."""
    ids: dict[str, list[list[object]]] = {}
    for arxiv_id, version, suffix in members:
        ids.setdefault(arxiv_id, []).append([version, suffix])
    for versions in ids.values():
        versions.sort(key=lambda v: (-int(v[0]), str(v[1])))  # type: ignore[call-overload]
    return OutputFile(f"{ALIAS_DIR}arxiv/{shard or '_'}.json", _json(ids))


def suffix_shard_file(prefix: str, suffixes: Iterable[str]) -> OutputFile:
    """The suffix shard of ``prefix`` (its first ``suffix_shard_chars`` characters)."""
    return OutputFile(f"{ALIAS_DIR}suffix/{prefix or '_'}.json", _json(sorted(suffixes)))


def alias_index_file(params: AliasParams) -> OutputFile:
    return OutputFile(f"{ALIAS_DIR}index.json", _json({
        "format": FORMAT, "documents": params.documents, "arxiv_shard_digits": params.arxiv_shard_digits,
        "suffix_shard_chars": params.suffix_shard_chars}))

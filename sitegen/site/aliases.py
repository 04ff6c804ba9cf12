"""Static alias resolution (our design; the resolver answers aliases with a
query-string API a static host cannot serve, docs/protocol.md §5).

With ``alias_pages = true`` (off by default: the default is the sharded alias
maps of :mod:`sitegen.site.aliasmap` and the router on ``404.html``, decision
record 0009), every alias of a published Pith Number (paths:
:func:`sitegen.pith.routes.alias_paths`) gets a directory in the output tree
with an ``index.html`` redirect page and a ``pith.json`` naming the Pith
Number(s) and their URLs:

=====================  =======================================  ===========
alias kind             path                                     example
=====================  =======================================  ===========
arxiv                  ``arxiv/<id>/``                          ``arxiv/hep-lat/0305021/``
arxiv_version          ``arxiv/<id>v<N>/``                      ``arxiv/1709.05011v10/``
doi                    ``doi/10.48550/arxiv.<id>/``             (lower case)
pith_short_8/12/16     ``paper/<prefix>/``                      ``paper/BIMLI3TH/``
=====================  =======================================  ===========

Paths are built from the verified ``source.id``, ``source.version`` and the
recomputed suffix — never from alias strings (the verifier has checked that
the aliases a document carries equal these values). Directory index pages
need no server configuration on GitHub Pages, Netlify, Cloudflare Pages, S3
website hosting or nginx. Several Pith Numbers can share an alias (versions
of one paper, a short-prefix collision): an unversioned arXiv id or DOI
resolves to the highest version; otherwise ``resolved`` is null and the page
lets the reader choose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["AliasTarget", "Alias", "group_aliases"]


@dataclass(frozen=True)
class AliasTarget:
    """One Pith Number an alias points at."""

    pith_number: str
    suffix: str
    version: int
    has_record: bool = True
    has_bundle: bool = False


@dataclass(frozen=True)
class Alias:
    """An alias path and everything it resolves to. ``resolved`` is the Pith
    Number a reader is sent to, or None when the alias is ambiguous."""

    kind: str
    value: str
    path: str
    targets: tuple[AliasTarget, ...]
    resolved: AliasTarget | None


def _resolve(kind: str, targets: tuple[AliasTarget, ...]) -> AliasTarget | None:
    if len(targets) == 1:
        return targets[0]
    if kind in ("arxiv", "doi"):
        top = max(t.version for t in targets)
        newest = [t for t in targets if t.version == top]
        return newest[0] if len(newest) == 1 else None
    return None


def group_aliases(items: Iterable[tuple[str, str, str, AliasTarget]]) -> list[Alias]:
    """Group ``(kind, value, path, target)`` items by path; sorted by path,
    targets by descending version then suffix (deterministic output)."""
    by_path: dict[str, tuple[str, str, list[AliasTarget]]] = {}
    for kind, value, path, target in items:
        by_path.setdefault(path, (kind, value, []))[2].append(target)
    out = []
    for path in sorted(by_path):
        kind, value, targets = by_path[path]
        ordered = tuple(sorted(set(targets), key=lambda t: (-t.version, t.suffix)))
        out.append(Alias(kind, value, path, ordered, _resolve(kind, ordered)))
    return out

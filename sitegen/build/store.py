"""The build store: what the last successful build verified and published,
kept in SQLite (stdlib) beside the output tree so the next build redoes only
what changed (docs/scaling.md).

Why one module of ~600 lines: it is the only place that knows the schema —
every query of the store is a named method here, next to the tables it reads,
so a schema change is one file's change and no other module writes SQL.

Plain data only — text, integers and JSON; never pickle, never markup. Tables:

* ``meta(key, value)`` — store format, sitegen version, output directory, the
  ``tree_sha256`` of the snapshot it describes, fingerprints of the inputs.
* ``sources(path, sig, sha256, suffix, key_ids)`` — one row per content file:
  its stat signature (size, mtime, ctime, inode), the SHA-256 of its bytes,
  the suffix it claims and the key ids it names.
* ``entries(suffix, inputs, summary, submitted_at, arxiv_id, version, updated_at)``
  — one row per published Pith Number: the fingerprint of everything its files
  were made from, and its :class:`~sitegen.site.summary.Summary` as JSON.
* ``entries`` also keeps what finds an entry's shard of the static lookup
  files: ``arxiv_top16`` (alias map), ``url_top16`` (sitemap part) and
  ``search_key`` (:func:`sitegen.site.search.doc_key`).
* ``facets(facet, label, submitted_at, suffix, page_start)`` — listing
  memberships (``year/2024``, ``category/cs.lg`` with label ``cs.LG``), and
  whether the record starts a listing page (:mod:`sitegen.site.listings`).
* ``postings(top16, term, key, suffix)`` — the search index's terms of each
  entry (:mod:`sitegen.site.search`).
* ``outputs(path, owner, size, sha256, shard)`` — every published file and what
  made it (a suffix, ``facet:<name>…``, ``aliasmap:<part>``,
  ``search:<part>``, ``sitemap:<name>``, ``site``; ``arxiv:<id>`` and
  ``short:<prefix>`` with ``alias_pages = true``).
* ``shards(prefix, count, bytes, size, sha256)`` — the snapshot shards.

The store is untrusted input (whoever can write the output directory's
parent can edit it): :func:`open_store` replaces it — and says why — when it
is missing, damaged, of another format or sitegen version, made for another
output directory, or describes another tree than the one published; and
everything read back from it is checked (:class:`CacheDamaged` when wrong,
which makes the build start over in full). Every SQL statement of the build
lives here, behind a named method.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from sitegen import __version__
from sitegen.pith.routes import check_route
from sitegen.site.summary import Summary

__all__ = ["Store", "open_store", "parse_summary", "is_io_failure", "STORE_FORMAT", "cache_dir_for", "CacheDamaged",
           "SourceRow"]

STORE_FORMAT = "sitegen-store-3"

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(path TEXT PRIMARY KEY, sig TEXT NOT NULL, sha256 TEXT NOT NULL,
                     suffix TEXT, key_ids TEXT NOT NULL);
CREATE TABLE entries(suffix TEXT PRIMARY KEY, inputs TEXT NOT NULL, summary BLOB NOT NULL,
                     submitted_at TEXT NOT NULL, arxiv_id TEXT NOT NULL, version INTEGER NOT NULL,
                     updated_at TEXT NOT NULL, arxiv_top16 INTEGER NOT NULL, url_top16 INTEGER NOT NULL,
                     search_key INTEGER NOT NULL);
CREATE TABLE facets(facet TEXT NOT NULL, label TEXT NOT NULL, submitted_at TEXT NOT NULL, suffix TEXT NOT NULL,
                    page_start INTEGER NOT NULL);
CREATE TABLE postings(top16 INTEGER NOT NULL, term TEXT NOT NULL, key INTEGER NOT NULL, suffix TEXT NOT NULL);
CREATE TABLE outputs(path TEXT PRIMARY KEY, owner TEXT NOT NULL, size INTEGER NOT NULL,
                     sha256 TEXT NOT NULL, shard TEXT NOT NULL);
CREATE TABLE shards(prefix TEXT PRIMARY KEY, count INTEGER NOT NULL, bytes INTEGER NOT NULL,
                    size INTEGER NOT NULL, sha256 TEXT NOT NULL);
"""

#: Secondary indexes, created after a full build's bulk insert (faster than
#: maintaining them row by row).
_INDEXES = """
CREATE INDEX IF NOT EXISTS entries_newest ON entries(submitted_at DESC, suffix DESC);
CREATE INDEX IF NOT EXISTS entries_arxiv ON entries(arxiv_id, version);
CREATE INDEX IF NOT EXISTS entries_arxiv_shard ON entries(arxiv_top16);
CREATE INDEX IF NOT EXISTS entries_url_part ON entries(url_top16);
CREATE INDEX IF NOT EXISTS entries_search_key ON entries(search_key);
CREATE INDEX IF NOT EXISTS facets_order ON facets(facet, submitted_at, suffix);
CREATE INDEX IF NOT EXISTS facets_starts ON facets(facet, submitted_at, suffix) WHERE page_start;
CREATE INDEX IF NOT EXISTS postings_shard ON postings(top16, term, key);
CREATE INDEX IF NOT EXISTS facets_suffix ON facets(suffix);
CREATE INDEX IF NOT EXISTS outputs_owner ON outputs(owner);
CREATE INDEX IF NOT EXISTS outputs_shard ON outputs(shard, path);
CREATE INDEX IF NOT EXISTS outputs_folded ON outputs(lower(path));
CREATE INDEX IF NOT EXISTS sources_suffix ON sources(suffix);
"""


class CacheDamaged(Exception):
    """Something read from the store is not what sitegen writes there: the
    build starts over in full, without it. Raised from any :class:`Store` method."""


@dataclass(frozen=True)
class SourceRow:
    """A content file as the store remembers it."""

    path: str
    sig: str
    sha256: str
    suffix: str | None
    key_ids: str


def cache_dir_for(output_dir: Path) -> Path:
    """Where the store, the write journal and the pending files live: a hidden
    directory beside the output tree (never inside it, so never published)."""
    output_dir = output_dir.absolute()
    return output_dir.parent / f".{output_dir.name}.sitegen-cache"


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise CacheDamaged(f"expected text, found {type(value).__name__}")
    return value


#: Paths sitegen never writes: the only dot-paths it publishes are these.
_FOREIGN_DOT = re.compile(r"\A\.(?!well-known/|nojekyll\Z)")


def _route(value: object) -> str:
    try:
        path = check_route(_text(value))
    except ValueError as e:
        raise CacheDamaged(f"a stored output path is not a route sitegen writes ({e})") from None
    if _FOREIGN_DOT.match(path):
        raise CacheDamaged(f"a stored output path is not a route sitegen writes: {path!r:.60}")
    return path


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CacheDamaged(f"expected a count, found {value!r:.40}")
    return value


def parse_summary(data: object) -> Summary:
    """A stored summary, checked (:class:`CacheDamaged` if it is not one sitegen wrote)."""
    try:
        return Summary.from_json(data if isinstance(data, (bytes, str)) else b"")
    except (ValueError, TypeError) as e:
        raise CacheDamaged(f"a stored record summary is not valid ({e})") from None


class Store:
    """An open store. ``reused`` is False for a new, empty store; ``reason``
    then says why the previous one was not used. Methods raise
    :class:`CacheDamaged` for content sitegen would not have written and
    ``sqlite3.Error`` for a failing database."""

    def __init__(self, db: sqlite3.Connection, path: Path, *, reused: bool, reason: str) -> None:
        self.db, self.path, self.reused, self.reason = db, path, reused, reason

    # -- meta ----------------------------------------------------------------------------------

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return _text(row[0]) if row else default

    def meta_json(self, key: str, default: object) -> object:
        """A JSON value kept in ``meta`` (:class:`CacheDamaged` if unreadable)."""
        raw = self.meta(key)
        if raw is None:
            return default
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise CacheDamaged(f"meta {key} is not JSON") from None

    def set_meta(self, **values: str) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    def create_indexes(self) -> None:
        for statement in _INDEXES.strip().split(";"):
            if statement.strip():
                self.db.execute(statement)

    def commit(self) -> None:
        self.db.commit()

    def abandon(self) -> None:
        """Roll back and close, whatever state the database is in."""
        for step in (self.db.rollback, self.db.close):
            try:
                step()
            except sqlite3.Error:
                pass

    def close(self) -> None:
        self.db.close()

    # -- sources -------------------------------------------------------------------------------

    def sources_by_path(self) -> Iterator[tuple[str, str, str | None]]:
        """``(path, sig, suffix)`` of every known content file, sorted by path."""
        for path, sig, suffix in self.db.execute("SELECT path, sig, suffix FROM sources ORDER BY path"):
            yield _text(path), _text(sig), None if suffix is None else _text(suffix)

    def forget_source(self, path: str) -> None:
        self.db.execute("DELETE FROM sources WHERE path = ?", (path,))

    def remember_sources(self, rows: Iterable[SourceRow]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?)",
                            [(r.path, r.sig, r.sha256, r.suffix, r.key_ids) for r in rows])

    def suffixes_naming_key(self, key_id: str) -> list[str | None]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT suffix FROM sources WHERE ' ' || key_ids || ' ' LIKE ?",
                                              (f"% {key_id} %",))]

    def suffixes_not_published(self) -> list[str | None]:
        """Suffixes of content files that did not verify last time (or could not be identified)."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT suffix FROM sources WHERE suffix IS NULL OR suffix NOT IN (SELECT suffix FROM entries)")]

    def members(self, suffix: str) -> list[SourceRow]:
        """The content files that claim ``suffix``, sorted by path."""
        return [SourceRow(_text(p), "", _text(h), suffix, _text(k)) for p, h, k in self.db.execute(
            "SELECT path, sha256, key_ids FROM sources WHERE suffix = ? ORDER BY path", (suffix,))]

    def source_groups(self) -> Iterator[SourceRow]:
        """Every content file, identified ones grouped by suffix (in suffix order), then the rest."""
        for p, h, s, k in self.db.execute("SELECT path, sha256, suffix, key_ids FROM sources "
                                          "ORDER BY suffix IS NULL, suffix, path"):
            yield SourceRow(_text(p), "", _text(h), None if s is None else _text(s), _text(k))

    def unidentified_paths(self) -> list[str]:
        return [_text(r[0]) for r in self.db.execute("SELECT path FROM sources WHERE suffix IS NULL ORDER BY path")]

    def entry_task_count(self) -> int:
        """Distinct suffixes plus unidentified files: the tasks of a full build."""
        return _count(self.db.execute("SELECT count(DISTINCT suffix) + (SELECT count(*) FROM sources "
                                      "WHERE suffix IS NULL) FROM sources").fetchone()[0])

    def sources_of_facet(self, facet: str, limit: int = 2) -> list[str]:
        """Some content files of records listed under ``facet`` (for messages)."""
        return [_text(r[0]) for r in self.db.execute(
            "SELECT s.path FROM facets f JOIN sources s ON s.suffix = f.suffix WHERE f.facet = ? "
            "ORDER BY s.path LIMIT ?", (facet, limit))]

    # -- entries and facets ----------------------------------------------------------------------

    def entry_summary(self, suffix: str) -> Summary | None:
        row = self.db.execute("SELECT summary FROM entries WHERE suffix = ?", (suffix,)).fetchone()
        return None if row is None else parse_summary(row[0])

    def drop_entry(self, suffix: str, key: int, terms: Iterable[tuple[int, str]]) -> None:
        """Forget an entry, its listing memberships and its search ``terms`` (``(top16, term)``)."""
        self.db.execute("DELETE FROM entries WHERE suffix = ?", (suffix,))
        self.db.execute("DELETE FROM facets WHERE suffix = ?", (suffix,))
        self.db.executemany("DELETE FROM postings WHERE top16 = ? AND term = ? AND key = ? AND suffix = ?",
                            [(top, term, key, suffix) for top, term in terms])

    def add_entry(self, summary: Summary, raw_summary: bytes, *, inputs: str, updated_at: str,
                  facets: Iterable[tuple[str, str]], page_start: bool, lookup: tuple[int, int, int],
                  terms: Iterable[tuple[int, str]]) -> None:
        """Record a published entry: its listing memberships ``(facet,
        label)`` (``page_start``: it starts a listing page), its lookup
        positions ``(arxiv_top16, url_top16, search_key)`` and its search
        terms ``(top16, term)``."""
        arxiv_top16, url_top16, key = lookup
        self.db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (summary.suffix, inputs, raw_summary.decode(), summary.submitted_at, summary.arxiv_id,
                         summary.version, updated_at, arxiv_top16, url_top16, key))
        self.db.executemany("INSERT INTO facets VALUES (?, ?, ?, ?, ?)",
                            [(f, label, summary.submitted_at, summary.suffix, page_start) for f, label in facets])
        self.db.executemany("INSERT INTO postings VALUES (?, ?, ?, ?)",
                            [(top, term, key, summary.suffix) for top, term in terms])

    def entry_count(self) -> int:
        return _count(self.db.execute("SELECT count(*) FROM entries").fetchone()[0])

    def bundle_count(self) -> int:
        return _count(self.db.execute(
            "SELECT count(*) FROM entries WHERE json_extract(summary, '$.has_bundle')").fetchone()[0])

    def all_suffixes(self) -> list[str]:
        return [_text(r[0]) for r in self.db.execute("SELECT suffix FROM entries")]

    def suffix_prefixes(self, chars: int) -> list[str]:
        """The distinct first ``chars`` characters of the published suffixes, sorted
        (at most 32**chars of them, whatever the number of entries)."""
        return [_text(r[0]) for r in self.db.execute(
            "SELECT DISTINCT substr(suffix, 1, ?) FROM entries ORDER BY 1", (chars,))]

    def newest_updated_at(self) -> str | None:
        row = self.db.execute("SELECT max(updated_at) FROM entries").fetchone()
        return None if row[0] is None else _text(row[0])

    def newest(self, limit: int) -> list[Summary]:
        return [parse_summary(r[0]) for r in self.db.execute(
            "SELECT summary FROM entries ORDER BY submitted_at DESC, suffix DESC LIMIT ?", (limit,))]

    def sitemap_records(self) -> Iterator[tuple[str, str]]:
        """``(suffix, updated_at)`` of every entry, newest first."""
        for s, u in self.db.execute("SELECT suffix, updated_at FROM entries ORDER BY submitted_at DESC, suffix DESC"):
            yield _text(s), _text(u)

    def arxiv_clusters(self, arxiv_ids: Iterable[str] | None) -> Iterator[tuple[str, list[bytes]]]:
        """``(arxiv_id, [summary JSON…])`` of every (or the named) arXiv id, versions ascending."""
        if arxiv_ids is None:
            rows = self.db.execute("SELECT arxiv_id, summary FROM entries ORDER BY arxiv_id, version, suffix")
            yield from _grouped(rows)
            return
        for a in sorted(arxiv_ids):
            members = [_blob(r[0]) for r in self.db.execute(
                "SELECT summary FROM entries WHERE arxiv_id = ? ORDER BY version, suffix", (a,))]
            yield a, members

    def short_clusters(self, prefixes: Iterable[str] | None) -> Iterator[tuple[str, list[bytes]]]:
        """``(8-character prefix, [summary JSON…])`` of every (or the named) short prefix."""
        if prefixes is None:
            yield from _grouped(self.db.execute("SELECT substr(suffix, 1, 8), summary FROM entries ORDER BY suffix"))
            return
        for p in sorted(prefixes):
            members = [_blob(r[0]) for r in self.db.execute(
                "SELECT summary FROM entries WHERE suffix >= ? AND suffix < ? ORDER BY suffix", (p, p + "\x7f"))]
            yield p, members

    def facet_counts(self) -> dict[str, tuple[str, int]]:
        """``{facet: (label, records)}``; the label is the smallest spelling seen."""
        return {_text(f): (_text(label), _count(n)) for f, label, n in self.db.execute(
            "SELECT facet, min(label), count(*) FROM facets GROUP BY facet")}

    def facet_rows(self, facet: str) -> Iterator[tuple[str, str, bool]]:
        """``(submitted_at, suffix, page_start)`` of every record listed under ``facet``, oldest first."""
        for sa, suffix, start in self.db.execute("SELECT submitted_at, suffix, page_start FROM facets WHERE facet = ? "
                                                 "ORDER BY submitted_at, suffix", (facet,)):
            yield _text(sa), _text(suffix), bool(start)

    def first_row(self, facet: str) -> tuple[str, str] | None:
        """The position ``(submitted_at, suffix)`` of the oldest record of ``facet``."""
        row = self.db.execute("SELECT submitted_at, suffix FROM facets WHERE facet = ? "
                              "ORDER BY submitted_at, suffix LIMIT 1", (facet,)).fetchone()
        return None if row is None else (_text(row[0]), _text(row[1]))

    def page_start_near(self, facet: str, position: tuple[str, str], *, before: bool, inclusive: bool
                        ) -> tuple[str, str] | None:
        """The nearest record that starts a page, before (or after) ``position``."""
        op = ("<=" if inclusive else "<") if before else (">=" if inclusive else ">")
        order = "DESC" if before else ""
        row = self.db.execute(f"SELECT submitted_at, suffix FROM facets WHERE facet = ? AND page_start "
                              f"AND (submitted_at, suffix) {op} (?, ?) ORDER BY submitted_at {order}, suffix {order} "
                              "LIMIT 1", (facet, *position)).fetchone()
        return None if row is None else (_text(row[0]), _text(row[1]))

    def rows_between(self, facet: str, lo: tuple[str, str], hi: tuple[str, str] | None) -> list[str]:
        """Suffixes of the records of ``facet`` from ``lo`` (inclusive) to ``hi`` (exclusive), oldest first."""
        if hi is None:
            rows = self.db.execute("SELECT suffix FROM facets WHERE facet = ? AND (submitted_at, suffix) >= (?, ?) "
                                   "ORDER BY submitted_at, suffix", (facet, *lo))
        else:
            rows = self.db.execute("SELECT suffix FROM facets WHERE facet = ? AND (submitted_at, suffix) >= (?, ?) "
                                   "AND (submitted_at, suffix) < (?, ?) ORDER BY submitted_at, suffix",
                                   (facet, *lo, *hi))
        return [_text(r[0]) for r in rows]

    def newest_rows(self, facet: str, limit: int) -> list[tuple[str, str]]:
        """The newest ``limit`` positions of ``facet``, newest first."""
        return [(_text(a), _text(b)) for a, b in self.db.execute(
            "SELECT submitted_at, suffix FROM facets WHERE facet = ? ORDER BY submitted_at DESC, suffix DESC LIMIT ?",
            (facet, limit))]

    def page_starts(self) -> Iterator[tuple[str, str]]:
        """``(facet, suffix)`` of every record that starts a page (sitemaps)."""
        for f, s in self.db.execute("SELECT facet, suffix FROM facets WHERE page_start "
                                    "ORDER BY facet, submitted_at, suffix"):
            yield _text(f), _text(s)

    def summaries_of(self, suffixes: list[str]) -> dict[str, bytes]:
        """Summary JSON by suffix."""
        out: dict[str, bytes] = {}
        for i in range(0, len(suffixes), 500):
            chunk = suffixes[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for suffix, summary in self.db.execute(f"SELECT suffix, summary FROM entries WHERE suffix IN ({marks})",
                                                   chunk):
                out[_text(suffix)] = _blob(summary)
        return out

    def arxiv_members(self, lo: int, hi: int) -> list[tuple[str, int, str]]:
        """``(arxiv_id, version, suffix)`` of the entries whose ``arxiv_top16`` is in ``[lo, hi]``."""
        return [(_text(a), _count(v), _text(s)) for a, v, s in self.db.execute(
            "SELECT arxiv_id, version, suffix FROM entries WHERE arxiv_top16 BETWEEN ? AND ?", (lo, hi))]

    def has_arxiv(self, arxiv_id: str, version: int | None) -> bool:
        """Whether an entry has this arXiv id (and version, if given)."""
        if version is None:
            row = self.db.execute("SELECT 1 FROM entries WHERE arxiv_id = ? LIMIT 1", (arxiv_id,)).fetchone()
        else:
            row = self.db.execute("SELECT 1 FROM entries WHERE arxiv_id = ? AND version = ? LIMIT 1",
                                  (arxiv_id, version)).fetchone()
        return row is not None

    def suffixes_with_prefix(self, prefix: str) -> list[str]:
        return [_text(r[0]) for r in self.db.execute(
            "SELECT suffix FROM entries WHERE suffix >= ? AND suffix < ? ORDER BY suffix", (prefix, prefix + "\x7f"))]

    def record_urls(self, lo: int, hi: int) -> list[tuple[str, str]]:
        """``(suffix, updated_at)`` of the entries whose record page URL falls in sitemap range ``[lo, hi]``."""
        return [(_text(s), _text(u)) for s, u in self.db.execute(
            "SELECT suffix, updated_at FROM entries WHERE url_top16 BETWEEN ? AND ? ORDER BY suffix", (lo, hi))]

    def postings_in(self, lo: int, hi: int) -> Iterator[tuple[str, list[int]]]:
        """``(term, ascending keys)`` of every term whose ``top16`` is in ``[lo, hi]``, sorted by term."""
        current: str | None = None
        keys: list[int] = []
        for term, key in self.db.execute("SELECT DISTINCT term, key FROM postings WHERE top16 BETWEEN ? AND ? "
                                         "ORDER BY term, key", (lo, hi)):
            if term != current and keys:
                yield _text(current), keys
                keys = []
            current = term
            keys.append(_count(key))
        if keys:
            yield _text(current), keys

    def documents_by_shard(self, shards: int) -> Iterator[tuple[int, int, bytes]]:
        """``(document shard, search_key, summary JSON)`` of every entry, by shard then key."""
        for n, k, summary in self.db.execute("SELECT search_key % ?, search_key, summary FROM entries "
                                             "ORDER BY search_key % ?, search_key, suffix", (shards, shards)):
            yield _count(n), _count(k), _blob(summary)

    def count_record_urls(self, lo: int, hi: int) -> int:
        return _count(self.db.execute("SELECT count(*) FROM entries WHERE url_top16 BETWEEN ? AND ?",
                                      (lo, hi)).fetchone()[0])

    def documents_in(self, shards: int, shard: int) -> list[tuple[int, bytes]]:
        """``(search_key, summary JSON)`` of the entries in document shard ``shard`` of ``shards``."""
        return [(_count(k), _blob(s)) for k, s in self.db.execute(
            "SELECT search_key, summary FROM entries WHERE search_key % ? = ? ORDER BY search_key, suffix",
            (shards, shard))]

    # -- outputs -------------------------------------------------------------------------------

    def outputs_of(self, owner: str) -> list[tuple[str, str]]:
        """``(path, sha256)`` of the files ``owner`` published; every path must
        be one sitegen could have written (threat: a forged row that makes the
        next build delete ``.git/config`` or write outside the tree)."""
        return [(_route(p), _text(h)) for p, h in
                self.db.execute("SELECT path, sha256 FROM outputs WHERE owner = ?", (owner,))]

    def release_outputs(self, owner: str) -> list[tuple[str, str]]:
        """Forget the files ``owner`` published, returning them ``(path, sha256)``."""
        old = self.outputs_of(owner)
        self.db.execute("DELETE FROM outputs WHERE owner = ?", (owner,))
        return old

    def owners_with_prefix(self, prefix: str) -> list[str]:
        return [_text(r[0]) for r in self.db.execute(
            "SELECT DISTINCT owner FROM outputs WHERE substr(owner, 1, ?) = ?", (len(prefix), prefix))]

    def add_outputs(self, rows: list[tuple[str, str, int, str, str]]) -> None:
        """``(path, owner, size, sha256, shard)`` rows; raises ``sqlite3.IntegrityError``
        when a path is already owned."""
        self.db.executemany("INSERT INTO outputs VALUES (?, ?, ?, ?, ?)", rows)

    def owner_of(self, path: str) -> str | None:
        row = self.db.execute("SELECT owner FROM outputs WHERE path = ?", (path,)).fetchone()
        return None if row is None else _text(row[0])

    def output_totals(self) -> tuple[int, int]:
        """``(files, bytes)`` of every recorded output."""
        n, total = self.db.execute("SELECT count(*), coalesce(sum(size), 0) FROM outputs").fetchone()
        return _count(n), _count(total)

    def outputs_by_kind(self) -> list[tuple[str, int, int]]:
        """``(owner kind, files, bytes)`` of every recorded output, by the
        owner's prefix (``facet``, ``search``, …; ``entry`` for a Pith Number),
        in name order. One scan of ``outputs``."""
        rows = self.db.execute(
            "SELECT CASE WHEN instr(owner, ':') THEN substr(owner, 1, instr(owner, ':') - 1) "
            "WHEN owner = 'site' THEN 'site' ELSE 'entry' END AS kind, count(*), coalesce(sum(size), 0) "
            "FROM outputs GROUP BY kind ORDER BY kind")
        return [(_text(k), _count(n), _count(b)) for k, n, b in rows]

    def largest_outputs(self, over: int, limit: int) -> list[tuple[str, int]]:
        """``(path, size)`` of the outputs larger than ``over`` bytes, largest first (one scan)."""
        return [(_text(p), _count(n)) for p, n in self.db.execute(
            "SELECT path, size FROM outputs WHERE size > ? ORDER BY size DESC, path LIMIT ?", (over, limit))]

    def crowded_directories(self, over: int, limit: int) -> list[tuple[str, int]]:
        """``(directory, files)`` of the directories holding more than ``over``
        outputs directly (``pith/``; ``""`` is the root), most first. Groups
        every output (about 2 s at a million): for a tree above ``over`` files."""
        return [(_text(d), _count(n)) for d, n in self.db.execute(
            "SELECT rtrim(path, replace(path, '/', '')) AS d, count(*) AS n FROM outputs GROUP BY d "
            "HAVING n > ? ORDER BY n DESC, d LIMIT ?", (over, limit))]

    def case_collisions(self, paths: Iterable[str] | None = None) -> list[tuple[str, str, str, str]]:
        """Pairs of recorded outputs whose paths differ only in ASCII letter case,
        ``(path_a, owner_a, path_b, owner_b)``: of ``paths`` (new ones) or of all."""
        if paths is None:
            rows = self.db.execute(
                "SELECT a.path, a.owner, b.path, b.owner FROM outputs a JOIN outputs b "
                "ON lower(a.path) = lower(b.path) AND a.path < b.path "
                "WHERE lower(a.path) IN (SELECT lower(path) FROM outputs GROUP BY lower(path) HAVING count(*) > 1)")
            return [tuple(map(_text, r)) for r in rows]  # type: ignore[misc]
        out = []
        for p in paths:
            query = "SELECT path, owner FROM outputs WHERE lower(path) = lower(?) AND path != ?"
            for q, owner in self.db.execute(query, (p, p)):
                out.append((p, self.owner_of(p) or "", _text(q), _text(owner)))
        return out

    def seal_rows(self, length: int) -> Iterator[tuple[str, Iterator[tuple[str, int, str]]]]:
        """Every output grouped by shard prefix of ``length`` hex digits, paths sorted."""
        rows = self.db.execute("SELECT substr(shard, 1, ?), path, size, sha256 FROM outputs "
                               "ORDER BY substr(shard, 1, ?), path", (length, length))
        current: str | None = None
        batch: list[tuple[str, int, str]] = []
        for prefix, path, size, sha in rows:
            if prefix != current and batch:
                yield _text(current), iter(batch)
                batch = []
            current = prefix
            batch.append((_text(path), _count(size), _text(sha)))
        if batch:
            yield _text(current), iter(batch)

    def shard_rows(self, prefix: str) -> list[tuple[str, int, str]]:
        """The outputs of one shard, paths sorted."""
        hi = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\x7f"
        return [(_text(p), _count(n), _text(h)) for p, n, h in self.db.execute(
            "SELECT path, size, sha256 FROM outputs WHERE shard >= ? AND shard < ? ORDER BY path", (prefix, hi))]

    # -- snapshot shards -------------------------------------------------------------------------

    def shards(self) -> dict[str, tuple[int, int, int, str]]:
        """``{prefix: (count, bytes, size, sha256)}`` of the stored snapshot shards."""
        return {_text(p): (_count(c), _count(b), _count(z), _text(h))
                for p, c, b, z, h in self.db.execute("SELECT prefix, count, bytes, size, sha256 FROM shards")}

    def forget_shards(self, prefixes: Iterable[str] | None = None) -> None:
        if prefixes is None:
            self.db.execute("DELETE FROM shards")
        else:
            self.db.executemany("DELETE FROM shards WHERE prefix = ?", [(p,) for p in prefixes])

    def remember_shard(self, prefix: str, count: int, total_bytes: int, size: int, sha256: str) -> None:
        self.db.execute("INSERT INTO shards VALUES (?, ?, ?, ?, ?)", (prefix, count, total_bytes, size, sha256))


def _blob(value: object) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    raise CacheDamaged("a stored record summary is not text")


def _grouped(rows: Iterable[tuple[object, object]]) -> Iterator[tuple[str, list[bytes]]]:
    current: str | None = None
    members: list[bytes] = []
    for key, summary in rows:
        if key != current and members:
            yield _text(current), members
            members = []
        current = _text(key)
        members.append(_blob(summary))
    if members:
        yield _text(current), members


#: SQLite primary result codes that mean the disk failed, not that the file is damaged.
_IO_CODES = {8, 10, 13, 14}  # READONLY, IOERR, FULL, CANTOPEN


def is_io_failure(e: sqlite3.Error) -> bool:
    """True when ``e`` is a failing disk (report it) rather than a damaged
    store (replace it): a missing table, a corrupt page or a file that is not
    a database are damage."""
    code = getattr(e, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _IO_CODES


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level="DEFERRED")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache, bounded whatever the site size
    db.execute("PRAGMA temp_store = FILE")
    db.execute("PRAGMA trusted_schema = OFF")  # no functions run from a schema someone else wrote
    return db


def _new(path: Path, identity: dict[str, str], reason: str) -> Store:
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
    db = _connect(path)
    db.executescript(_SCHEMA)
    store = Store(db, path, reused=False, reason=reason)
    store.set_meta(**identity)
    db.commit()
    return store


def open_store(path: Path, *, output_dir: Path, published_tree: str | None, discard: str | None = None) -> Store:
    """Open the store at ``path`` for a build of ``output_dir`` whose published
    snapshot has ``tree_sha256 == published_tree`` (None: nothing published).
    ``discard``: start empty anyway, for this reason. Never raises for a bad
    store: it is replaced by an empty one (``sqlite3.Error`` only if a new
    one cannot be made either)."""
    identity = {"format": STORE_FORMAT, "sitegen": __version__, "output_dir": str(output_dir.absolute())}
    if discard:
        return _new(path, identity, discard)
    if not path.exists():
        return _new(path, identity, "no cache yet")
    if path.is_symlink() or not path.is_file():
        return _new(path, identity, "cache is not a regular file; rebuilt")
    try:
        db = _connect(path)  # no quick_check: it reads the whole file (5 s at 100k records);
        found = dict(db.execute("SELECT key, value FROM meta").fetchall())  # damage found later restarts the build
    except sqlite3.DatabaseError as e:
        if is_io_failure(e):
            raise  # disk full, file too large, read-only: not damage; the caller reports it
        try:
            db.close()
        except Exception:
            pass
        return _new(path, identity, f"cache is damaged ({e}); rebuilt")
    for key, want in identity.items():
        if found.get(key) != want:
            db.close()
            return _new(path, identity, f"cache was made for {key} {found.get(key)!r:.80}, not {want!r}; rebuilt")
    if published_tree is None or found.get("tree_sha256") != published_tree:
        db.close()
        return _new(path, identity, "cache does not describe the published tree; rebuilt")
    return Store(db, path, reused=True, reason="")

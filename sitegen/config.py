"""Settings: defaults, the optional ``sitegen.toml``, and CLI overrides.

Precedence (lowest to highest): built-in defaults < ``SITE_DIR/sitegen.toml``
< command-line flags. Secure defaults live here and nowhere else.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sitegen.errors import ConfigError, quote

__all__ = ["Settings", "load_settings", "DEFAULT_BASE_URL", "CONFIG_FILE"]

CONFIG_FILE = "sitegen.toml"
#: Used when the operator sets no ``base_url``; the build warns about it.
DEFAULT_BASE_URL = "http://localhost:8000/"
#: Size cap per content file, checked before reading (denial of service).
DEFAULT_MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
#: Maximum JSON nesting depth (recursion bombs).
DEFAULT_MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class Settings:
    """Everything a build needs to know besides the content itself.

    ``site_dir``: directory holding ``content/`` (and optional ``templates/``,
    ``static/``, ``sitegen.toml``). ``output_dir``: where the output tree is
    published (default ``SITE_DIR/site``). ``base_url``: absolute URL the
    output tree is served at, always ending in ``/``; may have a sub-path.
    ``base_url_set``: False when the default was used. ``source_date_epoch``:
    seconds since the epoch from ``SOURCE_DATE_EPOCH``, or None.
    ``mirror_key``: the operator's secret key file that signs the mirror
    snapshot (``sitegen keygen``), or None. ``snapshot_valid_days``: if set,
    the snapshot ``expires`` that many days after ``generated_at``.
    ``page_size``: records per listing page; ``sitemap_max_urls``: URLs per
    child sitemap (the protocol's limit is 50,000); ``feed_size``: entries in
    the Atom feed; ``search``: build the static search index;
    ``search_split_above``: above this many records, one search bundle per year.
    ``aliases``: publish the static alias pages (``arxiv/``, ``doi/``,
    ``paper/``; 12 of a record's ~16 files — turn off for very large mirrors).
    ``jobs``: worker processes (default: every core). ``strict_links``: a
    broken internal link in a page sitegen renders fails the build (False:
    a warning; :mod:`sitegen.build.links`).
    """

    site_dir: Path
    output_dir: Path
    title: str = "Pith mirror"
    base_url: str = DEFAULT_BASE_URL
    base_url_set: bool = False
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    source_date_epoch: int | None = None
    mirror_key: Path | None = None
    snapshot_valid_days: int | None = None
    page_size: int = 50
    sitemap_max_urls: int = 50_000
    feed_size: int = 50
    search: bool = True
    search_split_above: int = 50_000
    aliases: bool = True
    jobs: int | None = None
    strict_links: bool = True

    @property
    def content_dir(self) -> Path:
        return self.site_dir / "content"

    @property
    def keys_dir(self) -> Path:
        return self.content_dir / "keys"

    @property
    def base_path(self) -> str:
        """The path part of ``base_url`` (``/`` or ``/mirror/``), for links."""
        return urlsplit(self.base_url).path


_KEYS = {"title": str, "base_url": str, "output_dir": str, "max_document_bytes": int,
         "mirror_key": str, "snapshot_valid_days": int, "page_size": int, "sitemap_max_urls": int,
         "feed_size": int, "search": bool, "search_split_above": int,
         "aliases": bool, "jobs": int, "strict_links": bool}


#: Characters a base URL may hold: RFC 3986 unreserved characters, ``:``,
#: ``/``, ``@``, ``[``, ``]``, ``+``, ``,``, ``=`` and ``%`` escapes. Nothing
#: that ends a line (robots.txt, ``_headers``), quotes (HTML, XML) or means
#: something to a shell (the copy-paste verify recipe on every record page).
_BASE_URL_CHARS = re.compile(r"\A[A-Za-z0-9._~:/@\[\]+,=%-]*\Z")


def _check_text(value: str, setting: str, where: str) -> None:
    """Refuse a setting holding a control character (C0, DEL, C1: a newline
    would inject lines into ``robots.txt``), a surrogate (``--title`` given
    undecodable bytes; no UTF-8 form) or a noncharacter (U+FFFE, U+FFFF…:
    not allowed in XML). Raises :class:`ConfigError` naming the setting."""
    for ch in value:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or (category == "Cn" and (0xFDD0 <= ord(ch) <= 0xFDEF
                                                              or ord(ch) & 0xFFFE == 0xFFFE)):
            what = "control character" if category == "Cc" else "surrogate" if category == "Cs" else "noncharacter"
            raise ConfigError(f"{where}: {setting}: must not contain a {what} (U+{ord(ch):04X}), "
                              f"got {quote(value)}")


def _normalise_base_url(value: str, where: str) -> str:
    """``value`` checked and ending in ``/``; raises :class:`ConfigError`
    naming ``where`` and the setting for anything but an absolute http(s) URL
    of :data:`_BASE_URL_CHARS` without query or fragment."""
    _check_text(value, "base_url", where)
    if not _BASE_URL_CHARS.match(value):
        raise ConfigError(f"{where}: base_url: may contain only letters, digits, '%' escapes and "
                          f"- . _ ~ : / @ [ ] + , = ; got {quote(value)}")
    try:
        parts = urlsplit(value)
    except ValueError as e:
        raise ConfigError(f"{where}: base_url: not a valid URL ({e}): {quote(value)}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: base_url: expected an absolute http(s) URL, got {quote(value)}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: base_url: must not have a query or fragment, got {quote(value)}")
    return value if value.endswith("/") else value + "/"


def _source_date_epoch() -> int | None:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ConfigError(f"SOURCE_DATE_EPOCH: expected a non-negative integer, got {quote(raw)}")
    return int(raw)


def load_settings(site_dir: str | Path = ".", *, output: str | None = None, base_url: str | None = None,
                  title: str | None = None, mirror_key: str | None = None, jobs: int | None = None,
                  strict_links: bool | None = None) -> Settings:
    """Resolve settings for ``site_dir``.

    Reads ``site_dir/sitegen.toml`` if present (unknown keys are errors, to catch
    typos), then applies the keyword overrides (the CLI's flags).
    Raises :class:`ConfigError` naming the file and key for any bad value.
    """
    site = Path(site_dir).resolve()
    if not site.is_dir():
        raise ConfigError(f"{site_dir}: site directory does not exist")
    values: dict[str, Any] = {}
    cfg = site / CONFIG_FILE
    if cfg.is_file():
        try:
            values = tomllib.loads(cfg.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{CONFIG_FILE}: not valid TOML: {e}") from e
        for key, value in values.items():
            if key not in _KEYS:
                raise ConfigError(f"{CONFIG_FILE}: {key}: unknown setting (known: {', '.join(sorted(_KEYS))})")
            if not isinstance(value, _KEYS[key]) or (isinstance(value, bool) and _KEYS[key] is not bool):
                raise ConfigError(f"{CONFIG_FILE}: {key}: expected {_KEYS[key].__name__}, got {quote(value)}")
    settings = Settings(site_dir=site, output_dir=site / "site")
    if "title" in values:
        _check_text(values["title"], "title", CONFIG_FILE)
        settings = replace(settings, title=values["title"])
    if "base_url" in values:
        settings = replace(settings, base_url=_normalise_base_url(values["base_url"], CONFIG_FILE),
                           base_url_set=True)
    if "output_dir" in values:
        settings = replace(settings, output_dir=(site / values["output_dir"]).resolve())
    if "max_document_bytes" in values:
        if values["max_document_bytes"] <= 0:
            raise ConfigError(f"{CONFIG_FILE}: max_document_bytes: must be positive")
        settings = replace(settings, max_document_bytes=values["max_document_bytes"])
    if "mirror_key" in values:
        settings = replace(settings, mirror_key=(site / values["mirror_key"]))
    if "snapshot_valid_days" in values:
        if values["snapshot_valid_days"] <= 0:
            raise ConfigError(f"{CONFIG_FILE}: snapshot_valid_days: must be positive")
        settings = replace(settings, snapshot_valid_days=values["snapshot_valid_days"])
    for key, limit in (("page_size", 10_000), ("sitemap_max_urls", 50_000), ("feed_size", 10_000),
                       ("search_split_above", 10_000_000), ("jobs", 1024)):
        if key in values:
            if not 1 <= values[key] <= limit:
                raise ConfigError(f"{CONFIG_FILE}: {key}: must be between 1 and {limit}")
            settings = replace(settings, **{key: values[key]})
    for key in ("search", "aliases", "strict_links"):
        if key in values:
            settings = replace(settings, **{key: values[key]})
    if jobs is not None:
        if not 1 <= jobs <= 1024:
            raise ConfigError(f"--jobs: must be between 1 and 1024, got {jobs}")
        settings = replace(settings, jobs=jobs)
    if strict_links is not None:
        settings = replace(settings, strict_links=strict_links)
    if mirror_key is not None:
        settings = replace(settings, mirror_key=Path(mirror_key).resolve())
    if title is not None:
        _check_text(title, "title", "--title")
        settings = replace(settings, title=title)
    if base_url is not None:
        settings = replace(settings, base_url=_normalise_base_url(base_url, "--base-url"),
                           base_url_set=True)
    if output is not None:
        settings = replace(settings, output_dir=Path(output).resolve())
    if settings.output_dir == site or settings.output_dir in site.parents:
        raise ConfigError(f"output directory {settings.output_dir} would replace the site directory")
    if settings.output_dir == settings.content_dir or settings.content_dir in settings.output_dir.parents:
        raise ConfigError(f"output directory {settings.output_dir} must not be inside content/")
    return replace(settings, source_date_epoch=_source_date_epoch())

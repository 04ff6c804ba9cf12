"""Settings: defaults, the optional ``sitegen.toml``, and CLI overrides.

Precedence (lowest to highest): built-in defaults < ``SITE_DIR/sitegen.toml``
< command-line flags. Secure defaults live here and nowhere else.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sitegen.errors import ConfigError, os_problem, quote, safe_text
from sitegen.site.hosts import DEFAULT_HOST, HOST_NAMES
from sitegen.site.strings import LANGUAGE_RE, check_overrides, shipped_catalogue_for, shipped_languages

_T = TypeVar("_T")

__all__ = ["Settings", "load_settings", "DEFAULT_BASE_URL", "CONFIG_FILE", "MAX_JOBS", "check_text",
           "normalise_base_url", "check_jobs", "check_output_dir", "INPUT_FOLDERS"]

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
    ``aliases``: publish the alias maps that resolve ``/arxiv/<id>/``,
    ``/doi/…/`` and ``/paper/<prefix>/`` (sitegen.site.aliasmap);
    ``alias_pages``: also a redirect page per alias (six folders, twelve
    files per record: for small mirrors and hosts without a 404 page).
    ``jobs``: worker processes (default: every core). ``strict_links``: a
    broken internal link in a page sitegen renders fails the build (False:
    a warning; :mod:`sitegen.build.links`).
    ``language``: the BCP 47 tag of the pages' language (``<html lang>``, and
    which shipped catalogue of UI strings is used: :mod:`sitegen.site.strings`);
    ``strings``: the site's own UI strings, sorted ``(key, text)`` pairs that
    win over the catalogue; ``extra_css``: stylesheets (paths in the output
    tree, from ``static/``) every page loads after the theme's.
    ``host``: where the tree is served (:mod:`sitegen.site.hosts`: ``generic``,
    ``github``, ``netlify``, ``cloudflare``, ``s3``, ``nginx``) — which host
    files are written and which limits the build warns about.
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
    aliases: bool = True
    alias_pages: bool = False
    jobs: int | None = None
    language: str = "en"
    strings: tuple[tuple[str, str], ...] = ()
    extra_css: tuple[str, ...] = ()
    strict_links: bool = True
    host: str = DEFAULT_HOST

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
         "feed_size": int, "search": bool,
         "aliases": bool, "alias_pages": bool, "jobs": int, "language": str, "strings": dict, "extra_css": list,
         "strict_links": bool, "host": str}
#: How a TOML value of each type is described in messages.
_TYPE_WORDS = {str: 'a string in double quotes ("…")', int: "a whole number", bool: "true or false",
               dict: "a table ([strings] …)", list: 'a list (["…", "…"])'}
#: One valid line per setting, for messages (the value is an example, not the default).
_EXAMPLES = {"title": '"Pith mirror"', "base_url": '"https://user.github.io/mirror/"', "output_dir": '"site"',
             "max_document_bytes": "8388608", "mirror_key": '"mirror-key.secret.json"', "snapshot_valid_days": "7",
             "page_size": "50", "sitemap_max_urls": "50000", "feed_size": "50", "search": "true",
             "aliases": "true", "alias_pages": "false", "jobs": "2", "language": '"de"',
             "strings": '{ "index.newest" = "Latest" }', "extra_css": '["assets/custom.css"]', "strict_links": "false",
             "host": '"netlify"'}
#: Integer settings with a range: ``(upper limit, what leaving the setting out means)``.
_RANGES = {"page_size": (10_000, "50"), "sitemap_max_urls": (50_000, "50000"), "feed_size": (10_000, "50"),
           "jobs": (1024, "every core")}
#: Upper limit of ``--jobs`` and ``jobs``.
MAX_JOBS = _RANGES["jobs"][0]


#: Characters a base URL may hold: RFC 3986 unreserved characters, ``:``,
#: ``/``, ``@``, ``[``, ``]``, ``+``, ``,``, ``=`` and ``%`` escapes. Nothing
#: that ends a line (robots.txt, ``_headers``), quotes (HTML, XML) or means
#: something to a shell (the copy-paste verify recipe on every record page).
_BASE_URL_CHARS = re.compile(r"\A[A-Za-z0-9._~:/@\[\]+,=%-]*\Z")


#: The longest ``title`` (or other one-line text setting) accepted, in characters.
MAX_TEXT_CHARS = 500


def check_text(value: str) -> str:
    """``value`` if it holds no control character (C0, DEL, C1: a newline
    would inject lines into ``robots.txt``), surrogate (``--title`` given
    undecodable bytes; no UTF-8 form) or noncharacter (U+FFFE, U+FFFF…: not
    allowed in XML), and is at most :data:`MAX_TEXT_CHARS` long. Raises
    :class:`ValueError` saying which and what to do."""
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"must be at most {MAX_TEXT_CHARS} characters, got {len(value):,} — shorten it")
    for ch in value:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or (category == "Cn" and (0xFDD0 <= ord(ch) <= 0xFDEF
                                                              or ord(ch) & 0xFFFE == 0xFFFE)):
            what = "control character" if category == "Cc" else "surrogate" if category == "Cs" else "noncharacter"
            raise ValueError(f"must not contain a {what} (U+{ord(ch):04X}), got {quote(value)} — remove it")
    return value


def normalise_base_url(value: str) -> str:
    """``value`` checked and ending in ``/``. Raises :class:`ValueError`
    saying what is wrong and how to write it for anything but an absolute
    http(s) URL of :data:`_BASE_URL_CHARS` without query or fragment."""
    check_text(value)
    if not _BASE_URL_CHARS.match(value):
        raise ValueError(f"may contain only letters, digits, '%' escapes and - . _ ~ : / @ [ ] + , = ; got "
                         f"{quote(value)} — percent-encode anything else (a space is %20)")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(f"not a valid URL: {quote(value)} — write it like https://user.github.io/mirror/") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        hint = f"https://{value.lstrip('/')}" if "://" not in value and value.strip("/") else ""
        fix = (f"did you mean {quote(hint if hint.endswith('/') else hint + '/')}?" if hint
               else "write it like https://user.github.io/mirror/")
        raise ValueError(f"expected an absolute http(s) URL, got {quote(value)} — {fix}")
    if parts.query or parts.fragment:
        raise ValueError(f"must not have a query or fragment, got {quote(value)} — remove the part from '?' or '#'")
    try:
        parts.port  # noqa: B018 -- urlsplit checks the port only when asked for it
    except ValueError:
        raise ValueError(f"has no valid port (0 to 65535), got {quote(value)} — fix or remove the ':port'") from None
    if not parts.hostname:
        raise ValueError(f"has no host name, got {quote(value)} — write it like https://user.github.io/mirror/")
    return value if value.endswith("/") else value + "/"


def check_jobs(value: int) -> int:
    """``value`` if it is a worker count sitegen accepts (1 to :data:`MAX_JOBS`);
    raises :class:`ValueError` otherwise."""
    if not 1 <= value <= MAX_JOBS:
        raise ValueError(f"must be between 1 and {MAX_JOBS}, got {value} — leave it out to use every core")
    return value


def _setting(check: Callable[[Any], _T], value: Any, setting: str, where: str) -> _T:
    """``check(value)``, with its :class:`ValueError` turned into a
    :class:`ConfigError` naming ``where`` and ``setting``."""
    try:
        return check(value)
    except ValueError as e:
        raise ConfigError(f"{where}: {setting}: {e}") from None


def _read_config(cfg: Path, name: str) -> dict[str, Any]:
    """The settings in ``cfg`` (shown as ``name``), each of a known key and the
    right type; raises :class:`ConfigError` naming the file and the setting."""
    try:
        values = tomllib.loads(cfg.read_bytes().decode("utf-8"))
    except OSError as e:
        raise ConfigError(f"{name}: cannot read: {os_problem(e)} — make it readable") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{name}: not UTF-8 text (byte {e.start}) — save it as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{name}: not valid TOML: {e} — fix that line (see README: Settings)") from None
    for key, value in values.items():
        if key not in _KEYS:
            raise ConfigError(f"{name}: {safe_text(key, 80)}: unknown setting — check the spelling; known: "
                              f"{', '.join(sorted(_KEYS))}")
        if not isinstance(value, _KEYS[key]) or (isinstance(value, bool) and _KEYS[key] is not bool):
            raise ConfigError(f"{name}: {key}: expected {_TYPE_WORDS[_KEYS[key]]}, got {quote(value)} — "
                              f"for example: {key} = {_EXAMPLES[key]}")
    return values


def _positive(value: int) -> int:
    """``value`` if above 0; raises :class:`ValueError`."""
    if value <= 0:
        raise ValueError(f"must be positive, got {value} — set a number above 0 or leave it out")
    return value


def _in_range(key: str) -> Callable[[int], int]:
    """A check of ``key``'s range (:data:`_RANGES`) raising :class:`ValueError`."""
    limit, default = _RANGES[key]

    def check(value: int) -> int:
        if not 1 <= value <= limit:
            raise ValueError(f"must be between 1 and {limit}, got {value} — set a value in that range, or leave it "
                             f"out for the default ({default})")
        return value
    return check


def _from_file(settings: Settings, values: dict[str, Any], name: str) -> Settings:
    """``settings`` with the checked ``values`` of the config file ``name`` applied."""
    site = settings.site_dir
    changes: dict[str, Any] = {}
    if "title" in values:
        changes["title"] = _setting(check_text, values["title"], "title", name)
    if "base_url" in values:
        changes.update(base_url=_setting(normalise_base_url, values["base_url"], "base_url", name), base_url_set=True)
    if "output_dir" in values:
        changes["output_dir"] = (site / values["output_dir"]).resolve()
    if "mirror_key" in values:
        changes["mirror_key"] = site / values["mirror_key"]
    for key in ("max_document_bytes", "snapshot_valid_days"):
        if key in values:
            changes[key] = _setting(_positive, values[key], key, name)
    for key in _RANGES:
        if key in values:
            changes[key] = _setting(_in_range(key), values[key], key, name)
    for key in ("search", "aliases", "alias_pages", "strict_links"):
        if key in values:
            changes[key] = values[key]
    if "strings" in values:
        changes["strings"] = _strings(values["strings"], name)
    if "language" in values:
        changes["language"] = _language(values["language"], changes.get("strings", settings.strings), name)
    if "extra_css" in values:
        changes["extra_css"] = _extra_css(values["extra_css"], name)
    if "host" in values:
        changes["host"] = _setting(_host, values["host"], "host", name)
    return replace(settings, **changes)


def _host(value: str) -> str:
    """``value`` if it names a host profile (:data:`~sitegen.site.hosts.HOST_NAMES`);
    raises :class:`ValueError`."""
    if value not in HOST_NAMES:
        raise ValueError(f"expected one of {', '.join(HOST_NAMES)}, got {quote(value)} — the host that serves the "
                         "tree (README: Hosting the output tree); generic if none of these")
    return value


#: One segment of an ``extra_css`` path: no hidden files, nothing a URL or an
#: HTML attribute would need to escape.
_CSS_SEGMENT = re.compile(r"\A[A-Za-z0-9_~-][A-Za-z0-9._~-]*\Z")


def _extra_css(value: list[Any], where: str) -> tuple[str, ...]:
    """``extra_css`` checked: relative ``.css`` paths in the output tree
    (``assets/custom.css``) made of :data:`_CSS_SEGMENT` segments. Whether the
    file exists in ``static/`` is checked with the theme
    (:func:`sitegen.site.theme.make_environment`)."""
    out = []
    for i, path in enumerate(value):
        if not (isinstance(path, str) and path.endswith(".css")
                and all(_CSS_SEGMENT.match(seg) and seg != ".." for seg in path.split("/"))):
            raise ConfigError(f"{where}: extra_css[{i}]: expected a relative path to a .css file in static/ "
                              f"(letters, digits, - _ ~ . and /, e.g. \"assets/custom.css\"), got {quote(path)}")
        out.append(path)
    return tuple(out)


def _language(value: str, overrides: tuple[tuple[str, str], ...], where: str) -> str:
    """``language`` checked: a BCP 47 tag, and one that sitegen ships strings
    for unless the site brings its own (``[strings]``)."""
    if not LANGUAGE_RE.match(value):
        raise ConfigError(f"{where}: language: expected a BCP 47 language tag such as \"en\", \"de\" or "
                          f"\"pt-BR\", got {quote(value)}")
    if shipped_catalogue_for(value) is None and not overrides:
        raise ConfigError(f"{where}: language: sitegen ships no UI strings for {quote(value)} (it has "
                          f"{', '.join(shipped_languages())}); translate them under [strings] "
                          "(docs/theming.md) or choose a shipped language")
    return value


def _strings(table: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    try:
        pairs = check_overrides(table)
    except ValueError as e:
        raise ConfigError(f"{where}: strings.{e}") from None
    for key, text in pairs:
        _setting(check_text, text, f"strings.{key}", where)
    return pairs


def _source_date_epoch() -> int | None:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigError(f"SOURCE_DATE_EPOCH: expected a non-negative integer (seconds since 1970), "
                          f"got {quote(raw)} — fix or unset it")
    return int(raw)


def load_settings(site_dir: str | Path = ".", *, output: str | None = None, base_url: str | None = None,
                  title: str | None = None, mirror_key: str | None = None, jobs: int | None = None,
                  strict_links: bool | None = None) -> Settings:
    """Resolve settings for ``site_dir``.

    Reads ``site_dir/sitegen.toml`` if present (unknown keys are errors, to catch
    typos), then applies the keyword overrides (the CLI's flags, which the CLI
    has checked already: a bad flag is a usage error there).
    Raises :class:`ConfigError` naming the file and key for any bad value.
    """
    site = Path(site_dir).resolve()
    if not site.is_dir():
        raise ConfigError(f"{site_dir}: site directory does not exist — pass the directory that holds content/, "
                          f"or make a new site with `sitegen init {site_dir}`")
    settings = Settings(site_dir=site, output_dir=site / "site")
    cfg = site / CONFIG_FILE
    if cfg.is_file():
        name = safe_text(str(Path(site_dir) / CONFIG_FILE))
        settings = _from_file(settings, _read_config(cfg, name), name)
    if jobs is not None:
        settings = replace(settings, jobs=_setting(check_jobs, jobs, "jobs", "--jobs"))
    if strict_links is not None:
        settings = replace(settings, strict_links=strict_links)
    if mirror_key is not None:
        settings = replace(settings, mirror_key=Path(mirror_key).resolve())
    if title is not None:
        settings = replace(settings, title=_setting(check_text, title, "title", "--title"))
    if base_url is not None:
        settings = replace(settings, base_url=_setting(normalise_base_url, base_url, "base_url", "--base-url"),
                           base_url_set=True)
    if output is not None:
        settings = replace(settings, output_dir=Path(output).resolve())
    if settings.output_dir == site or settings.output_dir in site.parents:
        raise ConfigError(f"output directory {settings.output_dir} would replace the site directory — "
                          "choose another output_dir or -o")
    check_output_dir(settings.output_dir, ((site / name, f"{name}/") for name in INPUT_FOLDERS))
    return replace(settings, source_date_epoch=_source_date_epoch())


#: Folders of a site directory a build reads (or pull writes): an output
#: directory inside one would feed the build its own output — pages written
#: into ``templates/`` are then run as templates, with unsigned record text in
#: them (threat: a careless ``-o templates``).
INPUT_FOLDERS = ("content", "templates", "static", ".git", ".sitegen-pull")


def check_output_dir(output_dir: Path, inputs: Iterable[tuple[Path, str]]) -> None:
    """Raise :class:`ConfigError` if ``output_dir`` is, or is inside, one of
    ``inputs`` (``(folder, name shown)``)."""
    for folder, shown in inputs:
        if output_dir == folder or folder in output_dir.parents:
            raise ConfigError(f"output directory {output_dir} must not be inside {shown} (the build reads it, "
                              "so it would read its own output) — choose another output_dir or -o")

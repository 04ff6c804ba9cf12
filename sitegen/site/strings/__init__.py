"""UI strings: every word a page shows that is not data, in one catalogue per
language, so a mirror can be read in its operator's language.

Catalogues are TOML files next to this module (``en.toml`` — the reference,
every key is there — and ``de.toml``). A key is ``"<table>.<name>"``
(``"record.abstract"``). The strings of a build are, highest priority first:
the site's ``[strings]`` table in ``sitegen.toml``, the shipped catalogue of
its ``language`` (exact tag, then the primary subtag: ``de-CH`` → ``de``),
then English. ``docs/theming.md`` is the operator's guide.

Values are plain text with ``{name}`` placeholders. Templates call the
:class:`Strings` object of the build, the Jinja global ``_``::

    {{ _('record.abstract') }}
    {{ _('record.checks_passed', n=r.checks | length) }}

which returns markup: the catalogue text with ``&``, ``<``, ``>`` and ``"``
escaped (``'`` is kept: the theme quotes attributes with ``"``) and every
placeholder replaced by its value, escaped unless it is already markup (a
``{% set %}`` block). Python (:mod:`sitegen.site.views`, the listing headings
of :mod:`sitegen.site.render`) calls :meth:`Strings.text`, which returns plain
text that Jinja escapes like any other value.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup, escape

__all__ = ["Strings", "DEFAULT_LANGUAGE", "LANGUAGE_RE", "SCRIPT_STRINGS", "catalogue", "shipped_languages",
           "ui_strings", "check_overrides", "placeholders", "shipped_catalogue_for", "SITE_TABLE"]

DEFAULT_LANGUAGE = "en"
#: A well-formed-enough BCP 47 tag: a 2–3 letter language, then subtags of
#: 1–8 letters or digits (``en``, ``de-CH``, ``pt-BR``, ``zh-Hant-TW``).
LANGUAGE_RE = re.compile(r"\A[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*\Z")
#: Strings ``static/assets/sitegen.js`` reads from ``<html data-…>``:
#: ``(attribute, key)``. The script's own defaults are the English ones, so
#: the attribute is written only when the build's string differs from English.
SCRIPT_STRINGS = (("copy-text", "script.copy"), ("copied-text", "script.copied"),
                  ("copy-label", "script.copy_label"))

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;"})


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders of a string."""
    return set(_PLACEHOLDER.findall(text))


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def shipped_languages() -> tuple[str, ...]:
    """The languages sitegen ships a catalogue for (``en``, ``de``, …)."""
    here = resources.files(__name__)
    return tuple(sorted(p.name[:-5] for p in here.iterdir() if p.name.endswith(".toml")))


@cache
def catalogue(language: str) -> dict[str, str]:
    """The shipped catalogue of ``language`` (a file name without ``.toml``),
    flattened to ``{"table.name": text}``; empty when none is shipped."""
    if language not in shipped_languages():
        return {}
    text = (resources.files(__name__) / f"{language}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(text))


def shipped_catalogue_for(language: str) -> str | None:
    """The shipped catalogue for a BCP 47 tag: the tag itself, then its primary subtag."""
    tag = language.lower()
    for candidate in (tag, tag.split("-", 1)[0]):
        if candidate in shipped_languages():
            return candidate
    return None


#: The table of a site's own strings (for its own templates): any name, any placeholders.
SITE_TABLE = "site"


def check_overrides(table: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A site's ``[strings]`` table as sorted ``(key, text)`` pairs; raises
    :class:`ValueError` naming the key for an unknown key, a value that is not
    text, or a placeholder the English string does not have. Keys of the
    ``site`` table (``site.<name>``) are the site's own and always accepted."""
    english = catalogue(DEFAULT_LANGUAGE)
    out = []
    for key, value in sorted(_flatten(table).items()):
        own = key.startswith(SITE_TABLE + ".")
        if key not in english and not own:
            raise ValueError(f"{key}: unknown string (every key is listed in sitegen/site/strings/en.toml; "
                             f"your own strings go in the [strings.{SITE_TABLE}] table)")
        if not isinstance(value, str):
            raise ValueError(f"{key}: expected a string, got {type(value).__name__}")
        if own:
            out.append((key, value))
            continue
        extra = placeholders(value) - placeholders(english[key])
        if extra:
            known = ", ".join(f"{{{p}}}" for p in sorted(placeholders(english[key]))) or "none"
            raise ValueError(f"{key}: unknown placeholder {{{sorted(extra)[0]}}} (this string has: {known})")
        out.append((key, value))
    return tuple(out)


class Strings:
    """The UI strings of one build (module docstring): ``strings(key, **values)``
    for templates (markup), ``strings.text(key, **values)`` for Python (text)."""

    def __init__(self, language: str = DEFAULT_LANGUAGE, overrides: tuple[tuple[str, str], ...] = ()):
        self.language = language
        shipped = shipped_catalogue_for(language)
        merged = dict(catalogue(DEFAULT_LANGUAGE))
        if shipped is not None:
            merged.update(catalogue(shipped))
        merged.update(overrides)
        self._raw = merged
        #: Per key: the catalogue text split at placeholders, literal parts escaped.
        self._parts: dict[str, list[str]] = {k: _PLACEHOLDER.split(v) for k, v in merged.items()}
        self._plain: dict[str, Markup] = {k: Markup(v.translate(_ESCAPES))
                                          for k, v in merged.items() if len(self._parts[k]) == 1}

    def raw(self, key: str) -> str:
        """The text of ``key`` as written in the catalogue, placeholders unfilled."""
        return self._raw[key]

    def __contains__(self, key: str) -> bool:
        return key in self._raw

    def __call__(self, key: str, /, **values: Any) -> Markup:
        """Template form: escaped text, placeholders filled with escaped values
        (markup stays markup). An unknown key or a placeholder without a value
        is a template error, never an empty string."""
        plain = self._plain.get(key)
        if plain is not None:
            return plain
        parts = self._parts.get(key)
        if parts is None:
            raise jinja2.TemplateRuntimeError(f"unknown UI string {key!r} (sitegen/site/strings/en.toml lists them)")
        out = []
        for i, part in enumerate(parts):
            if i % 2 == 0:
                out.append(part.translate(_ESCAPES))
            elif part in values:
                out.append(str(escape(values[part])))
            else:
                raise jinja2.TemplateRuntimeError(f"UI string {key!r}: no value for {{{part}}}")
        return Markup("".join(out))

    def text(self, key: str, /, **values: Any) -> str:
        """Python form: plain text, placeholders filled with ``str(value)``
        (Jinja escapes the result where a template writes it)."""
        parts = self._parts[key]
        return "".join(part if i % 2 == 0 else str(values[part]) for i, part in enumerate(parts))

    def script_strings(self) -> tuple[tuple[str, str], ...]:
        """``(attribute, text)`` for ``<html data-…>``: the script strings
        that differ from English (:data:`SCRIPT_STRINGS`)."""
        english = catalogue(DEFAULT_LANGUAGE)
        return tuple((attr, self._raw[key]) for attr, key in SCRIPT_STRINGS if self._raw[key] != english[key])


@lru_cache(maxsize=16)
def ui_strings(language: str = DEFAULT_LANGUAGE, overrides: tuple[tuple[str, str], ...] = ()) -> Strings:
    """The (cached) strings of a language with a site's overrides."""
    return Strings(language, overrides)

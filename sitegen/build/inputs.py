"""Load stage: everything a build reads besides the documents — the theme,
the Markdown pages, the operator's keyring and mirror key — and the
fingerprints that tell an incremental build which outputs they affect.

Stage contract: :meth:`SiteInputs.load` returns a frozen :class:`SiteInputs`
or raises :class:`~sitegen.errors.KeyringFailed` (a ``BuildFailed``: keyring
problems, every one listed) / :class:`~sitegen.errors.ConfigError` (theme,
pages, mirror key).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import jinja2
import jinja2.meta
import orjson

from sitegen import __version__
from sitegen.config import Settings, check_output_dir
from sitegen.errors import ConfigError, KeyringFailed
from sitegen.mirror.key import MirrorKey, load_secret
from sitegen.model import Keyring
from sitegen.reader import display_path
from sitegen.site.pages import MarkdownPage, load_pages, navigation
from sitegen.site.theme import Theme, find_theme, make_environment
from sitegen.verify.keyring import load_keyring

__all__ = ["SiteInputs", "Fingerprints", "fingerprint"]


def fingerprint(*parts: object) -> str:
    """SHA-256 (hex) of the JSON of ``parts`` — what an output was made from."""
    return hashlib.sha256(orjson.dumps(parts, default=str)).hexdigest()


def _template_closure(env: jinja2.Environment, name: str) -> list[tuple[str, str]]:
    """``(name, source)`` of ``name`` and every template it extends, includes or imports."""
    assert env.loader is not None
    seen: dict[str, str] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        source = env.loader.get_source(env, current)[0]
        seen[current] = source
        todo.extend(t for t in jinja2.meta.find_referenced_templates(env.parse(source)) if t)
    return sorted(seen.items())


@dataclass(frozen=True)
class Fingerprints:
    """What each kind of output is made from, besides its own records:
    ``record``/``alias``/``listing`` (the template closure, settings, Markdown
    navigation, sitegen version) and ``keys`` (``{key_id: SHA-256 of its file}``)."""

    record: str
    alias: str
    listing: str
    keys: dict[str, str]

    @classmethod
    def of(cls, settings: Settings, theme: Theme, nav: tuple[tuple[str, str], ...], keyring: Keyring) -> Fingerprints:
        env = make_environment(theme, settings)
        base = (__version__, {k: v for k, v in asdict(settings).items()
                              if k not in ("output_dir", "mirror_key", "jobs", "strict_links", "host")}, nav)
        try:
            record, alias, listing = (fingerprint(base, *(_template_closure(env, n) for n in names)) for names in
                                      (("record.html",), ("alias.html",), ("listing.html", "redirect.html")))
        except jinja2.TemplateError as e:
            raise ConfigError(f"template {getattr(e, 'name', '') or ''}: {e} — fix it in the site's templates/, or "
                              "remove it there to use the default theme's") from e
        keys = {k.key_id: hashlib.sha256(k.source.data).hexdigest() for k in keyring.keys()}  # noqa: SIM118 - a Keyring, not a dict
        return cls(record, alias, listing, keys)


@dataclass(frozen=True)
class SiteInputs:
    """The loaded, checked inputs of one build (besides the documents)."""

    settings: Settings
    theme: Theme
    pages: tuple[MarkdownPage, ...]
    keyring: Keyring
    mirror_key: MirrorKey | None
    fingerprints: Fingerprints

    @property
    def nav(self) -> tuple[tuple[str, str], ...]:
        """``(path, title)`` of the Markdown pages in the navigation (:func:`~sitegen.site.pages.navigation`)."""
        return navigation(self.pages)

    @classmethod
    def load(cls, settings: Settings) -> SiteInputs:
        theme = find_theme(settings.site_dir)
        check_output_dir(settings.output_dir.resolve(), ((d, str(d)) for d in (*theme.template_dirs,
                                                                            *theme.static_dirs)))
        mirror_key = load_secret(settings.mirror_key, settings.site_dir) if settings.mirror_key else None
        pages = tuple(load_pages(settings.content_dir, max_bytes=settings.max_document_bytes,
                                 base_path=settings.base_path))
        keyring, problems = load_keyring(settings.keys_dir, settings.site_dir)
        if problems:
            raise KeyringFailed(tuple(problems), display_path(settings.keys_dir, settings.site_dir) + "/")
        nav = navigation(pages)
        return cls(settings, theme, pages, keyring, mirror_key, Fingerprints.of(settings, theme, nav, keyring))

"""The theme: template and static directories, and the one Jinja environment.

The site directory's own ``templates/`` and ``static/`` override the default
theme file by file. Secure defaults are set once, in :func:`make_environment`:
``autoescape=True`` for every template, ``StrictUndefined``, and a ``finalize``
that makes every output value well-formed (:func:`sitegen.site.chars.well_formed`:
no character XML or HTML forbids reaches a page, the feed or a sitemap); no
template marks a record field safe.

Hooks for a site that wants less than a whole template (docs/theming.md):
``extra_css`` (stylesheets from ``static/``, linked after the theme's on
every page), ``templates/_head.html`` (included at the end of every page's
``<head>``; the default is empty), one partial per section of the record page
(``templates/record/*.html``), and the UI strings of the page's ``language``
(the global ``_``: :mod:`sitegen.site.strings`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

from sitegen import __version__
from sitegen.config import Settings
from sitegen.errors import ConfigError
from sitegen.model import OutputFile
from sitegen.site.chars import well_formed
from sitegen.site.strings import Strings, placeholders, ui_strings

__all__ = ["Theme", "find_theme", "make_environment", "static_files", "static_paths", "OVERRIDABLE"]

#: Generated site-wide files a site's own ``static/`` may replace; any other
#: static file that collides with a generated one fails the build.
OVERRIDABLE = frozenset({"robots.txt", "_headers", "404.html"})


@dataclass(frozen=True)
class Theme:
    """Template and static directories, highest priority first: the site's own
    ``templates/`` and ``static/`` override the default theme file by file."""

    template_dirs: tuple[Path, ...]
    static_dirs: tuple[Path, ...]


def _default_theme_root() -> Path:
    packaged = resources.files("sitegen") / "_theme"
    if packaged.is_dir():  # wheel install: theme carried inside the package
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2]  # source checkout / editable install


def find_theme(site_dir: Path) -> Theme:
    """Resolve the theme for ``site_dir``; raises :class:`ConfigError` if the
    default theme is missing (a broken installation)."""
    root = _default_theme_root()
    if not (root / "templates" / "record.html").is_file():
        raise ConfigError(f"default theme not found under {root}; reinstall sitegen")
    templates = [p for p in (site_dir / "templates", root / "templates") if p.is_dir()]
    static = [p for p in (site_dir / "static", root / "static") if p.is_dir()]
    return Theme(tuple(dict.fromkeys(templates)), tuple(dict.fromkeys(static)))


def _finalize(value: object) -> object:
    """Every ``{{ … }}`` value, made well-formed before autoescaping: strings
    (and :class:`~markupsafe.Markup`, which stays markup) lose the characters
    :func:`~sitegen.site.chars.well_formed` replaces; other values pass as-is."""
    if not isinstance(value, str):
        return value
    cleaned = well_formed(value)
    if cleaned is value:
        return value
    return Markup(cleaned) if isinstance(value, Markup) else cleaned


#: ``{{ _('key') }}``: a UI string written as it is, without placeholders.
_PLAIN_STRING = re.compile(r"\{\{ *_\('([A-Za-z0-9_.]+)'\) *\}\}")
#: A template where ``_`` stands other than in a call (``{% set _ = … %}``, a
#: macro parameter ``_``) may bind it itself: it keeps its calls as they are.
_BINDS_UNDERSCORE = re.compile(r"(?<![\w.'\"])_(?![\w(])")


class _StringsLoader(jinja2.BaseLoader):
    """The theme's loader, with every ``{{ _('key') }}`` of a string without
    placeholders replaced by its finished text (escaped and made well-formed,
    exactly what the call would print) as the template is loaded: the same
    bytes on every page, without a call, an escape and a finalize per use
    (the record page has ~80 of them; docs/scaling.md, *Where the time goes*).
    Text holding ``{`` or ``}`` keeps its call (it could read as template syntax)."""

    def __init__(self, inner: jinja2.BaseLoader, strings: Strings) -> None:
        self.inner, self.strings = inner, strings

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = self.inner.get_source(environment, template)
        if not _BINDS_UNDERSCORE.search(source):
            source = _PLAIN_STRING.sub(self._text, source)
        return source, filename, uptodate

    def _text(self, m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in self.strings or placeholders(self.strings.raw(key)):
            return m.group()  # unknown or with placeholders: the call reports or fills it
        text = str(_finalize(self.strings(key)))
        return m.group() if "{" in text or "}" in text else text

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()


def _check_extra_css(theme: Theme, settings: Settings) -> None:
    """Every ``extra_css`` path must be a file of the theme's static directories
    (a typo would otherwise be a silent 404 on every page)."""
    present = static_paths(theme) if settings.extra_css else frozenset()
    for path in settings.extra_css:
        if path not in present:
            dirs = " or ".join(str(d) for d in theme.static_dirs) or "static/"
            raise ConfigError(f"sitegen.toml: extra_css: {path} is not a file in {dirs}")


def make_environment(theme: Theme, settings: Settings) -> jinja2.Environment:
    """The one Jinja environment of a build, with sitegen's secure defaults.
    Raises :class:`ConfigError` when an ``extra_css`` file is missing."""
    _check_extra_css(theme, settings)
    strings = ui_strings(settings.language, settings.strings)
    env = jinja2.Environment(
        finalize=_finalize,
        loader=_StringsLoader(jinja2.FileSystemLoader([str(p) for p in theme.template_dirs]), strings),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one build, one theme: no stat of every template at every include
    )
    base_path, base_url = settings.base_path, settings.base_url
    env.globals.update(
        url=lambda path="": base_path + path,
        abs_url=lambda path="": base_url + path,
        site={"title": settings.title, "base_url": base_url, "base_path": base_path},
        nav_pages=[],
        search_enabled=settings.search,
        aliases_enabled=settings.aliases,
        generator=f"sitegen {__version__}",
        language=settings.language,
        _=strings,
        script_strings=strings.script_strings(),
        extra_css=list(settings.extra_css),
    )
    return env


def _static_sources(theme: Theme) -> dict[str, Path]:
    seen: dict[str, Path] = {}
    for directory in theme.static_dirs:
        for path in sorted(directory.rglob("*")):
            rel = path.relative_to(directory).as_posix()
            if path.is_file() and rel not in seen and not path.name.startswith("."):
                seen[rel] = path
    return seen


def static_paths(theme: Theme) -> frozenset[str]:
    """The output paths of every static file (without reading them)."""
    return frozenset(_static_sources(theme))


def static_files(theme: Theme) -> Iterator[OutputFile]:
    """Every static asset, the site's own file winning over the theme's."""
    seen = _static_sources(theme)
    for rel in sorted(seen):
        yield OutputFile(rel, seen[rel].read_bytes())

"""``sitegen init``: a new site directory, ready to build.

A new site holds the Pith registry key (``content/keys/pith-v1-2026-05.json``,
the one key sitegen ships: docs/protocol.md §3 — trust comes only from the
operator's keyring, so the operator is told its fingerprint and where to check
it), the about page, a ``sitegen.toml`` listing every setting commented out
with its default, and a ``.gitignore`` for what builds write. Existing files
are never overwritten.

The key and the about page are the bytes of ``content/keys/`` and
``content/pages/`` in the source tree; wheels carry them inside the package
(``sitegen/_starter/``, pyproject's ``force-include``), like the theme.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sitegen.errors import ConfigError, WriteError, os_problem
from sitegen.model import SourceFile
from sitegen.pith.keys import parse_key_document

__all__ = ["NewSite", "StarterFile", "init_site", "starter_files", "REGISTRY_KEY_ID", "REGISTRY_KEY_FINGERPRINT",
           "REGISTRY_KEY_URL"]

#: The Pith registry key a new site trusts, pinned: a shipped file with another key is refused.
REGISTRY_KEY_ID = "pith-v1-2026-05"
REGISTRY_KEY_FINGERPRINT = "8d4b5ee74e4693bcd1df2446408b0d54"
#: Where the resolver publishes its key, for the operator to compare fingerprints.
REGISTRY_KEY_URL = "https://pith.science/pith-signing-key.json"
_KEY_FILE = f"keys/{REGISTRY_KEY_ID}.json"
_ABOUT_FILE = "pages/about.md"

#: ``sitegen.toml`` of a new site: every setting of README's "Settings", commented out with its default.
CONFIG_TEMPLATE = """\
# sitegen.toml: the settings of this Pith mirror (README.md, "Settings").
# Every setting is optional. Each one below is commented out and shows its default (or an
# example, where there is none); remove the "# " in front of a setting to change it.
# Command-line flags win over this file.

# Site title, shown on every page and in the feed.
# title = "Pith mirror"

# Absolute URL the site is served at (a sub-path works); unset, builds warn and use http://localhost:8000/.
# base_url = "https://user.github.io/mirror/"

# Output directory, relative to this directory.
# output_dir = "site"

# Size cap per content file in bytes (8 MiB), checked before a file is read.
# max_document_bytes = 8388608

# Records per listing page (years/, categories/).
# page_size = 50

# URLs per child sitemap (50000 is the sitemap protocol's limit).
# sitemap_max_urls = 50000

# Entries in feed.xml.
# feed_size = 50

# Build the static search index (search/): titles, authors, ids, categories.
# search = true

# Alias maps (api/aliases/) that resolve /arxiv/<id>/, /doi/…/ and /paper/<prefix>/ from 404.html.
# aliases = true

# Also one redirect page per alias (six folders, twelve files per record): for small mirrors only.
# alias_pages = false

# A broken internal link in a page sitegen renders (Markdown pages, site pages) fails the build; false: a warning.
# strict_links = true

# Language of the pages (BCP 47): the lang attribute and the shipped UI strings (en, de).
# language = "en"

# The site's own UI strings, winning over the catalogue (docs/theming.md lists the keys).
# strings = { "index.newest" = "Latest records" }

# Stylesheets from static/ that every page loads after the theme's.
# extra_css = ["assets/custom.css"]

# Where the tree is served: generic, github, netlify, cloudflare, s3 or nginx. Decides the host files
# written (.nojekyll for generic and github, _headers for netlify and cloudflare) and the host limits
# the build warns about (README.md, "Hosting the output tree"; docs/hosting.md).
# host = "generic"

# Worker processes; unset, sitegen uses every core.
# jobs = 2

# Secret key that signs the mirror snapshot (make one with `sitegen keygen`); unset, the snapshot is unsigned.
# mirror_key = "mirror-key.secret.json"

# Days until the published snapshot expires; unset, it does not expire.
# snapshot_valid_days = 7
"""

#: ``.gitignore`` of a new site: what builds, pulls and keygen write that does not belong in version control.
GITIGNORE_TEMPLATE = """\
# sitegen build: the output tree, its build cache, lock and staging directories
/site/
.site.*
/.site.sitegen-cache/
# sitegen pull: its lock and quarantine (commit .sitegen-pull/state.json with content/)
/.sitegen-pull/lock
/.sitegen-pull/quarantine/
# sitegen keygen: the mirror's secret key — never commit or publish it
mirror-key.secret.json
# a Python virtual environment
.venv/
"""


@dataclass(frozen=True)
class StarterFile:
    """One file of a new site: ``path`` relative to the site directory (POSIX)."""

    path: str
    data: bytes


@dataclass(frozen=True)
class NewSite:
    """What :func:`init_site` did: ``written`` and ``kept`` (existing, not
    overwritten) paths relative to ``site_dir``; the trusted key's id and
    fingerprint; ``key_differs`` when a kept key file is not the shipped key."""

    site_dir: Path
    written: tuple[str, ...]
    kept: tuple[str, ...]
    key_id: str
    fingerprint: str
    key_differs: bool


def _starter_root() -> Path:
    """Where the shipped key and about page are: inside the package (wheel)
    or the source tree's ``content/`` (checkout, editable install)."""
    packaged = resources.files("sitegen") / "_starter"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / "content"


def _shipped(rel: str) -> bytes:
    """The bytes of a shipped starter file; raises :class:`ConfigError` (a broken installation)."""
    path = _starter_root() / rel
    try:
        return path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the starter file: {os_problem(e)} — reinstall sitegen") from None


def registry_key() -> bytes:
    """The shipped Pith registry key document, checked against the pinned id
    and fingerprint; raises :class:`ConfigError` if it is not that key."""
    data = _shipped(_KEY_FILE)
    key, problems = parse_key_document(SourceFile(Path(_KEY_FILE), _KEY_FILE, data))
    if key is None or problems or key.key_id != REGISTRY_KEY_ID or key.fingerprint_hex != REGISTRY_KEY_FINGERPRINT:
        raise ConfigError(f"{_starter_root() / _KEY_FILE}: not the Pith registry key {REGISTRY_KEY_ID} "
                          f"(fingerprint {REGISTRY_KEY_FINGERPRINT}) — reinstall sitegen")
    return data


def starter_files() -> tuple[StarterFile, ...]:
    """Every file of a new site, in the order they are written."""
    return (StarterFile(f"content/{_KEY_FILE}", registry_key()),
            StarterFile(f"content/{_ABOUT_FILE}", _shipped(_ABOUT_FILE)),
            StarterFile("sitegen.toml", CONFIG_TEMPLATE.encode("utf-8")),
            StarterFile(".gitignore", GITIGNORE_TEMPLATE.encode("utf-8")))


def _check_target(site_dir: Path, force: bool) -> None:
    """Refuse a ``site_dir`` that is not a directory, or that holds anything
    but hidden entries (``.git``) without ``force``; raises :class:`ConfigError`."""
    if site_dir.exists() and not site_dir.is_dir():
        raise ConfigError(f"{site_dir}: exists and is not a directory — choose another path for the new site")
    if not site_dir.is_dir() or force:
        return
    try:
        visible = sorted(name for name in os.listdir(site_dir) if not name.startswith("."))
    except OSError as e:
        raise ConfigError(f"{site_dir}: cannot list: {os_problem(e)} — choose another directory") from None
    if visible:
        shown = ", ".join(visible[:3]) + (", …" if len(visible) > 3 else "")
        raise ConfigError(f"{site_dir}: directory is not empty ({shown}) — choose a new directory, or pass --force "
                          "to add the missing starter files (existing files are kept)")


def _write_new(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data``; False if something exists there
    (never overwritten, a symlink included). Raises :class:`OSError`; a
    half-written file is removed."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return True


def init_site(site_dir: Path, *, force: bool = False) -> NewSite:
    """Make a new site in ``site_dir`` (created if missing).

    Without ``force`` a directory holding anything but hidden entries is
    refused; with it, only the missing starter files are written and every
    existing file is kept. Raises :class:`ConfigError` (refused, or a broken
    installation) and :class:`WriteError` (a file or directory cannot be made;
    what was written stays)."""
    files = starter_files()
    _check_target(site_dir, force)
    written: list[str] = []
    kept: list[str] = []
    for item in files:
        target = site_dir / item.path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            (written if _write_new(target, item.data) else kept).append(item.path)
        except OSError as e:
            raise WriteError(f"{target}: cannot write: {os_problem(e)} — fix the directory, then run "
                             "`sitegen init --force` to add the missing files") from None
    key_file = f"content/{_KEY_FILE}"
    differs = key_file in kept and _read_or_none(site_dir / key_file) != files[0].data
    return NewSite(site_dir, tuple(written), tuple(kept), REGISTRY_KEY_ID, REGISTRY_KEY_FINGERPRINT, differs)


def _read_or_none(path: Path) -> bytes | None:
    """The bytes of ``path``, or None if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None

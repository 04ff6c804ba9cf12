"""Command-line interface: ``sitegen init``, ``build``, ``serve``, ``keygen``,
``verify``, ``pull``. The only module that prints or exits.

Why one module of ~570 lines: the parser and, per command, one function that
calls into the package and one that words its report; every message a user
reads from the command line is here, so their wording is reviewed (and
tested, tests/cli/) in one place. The work itself is elsewhere.

Exit codes: 0 success; 1 bad input, verification failure, configuration or
write error (the published tree is unchanged); 2 usage error — including a
flag's value out of range (``-j 0``, a ``--base-url`` without scheme), while
the same value in ``sitegen.toml`` is a configuration error (1). Messages read
``path: what is wrong — what to do``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sitegen import __version__
from sitegen.build import BuildOptions, BuildResult, build
from sitegen.build.progress import Progress
from sitegen.config import Settings, check_jobs, check_text, load_settings, normalise_base_url
from sitegen.errors import BuildFailed, ConfigError, KeyringFailed, Problem, SitegenError, os_problem, quote, safe_text
from sitegen.mirror import key as mirrorkey
from sitegen.mirror.audit import check_mirror, default_state_file
from sitegen.mirror.source import DEFAULT_TIMEOUT
from sitegen.model import Keyring, SourceFile, TrustedKey
from sitegen.pith import shapes
from sitegen.pith.keys import parse_key_document
from sitegen.pith.strict_json import parse_strict_json
from sitegen.pull import PullOptions, Selection, UsageError, pull
from sitegen.pull.fetch import Limits
from sitegen.pull.filters import parse_categories, parse_since, parse_years
from sitegen.pull.names import parse_names, read_names_file
from sitegen.starter import REGISTRY_KEY_URL, NewSite, init_site
from sitegen.verify.keyring import load_keyring

__all__ = ["main"]


def _checked(check: Callable[[Any], Any], convert: Callable[[str], Any] = str,
             what: str = "a value") -> Callable[[str], Any]:
    """An argparse ``type``: ``check(convert(text))``; a :class:`ValueError`
    becomes argparse's usage error (exit 2) with the check's own message."""
    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {quote(text)}") from None
        try:
            return check(value)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return parse


def _port(value: int) -> int:
    """``value`` if a TCP port number (0: any free port); raises :class:`ValueError`."""
    if not 0 <= value <= 65535:
        raise ValueError(f"must be between 0 and 65535, got {value} — 0 picks a free port")
    return value


#: The longest timeout a command takes (a day): past it, a timeout is a typo.
_MAX_SECONDS = 86_400.0


def _seconds(value: float) -> float:
    """``value`` if a positive number of seconds up to a day; raises :class:`ValueError`."""
    if not (value > 0 and math.isfinite(value) and value <= _MAX_SECONDS):
        raise ValueError(f"must be a positive number of seconds, at most {_MAX_SECONDS:,.0f}, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sitegen", description="Static site generator for verified Pith mirrors.")
    p.add_argument("--version", action="version", version=f"sitegen {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    i = sub.add_parser("init", help="start a new site: the Pith registry key, settings, an about page",
                       description="Make DIR a new site, ready to build: content/keys/ with the Pith registry key "
                                   "(check its fingerprint), content/pages/about.md, a sitegen.toml listing every "
                                   "setting (commented out) and a .gitignore.")
    i.add_argument("site_dir", nargs="?", default=".", metavar="DIR",
                   help="directory of the new site (default: .; made if missing)")
    i.add_argument("--force", action="store_true", help="add the missing starter files to a directory that is not "
                   "empty (an existing file is never overwritten)")
    b = sub.add_parser("build", help="verify content/ and write the mirror's output tree",
                       description="Verify every Pith document in SITE_DIR/content/ and publish the "
                                   "static mirror to OUTPUT (default SITE_DIR/site).")
    b.add_argument("site_dir", nargs="?", default=".", metavar="SITE_DIR",
                   help="directory holding content/ (default: .)")
    b.add_argument("-o", "--output", metavar="OUTPUT", help="output directory (default: SITE_DIR/site)")
    b.add_argument("--base-url", metavar="URL", type=_checked(normalise_base_url),
                   help="absolute URL the mirror is served at")
    b.add_argument("--title", type=_checked(check_text), help="site title")
    b.add_argument("--skip-invalid", action="store_true",
                   help="publish the documents that verify and list the ones skipped")
    b.add_argument("--allow-rollback", action="store_true",
                   help="publish documents older than the ones already published")
    b.add_argument("--mirror-key", metavar="FILE", help="secret key file that signs the mirror snapshot "
                   "(default: mirror_key in sitegen.toml)")
    b.add_argument("--no-strict", action="store_true", help="report broken internal links in pages as warnings "
                   "instead of failing the build (like strict_links = false in sitegen.toml)")
    b.add_argument("-q", "--quiet", action="store_true", help="print only problems (no progress, no summary)")
    b.add_argument("--full", action="store_true", help="ignore the build cache: verify and render everything, "
                   "and swap the new tree in atomically")
    b.add_argument("--force", action="store_true", help="publish into an existing output directory that sitegen "
                   "did not make (files sitegen did not write are kept)")
    b.add_argument("-j", "--jobs", type=_checked(check_jobs, int, "a whole number"), metavar="N",
                   help="worker processes (default: every core)")
    b.add_argument("--progress", choices=("auto", "bar", "lines", "off"), default="auto",
                   help="progress display on stderr (default: a bar on a terminal, plain lines otherwise)")

    s = sub.add_parser("serve", help="build, serve on 127.0.0.1, rebuild on change and reload the browser",
                       description="Build SITE_DIR into a private temporary directory, serve it with the URL rules "
                                   "of static hosts, rebuild when content/, templates/, static/ or sitegen.toml "
                                   "change (re-reading sitegen.toml), and reload open pages. A failed rebuild is "
                                   "shown over the pages while the last good build stays online.")
    s.add_argument("site_dir", nargs="?", default=".", metavar="SITE_DIR")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("-p", "--port", type=_checked(_port, int, "a port number"), default=8000,
                   help="port (default: 8000; 0 picks a free one)")
    s.add_argument("--base-path", metavar="PATH", help="serve the site under this URL path (default: the path of "
                   "base_url in sitegen.toml, e.g. /mirror/ for https://user.github.io/mirror/; / for none)")
    s.add_argument("--no-watch", action="store_true", help="build once and serve, without watching")

    k = sub.add_parser("keygen", help="create the mirror operator's Ed25519 key (signs the mirror snapshot)",
                       description="Write mirror-key.secret.json (mode 0600, never published) and mirror-key.json "
                                   "(the public key document) into SITE_DIR.")
    k.add_argument("site_dir", nargs="?", default=".", metavar="SITE_DIR")
    k.add_argument("--key-id", default="mirror-key-1", help="key id to put in the key documents")

    v = sub.add_parser("verify", help="check a built or deployed mirror against its snapshot",
                       description="Check every file listed by TARGET's pith-mirror-snapshot.json (size and SHA-256), "
                                   "files not listed, the snapshot's signature and freshness, and every Pith "
                                   "document against your trusted keys.")
    v.add_argument("target", metavar="TARGET", help="an output directory or the mirror's base URL")
    v.add_argument("--keys", metavar="DIR", help="directory of trusted key documents (default: for a directory "
                   "TARGET, TARGET/../content/keys; for a URL, ./content/keys — if present)")
    v.add_argument("--mirror-key", metavar="FILE", help="the operator's public mirror key document (mirror-key.json)")
    v.add_argument("--state", metavar="FILE", help="where to remember the newest snapshot seen per target "
                   "(default: ~/.cache/sitegen/seen-snapshots.json)")
    v.add_argument("--no-state", action="store_true", help="do not read or record snapshots seen before")
    v.add_argument("--timeout", type=_checked(_seconds, float, "a number of seconds"), default=DEFAULT_TIMEOUT,
                   metavar="SECONDS",
                   help=f"total time one HTTP request may take (default: {DEFAULT_TIMEOUT:g})")

    pl = sub.add_parser("pull", help="download and verify documents from a mirror or the resolver into content/",
                        description="Download Pith documents from SOURCE — a sitegen mirror (read through its "
                                    "snapshot, only what changed) or the resolver's layout (what you name) — verify "
                                    "each against SITE_DIR/content/keys/ and move the ones that pass into "
                                    "SITE_DIR/content/, so the next build publishes them.")
    pl.add_argument("source", metavar="SOURCE", help="base URL of a sitegen mirror or of the resolver")
    pl.add_argument("site_dir", nargs="?", default=".", metavar="SITE_DIR",
                    help="directory holding content/ (default: .)")
    pl.add_argument("--only", nargs="+", action="extend", default=[], metavar="NAME",
                    help="Pith Numbers, suffixes or arXiv ids to pull (all a mirror lists if not given)")
    pl.add_argument("--from-file", metavar="FILE", help="read names from FILE, one per line (# comments)")
    pl.add_argument("--mirror-key", metavar="FILE", help="the upstream operator's public mirror key document: "
                    "its snapshot must be signed by it")
    pl.add_argument("--year", action="append", default=[], metavar="YYYY[-YYYY]",
                    help="only papers submitted in these years (repeatable)")
    pl.add_argument("--category", action="append", default=[], metavar="CAT",
                    help="only papers in this arXiv category, primary or cross-listed (repeatable)")
    pl.add_argument("--since", metavar="DATE", help="only papers submitted on or after DATE (YYYY-MM-DD)")
    pl.add_argument("--max", type=int, metavar="N", dest="max_count",
                    help="fetch at most N Pith Numbers in this run (the next pull continues)")
    pl.add_argument("--replace", action="store_true",
                    help="overwrite local documents that hold other bytes for the same Pith Number")
    pl.add_argument("--allow-rollback", action="store_true",
                    help="accept an older snapshot than seen before, and documents older than the local ones")
    pl.add_argument("--dry-run", action="store_true", help="say what would be fetched; change nothing")
    pl.add_argument("--full", action="store_true", help="list every shard again, not only those that changed")
    pl.add_argument("--layout", choices=("auto", "mirror", "resolver"), default="auto",
                    help="what SOURCE is (default: a mirror if it serves a snapshot, else the resolver's layout)")
    pl.add_argument("-j", "--jobs", type=int, default=4, metavar="N", help="parallel downloads (default: 4)")
    pl.add_argument("--timeout", type=_checked(_seconds, float, "a number of seconds"), default=30.0,
                    metavar="SECONDS",
                    help="connect and read timeout; a whole response may take 4 times as long (default: 30)")
    pl.add_argument("--retries", type=int, default=4, metavar="N",
                    help="retries after connection errors, timeouts, 429 and 5xx (default: 4)")
    pl.add_argument("--state", metavar="FILE", help="the pull state file (default: SITE_DIR/.sitegen-pull/state.json)")
    pl.add_argument("--progress", choices=("auto", "bar", "lines", "off"), default="auto",
                    help="progress display on stderr (default: a bar on a terminal, plain lines otherwise)")
    pl.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    return p


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count:,} {noun}s"


def _size(n_bytes: int) -> str:
    """``n_bytes`` for people: ``812 bytes``, ``280.0 KiB``, ``1.5 GiB``."""
    if n_bytes < 1024:
        return _n(n_bytes, "byte")
    value = float(n_bytes)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _cmd_build(args: argparse.Namespace) -> int:
    settings = load_settings(args.site_dir, output=args.output, base_url=args.base_url, title=args.title,
                             mirror_key=args.mirror_key, jobs=args.jobs,
                             strict_links=False if args.no_strict else None)
    progress = Progress("off" if args.quiet else args.progress)
    try:
        result = build(settings, BuildOptions(skip_invalid=args.skip_invalid, allow_rollback=args.allow_rollback,
                                              full=args.full, force=args.force), progress=progress)
    except KeyringFailed as e:
        _print_problems(e.problems)
        _err(f"error: {e}; {settings.output_dir} left unchanged")
        return 1
    except BuildFailed as e:
        _print_problems(e.problems)
        rollback = all(p.check == "mirror.rollback" for p in e.problems)
        what, fix = (("would roll back published documents", "pass --allow-rollback if that is intended") if rollback
                     else ("failed verification", "fix or remove them, or pass --skip-invalid to publish the rest"))
        _err(f"error: {e.failed_files} of {e.total_files} content files {what} "
             f"({_n(len(e.problems), 'problem')}) — {fix}; {settings.output_dir} left unchanged")
        return 1
    for problem in result.problems:
        _err(f"skipped: {problem} [{problem.check}]")
    for warning in result.warnings:
        _err(f"warning: {warning}")
    if not args.quiet:
        if not settings.base_url_set:
            _err(f"warning: base_url is not set; absolute URLs (sitemap, manifest) use {settings.base_url} — "
                 "set base_url in sitegen.toml or pass --base-url before you publish")
        for line in _build_summary(settings, result, args.site_dir):
            print(line)
    return 0


def _print_problems(problems: tuple[Problem, ...]) -> None:
    """Each problem on its own line, with the name of the check that failed."""
    for problem in problems:
        _err(f"{problem} [{problem.check}]")


def _unchanged_documents(result: BuildResult) -> int:
    """Content files an incremental build did not examine: unchanged since
    the build that verified them. A file examined this run is a verified
    record or bundle, or one that failed to load (a ``load.*`` problem)."""
    if result.mode != "incremental":
        return 0
    failed_to_load = {p.file for p in result.problems if p.check.startswith("load.")}
    return max(0, result.documents - result.records - result.bundles - len(failed_to_load))


def _verified_line(result: BuildResult) -> str:
    """What this build verified, and what it did not need to verify again."""
    unchanged = _unchanged_documents(result)
    if result.documents == 0:
        line = "verified: nothing to verify — content/ holds no Pith documents yet"
    elif result.records + result.bundles == 0 and not result.problems and unchanged:
        line = f"verified: {_n(unchanged, 'document')} unchanged since the last build (verified then)"
    else:
        line = f"verified: {_n(result.checks_passed, 'check')} passed, {result.checks_failed} failed"
        if unchanged:
            line += f"; {_n(unchanged, 'document')} unchanged since the last build (verified then)"
    if result.skipped:
        line += f"; {_n(len(result.skipped), 'document')} skipped"
    return line


def _build_summary(settings: Settings, result: BuildResult, site_dir: str) -> list[str]:
    """The lines ``sitegen build`` prints on success (README, Quick start)."""
    total = sum(secs for _, secs in result.timings)
    timings = " · ".join(f"{name} {secs:.2f}s" for name, secs in result.timings) + f" · total {total:.2f}s"
    verified = f"{_n(result.records, 'record')}, {_n(result.bundles, 'bundle')}"
    how = (f"incremental: {_n(result.rebuilt, 'Pith Number')} rebuilt" if result.mode == "incremental"
           else f"full build{f' ({result.reason})' if result.reason else ''}")
    w = result.write
    lines = [f"sitegen build: {_n(result.documents, 'document')} ({verified} verified), "
             f"{_n(result.published, 'Pith Number')} published; {how}",
             _verified_line(result),
             f"wrote {settings.output_dir}: {_n(w.written + w.unchanged, 'file')} ({w.written:,} written, "
             f"{w.unchanged:,} unchanged), {_size(w.total_bytes)}",
             *(f"  {kind:<22} {files:>10,} {'file' if files == 1 else 'files'} {_size(size):>11}"
               for kind, files, size in result.kinds),
             f"timings: {timings}"]
    if result.documents == 0:
        where = "" if site_dir == "." else f" {shlex.quote(safe_text(site_dir))}"
        lines.append(f"next: fetch documents with `sitegen pull https://pith.science/{where} --only ARXIV_ID`, "
                     f"then `sitegen build{where}` again; preview with `sitegen serve{where}`")
    return lines


def _cmd_init(args: argparse.Namespace) -> int:
    site = init_site(Path(args.site_dir), force=args.force)
    for line in _init_report(site, args.site_dir):
        print(line)
    return 0


def _init_report(site: NewSite, site_dir: str) -> list[str]:
    """What ``sitegen init`` did, the key to check, and what to do next."""
    shown = safe_text(site_dir)
    lines = [f"sitegen init: new site in {shown}" if site.written else f"sitegen init: {shown} already has every "
             "starter file; nothing written"]
    lines += [f"  wrote {path}" for path in site.written]
    lines += [f"  kept {path} (it exists; not overwritten)" for path in site.kept]
    key_file = f"content/keys/{site.key_id}.json"
    lines.append(f"trusted key: {site.key_id}, fingerprint {site.fingerprint} ({key_file})")
    lines.append(f"  check it: the resolver publishes its key at {REGISTRY_KEY_URL}, whose fingerprint_sha256_hex "
                 f"must be {site.fingerprint}; if not, delete {key_file} and do not build")
    if site.key_differs:
        lines.append(f"  note: the existing {key_file} was kept and is not the key sitegen ships — check it too")
    lines.append("next steps:")
    if site_dir != ".":
        lines.append(f"  cd {shlex.quote(shown)}")
    steps = (("sitegen pull https://pith.science/ --only 1709.05011", "fetch documents into content/ (each one "
              "verified before it lands)"),
             ("sitegen build", "verify content/ and write the mirror to site/"),
             ("sitegen serve", "preview it at http://127.0.0.1:8000/"))
    width = max(len(command) for command, _ in steps)
    lines += [f"  {command.ljust(width)}   {what}" for command, what in steps]
    lines.append("  before you publish site/, set base_url and host in sitegen.toml (README: Hosting the output tree)")
    return lines


def _cmd_keygen(args: argparse.Namespace) -> int:
    secret, public = mirrorkey.generate(Path(args.site_dir), args.key_id)
    print(f"wrote {secret} (secret, mode 0600 — keep it out of version control and never publish it)")
    print(f"wrote {public} (public key document; builds publish it at /pith-mirror-key.json)")
    print(f'sign snapshots: add  mirror_key = "{secret.name}"  to sitegen.toml, or pass --mirror-key {secret}')
    return 0


def _load_key_file(path: str) -> TrustedKey:
    try:
        source = SourceFile(Path(path), path, Path(path).read_bytes())
    except OSError as e:
        raise ConfigError(f"{safe_text(path)}: cannot read the mirror key: {os_problem(e)} — pass the operator's "
                          "public key document (mirror-key.json)") from None
    key, problems = parse_key_document(source)
    if key is None:
        raise ConfigError("; ".join(str(p) for p in problems) + " — pass the operator's public key document "
                          "(mirror-key.json, never the secret one)")
    return key


def _verify_keys(args: argparse.Namespace, is_url: bool) -> tuple[Keyring | None, str]:
    """The keyring ``sitegen verify`` trusts, and a line saying where it came from.

    ``--keys DIR`` wins. Otherwise, for a directory TARGET, only the keys next
    to the tree it checks (``TARGET/../content/keys``, a site's output dir);
    for a URL, ``./content/keys``. None (documents not verified) if there is no
    such directory."""
    if args.keys:
        keys_dir, how = Path(args.keys), "--keys"
    elif is_url:
        keys_dir, how = Path("content") / "keys", "the current directory's"
    else:
        keys_dir, how = Path(os.path.realpath(args.target)).parent / "content" / "keys", "next to the tree"
    keys_dir = keys_dir.absolute()
    if not args.keys and not keys_dir.is_dir():
        return None, (f"keys: none at {safe_text(str(keys_dir))} ({how}) — Pith documents will NOT be verified; "
                      "pass --keys DIR")
    keyring, problems = load_keyring(keys_dir, Path.cwd())
    if problems:
        raise ConfigError("; ".join(str(p) for p in problems))
    ids = ", ".join(k.key_id for k in keyring.keys())  # noqa: SIM118 (a Keyring, not a dict)
    return keyring, f"keys: {safe_text(str(keys_dir))} ({how}): {_n(len(keyring), 'trusted key')} ({ids})"


def _load_state(state_file: Path | None, target_key: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """All remembered snapshots, and the one for ``target_key`` (checked)."""
    if state_file is None or not state_file.exists():
        return {}, None
    what = f"{safe_text(str(state_file))}: not a sitegen state file"
    try:
        seen_all = parse_strict_json(state_file.read_bytes())
    except OSError as e:
        raise ConfigError(f"{safe_text(str(state_file))}: cannot read: {os_problem(e)} — fix its permissions, "
                          "or pass --state FILE or --no-state") from None
    except ValueError as e:
        raise ConfigError(f"{what} ({safe_text(str(e), 200)}) — delete it or pass --no-state") from None
    if not isinstance(seen_all, dict):
        raise ConfigError(f"{what} — delete it or pass --no-state")
    seen = seen_all.get(target_key)
    if seen is not None and shapes.validate(seen, {"version": int, "snapshot_sha256": str}):
        raise ConfigError(f"{what} (its entry for {safe_text(target_key)} is damaged) — delete it or pass --no-state")
    return seen_all, seen


def _print_capped(label: str, items: list[str], limit: int) -> None:
    for item in items[:limit]:
        _err(f"{label}{safe_text(item, 600)}")
    if len(items) > limit:
        _err(f"{label}… and {len(items) - limit} more")


def _cmd_verify(args: argparse.Namespace) -> int:
    is_url = args.target.startswith(("http://", "https://"))
    keyring, keys_line = _verify_keys(args, is_url)
    mirror_key = _load_key_file(args.mirror_key) if args.mirror_key else None
    state_file = None if args.no_state else Path(args.state) if args.state else default_state_file()
    target_key = args.target if is_url else os.path.realpath(args.target)
    seen_all, seen = _load_state(state_file, target_key)
    report = check_mirror(args.target, keyring=keyring, mirror_key=mirror_key, seen=seen, timeout=args.timeout)
    about = (f"snapshot version {report.version} generated {report.generated_at} "
             f"({_n(report.file_count, 'file')} listed)"
             if report.version is not None else "no usable snapshot")
    print(safe_text(f"sitegen verify {args.target}: {about}"))
    print(f"  {keys_line}")
    for note in report.notes:
        print(f"  {safe_text(note)}")
    print(f"  files: {report.files_ok} ok, {len(report.missing)} missing, {len(report.changed)} changed, "
          f"{len(report.extra)} extra")
    for label, paths in (("missing", report.missing), ("changed", report.changed), ("extra", report.extra)):
        _print_capped(f"{label}: ", paths, 50)
    if keyring is not None:
        print(f"  documents: {report.documents_verified} verified (of {report.documents_listed} listed) against "
              f"{_n(len(keyring), 'trusted key')}")
    _print_capped("problem: ", report.problems, 200)
    if not report.ok:
        print("result: FAILED")
        return 1
    if state_file is not None:
        seen_all[target_key] = {"version": report.version, "snapshot_sha256": report.snapshot_sha256}
        try:
            state_file.parent.mkdir(parents=True, exist_ok=True)
            state_file.write_text(json.dumps(seen_all, indent=2, sort_keys=True) + "\n")
        except OSError as e:
            _err(f"warning: {safe_text(str(state_file))}: cannot remember this snapshot: {os_problem(e)} — "
                 "a later rollback to an older snapshot will not be noticed; pass --state FILE")
    if keyring is None:
        # Hard to miss: the files match the snapshot, but nothing says the documents are authentic.
        _err(f"WARNING: {_n(report.documents_listed, 'Pith document')} NOT verified — no trusted keys "
             "(pass --keys DIR with the key documents you trust)")
        print("result: FILES OK — DOCUMENTS NOT VERIFIED (no trusted keys)")
        return 0
    print("result: OK")
    return 0


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so cleanup runs as for Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated()


#: What an interrupted command leaves behind (every command cleans up its temporary files).
_INTERRUPTED = ("nothing half-done stays published (a build stopped while publishing is completed or "
                "repaired by the next build)")


def _pull_options(args: argparse.Namespace) -> PullOptions:
    """The options of ``sitegen pull``; raises :class:`UsageError`."""
    if args.jobs < 1 or args.retries < 0 or (args.max_count is not None and args.max_count < 1):
        raise UsageError("--jobs and --max must be at least 1, --retries at least 0")
    try:
        selection = Selection(years=parse_years(args.year), categories=parse_categories(args.category),
                              since=parse_since(args.since) if args.since else None)
    except ValueError as e:
        raise UsageError(str(e)) from None
    names = parse_names(args.only) + (read_names_file(Path(args.from_file)) if args.from_file else [])
    settings = load_settings(args.site_dir)
    return PullOptions(source=args.source, site_dir=Path(args.site_dir), names=tuple(names), selection=selection,
                       layout=args.layout, mirror_key=_load_key_file(args.mirror_key) if args.mirror_key else None,
                       max_count=args.max_count, replace=args.replace, allow_rollback=args.allow_rollback,
                       dry_run=args.dry_run, full=args.full, jobs=args.jobs,
                       limits=Limits(timeout=args.timeout, retries=args.retries),
                       state_file=Path(args.state) if args.state else None,
                       max_bytes=settings.max_document_bytes, max_depth=settings.max_json_depth)


def _cmd_pull(args: argparse.Namespace) -> int:
    try:
        opts = _pull_options(args)
    except UsageError as e:
        _err(f"sitegen pull: error: {e}")
        return 2
    keys_dir = opts.site_dir / "content" / "keys"
    keyring, problems = load_keyring(keys_dir, opts.site_dir)
    if problems:
        raise ConfigError("; ".join(str(p) for p in problems))
    progress = Progress("off" if args.quiet or args.dry_run else args.progress)
    try:
        report = pull(opts, keyring, progress=progress)
    except UsageError as e:
        _err(f"sitegen pull: error: {e}")
        return 2
    except KeyboardInterrupt:
        _err("sitegen pull: interrupted; content/ holds only verified documents, and the next pull continues")
        return 130
    for note in report.notes:
        if not args.quiet:
            _err(f"note: {safe_text(note, 600)}")
    for problem in report.problems:
        _err(f"{problem} [{problem.check}]")
    if args.dry_run:
        for url in report.would_fetch:
            print(f"would fetch {safe_text(url)}")
    if not args.quiet:
        c = report.counts
        head = f"sitegen pull {safe_text(report.source)}: "
        if report.kind == "resolver":
            head += f"resolver layout; {_n(report.listed, 'Pith Number')} named"
        elif report.unchanged:
            head += "sitegen mirror, unchanged since the last complete pull"
        else:
            head += (f"sitegen mirror, snapshot version {report.version}; "
                     f"{_n(report.listed, 'document')} listed in shards that changed")
        left = f" ({report.left} left for the next pull)" if report.left else ""
        print(head + f"; {report.planned} to fetch" + left)
        if not args.dry_run:
            landed = c.get("new", 0) + c.get("updated", 0)
            print(f"landed {landed} ({c.get('new', 0)} new, {c.get('updated', 0)} updated); "
                  f"{c.get('unchanged', 0) + c.get('not_modified', 0)} unchanged, {c.get('filtered', 0)} filtered out, "
                  f"{c.get('failed', 0)} failed, {_n(c.get('conflict', 0), 'conflict')}")
        rate = f" ({report.planned / report.seconds:.0f} Pith Numbers/s)" if report.planned and report.seconds else ""
        print(f"network: {_n(report.requests, 'request')}, {_n(report.bytes, 'byte')} in {report.seconds:.2f}s{rate}")
    if report.problems:
        _err(f"error: {_n(len(report.problems), 'problem')}; documents that failed did not enter content/")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code: 0 success, 1 failure, 2 usage
    error, 130 interrupted (SIGINT, Ctrl-C), 143 terminated (SIGTERM)."""
    args = _parser().parse_args(argv)
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _run(args)
    except KeyboardInterrupt:
        _err(f"sitegen {args.command}: interrupted; {_INTERRUPTED}" if args.command == "build"
             else f"sitegen {args.command}: stopped")
        return 130
    except _Terminated:
        _err(f"sitegen {args.command}: terminated; {_INTERRUPTED}" if args.command == "build"
             else f"sitegen {args.command}: terminated")
        return 143
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "init":
            return _cmd_init(args)
        if args.command == "build":
            return _cmd_build(args)
        if args.command == "serve":
            from sitegen.serve import serve
            return serve(load_settings(args.site_dir), host=args.host, port=args.port, watch=not args.no_watch,
                         base_path=args.base_path)
        if args.command == "keygen":
            return _cmd_keygen(args)
        if args.command == "verify":
            return _cmd_verify(args)
        if args.command == "pull":
            return _cmd_pull(args)
    except SitegenError as e:
        _err(f"error: {e}")
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands

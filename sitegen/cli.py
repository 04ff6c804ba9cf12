"""Command-line interface: ``sitegen build``, ``keygen``, ``verify``. The only
module that prints or exits.

Exit codes: 0 success; 1 bad input, verification failure, configuration or
write error (the published tree is unchanged); 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from sitegen import __version__
from sitegen.mirror import key as mirrorkey
from sitegen.build import BuildOptions, build
from sitegen.config import load_settings
from sitegen.errors import BuildFailed, ConfigError, SitegenError, safe_text
from sitegen.pith.keys import parse_key_document
from sitegen.verify.keyring import load_keyring
from sitegen.mirror.audit import check_mirror, default_state_file
from sitegen.mirror.source import DEFAULT_TIMEOUT
from sitegen.model import Keyring, SourceFile, TrustedKey
from sitegen.pith import shapes
from sitegen.pith.strict_json import parse_strict_json
from sitegen.build.progress import Progress

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sitegen", description="Static site generator for verified Pith mirrors.")
    p.add_argument("--version", action="version", version=f"sitegen {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = sub.add_parser("build", help="verify content/ and write the mirror's output tree",
                       description="Verify every Pith document in SITE_DIR/content/ and publish the "
                                   "static mirror to OUTPUT (default SITE_DIR/site).")
    b.add_argument("site_dir", nargs="?", default=".", metavar="SITE_DIR",
                   help="directory holding content/ (default: .)")
    b.add_argument("-o", "--output", metavar="OUTPUT", help="output directory (default: SITE_DIR/site)")
    b.add_argument("--base-url", metavar="URL", help="absolute URL the mirror is served at")
    b.add_argument("--title", help="site title")
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
    b.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default: every core)")
    b.add_argument("--progress", choices=("auto", "bar", "lines", "off"), default="auto",
                   help="progress display on stderr (default: a bar on a terminal, plain lines otherwise)")

    s = sub.add_parser("serve", help="build, serve on 127.0.0.1, rebuild on change and reload the browser",
                       description="Build SITE_DIR into a private temporary directory, serve it with the URL rules "
                                   "of static hosts, rebuild when content/, templates/, static/ or sitegen.toml "
                                   "change, and reload open pages.")
    s.add_argument("site_dir", nargs="?", default=".", metavar="SITE_DIR")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("-p", "--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
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
    v.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"total time one HTTP request may take (default: {DEFAULT_TIMEOUT:g})")
    return p


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _cmd_build(args: argparse.Namespace) -> int:
    settings = load_settings(args.site_dir, output=args.output, base_url=args.base_url, title=args.title,
                             mirror_key=args.mirror_key, jobs=args.jobs,
                             strict_links=False if args.no_strict else None)
    if not settings.base_url_set and not args.quiet:
        _err(f"warning: base_url is not set; absolute URLs (sitemap, manifest) use {settings.base_url}. "
             "Set base_url in sitegen.toml or pass --base-url.")
    progress = Progress("off" if args.quiet else args.progress)
    try:
        result = build(settings, BuildOptions(skip_invalid=args.skip_invalid, allow_rollback=args.allow_rollback,
                                              full=args.full, force=args.force), progress=progress)
    except BuildFailed as e:
        for problem in e.problems:
            _err(f"{problem} [{problem.check}]")
        what = ("would roll back published documents" if all(p.check == "mirror.rollback" for p in e.problems)
                else "failed verification")
        _err(f"error: {e.failed_files} of {e.total_files} content files {what} "
             f"({_n(len(e.problems), 'problem')}); {settings.output_dir} left unchanged")
        return 1
    for problem in result.problems:
        _err(f"skipped: {problem} [{problem.check}]")
    for warning in result.warnings:
        _err(f"warning: {warning}")
    if not args.quiet:
        timings = " · ".join(f"{name} {secs:.2f}s" for name, secs in result.timings)
        verified = f"{_n(result.records, 'record')}, {_n(result.bundles, 'bundle')}"
        how = (f"incremental: {_n(result.rebuilt, 'Pith Number')} rebuilt" if result.mode == "incremental"
               else f"full build{f' ({result.reason})' if result.reason else ''}")
        print(f"sitegen build: {_n(result.documents, 'document')} ({verified} verified), "
              f"{_n(result.published, 'Pith Number')} published; {how}")
        print(f"verified: {result.checks_passed} checks passed, {result.checks_failed} failed"
              + (f"; {_n(len(result.skipped), 'document')} skipped" if result.skipped else ""))
        print(f"wrote {settings.output_dir}: {result.write.written + result.write.unchanged} files "
              f"({result.write.written} written, {result.write.unchanged} unchanged), "
              f"{result.write.total_bytes} bytes")
        print(f"timings: {timings}")
    return 0


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
        raise ConfigError(f"{safe_text(path)}: cannot read the mirror key: {e.strerror}") from None
    key, problems = parse_key_document(source)
    if key is None:
        raise ConfigError("; ".join(str(p) for p in problems))
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
    ids = ", ".join(k.key_id for k in keyring.keys())
    return keyring, f"keys: {safe_text(str(keys_dir))} ({how}): {_n(len(keyring), 'trusted key')} ({ids})"


def _load_state(state_file: Path | None, target_key: str) -> tuple[dict, dict | None]:
    """All remembered snapshots, and the one for ``target_key`` (checked)."""
    if state_file is None or not state_file.exists():
        return {}, None
    what = f"{safe_text(str(state_file))}: not a sitegen state file"
    try:
        seen_all = parse_strict_json(state_file.read_bytes())
    except (OSError, ValueError) as e:
        raise ConfigError(f"{what} ({safe_text(str(e), 200)}); delete it or pass --no-state") from None
    if not isinstance(seen_all, dict):
        raise ConfigError(f"{what}; delete it or pass --no-state")
    seen = seen_all.get(target_key)
    if seen is not None and shapes.validate(seen, {"version": int, "snapshot_sha256": str}):
        raise ConfigError(f"{what} (its entry for {safe_text(target_key)} is damaged); delete it or pass --no-state")
    return seen_all, seen


def _print_capped(label: str, items: list[str], limit: int) -> None:
    for item in items[:limit]:
        _err(f"{label}{safe_text(item, 600)}")
    if len(items) > limit:
        _err(f"{label}… and {len(items) - limit} more")


def _cmd_verify(args: argparse.Namespace) -> int:
    if not args.timeout > 0:
        raise ConfigError("--timeout: must be a positive number of seconds")
    is_url = args.target.startswith(("http://", "https://"))
    keyring, keys_line = _verify_keys(args, is_url)
    mirror_key = _load_key_file(args.mirror_key) if args.mirror_key else None
    state_file = None if args.no_state else Path(args.state) if args.state else default_state_file()
    target_key = args.target if is_url else os.path.realpath(args.target)
    seen_all, seen = _load_state(state_file, target_key)
    report = check_mirror(args.target, keyring=keyring, mirror_key=mirror_key, seen=seen, timeout=args.timeout)
    about = (f"snapshot version {report.version} generated {report.generated_at} ({report.file_count} files listed)"
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
            _err(f"warning: cannot remember this snapshot in {safe_text(str(state_file))}: {e.strerror}; "
                 "a later rollback to an older snapshot will not be noticed")
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
        if args.command == "build":
            return _cmd_build(args)
        if args.command == "serve":
            from sitegen.serve import serve
            return serve(load_settings(args.site_dir), host=args.host, port=args.port, watch=not args.no_watch)
        if args.command == "keygen":
            return _cmd_keygen(args)
        if args.command == "verify":
            return _cmd_verify(args)
    except SitegenError as e:
        _err(f"error: {e}")
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands

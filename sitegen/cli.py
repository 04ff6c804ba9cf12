"""Command-line interface: ``sitegen build``, ``keygen``, ``verify``. The only
module that prints or exits.

Exit codes: 0 success; 1 bad input, verification failure, configuration or
write error (the published tree is unchanged); 2 usage error.
"""

from __future__ import annotations

import argparse
import json
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
from sitegen.model import SourceFile, TrustedKey
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
    v.add_argument("--keys", metavar="DIR", help="directory of trusted key documents (default: content/keys if present)")
    v.add_argument("--mirror-key", metavar="FILE", help="the operator's public mirror key document (mirror-key.json)")
    v.add_argument("--state", metavar="FILE", help="where to remember the newest snapshot seen per target "
                   "(default: ~/.cache/sitegen/seen-snapshots.json)")
    v.add_argument("--no-state", action="store_true", help="do not read or record snapshots seen before")
    return p


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _cmd_build(args: argparse.Namespace) -> int:
    settings = load_settings(args.site_dir, output=args.output, base_url=args.base_url, title=args.title,
                             mirror_key=args.mirror_key, jobs=args.jobs)
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
        raise ConfigError(f"{path}: cannot read the mirror key: {e.strerror}") from None
    key, problems = parse_key_document(source)
    if key is None:
        raise ConfigError("; ".join(str(p) for p in problems))
    return key


def _cmd_verify(args: argparse.Namespace) -> int:
    keyring = None
    keys_dir = Path(args.keys) if args.keys else Path("content/keys")
    if args.keys or keys_dir.is_dir():
        keyring, problems = load_keyring(keys_dir.resolve(), Path.cwd())
        if problems:
            raise ConfigError("; ".join(str(p) for p in problems))
    mirror_key = _load_key_file(args.mirror_key) if args.mirror_key else None
    state_file = None if args.no_state else Path(args.state) if args.state else default_state_file()
    seen_all = {}
    if state_file is not None and state_file.is_file():
        try:
            seen_all = json.loads(state_file.read_text())
        except ValueError:
            raise ConfigError(f"{state_file}: not a sitegen state file") from None
    target_key = args.target if args.target.startswith(("http://", "https://")) else str(Path(args.target).resolve())
    report = check_mirror(args.target, keyring=keyring, mirror_key=mirror_key, seen=seen_all.get(target_key))
    print(f"sitegen verify {safe_text(args.target)}: snapshot version {report.version} "
          f"generated {report.generated_at} ({report.file_count} files listed)")
    for note in report.notes:
        print(f"  {note}")
    print(f"  files: {report.files_ok} ok, {len(report.missing)} missing, {len(report.changed)} changed, "
          f"{len(report.extra)} extra")
    for label, paths in (("missing", report.missing), ("changed", report.changed), ("extra", report.extra)):
        for path in paths[:50]:
            _err(f"{label}: {safe_text(path)}")
        if len(paths) > 50:
            _err(f"{label}: … and {len(paths) - 50} more")
    if keyring is not None:
        print(f"  documents: {report.documents_verified} verified against {_n(len(keyring), 'trusted key')}")
    for problem in report.problems:
        _err(f"problem: {safe_text(problem, 600)}")
    if report.ok:
        if state_file is not None:
            state_file.parent.mkdir(parents=True, exist_ok=True)
            seen_all[target_key] = {"version": report.version, "snapshot_sha256": report.snapshot_sha256}
            state_file.write_text(json.dumps(seen_all, indent=2, sort_keys=True) + "\n")
        print("result: OK")
        return 0
    print("result: FAILED")
    return 1


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

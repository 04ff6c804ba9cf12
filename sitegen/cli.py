"""Command-line interface: ``sitegen build``. The only module that prints or exits.

Exit codes: 0 success; 1 bad input, verification failure, configuration or
write error (the published tree is unchanged); 2 usage error.
"""

from __future__ import annotations

import argparse
import sys

from sitegen import __version__
from sitegen.build import build
from sitegen.config import load_settings
from sitegen.errors import BuildFailed, SitegenError

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
    b.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    return p


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _cmd_build(args: argparse.Namespace) -> int:
    settings = load_settings(args.site_dir, output=args.output, base_url=args.base_url, title=args.title)
    if not settings.base_url_set and not args.quiet:
        _err(f"warning: base_url is not set; absolute URLs (sitemap, manifest) use {settings.base_url}. "
             "Set base_url in sitegen.toml or pass --base-url.")
    try:
        result = build(settings, skip_invalid=args.skip_invalid, allow_rollback=args.allow_rollback)
    except BuildFailed as e:
        for problem in e.problems:
            _err(f"{problem} [{problem.check}]")
        what = ("would roll back published documents" if all(p.check == "mirror.rollback" for p in e.problems)
                else "failed verification")
        _err(f"error: {e.failed_files} of {e.total_files} content files {what} "
             f"({_n(len(e.problems), 'problem')}); {settings.output_dir} left unchanged")
        return 1
    v = result.verification
    for problem in v.problems:
        _err(f"skipped: {problem} [{problem.check}]")
    if not args.quiet:
        records = sum(1 for r in v.reports if r.kind == "record")
        bundles = sum(1 for r in v.reports if r.kind == "bundle")
        failed = sum(1 for r in v.reports for c in r.checks if not c.ok) + sum(
            1 for p in v.problems if p.check.startswith("load."))
        timings = " · ".join(f"{name} {secs:.2f}s" for name, secs in result.timings)
        print(f"sitegen build: {_n(v.files, 'document')} ({_n(records, 'record')}, {_n(bundles, 'bundle')}), "
              f"{_n(len(v.entries), 'Pith Number')} published")
        print(f"verified: {v.checks_passed} checks passed, {failed} failed"
              + (f"; {_n(len(result.skipped), 'document')} skipped" if result.skipped else ""))
        print(f"wrote {settings.output_dir}: {result.write.written + result.write.unchanged} files "
              f"({result.write.written} written, {result.write.unchanged} unchanged), "
              f"{result.write.total_bytes} bytes")
        print(f"timings: {timings}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            return _cmd_build(args)
    except SitegenError as e:
        _err(f"error: {e}")
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands

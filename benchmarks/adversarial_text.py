"""Worst-case time of every parser of untrusted text, on adversarial inputs.

    python benchmarks/adversarial_text.py [--max-bytes N] [--timeout S] [--only NAME]

Each (parser, input) pair runs in a fresh subprocess at doubling sizes from
16 KiB up to ``--max-bytes`` (default 8 MiB, the document size cap), and stops
growing once one size takes longer than ``--timeout`` seconds (default 20),
printing that the next size was not tried. Linear parsers double their time
per row; quadratic ones quadruple. Prints one line per measurement:
``parser  input  characters  seconds [raised Exception]`` (the Markdown
renderer refuses pages over its cap: that is the outcome, not an error).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

def _letters(i: int) -> str:
    """``i`` written in the letters a–z (distinct names defeat the TeX cache)."""
    out = ""
    while True:
        out += chr(97 + i % 26)
        i //= 26
        if not i:
            return out


def _accented_names(n: int) -> str:
    """Distinct author names full of TeX accents, ``, ``-separated, ~``n`` characters."""
    parts, size, i = [], 0, 0
    while size < n:
        name = "\\'e\\\"o\\v{z} " + _letters(i) + ", "
        parts.append(name)
        size += len(name)
        i += 1
    return "".join(parts)[:n]


#: name → function of the size in characters returning the input text.
INPUTS = {
    "spaces": lambda n: "a" + " " * (n - 2) + "b",
    "whitespace-mix": lambda n: "a" + " \t\n\r\u00a0" * ((n - 2) // 6) + "b",
    "open-paren-math": lambda n: "\\(" * (n // 2),
    "open-paren-math-spaced": lambda n: "\\( x " * (n // 5),
    "dollars": lambda n: "$a" * (n // 2),
    "short-math": lambda n: "$x$ " * (n // 4),
    "braces": lambda n: "{" * (n // 2) + "}" * (n // 2),
    "open-braces": lambda n: "{" * n,
    "backslashes": lambda n: "\\" * n,
    "macros": lambda n: "\\x" * (n // 2),
    "accents": lambda n: "\\'e" * (n // 3),
    "commas": lambda n: "A," * (n // 2),
    "accented-names": _accented_names,
    "parens": lambda n: "A (" * (n // 3),
    "and-words": lambda n: "and " * (n // 4),
    "institutions": lambda n: "University 1, " * (n // 14),
    "md-brackets": lambda n: "[" * n,
    "md-link-open": lambda n: "[a](" * (n // 4),
    "md-emphasis": lambda n: "*a_" * (n // 3),
    "md-backticks": lambda n: "`a``" * (n // 4),
    "md-quotes": lambda n: "> " * (n // 2),
    "md-heading-spaces": lambda n: "# a" + " " * (n - 4) + "b",
    "md-lists": lambda n: "- " * (n // 2),
    "md-angle": lambda n: "<a" * (n // 2),
    "json-array": lambda n: "[" + "0," * ((n - 3) // 2) + "0]",
    "json-string-escapes": lambda n: '"' + "\\u00e9" * ((n - 2) // 6) + '"',
    "json-deep": lambda n: "[" * (n // 2) + "]" * (n // 2),
    "json-object": lambda n: "{" + ",".join(f'"{i}":0' for i in range(n // 10)) + "}",
}

#: parser → the inputs that attack it.
PLAN = {
    "authors": ["spaces", "whitespace-mix", "commas", "accented-names", "parens", "and-words", "institutions",
                "open-paren-math", "accents"],
    "tex_to_text": ["spaces", "whitespace-mix", "open-paren-math", "braces", "open-braces", "backslashes", "macros",
                    "accents"],
    "tex_to_html": ["spaces", "open-paren-math", "open-paren-math-spaced", "dollars", "short-math", "braces",
                    "macros"],
    "markdown": ["spaces", "md-brackets", "md-link-open", "md-emphasis", "md-backticks", "md-quotes",
                 "md-heading-spaces", "md-lists", "md-angle"],
    "strict_json": ["json-array", "json-string-escapes", "json-deep", "json-object"],
}

_RUN = """
import sys, time
sys.path.insert(0, {root!r})
from benchmarks.adversarial_text import INPUTS, parser
text = INPUTS[{name!r}]({size})
fn = parser({parser!r})
start = time.perf_counter()
outcome = ""
try:
    fn(text)
except Exception as e:
    outcome = "raised " + type(e).__name__
print(time.perf_counter() - start, outcome)
"""


def _markdown(text: str) -> None:
    from sitegen.site import pages
    if hasattr(pages, "render_markdown"):
        pages.render_markdown("page", text)
        return
    import re

    from markdown_it import MarkdownIt
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True}).render(text)
    re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.M)  # the title regex pages.py used


def _json(text: str) -> None:
    from sitegen.pith.strict_json import parse_strict_json
    try:
        parse_strict_json(text.encode("utf-8"))
    except ValueError:
        pass


def parser(name: str):
    """The callable measured for ``name`` (imported lazily, in the child)."""
    if name == "authors":
        from sitegen.site.authors import parse_authors
        return parse_authors
    if name == "tex_to_text":
        from sitegen.site.tex import tex_to_text
        return tex_to_text
    if name == "tex_to_html":
        from sitegen.site.tex import tex_to_html
        return tex_to_html
    if name == "markdown":
        return _markdown
    if name == "strict_json":
        return _json
    raise KeyError(name)


def measure(parser_name: str, input_name: str, size: int, timeout: float) -> tuple[float, str] | None:
    """Seconds one call took in a fresh process and how it ended (``""`` or
    ``raised <Exception>``), or None past ``timeout``."""
    code = _RUN.format(root=str(HERE.parent), name=input_name, size=size, parser=parser_name)
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout + 30)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    seconds, _, outcome = proc.stdout.strip().splitlines()[-1].partition(" ")
    return float(seconds), outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-bytes", type=int, default=8 * 1024 * 1024)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--start", type=int, default=16 * 1024)
    ap.add_argument("--only", default=None, help="one parser name")
    args = ap.parse_args()
    for parser_name, inputs in PLAN.items():
        if args.only and parser_name != args.only:
            continue
        for input_name in inputs:
            size = args.start
            while size <= args.max_bytes:
                t0 = time.perf_counter()
                measured = measure(parser_name, input_name, size, args.timeout)
                if measured is None:
                    print(f"{parser_name:12} {input_name:24} {size:>9} > {time.perf_counter() - t0:.0f}s (killed)",
                          flush=True)
                    break
                seconds, outcome = measured
                print(f"{parser_name:12} {input_name:24} {size:>9} {seconds:8.3f}s {outcome}".rstrip(), flush=True)
                if seconds > args.timeout:
                    print(f"{parser_name:12} {input_name:24} (larger sizes not tried)", flush=True)
                    break
                size *= 2


if __name__ == "__main__":
    main()

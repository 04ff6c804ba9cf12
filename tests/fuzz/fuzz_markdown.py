"""Coverage-guided fuzzing (atheris/libFuzzer) of Markdown pages.

    python tests/fuzz/fuzz_markdown.py CORPUS_DIR [libFuzzer flags, e.g. -max_total_time=600]

Every input is the bytes of ``content/pages/fuzz.md``, loaded by
:func:`sitegen.site.pages.load_pages` — markdown-it-py exactly as the build
configures it (CommonMark, raw HTML off, no linkify, typographer on). The only
documented error is :class:`~sitegen.errors.ConfigError` (invalid UTF-8);
anything else raised is a crash, and so is HTML that is not inert: a tag or an
attribute markdown-it's CommonMark renderer does not make, a raw ``<`` in
text, or a ``javascript:``/``vbscript:``/``file:``/non-image ``data:`` URL.
"""

import atexit
import html
import re
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

with atheris.instrument_imports():
    import markdown_it  # noqa: F401  (instrumented: coverage guides the fuzzer into the parser)
    import yaml  # noqa: F401  (front matter)

    from sitegen.errors import ConfigError
    from sitegen.site.pages import load_pages

CONTENT = Path(tempfile.mkdtemp(prefix="sitegen-fuzz-md-"))
atexit.register(shutil.rmtree, CONTENT, True)
(CONTENT / "pages").mkdir()
PAGE = CONTENT / "pages" / "fuzz.md"

#: What the CommonMark renderer emits with raw HTML off: tag → allowed attributes.
TAGS = {"p": (), "em": (), "strong": (), "code": ("class",), "pre": (), "blockquote": (), "ul": (),
        "ol": ("start",), "li": (), "hr": (), "br": (), "a": ("href", "title"), "img": ("src", "alt", "title"),
        **{f"h{n}": () for n in range(1, 7)}}
_TAG = re.compile(r'<(/?)([a-z0-9]+)((?: [a-z]+="[^"<>]*")*)\s*/?>')
_ATTR = re.compile(r' ([a-z]+)="([^"]*)"')
_BAD_URL = re.compile(r"\A(?:javascript|vbscript|file|data):")
_GOOD_DATA = re.compile(r"\Adata:image/(?:gif|png|jpeg|webp);")


def check_inert(out: str) -> None:
    """Raise AssertionError unless ``out`` is inert HTML of the kinds above."""
    pos = 0
    for m in _TAG.finditer(out):
        assert "<" not in out[pos:m.start()], f"raw '<' in text: {out[pos:m.start()]!r}"
        pos = m.end()
        closing, name, attrs = m.groups()
        assert name in TAGS, f"unexpected tag <{name}>"
        for attr, value in _ATTR.findall(attrs):
            assert not closing and attr in TAGS[name], f"unexpected attribute {attr} on <{name}>"
            if attr in ("href", "src"):
                url = "".join(ch for ch in html.unescape(value) if ord(ch) > 0x20).lower()
                assert not _BAD_URL.match(url) or _GOOD_DATA.match(url), f"active URL {value!r}"
    assert "<" not in out[pos:], f"raw '<' in text: {out[pos:]!r}"


def test_one_input(data: bytes) -> None:
    PAGE.write_bytes(data)
    try:
        pages = load_pages(CONTENT)
    except ConfigError:
        return
    assert len(pages) <= 1  # none for a draft (front matter ``draft: true``)
    for page in pages:
        check_inert(str(page.html))
        assert isinstance(page.title, str)
        assert all(href.startswith("/") for href in page.links)  # every internal link rewritten to a site path


def seed_corpus(directory: Path) -> None:
    """Fill ``directory`` with the bundled pages and Markdown that touches every construct."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in sorted((HERE.parent.parent / "content" / "pages").glob("*.md")):
        (directory / path.name).write_bytes(path.read_bytes())
    (directory / "constructs.md").write_bytes(
        b"# Title #\n\nSetext\n===\n\n```py x\ncode\n```\n\n    indented\n\n3. a\n4. b\n\n- [x] c\n\n"
        b"![i](x.png \"t\") [a](javascript:alert(1)) [d](data:image/png;base64,AA) <http://x> <a@b.c>\n\n"
        b"***x*** `c`  \nbr\\\n\n---\n> q\n> > r\n\n<script>x</script> <b onclick=1>\n\n[r]: /u 'T'\n\n[r] "
        b"&amp;&#x1f;&#0;&copy; \"quotes\" -- --- ... (c) +-\n")
    (directory / "front-matter.md").write_bytes(
        b"---\ntitle: T\ndescription: 'd'\nweight: -3\ndraft: false\n---\n# H\n\n[s](setup.md) [u](../x.md) "
        b"[g](guide/index.md#x) [r](/pith/X/) [q](?a) [f](#f) [%](%2e%2e/y.md)\n")


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(Path(corpus[0]))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()

"""Coverage-guided fuzzing (atheris/libFuzzer) of the write journal an
interrupted incremental build leaves in the build cache.

    python tests/fuzz/fuzz_journal.py CORPUS_DIR [libFuzzer flags, e.g. -max_total_time=600 -dict=tests/fuzz/json.dict]

The journal is untrusted (whoever can write the cache wrote it). sitegen never
replays it: its only use is to recognise the paths an interrupted apply may
have written, when the next (full) build retires the old tree
(:func:`sitegen.build.outdir.retire_tree`). Each input is the journal's bytes.
A small old tree — no snapshot, so only the journal can call a file
sitegen's — holds a page sitegen wrote, a foreign ``CNAME``, a ``.git``
folder and a symlink pointing out of the tree. The invariants:

* nothing is raised, and the journal's paths are all valid routes
  (:func:`sitegen.pith.routes.check_route`);
* a file is deleted only when the journal names it; every other file ends up
  in the new tree or kept aside in the cache, with its bytes;
* ``.git`` survives whole; nothing is created outside the new tree and the
  cache, and the file outside the tree is untouched.

Each crash found becomes a named test in tests/build/test_untrusted_cache.py.
"""

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from sitegen.build import outdir
    from sitegen.pith.routes import check_route

ROOT = Path(tempfile.mkdtemp(prefix="sitegen-fuzz-journal-"))
atexit.register(shutil.rmtree, ROOT, True)
OUTSIDE = ROOT / "outside.txt"
OLD_FILES = {"pith/AAAA/index.html": b"<p>sitegen's page</p>\n", "CNAME": b"mirror.example\n",
             ".git/HEAD": b"ref: refs/heads/gh-pages\n", "notes/todo.txt": b"the operator's notes\n"}


def _make(case: Path) -> tuple[Path, Path, Path]:
    old, new, cache = case / "site.old", case / "site", case / "cache"
    for rel, data in OLD_FILES.items():
        (old / rel).parent.mkdir(parents=True, exist_ok=True)
        (old / rel).write_bytes(data)
    os.symlink(OUTSIDE, old / "link-out")
    (new / "pith" / "AAAA").mkdir(parents=True)
    (new / "pith" / "AAAA" / "index.html").write_bytes(b"<p>the new page</p>\n")
    cache.mkdir()
    return old, new, cache


def _everything(root: Path) -> set[Path]:
    return {Path(d) / n for d, dirs, files in os.walk(root) for n in dirs + files}


def test_one_input(data: bytes) -> None:
    OUTSIDE.write_bytes(b"outside\n")
    case = Path(tempfile.mkdtemp(dir=ROOT))
    try:
        old, new, cache = _make(case)
        (cache / outdir.JOURNAL).write_bytes(data)
        named = outdir._journal_paths(cache)
        for rel in named:
            assert check_route(rel) == rel, rel
        outdir.retire_tree(old, new, cache)
        assert not old.exists()
        for rel, content in OLD_FILES.items():
            places = [new / rel, cache / "kept" / rel]
            if rel in named:
                continue  # the journal says sitegen wrote it: deleting it is allowed
            kept = [p for p in places if p.is_file() and p.read_bytes() == content]
            if rel == "pith/AAAA/index.html":  # its path is taken by the new page: kept aside
                assert (cache / "kept" / rel).read_bytes() == content, rel
            else:
                assert kept, f"{rel} lost"
        assert (new / ".git" / "HEAD").read_bytes() == OLD_FILES[".git/HEAD"] or ".git/HEAD" in named
        assert OUTSIDE.read_bytes() == b"outside\n"
        stray = {p for p in _everything(case) if not p.is_relative_to(new) and not p.is_relative_to(cache)}
        assert not stray, stray
    finally:
        shutil.rmtree(case, ignore_errors=True)


def seed_corpus(directory: Path) -> None:
    """Fill ``directory`` with journals a real apply writes, and near misses."""
    directory.mkdir(parents=True, exist_ok=True)
    seeds = [{"journal": "sitegen-apply-1", "paths": ["pith/AAAA/index.html"]},
             {"journal": "sitegen-apply-1", "paths": ["CNAME", "notes/todo.txt"]},
             {"journal": "sitegen-apply-1", "paths": ["../outside.txt", "/etc/passwd", ".git/HEAD", "link-out"]},
             {"journal": "sitegen-apply-2", "paths": ["CNAME"]},
             {"journal": "sitegen-apply-1", "paths": "CNAME"},
             {"journal": "sitegen-apply-1", "paths": [1, None, {"p": "CNAME"}]}]
    for i, doc in enumerate(seeds):
        (directory / f"journal-{i}.json").write_bytes(json.dumps(doc).encode())


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(Path(corpus[0]))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()

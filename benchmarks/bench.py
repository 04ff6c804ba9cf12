"""Build benchmark: documents/s, the floor ratio, Hugo side by side, files per
document, peak RSS, incremental rebuilds — with every default on.

    python benchmarks/bench.py --records 9900 --bundles 100 [--workdir DIR] [--jobs N] [--no-hugo]

1. Generates a signed corpus (benchmarks/corpus.py; not timed; reused when
   ``--workdir`` already holds one of the same size).
2. Floor: the unavoidable work alone — read, parse, canonical hash of the
   canonical record, one Ed25519 verification per signature — on all cores,
   measured in this run (machines here are shared and noisy).
3. Full build: ``python -m sitegen build --full`` in a subprocess; wall time
   and peak RSS summed over the build and its workers (sampled from /proc
   every 50 ms).
4. Hugo side by side (when ``hugo`` is on PATH): the same corpus as Hugo
   content (front matter: title, authors, date, arXiv id, categories,
   abstract) rendered to an HTML page and a JSON file per document with
   minimal layouts — no verification — timed and measured the same way.
5. Incremental rebuilds, each timed end to end (a new process): change one
   document, add one, remove one — then a clean full build into a second
   directory, and every file compared byte for byte (the snapshot's
   ``version`` counter aside, which counts builds).

Prints the figures and one JSON line for the README table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import Pool
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from corpus import KEY, document, generate  # noqa: E402

from sitegen.pith import canonical, keys  # noqa: E402

PUBLIC = bytes(KEY.verify_key)
SNAPSHOT = "pith-mirror-snapshot.json"


def _floor_one(path: str) -> int:
    """Parse + canonical hash + one Ed25519 verify per signature; returns signatures checked."""
    doc = orjson.loads(Path(path).read_bytes())
    digest = canonical.canonical_sha256(doc["canonical_record"])
    if "receipt" in doc:
        sigs = [(digest, doc["receipt"]["signature_b64"])]
    else:
        sigs = [(canonical.event_content_sha256(e), e["signature"]["signature_b64"]) for e in doc["events"]]
        sigs.append((digest, doc["events"][0]["payload"]["receipt"]["signature_b64"]))
        sigs.append((canonical.bundle_sha256(doc), doc["bundle_signature"]["signature_b64"]))
    for d, s in sigs:
        assert keys.verify_digest_signature(d, s, PUBLIC)
    return len(sigs)


def floor(paths: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    with Pool(os.cpu_count()) as pool:
        signatures = sum(pool.imap_unordered(_floor_one, paths, chunksize=256))
    return time.perf_counter() - start, signatures


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, in kB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_build(site: Path, out: Path, *extra: str) -> tuple[float, int, str]:
    """Run ``sitegen build``; returns (seconds, peak RSS of the process tree in MB, stdout)."""
    cmd = [sys.executable, "-m", "sitegen", "build", str(site), "-o", str(out), "--progress", "off", *extra]
    return measure(cmd)


def measure(cmd: list[str]) -> tuple[float, int, str]:
    """Run ``cmd``; returns (seconds, peak RSS of its process tree in MB, stdout)."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "SOURCE_DATE_EPOCH": "1767225600"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            done.wait(0.05)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({' '.join(cmd)}):\n{stderr[-3000:]}")
    return elapsed, peak[0] // 1024, stdout


_HUGO_CONFIG = """baseURL = "https://hugo.example/"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[outputs]
page = ["HTML", "JSON"]
home = ["HTML"]
section = ["HTML"]
"""
_HUGO_SINGLE_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><main><h1>{{ .Title }}</h1><p>{{ .Params.pith }} · arXiv:{{ .Params.arxiv }} · {{ .Date.Format "2006-01-02" }}</p>
<ul>{{ range .Params.authors }}<li>{{ . }}</li>{{ end }}</ul><p>{{ .Params.abstract }}</p>
<p>{{ range .Params.categories }}<span>{{ . }}</span> {{ end }}</p></main></body></html>
"""
_HUGO_SINGLE_JSON = """{{ dict "title" .Title "pith" .Params.pith "arxiv" .Params.arxiv "authors" .Params.authors
"categories" .Params.categories "abstract" .Params.abstract | jsonify }}
"""
_HUGO_LIST = ("<!doctype html><title>{{ .Title }}</title>"
              "{{ range .Pages }}<a href=\"{{ .RelPermalink }}\">{{ .Title }}</a>{{ end }}\n")


def hugo_site(paths: list[str], root: Path) -> Path:
    """The corpus as a Hugo site (front matter only; not timed)."""
    if (root / "done").is_file() and int((root / "done").read_text()) == len(paths):
        return root
    shutil.rmtree(root, ignore_errors=True)
    for rel, text in (("config.toml", _HUGO_CONFIG), ("layouts/_default/single.html", _HUGO_SINGLE_HTML),
                      ("layouts/_default/single.json", _HUGO_SINGLE_JSON), ("layouts/_default/list.html", _HUGO_LIST),
                      ("layouts/index.html", _HUGO_LIST)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    pages = root / "content" / "pith"
    pages.mkdir(parents=True)
    for path in paths:
        doc = orjson.loads(Path(path).read_bytes())
        cr = doc["canonical_record"]
        paper = doc.get("paper") or doc["state"]["current"]["graph_snapshots"][-1]["payload"]["graph_snapshot"]["paper"]
        front = {"title": paper["title"], "date": cr["metadata"]["submitted_at"], "pith": doc["pith_number"],
                 "arxiv": cr["source"]["id"], "authors": paper["authors_text"].split(", "),
                 "categories": [cr["metadata"]["primary_cat"], *cr["metadata"]["cross_cats_sorted"]],
                 "abstract": paper["abstract_excerpt"]}
        suffix = doc["pith_number"].split(":")[2]
        (pages / f"{suffix}.md").write_bytes(orjson.dumps(front) + b"\n")  # JSON front matter
    (root / "done").write_text(str(len(paths)))
    return root


def tree(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = Path(dirpath, name)
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def same_output(a: Path, b: Path) -> list[str]:
    """Paths whose bytes differ between two output trees (the snapshot is
    compared without its ``version``/``snapshot_sha256``, which count builds)."""
    ta, tb = tree(a), tree(b)
    diff = sorted(p for p in set(ta) | set(tb) if p != SNAPSHOT and ta.get(p) != tb.get(p))
    sa, sb = (json.loads(t[SNAPSHOT]) for t in (ta, tb))
    for key in ("version", "snapshot_sha256", "signature"):
        sa.pop(key, None), sb.pop(key, None)
    return diff + ([SNAPSHOT] if sa != sb else [])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=1980)
    p.add_argument("--bundles", type=int, default=20)
    p.add_argument("--workdir", type=Path, help="keep the corpus and output here (default: a temp dir)")
    p.add_argument("--jobs", type=int, help="worker processes for the build (default: every core)")
    p.add_argument("--no-aliases", action="store_true", help="build without the alias maps (aliases = false)")
    p.add_argument("--no-search", action="store_true", help="build without the search index (search = false)")
    p.add_argument("--no-hugo", action="store_true", help="skip the Hugo side-by-side run")
    p.add_argument("--skip-compare", action="store_true", help="skip the clean rebuild and byte comparison")
    args = p.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sitegen-bench-"))
    site, out, clean = work, work / "out", work / "out-clean"
    n = args.records + args.bundles
    content = site / "content"
    paths = sorted(str(p) for p in content.glob("*/*.json") if p.parent.name != "keys") if content.is_dir() else []
    if len(paths) != n:
        shutil.rmtree(content, ignore_errors=True)
        generate(site, records=args.records, bundles=args.bundles)
        paths = sorted(str(p) for p in content.glob("*/*.json") if p.parent.name != "keys")
    settings = [f"aliases = {'false' if args.no_aliases else 'true'}",
                f"search = {'false' if args.no_search else 'true'}", 'base_url = "https://mirror.example/"']
    (site / "sitegen.toml").write_text("\n".join(settings) + "\n")
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    for d in (out, clean):
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(d.parent / f".{d.name}.sitegen-cache", ignore_errors=True)

    floor_s, signatures = floor(paths)
    build_s, peak_mb, summary = run_build(site, out, "--full", *jobs)
    files = sum(len(names) for _, _, names in os.walk(out))
    biggest_dir = max(len(names) + len(dirs) for _, dirs, names in os.walk(out))
    hugo = None
    if not args.no_hugo and shutil.which("hugo"):
        hsite, hout = hugo_site(paths, work / "hugo-site"), work / "hugo-out"
        shutil.rmtree(hout, ignore_errors=True)
        hugo_s, hugo_mb, _ = measure(["hugo", "--quiet", "-s", str(hsite), "-d", str(hout)])
        hugo = (hugo_s, hugo_mb, sum(len(names) for _, _, names in os.walk(hout)))

    # Incremental: change one record (a new, validly signed document in its file), add one, remove one.
    # The corpus is restored afterwards, so the next run starts from the same documents.
    victim, removed = Path(paths[len(paths) // 2]), Path(paths[len(paths) // 3])
    saved = {victim: victim.read_bytes(), removed: removed.read_bytes()}
    added_path = content / "records" / f"{10**8 + 1:08d}.json"
    try:
        victim.write_bytes(json.dumps(document(10**8, random.Random("bench-change"), bundle=False),
                                      ensure_ascii=False).encode())
        change_s, change_mb, change_out = run_build(site, out, *jobs)
        added = generate(site, records=1, start=10**8 + 1)
        add_s, _, _ = run_build(site, out, *jobs)
        removed.unlink()
        remove_s, _, remove_out = run_build(site, out, *jobs)
        differ = None
        if not args.skip_compare:
            run_build(site, clean, "--full", *jobs)
            differ = same_output(out, clean)
    finally:
        for path, data in saved.items():
            path.write_bytes(data)
        added_path.unlink(missing_ok=True)

    floor_rate, build_rate = n / floor_s, n / build_s
    print(summary.strip())
    print(f"documents: {n} ({args.records} records, {args.bundles} bundles), {signatures} signatures, "
          f"{files} output files, aliases {'off' if args.no_aliases else 'on'}, "
          f"search {'off' if args.no_search else 'on'}")
    print(f"floor (parse + canonical hash + Ed25519, {os.cpu_count()} processes): {floor_rate:,.0f} documents/s")
    print(f"full build (verify + render + write, end to end): {build_rate:,.0f} documents/s in {build_s:.1f} s")
    print(f"floor ratio: {build_rate / floor_rate:.3f}")
    print(f"files per document: {files / n:.2f} ({files} files; largest directory {biggest_dir} entries)")
    if hugo is not None:
        print(f"Hugo (an HTML page + a JSON file per document, no verification): {n / hugo[0]:,.0f} documents/s "
              f"in {hugo[0]:.1f} s, peak RSS {hugo[1]:,} MB, {hugo[2]} files; sitegen/Hugo = {hugo[0] / build_s:.2f}")
    print(f"peak RSS (build and workers, summed): {peak_mb:,} MB")
    last_line = change_out.strip().splitlines()[-1]
    print(f"incremental, one document changed: {change_s:.2f} s ({change_mb} MB)   [{last_line}]")
    print(f"incremental, {added} document added: {add_s:.2f} s")
    print(f"incremental, one document removed: {remove_s:.2f} s   [{remove_out.strip().splitlines()[-1]}]")
    if differ is not None:
        print("incremental output identical to a clean full build: " + ("yes" if not differ else f"NO: {differ[:10]}"))
    print(json.dumps({"documents": n, "build_docs_per_s": round(build_rate, 1),
                      "floor_docs_per_s": round(floor_rate, 1),
                      "floor_ratio": round(build_rate / floor_rate, 4), "peak_rss_mb": peak_mb,
                      "change_one_s": round(change_s, 2), "add_one_s": round(add_s, 2),
                      "remove_one_s": round(remove_s, 2), "output_files": files,
                      "files_per_document": round(files / n, 2), "largest_directory": biggest_dir,
                      "hugo_docs_per_s": None if hugo is None else round(n / hugo[0], 1),
                      "hugo_ratio": None if hugo is None else round(hugo[0] / build_s, 3),
                      "hugo_peak_rss_mb": None if hugo is None else hugo[1],
                      "identical_to_clean": None if differ is None else not differ}))
    if differ:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

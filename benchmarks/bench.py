"""Build benchmark: documents/s, the floor ratio, peak RSS, one-document rebuild.

    python benchmarks/bench.py --records 10000 [--bundles 100] [--workdir DIR]

1. Generates a corpus (benchmarks/corpus.py; not timed).
2. Floor: the unavoidable work alone — read, parse, canonical hash of the
   canonical record, one Ed25519 verification per signature — on all cores,
   measured in this run (machines here are shared and noisy).
3. Build: ``python -m sitegen build`` in a subprocess, wall time and peak RSS
   (largest process, from ``getrusage(RUSAGE_CHILDREN)``).
4. Rebuild after adding one document (a full build today: there is no
   incremental mode yet).

Prints documents/s for the build and the floor, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from corpus import KEY, generate  # noqa: E402
from sitegen import protocol  # noqa: E402

PUBLIC = bytes(KEY.verify_key)


def _floor_one(path: str) -> int:
    """Parse + canonical hash + one Ed25519 verify per signature; returns signatures checked."""
    doc = orjson.loads(Path(path).read_bytes())
    digest = protocol.canonical_sha256(doc["canonical_record"])
    if "receipt" in doc:
        sigs = [(digest, doc["receipt"]["signature_b64"])]
    else:
        sigs = [(protocol.event_content_sha256(e), e["signature"]["signature_b64"]) for e in doc["events"]]
        sigs.append((digest, doc["events"][0]["payload"]["receipt"]["signature_b64"]))
        sigs.append((protocol.bundle_sha256(doc), doc["bundle_signature"]["signature_b64"]))
    for d, s in sigs:
        assert protocol.verify_digest_signature(d, s, PUBLIC)
    return len(sigs)


def floor(paths: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    with Pool(os.cpu_count()) as pool:
        signatures = sum(pool.map(_floor_one, paths, chunksize=256))
    return time.perf_counter() - start, signatures


def build(site: Path, out: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sitegen", "build", str(site), "-o", str(out)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"build failed:\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=2000)
    p.add_argument("--bundles", type=int, default=0)
    p.add_argument("--workdir", type=Path, help="keep the corpus and output here (default: a temp dir)")
    args = p.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sitegen-bench-"))
    site, out = work / "site-src", work / "out"
    n = generate(site, records=args.records, bundles=args.bundles)
    paths = sorted(str(p) for p in (site / "content").glob("*/*.json") if p.parent.name != "keys")

    floor_s, signatures = floor(paths)
    build_s, summary = build(site, out)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    files = sum(1 for p in out.rglob("*") if p.is_file())

    extra = generate(site, records=1, start=n)  # one more document
    rebuild_s, _ = build(site, out)

    floor_rate, build_rate = n / floor_s, n / build_s
    print(summary.strip())
    print(f"documents: {n} ({args.records} records, {args.bundles} bundles), {signatures} signatures, {files} output files")
    print(f"floor (parse + canonical hash + Ed25519, {os.cpu_count()} processes): {floor_rate:,.0f} documents/s")
    print(f"build (verify + render + write, end to end): {build_rate:,.0f} documents/s in {build_s:.1f} s")
    print(f"floor ratio: {build_rate / floor_rate:.3f}")
    print(f"peak RSS (largest process): {peak_mb:,.0f} MB")
    print(f"rebuild after adding {extra} document: {rebuild_s:.1f} s (full rebuild; no incremental mode yet)")
    print(json.dumps({"documents": n, "build_docs_per_s": round(build_rate, 1), "floor_docs_per_s": round(floor_rate, 1),
                      "floor_ratio": round(build_rate / floor_rate, 4), "peak_rss_mb": round(peak_mb),
                      "rebuild_one_s": round(rebuild_s, 2), "output_files": files}))


if __name__ == "__main__":
    main()

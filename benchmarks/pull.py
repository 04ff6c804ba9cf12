"""Measure ``sitegen pull`` from a sitegen mirror on a local HTTP server.

    python benchmarks/pull.py WORKDIR [--records 9900] [--bundles 100] [--jobs 4]

Generates the corpus (``benchmarks/corpus.py``) in ``WORKDIR/up`` unless it is
there, builds it into ``WORKDIR/up/site`` (``--no-aliases --no-search`` is not
a build flag: the tree is the default build), serves that tree on 127.0.0.1
(HTTP/1.1, ETag and Last-Modified, the test server of ``tests/pull``), then
into a fresh ``WORKDIR/down`` (holding only the corpus key) runs, each as a
subprocess:

1. a first pull of everything — documents/s over the whole command;
2. a second pull with no change upstream — requests and bytes on the wire;
3. after one record changes upstream (an unsigned field; the upstream is
   rebuilt), a pull — requests and bytes (the change moves the shards that
   list the record and every page that shows it);
4. unless ``--no-build``: ``sitegen build`` of the pulled site, and a
   comparison of the published documents with the upstream's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO / "tests" / "pull"), str(REPO / "tests"), str(HERE)]

from corpus import KEY_ID, generate  # noqa: E402
from upstream import published_documents, serving  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


CPU = [0.0]  # CPU seconds (user + system) of the last sitegen subprocess


def sitegen(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "sitegen", *args], capture_output=True, text=True, env=ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[0] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.monotonic() - start, proc


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workdir", type=Path)
    p.add_argument("--records", type=int, default=9900)
    p.add_argument("--bundles", type=int, default=100)
    p.add_argument("--jobs", type=int, default=4)
    p.add_argument("--no-build", action="store_true", help="skip step 4")
    args = p.parse_args()
    up, down = args.workdir / "up", args.workdir / "down"
    total = args.records + args.bundles
    if not (up / "site" / "pith-mirror-snapshot.json").is_file():
        generate(up, records=args.records, bundles=args.bundles)
        secs, proc = sitegen("build", str(up), "-o", str(up / "site"), "-q", "--base-url", "http://mirror.test/")
        assert proc.returncode == 0, proc.stderr
        print(f"upstream: {total} documents generated and built in {secs:.1f} s")
    shutil.rmtree(down, ignore_errors=True)
    (down / "content" / "keys").mkdir(parents=True)
    shutil.copy(up / "content" / "keys" / f"{KEY_ID}.json", down / "content" / "keys")
    with serving(up / "site") as server:
        secs, proc = sitegen("pull", server.url, str(down), "-j", str(args.jobs), "--progress", "off")
        assert proc.returncode == 0, proc.stderr
        print(f"first pull: {total} documents in {secs:.2f} s = {total / secs:.0f} documents/s "
              f"(whole command, -j {args.jobs}, {CPU[0]:.1f} CPU s in the pull); server sent {server.sent} bytes for "
              f"{len(server.paths())} requests")
        print("  " + proc.stdout.strip().replace("\n", "\n  "))
        server.clear()
        secs, proc = sitegen("pull", server.url, str(down), "--progress", "off")
        assert proc.returncode == 0, proc.stderr
        print(f"no-change pull: {len(server.paths())} request(s) {server.paths()}, {server.received} bytes sent "
              f"by the client, {server.sent} bytes answered (headers included), {secs:.2f} s")
        print("  " + proc.stdout.strip().replace("\n", "\n  "))
        record = sorted((up / "content" / "records").glob("*.json"))[0]
        doc = json.loads(record.read_bytes())
        doc["inbound_citations"]["count"] += 1
        record.write_bytes(json.dumps(doc, ensure_ascii=False).encode())
        secs, proc = sitegen("build", str(up), "-o", str(up / "site"), "-q", "--base-url", "http://mirror.test/")
        assert proc.returncode == 0, proc.stderr
        server.clear()
        secs, proc = sitegen("pull", server.url, str(down), "--progress", "off")
        assert proc.returncode == 0, proc.stderr
        shards = sum(1 for p in server.paths() if p.startswith(".well-known/pith-mirror/"))
        docs = [p for p in server.paths() if p.startswith("pith/")]
        print(f"one record changed upstream: {len(server.paths())} requests (snapshot, {shards} shards, "
              f"documents {docs}), {server.sent} bytes answered, {secs:.2f} s")
    if args.no_build:
        return
    secs, proc = sitegen("build", str(down), "-o", str(down / "site"), "-q", "--base-url", "http://mirror.test/")
    assert proc.returncode == 0, proc.stderr
    same = published_documents(down / "site") == published_documents(up / "site")
    print(f"build of the pulled site: {secs:.1f} s; published documents byte-identical to the upstream's: {same}")
    state = down / ".sitegen-pull" / "state.json"
    print(f"state file: {state.stat().st_size} bytes; "
          f"{len(json.loads(state.read_text())['landed'])} documents recorded")


if __name__ == "__main__":
    main()

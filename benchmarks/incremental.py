"""Incremental rebuilds on an existing benchmark tree: change, add, remove one document.

    python benchmarks/incremental.py WORKDIR      # WORKDIR as given to bench.py, already built

Each step is one ``sitegen build`` in a new process (wall time and peak RSS of the
process tree, like bench.py). The corpus is restored afterwards.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import run_build  # noqa: E402
from corpus import document, generate  # noqa: E402


def main() -> None:
    site = Path(sys.argv[1])
    out = site / "out"
    paths = sorted((site / "content" / "records").glob("*.json"))
    victim, removed = paths[len(paths) // 5], paths[len(paths) // 7]
    saved = {victim: victim.read_bytes(), removed: removed.read_bytes()}
    added = site / "content" / "records" / f"{10**8 + 9:08d}.json"
    try:
        victim.write_bytes(json.dumps(document(10**8 + 7, random.Random("incremental"), bundle=False),
                                      ensure_ascii=False).encode())
        for label, action in (("change", None), ("add", lambda: generate(site, records=1, start=10**8 + 9)),
                              ("remove", removed.unlink)):
            if action:
                action()
            seconds, mb, stdout = run_build(site, out)
            print(f"{label} one document: {seconds:.2f} s, peak RSS {mb} MB   [{stdout.strip().splitlines()[-1]}]",
                  flush=True)
    finally:
        for path, data in saved.items():
            path.write_bytes(data)
        added.unlink(missing_ok=True)


if __name__ == "__main__":
    main()

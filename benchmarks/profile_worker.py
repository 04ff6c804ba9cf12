"""Where a worker's time goes: the per-record path in one process.

    python benchmarks/profile_worker.py SITE_DIR [N] [--profile {cumulative,tottime}]

Takes the first N records (default 1,000) of ``SITE_DIR/content/records/``
(a corpus from ``benchmarks/bench.py --workdir``), identifies them as the scan
does, then runs exactly what a build worker runs for each entry — load,
strict parse, verify, record view, page, summary, search terms, write two
files into a temporary staging tree — in this process, with no pool.

Prints the CPU time per record (``time.process_time``: steadier than wall
time on a shared machine), and with ``--profile`` the cProfile table sorted
by that key, whose first line counts the Python calls: a count that does not
depend on the machine's load, so a before/after comparison holds even on a
noisy machine.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitegen.build.inputs import SiteInputs
from sitegen.build.publish import SinkSpec
from sitegen.build.scan import identify
from sitegen.build.workers import EntryTask, WorkContext, Worker
from sitegen.config import load_settings


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("site", type=Path)
    p.add_argument("n", type=int, nargs="?", default=1000)
    p.add_argument("--profile", choices=("cumulative", "tottime"), help="print a cProfile table sorted by this")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sitegen-profile-"))
    settings = load_settings(args.site, output=str(tmp / "out"))
    inputs = SiteInputs.load(settings)
    sink = SinkSpec("staging", tmp / "staging", tmp / "out")
    worker = Worker(WorkContext(settings, inputs.keyring, inputs.theme, inputs.nav, None, sink, True))
    paths = sorted((args.site / "content" / "records").glob("*.json"))[:args.n]
    tasks = [EntryTask(identify(str(path), settings.max_document_bytes).suffix, (str(path),), (), "")
             for path in paths]
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for task in tasks:
            worker.entry(task)
        profile.disable()
        pstats.Stats(profile).sort_stats(args.profile).print_stats(40)
        return
    start = time.process_time()
    for task in tasks:
        worker.entry(task)
    cpu = time.process_time() - start
    print(f"{len(tasks)} records: {cpu * 1000 / len(tasks):.3f} ms of CPU per record "
          f"(load, verify, view, page, summary, terms, two files)")


if __name__ == "__main__":
    main()

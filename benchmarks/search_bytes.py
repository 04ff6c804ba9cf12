"""Measure the static search index: total size, and bytes a query downloads.

    python benchmarks/search_bytes.py BUILT_SITE_DIR [QUERY ...]

Serves BUILT_SITE_DIR on 127.0.0.1 and, in headless Chromium, runs each query
on /search/ in a fresh page (cold: includes pagefind.js, the wasm and the
entry file) and then again in a warm page (only the index chunks and
fragments the query needs). Prints bytes per query and the index size.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from browser import chromium, serve  # noqa: E402

DEFAULT_QUERIES = ["quantum", "1709.05011", "Schrödinger", "network", "pith:AAAA"]


def main() -> None:
    site = Path(sys.argv[1])
    queries = sys.argv[2:] or DEFAULT_QUERIES
    index = site / "pagefind"
    files = [p for p in index.rglob("*") if p.is_file()]
    print(f"index: {sum(p.stat().st_size for p in files):,} bytes in {len(files)} files "
          f"({sum(1 for p in files if p.suffix == '.pf_fragment'):,} fragments, "
          f"{sum(1 for p in files if p.suffix == '.pf_index'):,} index chunks)")
    with serve(site) as base, chromium() as browser:
        warm = browser.new_page()
        warm.goto(base + "search/")
        for query in queries:
            for label in ("cold", "warm"):
                page = browser.new_page() if label == "cold" else warm
                got: list[int] = []

                def record(response, got=got):
                    if "/pagefind/" in response.url:
                        got.append(len(response.body()))
                page.on("response", record)
                if label == "cold":
                    page.goto(base + "search/")
                page.fill("#search-q", query)
                page.press("#search-q", "Enter")
                for _ in range(300):  # poll (the site's CSP forbids Playwright's string eval)
                    if re.search(r"result|No records", page.locator("#search-status").inner_text()):
                        break
                    page.wait_for_timeout(100)
                page.wait_for_load_state("networkidle")
                results = page.locator("#search-results li").count()
                page.remove_listener("response", record)
                print(f"{label:4} query {query!r:18} {results:3} results  {sum(got):>9,} bytes in {len(got)} requests")
                if label == "cold":
                    page.close()


if __name__ == "__main__":
    main()

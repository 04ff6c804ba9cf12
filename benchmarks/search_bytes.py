"""Measure the static search index: its size, and the bytes a query downloads.

    python benchmarks/search_bytes.py BUILT_SITE_DIR [QUERY ...]

Serves BUILT_SITE_DIR on 127.0.0.1 (tests/browser.py) and, in headless
Chromium, runs each query on /search/ twice: in a fresh page (cold: the search
page, its scripts, the index's root file and the shards the query needs) and
again in a page that already ran the other queries (warm: only the shards and
postings not fetched before). Prints the results shown and the bytes and
requests of each query, then the size of ``search/`` and ``api/aliases/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from browser import chromium, serve

DEFAULT_QUERIES = ["quantum", "1709.05011", "Schrödinger", "network field", "pith:AAAA"]


def _size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
    return sum(p.stat().st_size for p in files), len(files)


def _run(page, base: str, query: str, cold: bool) -> tuple[int, int, int]:
    got: list[int] = []

    def record(response) -> None:
        if response.url.startswith(base):
            try:
                got.append(len(response.body()))
            except Exception:  # a redirect has no body
                got.append(0)
    page.on("response", record)
    if cold:
        page.goto(base + "search/")
    before = page.locator("#search-status").inner_text()
    page.fill("#search-q", query)
    page.press("#search-q", "Enter")
    page.wait_for_load_state("networkidle")
    for _ in range(300):  # poll (the site's CSP forbids Playwright's string eval)
        page.wait_for_timeout(100)
        if page.locator("#search-status").inner_text() != before:
            break
    page.wait_for_load_state("networkidle")
    results = page.locator("#search-results li").count()
    page.remove_listener("response", record)
    return results, sum(got), len(got)


def main() -> None:
    site = Path(sys.argv[1])
    queries = sys.argv[2:] or DEFAULT_QUERIES
    with serve(site) as base, chromium() as browser:
        warm = browser.new_page()
        warm.goto(base + "search/")
        for query in queries:
            cold = browser.new_page()
            results, n_bytes, requests = _run(cold, base, query, cold=True)
            cold.close()
            print(f"cold query {query!r:18} {results:3} results  {n_bytes:>9,} bytes in {requests} requests "
                  "(page, scripts, index)")
            results, n_bytes, requests = _run(warm, base, query, cold=False)
            print(f"warm query {query!r:18} {results:3} results  {n_bytes:>9,} bytes in {requests} requests")
    for folder in ("search", "api/aliases"):
        n_bytes, n_files = _size(site / folder)
        print(f"{folder}/: {n_bytes:,} bytes in {n_files:,} files")


if __name__ == "__main__":
    main()

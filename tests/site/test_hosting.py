"""Host profiles (``host`` in sitegen.toml; docs/hosting.md): each host gets
the files it reads and no others, ``_headers`` says what a Netlify or
Cloudflare mirror must send, a change of host swaps the files in an
incremental build, the build warns when the tree passes the host's documented
limits (counted by the build store, checked here against a walk of the tree),
and the nginx server block of docs/hosting.md serves a built tree as the
requirements say (run against a real nginx when one is installed)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from browser import chromium
from helpers import build
from pithfactory import REPO, SEED_RECORDS, load_json, make_site
from sitegen.build.store import Store, cache_dir_for
from sitegen.cli import main
from sitegen.mirror.snapshot import SNAPSHOT_PATH
from sitegen.site import hosts
from sitegen.site.hosts import HOST_NAMES, HOSTS, limit_warnings

BASE = "https://mirror.test/"
SEED = load_json(SEED_RECORDS[3])  # ImageNet Training in Minutes, 1709.05011v10
SEED_SUFFIX = SEED["pith_number"].split(":")[2]


def build_with(site: Path, out: Path, toml: str, *args: str) -> int:
    (site / "sitegen.toml").write_text(toml)
    return build(site, out, *args, base_url=BASE)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return make_site(tmp_path_factory.mktemp("hosting"), test_key=False)


# -- the files of each host ------------------------------------------------------------------------

#: host → (writes .nojekyll, writes _headers): docs/hosting.md's table.
EXPECTED_FILES = {"generic": (True, False), "github": (True, False), "netlify": (False, True),
                  "cloudflare": (False, True), "s3": (False, False), "nginx": (False, False)}


def test_every_host_has_a_row_here_and_in_the_docs():
    assert set(EXPECTED_FILES) == set(HOST_NAMES)
    docs = (REPO / "docs" / "hosting.md").read_text()
    for host in HOST_NAMES:
        assert f"| `{host}` |" in docs and f"`{host}`" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("host", sorted(EXPECTED_FILES))
def test_each_host_gets_the_files_it_reads_and_no_others(seeds, tmp_path, host):
    out = tmp_path / "out"
    assert build_with(seeds, out, f'host = "{host}"\n') == 0
    nojekyll, headers = EXPECTED_FILES[host]
    assert (out / ".nojekyll").exists() == nojekyll
    assert (out / "_headers").exists() == headers
    if nojekyll:
        assert (out / ".nojekyll").read_bytes() == b""
    assert (out / "404.html").is_file() and (out / "robots.txt").is_file()  # every host


def test_the_default_host_is_generic(seeds, tmp_path):
    out = tmp_path / "out"
    assert build_with(seeds, out, "") == 0
    assert (out / ".nojekyll").exists() and not (out / "_headers").exists()


def rules(headers: str) -> dict[str, dict[str, str]]:
    """``_headers`` as ``{path: {name: value}}`` (Netlify / Cloudflare syntax)."""
    out: dict[str, dict[str, str]] = {}
    current = ""
    for line in headers.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("  "):
            name, _, value = line.strip().partition(": ")
            out[current][name] = value
        else:
            current = line
            out[current] = {}
    return out


@pytest.mark.parametrize("host", ["netlify", "cloudflare"])
def test_headers_give_cors_json_and_atom_types_within_cloudflares_limits(seeds, tmp_path, host):
    out = tmp_path / "out"
    assert build_with(seeds, out, f'host = "{host}"\n') == 0
    text = (out / "_headers").read_text(encoding="ascii")
    assert "\r" not in text and text.endswith("\n")
    r = rules(text)
    assert len(r) <= 100 and all(path.startswith("/") and path.count("*") <= 1 for path in r)
    for path in ("/.well-known/pith/*", "/pith/*", "/api/*", "/pith-signing-key.json", "/pith-mirrors.json",
                 "/pith-mirror-snapshot.json", "/.well-known/pith-mirror/*"):
        assert r[path]["Access-Control-Allow-Origin"] == "*", path
    assert r["/.well-known/pith/*"]["Content-Type"] == "application/json; charset=utf-8"
    assert r["/feed.xml"] == {"Content-Type": "application/atom+xml; charset=utf-8"}


def test_changing_host_swaps_the_host_files_in_an_incremental_build(seeds, tmp_path, capsys):
    out = tmp_path / "out"
    assert build_with(seeds, out, 'host = "github"\n') == 0
    capsys.readouterr()
    (seeds / "sitegen.toml").write_text('host = "netlify"\n')
    assert main(["build", str(seeds), "-o", str(out), "--base-url", BASE]) == 0
    assert "incremental: 0 Pith Numbers rebuilt" in capsys.readouterr().out  # only the host files change
    assert (out / "_headers").is_file() and not (out / ".nojekyll").exists()
    assert build_with(seeds, out, 'host = "nginx"\n') == 0
    assert not (out / "_headers").exists() and not (out / ".nojekyll").exists()
    capsys.readouterr()
    assert main(["verify", str(out), "--keys", str(seeds / "content" / "keys"), "--no-state"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("result: OK")  # the snapshot lists exactly the files there


def test_an_unknown_host_is_a_configuration_error_naming_the_hosts(seeds, tmp_path, capsys):
    capsys.readouterr()
    assert build_with(seeds, tmp_path / "out", 'host = "gh-pages"\n') == 1
    err = capsys.readouterr().err
    assert (f"error: {seeds / 'sitegen.toml'}: host: expected one of generic, github, netlify, cloudflare, s3, "
            "nginx, got 'gh-pages' —") in err
    assert build_with(seeds, tmp_path / "out", "host = 1\n") == 1
    assert 'host: expected a string in double quotes ("…"), got 1 — for example: host = "netlify"' in \
        capsys.readouterr().err


# -- limits ------------------------------------------------------------------------------------------

class FakeOutputs:
    """An :class:`~sitegen.site.hosts.OutputSizes` answering from a dict of paths and sizes."""

    def __init__(self, sizes: dict[str, int], *, forbid_directories: bool = False):
        self.sizes, self.forbid_directories = sizes, forbid_directories
        self.asked: list[str] = []

    def largest_outputs(self, over, limit):
        self.asked.append("largest")
        return sorted(((p, n) for p, n in self.sizes.items() if n > over), key=lambda r: (-r[1], r[0]))[:limit]

    def crowded_directories(self, over, limit):
        assert not self.forbid_directories, "the directory query must not run below the limit"
        self.asked.append("directories")
        counts: dict[str, int] = {}
        for p in self.sizes:
            d = p[:p.rfind("/") + 1]
            counts[d] = counts.get(d, 0) + 1
        return sorted(((d, n) for d, n in counts.items() if n > over), key=lambda r: (-r[1], r[0]))[:limit]


def test_no_warning_below_every_limit_and_no_query_for_hosts_without_them():
    small = FakeOutputs({"index.html": 10}, forbid_directories=True)
    for host in HOST_NAMES:
        assert limit_warnings(host, small, files=20_000, total_bytes=1_000_000_000) == ()
    assert small.asked == ["largest"]  # cloudflare's per-file limit; nobody grouped directories
    for host in ("generic", "s3", "nginx"):
        quiet = FakeOutputs({}, forbid_directories=True)
        limit_warnings(host, quiet, files=10**7, total_bytes=10**12)
        assert quiet.asked == []


def test_cloudflare_warns_about_files_per_site_and_the_largest_files():
    big = {f"search/d/{i}.json": 26 * 1024 * 1024 + i for i in range(7)} | {"index.html": 100}
    (files, sizes) = limit_warnings("cloudflare", FakeOutputs(big), files=20_001, total_bytes=1)
    assert files == ('host = "cloudflare": the tree has 20,001 files, over the Cloudflare Pages limit of 20,000 files '
                     "per site on the free plan (100,000 on paid plans) — the deploy will be refused; publish fewer "
                     "records, set alias_pages = false or search = false, or choose another host")
    assert sizes.startswith('host = "cloudflare": search/d/6.json is 26 MiB, search/d/5.json is 26 MiB, ')
    assert sizes.count(" is 26 MiB") == 5 and ", …: over the Cloudflare Pages limit of 25 MiB per file" in sizes


def test_github_warns_about_the_size_of_the_site():
    (warning,) = limit_warnings("github", FakeOutputs({}), files=3, total_bytes=1_234_567_890)
    assert warning.startswith('host = "github": the tree is 1.2 GB (1,234,567,890 bytes), over the GitHub Pages '
                              "limit of 1 GB per site — ")


def test_netlify_warns_about_a_crowded_directory_and_groups_only_above_the_limit():
    crowded = {f"pith/{i:06d}.json": 10 for i in range(54_001)}
    (warning,) = limit_warnings("netlify", FakeOutputs(crowded), files=54_001, total_bytes=1)
    assert warning.startswith('host = "netlify": pith/ holds 54,001 files: over the Netlify limit of 54,000 files '
                              "in one directory")
    assert limit_warnings("netlify", FakeOutputs({}, forbid_directories=True), files=54_000, total_bytes=1) == ()


def walk(out: Path) -> dict[str, int]:
    """``{path: size}`` of every file of a tree but the snapshot and its shards (the store's outputs)."""
    found = {}
    for folder, _, names in os.walk(out):
        for name in names:
            rel = (Path(folder) / name).relative_to(out).as_posix()
            if rel != SNAPSHOT_PATH and not rel.startswith(".well-known/pith-mirror/"):
                found[rel] = (Path(folder) / name).stat().st_size
    return found


def test_the_store_counts_directories_and_sizes_like_a_walk_of_the_tree(seeds, tmp_path):
    out = tmp_path / "out"
    assert build_with(seeds, out, 'host = "netlify"\nalias_pages = true\n') == 0
    path = cache_dir_for(out.absolute()) / "store.sqlite"
    store = Store(sqlite3.connect(path), path, reused=True, reason="")
    try:
        sizes = walk(out)
        fake = FakeOutputs(sizes)
        for over in (0, 1, 3, 10):
            assert store.crowded_directories(over, 1000) == fake.crowded_directories(over, 1000), over
        assert ("", sum(1 for p in sizes if "/" not in p)) in store.crowded_directories(0, 1000)  # the root
        for over in (0, 1000, 20_000):
            assert store.largest_outputs(over, 1000) == fake.largest_outputs(over, 1000), over
    finally:
        store.close()


@pytest.mark.parametrize("host, limits, expected", [
    ("cloudflare", {"max_files": 10}, r'warning: host = "cloudflare": the tree has \d+ files, over the Cloudflare '
                                      r"Pages limit of 10 files per site"),
    ("cloudflare", {"max_file_bytes": 2000}, r'warning: host = "cloudflare": \S+ is [\d.]+ KiB, .*: over the '
                                             r"Cloudflare Pages limit of 2 KiB per file"),
    ("github", {"max_bytes": 1000}, r'warning: host = "github": the tree is [\d.]+ KiB \([\d,]+ bytes\), over the '
                                    r"GitHub Pages limit of 1000 bytes per site"),
    ("netlify", {"max_dir_files": 3}, r'warning: host = "netlify": .*pith/ holds 4 files.*: over the Netlify limit '
                                      r"of 3 files in one directory"),
])
def test_the_cli_prints_a_warning_for_each_limit_passed_and_still_publishes(seeds, tmp_path, capsys, monkeypatch,
                                                                             host, limits, expected):
    monkeypatch.setitem(hosts.HOSTS, host, replace(HOSTS[host], **limits))
    capsys.readouterr()
    out = tmp_path / "out"
    assert build_with(seeds, out, f'host = "{host}"\n') == 0
    err = capsys.readouterr().err
    assert re.search(expected, err), err
    assert (out / SNAPSHOT_PATH).is_file()
    assert build_with(seeds, out, f'host = "{host}"\n') == 0  # an incremental build warns again
    assert re.search(expected, capsys.readouterr().err)


# -- nginx, configured as docs/hosting.md says -------------------------------------------------------

def nginx_binary() -> str | None:
    for candidate in (os.environ.get("SITEGEN_NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def documented_server_block() -> str:
    docs = (REPO / "docs" / "hosting.md").read_text()
    (block,) = re.findall(r"```nginx\n(server \{.*?\n\})\n```", docs, re.S)
    return block


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def nginx(root: Path, work: Path):
    """nginx (in the foreground, one process) serving ``root`` with the server block of docs/hosting.md."""
    binary = nginx_binary()
    if binary is None:  # not installed by .ci/run (unlike chromium): skipped there too
        pytest.skip("nginx not installed (apt-get install nginx, or SITEGEN_NGINX=/path/to/nginx)")
    mime = next((p for p in (Path(binary).resolve().parents[2] / "etc/nginx/mime.types",
                             Path("/etc/nginx/mime.types")) if p.is_file()), None)
    if mime is None:
        pytest.skip("nginx's mime.types not found")
    port = free_port()
    block = documented_server_block()
    block = block.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("root /srv/mirror/site;", f"root {root};")
    temp = " ".join(f"{kind}_temp_path {work / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = work / "nginx.conf"
    conf.write_text(f"daemon off; master_process off; worker_processes 1; pid {work / 'nginx.pid'};\n"
                    f"error_log {work / 'error.log'};\nevents {{ worker_connections 64; }}\n"
                    f"http {{ include {mime}; default_type application/octet-stream; access_log off; {temp}\n"
                    f"{block}\n}}\n")
    proc = subprocess.Popen([binary, "-p", str(work), "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert proc.poll() is None and time.monotonic() < deadline, (
                (proc.stderr.read() if proc.stderr else b"").decode())
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str):
    """``(status, headers, body)`` without following redirects."""
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def nginx_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("nginx")
    site = make_site(root, test_key=False)
    out = root / "site-out"
    work = root / "nginx"
    work.mkdir()
    with nginx(out, work) as base:
        assert build_with(site, out, 'host = "nginx"\n', "--base-url", base) == 0
        yield base, out


def test_the_documented_nginx_block_serves_pages_documents_and_the_404_page(nginx_site):
    base, out = nginx_site
    status, headers, body = get(f"{base}pith/{SEED_SUFFIX}/")
    assert status == 200 and headers.get_content_type() == "text/html" and SEED["paper"]["title"].encode() in body
    status, headers, _ = get(f"{base}pith/{SEED_SUFFIX}")
    assert status == 301 and headers["Location"] == f"/pith/{SEED_SUFFIX}/"
    status, headers, body = get(f"{base}pith/{SEED_SUFFIX}.json")
    assert status == 200 and headers.get_content_type() == "application/json"
    assert headers["Access-Control-Allow-Origin"] == "*" and body == SEED_RECORDS[3].read_bytes()
    bundle = next(out.glob(".well-known/pith/*/bundle.json")).relative_to(out).as_posix()
    for path in (bundle, "pith-signing-key.json", "pith-mirrors.json", SNAPSHOT_PATH, "api/aliases/index.json"):
        status, headers, _ = get(base + path)
        assert status == 200 and headers.get_content_type() == "application/json", path
        assert headers["Access-Control-Allow-Origin"] == "*", path
    status, headers, _ = get(base + "feed.xml")
    assert status == 200 and headers.get_content_type() == "application/atom+xml"
    status, headers, _ = get(base)
    assert status == 200 and "Access-Control-Allow-Origin" not in headers  # only what programs fetch
    not_found = (out / "404.html").read_bytes()
    for path in ("no/such/page/", "arxiv/1709.05011/", "paper/BIMLI3TH/", "pith/AAAAAAAAAAAAAAAAAAAAAAAAAA.json",
                 "assets/", ".well-known/pith/"):  # a miss, an alias, a folder without index.html
        status, headers, body = get(base + path)
        assert (status, headers.get_content_type(), body) == (404, "text/html", not_found), path
    assert get(base + "years/2017/page/")[0] == 200  # the listing's redirect page


def test_the_documented_nginx_block_lets_the_alias_router_reach_the_record(nginx_site):
    base, _ = nginx_site
    with chromium() as browser:
        page = browser.new_page()
        page.goto(base + "arxiv/1709.05011/")
        page.wait_for_url(f"**/pith/{SEED_SUFFIX}/", timeout=10_000)
        assert page.locator("h1").first.inner_text() == SEED["paper"]["title"]
        page.close()

"""`sitegen serve`: builds, serves on 127.0.0.1 with static-host URL rules,
rebuilds on change, and reloads an open page in Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from browser import chromium
from pithfactory import REPO, SEED_RECORDS, load_json, make_record, make_site


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get_content_type(), r.read(), r.url
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get_content_type(), e.read(), url


@pytest.fixture
def served(tmp_path):
    site = make_site(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "sitegen", "serve", str(site), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    line = proc.stdout.readline()
    assert line.startswith("Serving "), proc.stderr.read() if proc.poll() is not None else line
    url = line.split(" at ")[1].split(" ")[0]
    yield site, url
    proc.terminate()
    proc.wait(timeout=10)


def wait_for_generation(url, above, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = int(fetch(url + "__sitegen/generation")[2])
        if generation > above:
            return generation
        time.sleep(0.2)
    raise AssertionError("no rebuild happened")


def test_serve_uses_static_host_url_rules(served):
    site, url = served
    record = load_json(SEED_RECORDS[0])
    suffix = record["pith_number"].split(":")[2]
    status, ctype, body, final = fetch(f"{url}pith/{suffix}")
    assert status == 200 and final.endswith(f"/pith/{suffix}/") and ctype == "text/html"
    assert b'<script src="/__sitegen/livereload.js" defer></script></body>' in body
    assert fetch(f"{url}pith/{suffix}.json")[:2] == (200, "application/json")
    status, _, body, _ = fetch(f"{url}no/such/page/")
    assert status == 404 and b"Not found" in body
    assert b"http://127.0.0.1" in fetch(url + "pith-mirrors.json")[2]  # built for the server's own address
    assert not (site / "site").exists()  # the published output tree is not touched


def test_serve_rebuilds_when_content_changes(served):
    site, url = served
    before = int(fetch(url + "__sitegen/generation")[2])
    new = make_record(arxiv_id="2111.00042", title="Freshly added")
    (site / "content" / "records" / "new.json").write_text(json.dumps(new))
    wait_for_generation(url, before)
    status, _, body, _ = fetch(f"{url}pith/{new['pith_number'].split(':')[2]}/")
    assert status == 200 and b"Freshly added" in body


def test_serve_keeps_the_last_good_build_when_a_change_is_bad(served):
    site, url = served
    before = int(fetch(url + "__sitegen/generation")[2])
    (site / "content" / "records" / "broken.json").write_text("{")
    time.sleep(2)
    assert int(fetch(url + "__sitegen/generation")[2]) == before and fetch(url)[0] == 200


def test_open_page_reloads_after_a_template_change(served):
    site, url = served
    record = load_json(SEED_RECORDS[0])
    suffix = record["pith_number"].split(":")[2]
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{url}pith/{suffix}/")
        assert page.locator("#reload-marker").count() == 0
        (site / "templates").mkdir()
        base = (REPO / "templates" / "base.html").read_text()
        (site / "templates" / "base.html").write_text(base.replace("<main id=\"main\">",
                                                                   '<main id="main"><p id="reload-marker">new</p>'))
        page.wait_for_selector("#reload-marker", timeout=30000)


def test_serve_on_a_port_in_use_is_a_clean_error(tmp_path):
    import socket
    site = make_site(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "sitegen", "serve", str(site), "--port", str(port), "--no-watch"],
                              capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1 and "cannot serve on 127.0.0.1" in proc.stderr and "Traceback" not in proc.stderr

"""`sitegen serve`: builds, serves on 127.0.0.1 with static-host URL rules,
rebuilds on change, and reloads an open page in Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from browser import chromium
from browser import fetch as http_fetch
from helpers import like_a_terminal
from pithfactory import REPO, SEED_RECORDS, load_json, make_record, make_site


def fetch(url):
    """:func:`browser.fetch` with the content type in place of the headers."""
    status, headers, body, final = http_fetch(url)
    return status, headers.get_content_type(), body, final


def serve_env(site):
    """The environment for a ``sitegen serve`` of ``site``: its own TMPDIR, to see what it leaves there."""
    tmp = site.parent / "serve-tmp"
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp)}


@contextlib.contextmanager
def running(site, *args):
    """``sitegen serve SITE --port 0 ARGS``; yields the URL it prints and a function returning what it
    logged so far (stderr goes to a file: a pipe nobody reads would fill up and block the server).
    Afterwards: it was still running, and stopping it (SIGTERM) removed its temporary build directory."""
    log = site.parent / "serve.log"
    env = serve_env(site)
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "sitegen", "serve", str(site), "--port", "0", *args],
                                stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("Serving "), (line, log.read_text())
        yield line.split(" at ")[1].split(" ")[0], log.read_text
        assert proc.poll() is None, log.read_text()  # still running: nothing killed the server
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 143 and log.read_text().splitlines()[-1] == "sitegen serve: terminated"
    assert list(Path(env["TMPDIR"]).iterdir()) == []


@pytest.fixture
def served(tmp_path):
    site = make_site(tmp_path)
    with running(site) as (url, _):
        yield site, url


def origin(url):
    """``http://127.0.0.1:PORT`` of a served URL (the ``/__sitegen/`` endpoints live at the root)."""
    return "/".join(url.split("/")[:3])


def server_status(url):
    return json.loads(fetch(origin(url) + "/__sitegen/status")[2])


def wait_for_generation(url, above, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = int(fetch(origin(url) + "/__sitegen/generation")[2])
        if generation > above:
            return generation
        time.sleep(0.2)
    raise AssertionError("no rebuild happened")


@pytest.mark.slow
def test_serve_uses_static_host_url_rules(served):
    site, url = served
    record = load_json(SEED_RECORDS[0])
    suffix = record["pith_number"].split(":")[2]
    status, ctype, body, final = fetch(f"{url}pith/{suffix}")
    assert status == 200 and final.endswith(f"/pith/{suffix}/") and ctype == "text/html"
    build = server_status(url)["build"]
    assert build.endswith("-1")
    script = f'<script src="/__sitegen/client.js" data-build="{build}" data-base-path="/" defer></script></body>'
    assert script.encode() in body
    assert fetch(f"{url}pith/{suffix}.json")[:2] == (200, "application/json")
    status, _, body, _ = fetch(f"{url}no/such/page/")
    assert status == 404 and b"Not found" in body
    assert b"http://127.0.0.1" in fetch(url + "pith-mirrors.json")[2]  # built for the server's own address
    assert fetch(url + "feed.xml")[:2] == (200, "application/atom+xml")
    assert fetch(url + "assets/")[0] == 404  # no directory listings on static hosts
    assert fetch(url + "__sitegen/client.js")[:2] == (200, "text/javascript")
    assert fetch(url + "__sitegen/overlay.css")[:2] == (200, "text/css")
    status = server_status(url)
    assert status == {**status, "generation": 1, "base_path": "/", "failed": False, "problems": []}
    assert not (site / "site").exists()  # the published output tree is not touched


@pytest.mark.slow
def test_a_backslash_in_the_path_is_no_open_redirect(served):
    """Browsers read ``\\`` as ``/``: a Location of ``/\\evil.example/…`` would send them to evil.example."""
    import http.client
    from urllib.parse import urljoin, urlsplit
    _site, url = served
    host, port = urlsplit(url).hostname, urlsplit(url).port
    for attack in ["/\\evil.example/../pith", "//evil.example/../pith", "/\\\\evil.example/../pith"]:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", attack)
        response = conn.getresponse()
        response.read()
        location = response.getheader("Location")
        conn.close()
        assert response.status == 301, (attack, response.status)
        assert "\\" not in location and not location.startswith("//"), (attack, location)
        browser_view = urljoin(url, location.replace("\\", "/"))  # WHATWG URL parsing treats \\ as /
        assert urlsplit(browser_view).netloc == urlsplit(url).netloc, (attack, location)


@pytest.mark.slow
def test_serve_rebuilds_when_content_changes(served):
    site, url = served
    before = int(fetch(url + "__sitegen/generation")[2])
    new = make_record(arxiv_id="2111.00042", title="Freshly added")
    (site / "content" / "records" / "new.json").write_text(json.dumps(new))
    wait_for_generation(url, before)
    status, _, body, _ = fetch(f"{url}pith/{new['pith_number'].split(':')[2]}/")
    assert status == 200 and b"Freshly added" in body


@pytest.mark.slow
def test_serve_keeps_the_last_good_build_when_a_change_is_bad(served):
    site, url = served
    before = int(fetch(url + "__sitegen/generation")[2])
    (site / "content" / "records" / "broken.json").write_text("{")
    time.sleep(2)
    assert int(fetch(url + "__sitegen/generation")[2]) == before and fetch(url)[0] == 200


@pytest.mark.slow
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


SHOTS = Path(os.environ.get("SITEGEN_SCREENSHOTS", REPO / "tests" / "artifacts"))
XSS = "<img src=x onerror=alert(1)>"
CSP_WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


def watched_page(browser, **options):
    """A page that records every dialog (none may open) and every CSP violation (none may happen)."""
    page = browser.new_page(**options)
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.add_init_script(CSP_WATCH)
    return page


@pytest.mark.slow
def test_serve_rereads_sitegen_toml_and_rebuilds(served):
    site, url = served
    before = server_status(url)["generation"]
    (site / "sitegen.toml").write_text('title = "Renamed mirror"\n')
    wait_for_generation(url, before)
    assert b"Renamed mirror" in fetch(url)[2]


@pytest.mark.slow
def test_config_errors_show_in_the_overlay_while_the_last_good_build_stays(tmp_path):
    site = make_site(tmp_path)
    (site / "sitegen.toml").write_text('title = "Good mirror"\n')
    with running(site) as (url, log), chromium() as browser:
        page = watched_page(browser)
        page.goto(url)
        overlay = page.locator("sitegen-error-overlay")
        assert overlay.count() == 0

        (site / "sitegen.toml").write_text('titel = "Typo mirror"\n')
        problem = overlay.locator(".problem")
        problem.first.wait_for(timeout=30000)
        assert "sitegen.toml: titel: unknown setting — check the spelling; known: " in problem.all_text_contents()[0]
        assert "configuration error" in overlay.locator(".summary").text_content()
        assert "sitegen.toml: titel: unknown setting" in log()
        assert server_status(url)["failed"] and server_status(url)["generation"] == 1
        body = fetch(url)[2]
        assert b"Good mirror" in body and b"titel" not in body  # the last good build, as built

        (site / "sitegen.toml").write_text('title = "Good mirror"\npage_size = 0\n')  # a bad value
        page.wait_for_function("() => document.querySelector('sitegen-error-overlay')?.shadowRoot"
                               ".textContent.includes('page_size: must be between 1 and 10000')", timeout=30000)
        assert problem.count() == 1

        (site / "sitegen.toml").write_text('title = "Fixed mirror"\n')
        page.wait_for_function("() => document.querySelector('.site-title')?.textContent === 'Fixed mirror'",
                               timeout=30000)
        assert overlay.count() == 0 and not server_status(url)["failed"]
        assert page.dialogs == [] and page.evaluate("window.__csp") == []


@pytest.mark.slow
def test_failing_document_shows_escaped_in_the_overlay_until_fixed(served):
    site, url = served
    suffix = load_json(SEED_RECORDS[0])["pith_number"].split(":")[2]
    evil = make_record(arxiv_id="2111.00043", title="Evil")
    evil["pith_number"] = XSS
    with chromium() as browser:
        page = watched_page(browser, viewport={"width": 1100, "height": 720})
        page.goto(f"{url}pith/{suffix}/")
        title = page.title()
        (site / "content" / "records" / "evil.json").write_text(json.dumps(evil))
        problem = page.locator("sitegen-error-overlay .problem")
        problem.first.wait_for(timeout=30000)
        assert problem.all_text_contents() == [
            "content/records/evil.json: pith_number: expected a Pith Number 'pith:YYYY:<26 base32 chars>', "
            f"got '{XSS}' [record.schema]"]
        page.wait_for_timeout(500)  # time for an injected onerror to fire, were there one
        assert page.locator("sitegen-error-overlay img").count() == 0
        assert page.dialogs == [] and page.evaluate("window.__csp") == []
        assert page.title() == title  # the last good build is still the one served
        assert page.locator("sitegen-error-overlay [role=alertdialog]").is_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "serve-error-overlay.png"))
        assert (SHOTS / "serve-error-overlay.png").stat().st_size > 10_000
        assert b"evil.json" not in fetch(f"{url}pith/{suffix}/")[2]  # the files themselves are untouched

        (site / "content" / "records" / "evil.json").unlink()
        page.locator("sitegen-error-overlay").wait_for(state="detached", timeout=30000)
        assert not server_status(url)["failed"] and page.dialogs == []


@pytest.mark.slow
def test_sub_path_base_url_is_previewed_at_the_same_path(tmp_path):
    site = make_site(tmp_path)
    (site / "sitegen.toml").write_text('base_url = "https://user.github.io/mirror/"\n')
    suffix = load_json(SEED_RECORDS[0])["pith_number"].split(":")[2]
    with running(site) as (url, _):
        root = origin(url)
        assert url == root + "/mirror/"
        assert fetch(root + "/")[::3] == (200, url)  # the host's root redirects to the mirror
        assert fetch(root + "/mirror")[::3] == (200, url)
        assert fetch(f"{url}pith/{suffix}")[::3] == (200, f"{url}pith/{suffix}/")
        code, _, body, _ = fetch(f"{root}/pith/{suffix}/")
        assert code == 404 and b"outside the mirror's base path" in body
        assert f'"{url}'.encode() in fetch(url + "pith-mirrors.json")[2]  # built for where it is served
        assert server_status(url)["base_path"] == "/mirror/"
        with chromium() as browser:
            page = watched_page(browser)
            failures = []
            page.on("response", lambda r: failures.append(r.url) if r.status >= 400 else None)
            page.goto(root + "/")
            assert page.url == url
            assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"  # the stylesheet loaded
            page.click(f"main a[href='/mirror/pith/{suffix}/']")
            page.wait_for_url(f"{url}pith/{suffix}/")
            page.click("nav a:text('Years')")
            page.wait_for_url(f"{url}years/")
            hrefs = page.eval_on_selector_all("a[href^='/']", "links => links.map(a => a.getAttribute('href'))")
            assert hrefs and all(h.startswith("/mirror/") for h in hrefs), hrefs

            # base_url moves: the server follows, and the open page with it
            generation = server_status(url)["generation"]
            (site / "sitegen.toml").write_text('base_url = "https://example.org/docs/pith/"\n')
            wait_for_generation(url, generation)
            page.wait_for_url(f"{root}/docs/pith/years/", timeout=30000)
            assert failures == [] and page.dialogs == [] and page.evaluate("window.__csp") == []
        assert fetch(root + "/")[3] == root + "/docs/pith/"


@pytest.mark.slow
def test_base_path_option_overrides_base_url(tmp_path):
    site = make_site(tmp_path)
    (site / "sitegen.toml").write_text('base_url = "https://user.github.io/mirror/"\n')
    with running(site, "--base-path", "/") as (url, _):
        assert url == origin(url) + "/" and fetch(url)[0] == 200
        assert b"/mirror/" not in fetch(url)[2]
    proc = subprocess.run([sys.executable, "-m", "sitegen", "serve", str(site), "--base-path", "/a/../b"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1 and "--base-path: expected a URL path" in proc.stderr and "Traceback" not in proc.stderr


def test_a_first_build_that_fails_exits_1_without_hanging(tmp_path):
    site = make_site(tmp_path, docs={"records/broken.json": b"{"})
    proc = subprocess.run([sys.executable, "-m", "sitegen", "serve", str(site), "--port", "0"],
                          capture_output=True, text=True, timeout=60, env=serve_env(site))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and proc.stdout == ""
    assert "content/records/broken.json: " in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("build failed: 1 of ")
    assert list((site.parent / "serve-tmp").iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_during_a_rebuild_stops_with_one_line_and_removes_the_build(tmp_path):
    docs = {f"gen/r{i}.json": make_record(arxiv_id=f"2202.{i:05d}", title=f"Paper {i}") for i in range(1000)}
    site = make_site(tmp_path, docs=docs)
    log = tmp_path / "serve.log"
    with open(log, "w") as err:  # a new session: the test plays the terminal and signals the whole group
        proc = subprocess.Popen([sys.executable, "-m", "sitegen", "serve", str(site), "--port", "0"],
                                stdout=subprocess.PIPE, stderr=err, text=True, env=serve_env(site),
                                start_new_session=True, preexec_fn=like_a_terminal)
    try:
        assert proc.stdout.readline().startswith("Serving "), log.read_text()
        (site / "sitegen.toml").write_text('title = "Renamed"\n')  # every page changes: a long rebuild
        deadline = time.monotonic() + 30
        while "rebuilding: sitegen.toml changed" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = log.read_text().splitlines()
    assert proc.returncode == 130 and "Traceback" not in log.read_text()
    assert lines[-1] == "sitegen serve: stopped" and "generation 2" not in log.read_text(), lines
    assert list((tmp_path / "serve-tmp").iterdir()) == []

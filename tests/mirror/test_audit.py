"""`sitegen verify` treats the mirror it checks as untrusted input: wrong types
at every level of the snapshot and the shards, listed paths outside the tree,
symlinks out of the checked directory, endless and trickling HTTP bodies, and
escape sequences in snapshot strings all end as reported lines — never a
traceback, a hang, a read outside the tree, or raw control characters on the
terminal. Over a real HTTP server on 127.0.0.1 where it matters."""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import http.server
import json
import os
import shutil
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest

from browser import StaticHandler
from conformance.malformed import _set, _walk, _wrong_value
from pithfactory import REGISTRY_KEY, make_site
from sitegen.cli import main
from sitegen.mirror import source as mirror_source
from sitegen.mirror.audit import MAX_SNAPSHOT_BYTES, check_mirror
from sitegen.mirror.snapshot import SHARD_SHAPE, SNAPSHOT_PATH, SNAPSHOT_SHAPE, snapshot_sha256, tree_sha256
from sitegen.mirror.source import check_tree_path

KEYS = str(REGISTRY_KEY.parent)


# --- a built tree, copied per test ---------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    site = make_site(root, test_key=False)
    out = root / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    return out


@pytest.fixture
def tree(built, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built, out, symlinks=True)
    return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_snapshot(out):
    return json.loads((out / SNAPSHOT_PATH).read_bytes())


def write_snapshot(out, snap):
    """Write ``snap`` with a matching ``snapshot_sha256`` (what an attacker without
    the mirror key can do), so the only problem left is the one under test."""
    if isinstance(snap, dict):
        snap["snapshot_sha256"] = snapshot_sha256(snap)
    (out / SNAPSHOT_PATH).write_bytes(json.dumps(snap, ensure_ascii=False).encode())


def edit_shard(out, change):
    """Replace the (only) shard by ``change(shard)`` (any JSON value) and
    re-describe it in the snapshot; returns the shard's path."""
    snap = load_snapshot(out)
    desc = snap["shards"][0]
    shard = change(json.loads((out / desc["path"]).read_bytes()))
    data = json.dumps(shard, ensure_ascii=False).encode()
    (out / desc["path"]).write_bytes(data)
    desc.update(size=len(data), sha256=_sha(data))
    if isinstance(shard, dict) and isinstance(shard.get("files"), list):
        desc["count"] = len(shard["files"])
    snap["tree_sha256"] = tree_sha256(snap["shards"])
    write_snapshot(out, snap)
    return desc["path"]


def extended(*files):
    """A shard change that lists ``files`` too."""
    def change(shard):
        shard["files"].extend(files)
        return shard
    return change


def listing(path, data):
    return {"path": path, "size": len(data), "sha256": _sha(data)}


def run(capsys, target, *extra, keys=True):
    args = ["verify", str(target), "--no-state", *(["--keys", KEYS] if keys else []), *extra]
    capsys.readouterr()
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def terminal_unsafe(text: str) -> list[str]:
    return [f"U+{ord(ch):04X}" for ch in text
            if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")]


def assert_clean(out: str, err: str) -> None:
    assert "Traceback" not in out + err
    assert terminal_unsafe(out + err) == []


# --- listed paths are confined to the tree -------------------------------------------

@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "a/../../b", "./robots.txt", "a//b", "dir/",
                                  "", "..", "a\\..\\b", "nul\x00.txt", "\x1b[31mred", "x" * 2000])
def test_a_path_that_is_not_plainly_inside_the_tree_is_refused(path):
    with pytest.raises(ValueError):
        check_tree_path(path)


@pytest.mark.parametrize("path", ["robots.txt", ".well-known/pith/X/bundle.json", "a b/ü.html", "..dots/x"])
def test_ordinary_tree_paths_are_accepted(path):
    assert check_tree_path(path) == path


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd"], ids=["dotdot", "absolute"])
def test_shard_listing_a_file_outside_the_tree_is_reported_and_never_read(tree, capsys, monkeypatch, path):
    outside = "/etc/passwd"
    data = Path(outside).read_bytes()  # the attacker lists the right size and hash
    ok_before = check_mirror(str(tree), keyring=None).files_ok
    shard = edit_shard(tree, extended(listing(path, data)))
    opened = []
    real = mirror_source.read_untrusted
    monkeypatch.setattr(mirror_source, "read_untrusted",
                        lambda p, **kw: opened.append(kw["rel"]) or real(p, **kw))
    code, out, err = run(capsys, tree)
    assert code == 1
    assert f"problem: {shard}: files[" in err and f"].path: {path!r} is " in err and "not read" in err
    assert not any(".." in rel or rel.startswith("/") for rel in opened)
    assert f"files: {ok_before} ok," in out  # not counted as ok
    assert_clean(out, err)


def test_snapshot_naming_a_shard_outside_the_tree_is_reported(tree, capsys):
    snap = load_snapshot(tree)
    snap["shards"][0]["path"] = "../../../etc/passwd"
    write_snapshot(tree, snap)
    code, out, err = run(capsys, tree)
    assert code == 1 and "problem: pith-mirror-snapshot.json: shards[0].path: '../../../etc/passwd' is" in err
    assert_clean(out, err)


def test_symlink_inside_the_tree_pointing_outside_is_not_followed(tree, tmp_path, capsys):
    outside = tmp_path / "outside-robots.txt"
    shutil.copy(tree / "robots.txt", outside)  # same bytes: the old checker counted it as ok
    (tree / "robots.txt").unlink()
    os.symlink(outside, tree / "robots.txt")
    code, out, err = run(capsys, tree)
    assert code == 1 and "problem: robots.txt: symlink points outside" in err
    assert_clean(out, err)


def test_symlinked_directory_inside_the_tree_is_not_followed(tree, tmp_path, capsys):
    shutil.move(tree / "assets", tmp_path / "assets-elsewhere")
    os.symlink(tmp_path / "assets-elsewhere", tree / "assets")
    code, out, err = run(capsys, tree)
    assert code == 1 and "symlinked directories are not followed" in err and "extra: assets" in err
    assert_clean(out, err)


def test_fifo_in_place_of_a_listed_file_does_not_block(tree, capsys):
    (tree / "robots.txt").unlink()
    os.mkfifo(tree / "robots.txt")
    code, _out, err = run(capsys, tree)
    assert code == 1 and "problem: robots.txt: is not a regular file" in err


# --- wrong types at every level of the snapshot and the shards ------------------------

def _cases(shape, value):
    """(name, mutate, field) for a wrong type and a missing field at every level."""
    out = [("top_level_not_an_object", lambda d: ["not", "an", "object"], "(top level)")]
    for path, sub, required in _walk(shape, value, ""):
        out.append((f"wrong_type_at_{path}", functools.partial(_mutated, path=path, value=_wrong_value(sub)), path))
        if required and not path.endswith("]"):
            out.append((f"missing_{path}", functools.partial(_mutated, path=path, delete=True), path))
    return out


def _mutated(doc, *, path, value=None, delete=False):
    doc = copy.deepcopy(doc)
    _set(doc, path, value, delete=delete)
    return doc


_SNAPSHOT_EXAMPLE = {"snapshot_type": "pith_mirror_snapshot", "snapshot_format": "1.0", "version": 1,
                     "generated_at": "2026-01-01T00:00:00Z", "expires": None, "base_url": "http://x/",
                     "generator": "sitegen", "file_count": 1, "total_bytes": 1, "tree_sha256": "0" * 64,
                     "shard_prefix_length": 0, "snapshot_sha256": "0" * 64, "signature": {},
                     "shards": [{"prefix": "", "path": "p", "count": 1, "size": 1, "sha256": "0" * 64}]}
SNAPSHOT_CASES = _cases(SNAPSHOT_SHAPE, _SNAPSHOT_EXAMPLE)
SHARD_CASES = _cases(SHARD_SHAPE, {"shard": "", "files": [{"path": "p", "size": 1, "sha256": "0" * 64}]})


@pytest.mark.parametrize("name,mutate,field", SNAPSHOT_CASES, ids=[c[0] for c in SNAPSHOT_CASES])
def test_snapshot_with_a_wrong_type_or_missing_field_is_a_reported_line(tree, capsys, name, mutate, field):
    snap = mutate(load_snapshot(tree))
    if isinstance(snap, dict) and field != "snapshot_sha256":
        write_snapshot(tree, snap)
    else:
        (tree / SNAPSHOT_PATH).write_bytes(json.dumps(snap).encode())
    code, out, err = run(capsys, tree)
    assert code == 1 and f"problem: {SNAPSHOT_PATH}: {field}: " in err, err
    assert "result: FAILED" in out
    assert_clean(out, err)


@pytest.mark.parametrize("name,mutate,field", SHARD_CASES, ids=[c[0] for c in SHARD_CASES])
def test_shard_with_a_wrong_type_or_missing_field_is_a_reported_line(tree, capsys, name, mutate, field):
    shard_path = edit_shard(tree, mutate)
    code, out, err = run(capsys, tree)
    assert code == 1 and f"problem: {shard_path}: {field}: " in err, err
    assert_clean(out, err)


def test_negative_size_listed_twice_and_wrong_shard_are_reported(tree, capsys):
    def change(shard):
        files = shard["files"]
        files.append(dict(files[0]))
        files[1]["size"] = -5
        return shard
    shard_path = edit_shard(tree, change)
    code, out, err = run(capsys, tree)
    assert code == 1
    assert f"{shard_path}: files[1].size: is -5, a size cannot be negative" in err
    assert "is listed twice" in err
    assert_clean(out, err)


# --- caps and deadlines over HTTP ------------------------------------------------------

class HostileHandler(StaticHandler):
    behaviours: ClassVar[dict[str, Any]] = {}

    def do_GET(self):
        behaviour = self.behaviours.get(urlsplit(self.path).path.lstrip("/"))
        if behaviour is None:
            return super().do_GET()
        try:
            behaviour(self)
        except OSError:  # the checker hung up on us: that is the point
            pass


@contextlib.contextmanager
def hostile_server(directory, behaviours):
    handler = type("Handler", (HostileHandler,), {"behaviours": behaviours})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def endless(h):
    h.send_response(200)
    h.end_headers()  # no Content-Length: the body ends when the connection does
    chunk = b" " * 65536
    while True:
        h.wfile.write(chunk)


def trickle_body(h):
    h.send_response(200)
    h.end_headers()
    for _ in range(600):
        h.wfile.write(b" ")
        time.sleep(0.25)


def trickle_headers(h):
    h.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
    for _ in range(600):
        h.wfile.write(b"x")
        time.sleep(0.25)


def announce(length: str):
    def behaviour(h):
        h.send_response(200)
        h.send_header("Content-Length", length)
        h.end_headers()
    return behaviour


def status(code):
    return lambda h: h.send_error(code)


def redirect(location):
    def behaviour(h):
        h.send_response(302)
        h.send_header("Location", location)
        h.end_headers()
    return behaviour


def test_endless_snapshot_body_stops_at_the_cap(tree, capsys):
    with hostile_server(tree, {SNAPSHOT_PATH: endless}) as base:
        code, out, err = run(capsys, base)
    assert code == 1 and f"problem: {SNAPSHOT_PATH}: the body is over the {MAX_SNAPSHOT_BYTES}-byte cap" in err
    assert_clean(out, err)


@pytest.mark.slow
def test_endless_or_oversized_file_body_is_read_only_to_its_listed_size(tree, capsys):
    with hostile_server(tree, {"robots.txt": endless, "404.html": announce(str(10**12)),
                               "sitemap.xml": announce("9" * 5000), "feed.xml": announce("\u00b2")}) as base:
        code, out, err = run(capsys, base)
    assert code == 1 and "changed: robots.txt" in err and "changed: 404.html" in err
    assert "changed: sitemap.xml" in err and "feed.xml" in err
    assert_clean(out, err)


@pytest.mark.slow
@pytest.mark.parametrize("behaviour", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_trickling_server_is_cut_off_at_the_deadline(tree, capsys, behaviour):
    start = time.monotonic()
    with hostile_server(tree, {SNAPSHOT_PATH: behaviour}) as base:
        code, _out, err = run(capsys, base, "--timeout", "1.5")
    assert time.monotonic() - start < 10
    assert code == 1 and f"problem: {SNAPSHOT_PATH}: no complete answer within 1.5 s (--timeout)" in err


@pytest.mark.slow
def test_trickling_file_is_cut_off_and_the_rest_is_checked(tree, capsys):
    start = time.monotonic()
    with hostile_server(tree, {"robots.txt": trickle_body, "index.html": trickle_headers}) as base:
        code, out, err = run(capsys, base, "--timeout", "1.5")
    assert time.monotonic() - start < 15
    assert code == 1 and "problem: robots.txt: no complete answer within 1.5 s" in err
    assert "problem: index.html: no complete answer within 1.5 s" in err
    assert "documents: 5 verified" in out


@pytest.mark.slow
def test_server_errors_and_hostile_redirects_are_reported_per_file(tree, capsys):
    with hostile_server(tree, {"robots.txt": status(500), "404.html": redirect("file:///etc/passwd"),
                               "sitemap.xml": status(404)}) as base:
        code, out, err = run(capsys, base)
    assert code == 1 and "problem: robots.txt: HTTP 500" in err and "missing: sitemap.xml" in err
    assert "problem: 404.html: HTTP 302 " in err and "'file:///etc/passwd' is not allowed" in err
    assert "documents: 5 verified" in out
    assert_clean(out, err)


def test_redirect_from_https_down_to_http_is_refused():
    import urllib.error
    import urllib.request
    req = urllib.request.Request("https://mirror.example/robots.txt")
    with pytest.raises(urllib.error.HTTPError, match=r"redirect to 'http://mirror\.example/robots\.txt' refused"):
        mirror_source._Redirects().redirect_request(req, None, 302, "Found", {}, "http://mirror.example/robots.txt")


@pytest.mark.slow
def test_clean_mirror_over_http_verifies(tree, capsys):
    with hostile_server(tree, {}) as base:
        code, out, err = run(capsys, base)
    assert code == 0 and "result: OK" in out and err == ""


# --- nothing from the snapshot or the server reaches the terminal raw ------------------

def test_escape_sequences_and_bidi_in_snapshot_strings_are_never_printed_raw(tree, capsys):
    snap = load_snapshot(tree)
    snap["base_url"] = "https://\u202eevil.example/"
    snap["generator"] = "\x1b]0;pwned\x07sitegen"
    snap["generated_at"] = "\x1b[2J2026-05-26T05:38:29Z"
    write_snapshot(tree, snap)
    code, out, err = run(capsys, tree)
    assert code == 1 and "generated_at: expected a real date and time" in err and "\\x1b[2J" in err
    assert_clean(out, err)

    snap["generated_at"] = "2026-05-26T05:38:29Z"
    snap["signature"] = {"key_id": "\x1b[31mmirror\u202e", "signature_b64": "x"}
    write_snapshot(tree, snap)
    key = tree.parent / "mirror-key.json"
    assert main(["keygen", str(tree.parent)]) == 0
    code, out, err = run(capsys, tree, "--mirror-key", str(key))
    assert code == 1 and "signature.key_id: is '\\x1b[31mmirror\\u202e'" in err
    assert_clean(out, err)


def test_escape_sequences_in_listed_paths_and_file_names_are_never_printed_raw(tree, capsys):
    edit_shard(tree, extended(listing("\x1b[31mred.html", b"x"), listing("\u202elmth.exe", b"x"),
                              listing("ok\u0085next.html", b"x")))
    (tree / "\x1b]8;;evil.example\x1b\\click.html").write_text("x")
    code, out, err = run(capsys, tree)
    assert code == 1 and "missing: \\u202elmth.exe" in err and "extra: \\u001b]8;;" in err
    assert_clean(out, err)


# --- which keys verify the documents ----------------------------------------------------

def test_directory_target_uses_the_keys_next_to_the_tree_and_says_so(tmp_path, capsys, monkeypatch):
    site = make_site(tmp_path, test_key=False)
    assert main(["build", str(site), "-q"]) == 0
    monkeypatch.chdir(tmp_path)  # no content/keys here
    code, out, _err = run(capsys, site / "site", keys=False)
    assert code == 0 and f"keys: {site / 'content' / 'keys'} (next to the tree): 1 trusted key" in out
    assert "documents: 5 verified" in out and out.rstrip().endswith("result: OK")


def test_without_keys_documents_are_not_verified_and_the_result_says_so(tree, tmp_path, capsys, monkeypatch):
    cwd = make_site(tmp_path / "elsewhere", test_key=False)
    monkeypatch.chdir(cwd)  # the current directory's keys are not the tree's keys
    code, out, err = run(capsys, tree, keys=False)
    assert code == 0
    assert "Pith documents will NOT be verified" in out
    assert "WARNING: 5 Pith documents NOT verified" in err
    assert "result: FILES OK — DOCUMENTS NOT VERIFIED" in out and "result: OK\n" not in out
    assert "documents: " not in out.replace("documents: NOT verified", "")


@pytest.mark.slow
def test_url_target_uses_the_current_directorys_keys(tree, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(make_site(tmp_path / "operator", test_key=False))
    with hostile_server(tree, {}) as base:
        code, out, _err = run(capsys, base, keys=False)
    assert code == 0 and "(the current directory's): 1 trusted key (pith-v1-2026-05)" in out
    assert "documents: 5 verified" in out


@pytest.mark.parametrize("state", [b"[]", b"{", b'{"T": {"version": "1"}}', b"\xff"])
def test_damaged_state_file_is_a_clean_error(tree, tmp_path, capsys, state):
    state_file = tmp_path / "seen.json"
    state_file.write_bytes(state.replace(b'"T"', json.dumps(os.path.realpath(tree)).encode()))
    capsys.readouterr()
    assert main(["verify", str(tree), "--keys", KEYS, "--state", str(state_file)]) == 1
    err = capsys.readouterr().err
    assert "not a sitegen state file" in err and "Traceback" not in err


def test_non_positive_timeout_is_a_usage_error(tree, capsys):
    with pytest.raises(SystemExit) as exit_:
        run(capsys, tree, "--timeout", "0")
    assert exit_.value.code == 2 and "argument --timeout: must be a positive number" in capsys.readouterr().err

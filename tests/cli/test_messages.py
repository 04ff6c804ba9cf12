"""Messages that name the fix (issue: site owners' experience).

Every message about the operator's set-up reads ``path: what is wrong — what
to do``, on one line, without exception class names or errno text; a bad flag
is a usage error (exit 2), the same value in ``sitegen.toml`` a configuration
error (exit 1) naming the file and the setting.
"""

from __future__ import annotations

import errno
import json
import os
import re

import pytest

from pithfactory import REGISTRY_KEY, SEED_RECORDS, make_bundle, make_site
from sitegen.cli import main
from sitegen.errors import ConfigError, os_problem
from sitegen.mirror import key as mirrorkey

#: What must never reach an operator: exception class names, errno numbers, tracebacks.
LEAKS = re.compile(r"Traceback|\[Errno|\b[A-Z]\w*(Error|Exception)\b|errno")


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    assert not LEAKS.search(captured.err + captured.out), captured.err
    return code, captured.out, captured.err


def usage_error(capsys, *args: str) -> str:
    """stderr of a command that must stop with a usage error (exit 2)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and not LEAKS.search(err), err
    return err.strip().splitlines()[-1]


def error_line(err: str) -> str:
    (line,) = [line for line in err.splitlines() if line.startswith("error: ")]
    return line


# --- where the site is ---------------------------------------------------------------

def test_build_without_content_names_the_directory_and_sitegen_init(tmp_path, capsys):
    code, out, err = run(capsys, "build", str(tmp_path))
    assert code == 1 and out == ""
    assert err == (f"error: {tmp_path / 'content'}: content directory not found — pass the site directory that "
                   "holds content/, or start a new site with `sitegen init`\n")  # no base_url warning before it


def test_build_of_the_content_folder_names_the_site_directory(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    code, _, err = run(capsys, "build", str(site / "content"))
    assert code == 1
    assert error_line(err) == (f"error: {site / 'content'}: this looks like a content/ folder itself — pass the "
                               f"site directory that holds it: sitegen build {site}")


def test_build_of_a_missing_site_directory_suggests_sitegen_init(tmp_path, capsys):
    code, _, err = run(capsys, "build", str(tmp_path / "nope"))
    assert code == 1 and error_line(err) == (
        f"error: {tmp_path / 'nope'}: site directory does not exist — pass the directory that holds content/, "
        f"or make a new site with `sitegen init {tmp_path / 'nope'}`")


# --- the keyring -----------------------------------------------------------------------

def test_missing_keys_directory_says_what_to_add_not_a_file_count(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    (site / "content" / "keys" / REGISTRY_KEY.name).unlink()
    (site / "content" / "keys").rmdir()
    code, _, err = run(capsys, "build", str(site))
    assert code == 1 and "content files" not in err
    assert "content/keys/: no keys directory — add the key documents you trust: the Pith registry key " \
           "pith-v1-2026-05.json is published at https://pith.science/pith-signing-key.json" in err
    assert error_line(err) == ("error: content/keys/: no usable trusted keys — add a key document as said above; "
                               f"nothing was verified; {site / 'site'} left unchanged")


def test_empty_keys_directory_says_nothing_can_be_verified_and_what_to_add(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    (site / "content" / "keys" / REGISTRY_KEY.name).unlink()
    code, _, err = run(capsys, "build", str(site))
    assert code == 1 and "1 of 0" not in err
    assert "content/keys/: no trusted keys, so nothing can be verified — add the key documents you trust" in err
    assert "`sitegen init`" in err


def test_a_broken_key_document_is_named_with_its_fix(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    (site / "content" / "keys" / "typo.json").write_text("{}")
    code, _, err = run(capsys, "build", str(site))
    assert code == 1
    assert "content/keys/typo.json: key_id: required field is missing [key.schema]" in err
    assert error_line(err) == ("error: content/keys/typo.json: unusable key document (7 problems above) — fix or "
                               f"remove it; nothing was verified; {site / 'site'} left unchanged")


def test_several_broken_key_documents_are_counted(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    for name in ("a.json", "b.json"):
        (site / "content" / "keys" / name).write_text("[")
    code, _, err = run(capsys, "build", str(site))
    assert code == 1 and error_line(err).startswith(
        "error: content/keys/: 2 unusable key documents (2 problems above) — fix or remove each; "
        "nothing was verified")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any directory")
def test_an_unreadable_keys_directory_says_so_in_plain_words(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    keys = site / "content" / "keys"
    keys.chmod(0)
    try:
        code, _, err = run(capsys, "build", str(site))
    finally:
        keys.chmod(0o755)
    assert code == 1 and "content/keys/: cannot list the keys directory: permission denied — make it readable" in err


# --- the mirror's secret key -------------------------------------------------------------

SECRET = {"key_id": "m1", "algorithm": "ed25519", "seed_b64": "A" * 43 + "="}


@pytest.mark.parametrize("content, expected", [
    (None, "cannot read the mirror key: does not exist — check mirror_key in sitegen.toml or --mirror-key"),
    (b"nope", "not JSON — expected the mirror-key.secret.json written by `sitegen keygen`"),
    (b"[]", "not a sitegen mirror key (expected a JSON object) — restore it"),
    ({k: v for k, v in SECRET.items() if k != "seed_b64"}, "seed_b64: missing — restore it from your backup, "
                                                           "or make a new one with `sitegen keygen`"),
    ({k: v for k, v in SECRET.items() if k != "key_id"}, "key_id: missing — restore it"),
    (dict(SECRET, seed_b64="AAAA"), "seed_b64: expected a 32-byte Ed25519 seed, got 3 bytes — restore it"),
    (dict(SECRET, seed_b64="not base64!"), "seed_b64: not valid base64 — restore it"),
    (dict(SECRET, seed_b64=7), "seed_b64: expected a non-empty string, got 7 — restore it"),
    (dict(SECRET, algorithm="rsa"), "algorithm: expected 'ed25519', got 'rsa' — restore it"),
    (dict(SECRET, key_id="a\x1b[31mb\nc"), "key_id: 'a\\x1b[31mb\\nc' is not a key id such as 'pith-v1-2026-05'"),
    (b"{" + b" " * (70 * 1024) + b"}",
     "cannot read the mirror key: file is 71682 bytes, over the 65536-byte cap (a key file is ~150 bytes)"),
])
def test_a_bad_mirror_key_names_the_file_the_field_and_the_fix(tmp_path, capsys, content, expected):
    site = make_site(tmp_path, test_key=False)
    secret = site / "mk.json"
    if content is not None:
        secret.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    code, _, err = run(capsys, "build", str(site), "--mirror-key", str(secret), "-q")
    assert code == 1 and error_line(err).startswith(f"error: {secret}: {expected}")
    assert "KeyError" not in err and "seed_b64'" not in err


def test_a_secret_key_inside_content_says_where_to_move_it(tmp_path):
    with pytest.raises(ConfigError, match=r"must not live in content/ \(it would be published\) — move it"):
        mirrorkey.load_secret(tmp_path / "content" / "k.json", tmp_path)


def test_a_mirror_key_that_is_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, capsys):
    import os
    site = make_site(tmp_path, test_key=False)
    fifo = site / "mk.json"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "build", str(site), "--mirror-key", str(fifo), "-q")
    assert code == 1 and error_line(err).startswith(f"error: {fifo}: cannot read the mirror key: is not a regular file")


@pytest.mark.parametrize("key_id", ["a\x1b[31mb\nc", "../../x", "", "k" * 65])
def test_keygen_refuses_a_key_id_that_readers_would_refuse(tmp_path, capsys, key_id):
    code, _, err = run(capsys, "keygen", str(tmp_path), "--key-id", key_id)
    assert code == 1 and "--key-id: " in err and "is not a key id such as 'pith-v1-2026-05'" in err
    assert list(tmp_path.iterdir()) == []


def test_keygen_into_a_missing_directory_is_a_clean_error(tmp_path, capsys):
    code, _, err = run(capsys, "keygen", str(tmp_path / "nope"))
    assert code == 1 and error_line(err) == (f"error: {tmp_path / 'nope'}: no such directory — pass the site "
                                             "directory (made by `sitegen init`)")


# --- flags (usage errors, exit 2) and sitegen.toml (configuration errors, exit 1) --------------

@pytest.mark.parametrize("flags, expected", [
    (["-j", "0"], "argument -j/--jobs: must be between 1 and 1024, got 0 — leave it out to use every core"),
    (["--jobs", "5000"], "argument -j/--jobs: must be between 1 and 1024, got 5000"),
    (["-j", "two"], "argument -j/--jobs: expected a whole number, got 'two'"),
    (["--base-url", "example.com"], "argument --base-url: expected an absolute http(s) URL, got 'example.com' — "
                                    "did you mean 'https://example.com/'?"),
    (["--base-url", "ftp://example.com/"], "argument --base-url: expected an absolute http(s) URL, got "
                                           "'ftp://example.com/' — write it like https://user.github.io/mirror/"),
    (["--base-url", "https://x.test/a b"], "argument --base-url: may contain only letters, digits"),
    (["--title", "My\x1bMirror"], "argument --title: must not contain a control character (U+001B)"),
    (["--title", "t" * 501], "argument --title: must be at most 500 characters, got 501 — shorten it"),
    (["--base-url", "http://a:99999/"], "argument --base-url: has no valid port (0 to 65535), got "
                                        "'http://a:99999/' — fix or remove the ':port'"),
    (["--base-url", "https://:80/"], "argument --base-url: has no host name"),
])
def test_a_bad_build_flag_is_a_usage_error_naming_the_flag_and_the_fix(tmp_path, capsys, flags, expected):
    site = make_site(tmp_path, test_key=False)
    line = usage_error(capsys, "build", str(site), *flags)
    assert line.startswith(f"sitegen build: error: {expected}")
    assert not (site / "site").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "1e300", "0", "-1"])
def test_a_pull_timeout_that_is_not_a_usable_number_of_seconds_is_a_usage_error(tmp_path, capsys, value):
    assert usage_error(capsys, "pull", "http://127.0.0.1:9/", str(tmp_path), "--timeout", value).startswith(
        "sitegen pull: error: argument --timeout: must be a positive number of seconds, at most 86,400")


def test_a_source_date_epoch_in_unicode_digits_is_a_named_error(tmp_path, monkeypatch):
    from sitegen.config import load_settings
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "\u00b2\u00b2")  # str.isdigit() is True, int() refuses it
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH: expected a non-negative integer"):
        load_settings(tmp_path)


def test_bad_serve_port_and_verify_timeout_are_usage_errors(tmp_path, capsys):
    assert usage_error(capsys, "serve", str(tmp_path), "--port", "99999") == (
        "sitegen serve: error: argument -p/--port: must be between 0 and 65535, got 99999 — 0 picks a free port")
    assert usage_error(capsys, "verify", str(tmp_path), "--timeout", "nan").startswith(
        "sitegen verify: error: argument --timeout: must be a positive number of seconds")


@pytest.mark.parametrize("toml, expected", [
    ("jobs = 0", "jobs: must be between 1 and 1024, got 0 — set a value in that range, or leave it out for the "
                 "default (every core)"),
    ("page_size = 0", "page_size: must be between 1 and 10000, got 0 — set a value in that range, or leave it out "
                      "for the default (50)"),
    ('base_url = "example.com"', "base_url: expected an absolute http(s) URL, got 'example.com' — did you mean "
                                 "'https://example.com/'?"),
    ('page_size = "50"', "page_size: expected a whole number, got '50' — for example: page_size = 50"),
    ("search = 1", "search: expected true or false, got 1 — for example: search = true"),
    ("max_document_bytes = -1", "max_document_bytes: must be positive, got -1 — set a number above 0"),
    ('base_ulr = "https://x.test/"',
     "base_ulr: unknown setting — check the spelling; known: alias_pages, aliases, base_url"),
    ("title = ", "not valid TOML: "),
])
def test_a_bad_sitegen_toml_value_is_a_configuration_error_naming_the_file_and_setting(tmp_path, capsys, toml,
                                                                                     expected):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_text(toml + "\n")
    code, _, err = run(capsys, "build", str(site))
    assert code == 1 and error_line(err).startswith(f"error: {site / 'sitegen.toml'}: {expected}")


def test_sitegen_toml_is_named_as_the_operator_wrote_the_site_directory(tmp_path, capsys, monkeypatch):
    site = make_site(tmp_path, test_key=False)
    (site / "sitegen.toml").write_bytes(b'title = "\xff"\n')
    monkeypatch.chdir(site)
    code, _, err = run(capsys, "build")
    assert code == 1 and error_line(err) == "error: sitegen.toml: not UTF-8 text (byte 9) — save it as UTF-8"


# --- what a build says it did -------------------------------------------------------------

def test_a_rebuild_with_nothing_changed_says_the_documents_were_verified_before(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    assert run(capsys, "build", str(site))[0] == 0
    code, out, _ = run(capsys, "build", str(site))
    assert code == 0 and "0 checks passed" not in out
    assert "verified: 5 documents unchanged since the last build (verified then)\n" in out
    (site / "content" / "records" / SEED_RECORDS[0].name).touch()
    out = run(capsys, "build", str(site))[1]
    assert re.search(r"verified: \d+ checks passed, 0 failed; 4 documents unchanged since the last build "
                     r"\(verified then\)\n", out)


def test_summary_and_home_page_use_the_singular_for_one(tmp_path, capsys):
    site = make_site(tmp_path, seeds=False, test_key=True, docs={"bundles/b.bundle.json": make_bundle(cross_cats=())})
    code, out, _ = run(capsys, "build", str(site))
    assert code == 0
    assert "sitegen build: 1 document (0 records, 1 bundle verified), 1 Pith Number published" in out
    counts = re.search(r'<p class="counts">.*?</p>', (site / "site" / "index.html").read_text()).group(0)
    text = re.sub(r"<[^>]+>", "|", counts)
    for phrase in ("|1 verified Pith record|", "|1 open graph bundle|", "|1 year|", "|1 category|"):
        assert phrase in text, text


def test_a_failed_build_counts_one_problem_in_the_singular_and_names_the_fix(tmp_path, capsys):
    site = make_site(tmp_path, test_key=False)
    (site / "content" / "records" / "broken.json").write_text("{")
    code, _, err = run(capsys, "build", str(site))
    assert code == 1 and error_line(err) == (
        "error: 1 of 6 content files failed verification (1 problem) — fix or remove them, or pass --skip-invalid "
        f"to publish the rest; {site / 'site'} left unchanged")


# --- sitegen verify from another directory ---------------------------------------------------

def test_verify_a_site_from_another_directory_finds_the_keys_next_to_the_tree(tmp_path, capsys, monkeypatch):
    proj = tmp_path / "proj"
    proj.mkdir()
    site = make_site(proj, test_key=False)
    assert run(capsys, "build", str(site), "-q")[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, _ = run(capsys, "verify", f"../proj/{site.name}/site", "--no-state")
    assert code == 0 and f"keys: {site / 'content' / 'keys'} (next to the tree): 1 trusted key" in out
    assert "documents: 5 verified" in out and out.rstrip().endswith("result: OK")


# --- plain words for operating-system errors -------------------------------------------------

@pytest.mark.parametrize("err, words", [
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/x"), "does not exist"),
    (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
    (OSError(errno.ENOSPC, "No space left on device"), "no space left on the device"),
    (OSError(errno.EIO, "Input/output error"), "input/output error"),
    (OSError("odd"), "odd"),
])
def test_os_problem_is_plain_words_without_errno_or_class(err, words):
    assert os_problem(err) == words


def test_a_full_build_summary_counts_the_tree_by_kind_and_sizes_for_people(tmp_path, capsys):
    site = make_site(tmp_path, seeds=True)
    out = tmp_path / "site-out"
    code, stdout, _ = run(capsys, "build", str(site), "-o", str(out), "--base-url", "https://m.example/")
    assert code == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    rows = re.findall(r"^  (\S.*?)\s{2,}([\d,]+) files?\s+(\S+ (?:bytes?|KiB|MiB))$", stdout, re.M)
    kinds = {kind for kind, _, _ in rows}
    assert {"records and bundles", "listings", "alias maps", "search index", "sitemaps", "site pages and assets",
            "mirror snapshot"} <= kinds, stdout
    assert sum(int(n.replace(",", "")) for _, n, _ in rows) == len(files)  # every file of the tree, once
    total = re.search(r"wrote .*: ([\d,]+) files \(.*\), ([\d.]+) KiB$", stdout, re.M)
    assert total and int(total.group(1).replace(",", "")) == len(files)
    assert abs(float(total.group(2)) * 1024 - sum(p.stat().st_size for p in files)) < 52  # rounded to 0.1 KiB
    code, stdout, _ = run(capsys, "build", str(site), "-o", str(out), "--base-url", "https://m.example/")
    assert code == 0 and "records and bundles" not in stdout  # an incremental build does not rescan the tree

"""Coverage-guided fuzzing (atheris/libFuzzer) of ``sitegen verify`` reading a
mirror snapshot and its shards.

    python tests/fuzz/fuzz_snapshot.py CORPUS_DIR [libFuzzer flags, e.g. -max_total_time=600 -dict=tests/fuzz/json.dict]

A small mirror tree (a verified record, a page, a key file, two shards) is
made once. The first byte of each input picks what the rest replaces:

* bit 0 clear — ``pith-mirror-snapshot.json`` itself;
* bit 0 set   — the first shard, with the snapshot re-sealed around it (right
  size, hash and ``snapshot_sha256``), so the bytes reach the shard parser.

Bit 1 passes the operator's mirror key (the signature is checked), bit 2 a
snapshot remembered from before (freshness). :func:`sitegen.mirror.audit.check_mirror`
then checks the tree; it reports, never raises (its only documented error,
:class:`~sitegen.errors.SitegenError`, is for a target that is not a
directory). Anything raised is a crash, and so is a file outside the tree
counted as ok. Each crash found becomes a named test in tests/mirror/test_audit.py.
"""

import atexit
import hashlib
import json
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/ (pithfactory)

with atheris.instrument_imports():
    from sitegen.mirror import audit, snapshot, source  # noqa: F401 - imported to be instrumented
    from sitegen.model import FileEntry  # noqa: F401 - imported to be instrumented

from pithfactory import dump, key_document, keyring_of, make_record  # noqa: E402

NOW = datetime(2026, 6, 1, tzinfo=UTC)
KEYRING = keyring_of(key_document())
MIRROR_KEY = KEYRING.get(key_document()["key_id"])
ROOT = Path(tempfile.mkdtemp(prefix="sitegen-fuzz-snapshot-"))
atexit.register(shutil.rmtree, ROOT, True)
TREE = ROOT / "tree"
OUTSIDE = ROOT / "outside.txt"  # a file beside the tree: never read, never ok


def _make_tree() -> tuple[bytes, dict]:
    """Write the tree; return the snapshot bytes and the parsed snapshot."""
    record = make_record()
    suffix = record["pith_number"].split(":")[2]
    files = {f"pith/{suffix}.json": dump(record), "index.html": b"<!doctype html><p>mirror</p>\n",
             "pith-signing-key.json": dump(key_document()), "robots.txt": b"User-agent: *\n"}
    OUTSIDE.write_bytes(b"outside\n")
    for rel, data in files.items():
        (TREE / rel).parent.mkdir(parents=True, exist_ok=True)
        (TREE / rel).write_bytes(data)
    by_shard: dict[str, list] = {}
    for rel, data in sorted(files.items()):
        by_shard.setdefault(snapshot.shard_of(rel, 1), []).append((rel, len(data), hashlib.sha256(data).hexdigest()))
    shards = []
    for prefix, listed in sorted(by_shard.items()):
        f, desc = snapshot.shard_file(prefix, listed)
        (TREE / f.path).parent.mkdir(parents=True, exist_ok=True)
        (TREE / f.path).write_bytes(f.data)
        shards.append(desc)
    snap = snapshot.snapshot_file(shards, file_count=len(files), total_bytes=sum(map(len, files.values())), length=1,
                                  previous=None, generated_at="2026-05-26T05:38:29Z", base_url="http://x/",
                                  mirror_key=None, valid_days=None)
    (TREE / snap.path).write_bytes(snap.data)
    return snap.data, json.loads(snap.data)


TREE.mkdir()
SNAPSHOT_BYTES, SNAPSHOT = _make_tree()
FIRST_SHARD = SNAPSHOT["shards"][0]
FIRST_SHARD_BYTES = (TREE / FIRST_SHARD["path"]).read_bytes()
SEEN = {"version": 1, "snapshot_sha256": SNAPSHOT["snapshot_sha256"]}


def _sealed_around(shard: bytes) -> bytes:
    snap = json.loads(SNAPSHOT_BYTES)
    snap["shards"][0].update(size=len(shard), sha256=hashlib.sha256(shard).hexdigest())
    snap["snapshot_sha256"] = snapshot.snapshot_sha256(snap)
    return json.dumps(snap).encode()


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode, payload = data[0], data[1:]
    if mode & 1:
        (TREE / FIRST_SHARD["path"]).write_bytes(payload)
        (TREE / snapshot.SNAPSHOT_PATH).write_bytes(_sealed_around(payload))
    else:
        (TREE / FIRST_SHARD["path"]).write_bytes(FIRST_SHARD_BYTES)
        (TREE / snapshot.SNAPSHOT_PATH).write_bytes(payload)
    report = audit.check_mirror(str(TREE), keyring=KEYRING, mirror_key=MIRROR_KEY if mode & 2 else None,
                                seen=SEEN if mode & 4 else None, now=NOW)
    assert all(isinstance(p, str) for p in report.problems + report.notes + report.missing + report.changed)
    assert report.files_ok <= report.file_count
    # no path outside the tree (a name that merely starts with "..", like "..ueots/id.txt", is inside it)
    assert not any(p.startswith("/") or ".." in p.split("/") for p in report.missing + report.changed)


def seed_corpus(directory: Path) -> None:
    """The tree's own snapshot (each mode) and first shard, and small variants."""
    directory.mkdir(parents=True, exist_ok=True)
    for mode in (0, 2, 4, 6):
        (directory / f"snapshot-{mode}").write_bytes(bytes([mode]) + SNAPSHOT_BYTES)
    (directory / "shard").write_bytes(b"\x01" + FIRST_SHARD_BYTES)
    shard = json.loads(FIRST_SHARD_BYTES)
    shard["files"].append({"path": "../outside.txt", "size": 8, "sha256": hashlib.sha256(b"outside\n").hexdigest()})
    (directory / "shard-traversal").write_bytes(b"\x01" + json.dumps(shard).encode())
    assert MIRROR_KEY is not None
    signed = dict(SNAPSHOT, signature={"key_id": MIRROR_KEY.key_id, "signature_b64": "A" * 86 + "=="})
    (directory / "snapshot-signed").write_bytes(b"\x02" + json.dumps(signed).encode())


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(Path(corpus[0]))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()

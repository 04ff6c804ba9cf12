"""Coverage-guided fuzzing (atheris/libFuzzer) of key documents.

    python tests/fuzz/fuzz_keys.py CORPUS_DIR [libFuzzer flags, e.g. -max_total_time=600 -dict=tests/fuzz/json.dict]

Every input is the bytes of one file in ``content/keys/``, given to
:func:`sitegen.pith.keys.parse_key_document`, which never raises for bad input:
it returns a key or the problems that stop it. Anything raised is a crash, and
so is a broken invariant of an accepted key (its fingerprints are recomputed
from its bytes, its window is ordered and evaluable) or a problem message
that would write a raw control character to a terminal. Each crash found
becomes a named case in tests/conformance/keydocs.py.
"""

import json
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/ (pithfactory)

with atheris.instrument_imports():
    from sitegen.model import SourceFile
    from sitegen.pith.keys import key_fingerprint, key_fingerprint_b32, parse_key_document

from pithfactory import ATTACKER_KEY, REGISTRY_KEY, key_document, limited_key_documents  # noqa: E402

PATH = Path("content/keys/fuzz.json")
WHEN = (None, datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def test_one_input(data: bytes) -> None:
    key, problems = parse_key_document(SourceFile(PATH, "content/keys/fuzz.json", data))
    assert (key is None) == bool(problems), (key, problems)
    for problem in problems:
        text = str(problem)
        assert not any(unicodedata.category(ch) in UNSAFE for ch in text), text
    if key is None:
        return
    assert len(key.public_key) == 32
    assert key.fingerprint_hex == key_fingerprint(key.public_key)
    assert key.fingerprint_b32 == key_fingerprint_b32(key.public_key)
    assert isinstance(key.revoked, bool)
    if key.not_before is not None and key.rotates_at is not None:
        assert key.not_before < key.rotates_at
    for when in WHEN:
        key.validity_problem(when)


def seed_corpus(directory: Path) -> None:
    """Fill ``directory`` with real and test key documents."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "registry.json").write_bytes(REGISTRY_KEY.read_bytes())
    docs = [key_document(), *limited_key_documents(),
            dict(key_document(ATTACKER_KEY, "a"), rotates_at="2026-06-01T00:00:00.123456+05:30", url=None, notes=None)]
    for i, doc in enumerate(docs):
        (directory / f"key-{i}.json").write_bytes(json.dumps(doc, indent=i % 2 or None).encode())


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(Path(corpus[0]))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()

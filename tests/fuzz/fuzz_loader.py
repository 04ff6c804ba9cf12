"""Coverage-guided fuzzing (atheris/libFuzzer) of the document loader and verifier.

    python tests/fuzz/fuzz_loader.py CORPUS_DIR [libFuzzer flags, e.g. -max_total_time=600]

Every input goes through the per-file path of a build: strict JSON parse,
type recognition, full verification against a keyring with the registry key
and the test key. Anything but a clean rejection (``ValueError`` from the
loader, a failing report from the verifier) is a crash; each one found
becomes a named case in tests/conformance/.
"""

import json
import sys
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/ (pithfactory)

with atheris.instrument_imports():
    from sitegen.model import ParsedDocument, SourceFile
    from sitegen.pith.strict_json import classify, parse_strict_json
    from sitegen.verify.documents import verify_document

from pithfactory import REGISTRY_KEY, key_document, keyring_of, load_json  # noqa: E402

KEYRING = keyring_of(load_json(REGISTRY_KEY), key_document())
SOURCE = SourceFile(Path("fuzz.json"), "fuzz.json", b"")


def test_one_input(data: bytes) -> None:
    try:
        body = parse_strict_json(data)
        kind = classify(body)
    except ValueError:
        return
    report, verified = verify_document(ParsedDocument(SOURCE, kind, body), KEYRING)
    assert (verified is not None) == report.ok


def seed_corpus(directory: Path) -> None:
    """Fill ``directory`` with the seeds and factory documents."""
    from pithfactory import CONTENT, dump, make_bundle, make_record
    directory.mkdir(parents=True, exist_ok=True)
    for path in sorted(CONTENT.glob("*/*.json")):
        (directory / path.name).write_bytes(path.read_bytes())
    (directory / "factory-record.json").write_bytes(dump(make_record()))
    (directory / "factory-bundle.json").write_bytes(dump(make_bundle()))
    (directory / "small.json").write_bytes(json.dumps({"record_type": "pith_number_record"}).encode())


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(Path(corpus[0]))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()

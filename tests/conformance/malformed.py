"""Malformed input: bad bytes, bad JSON, bad files, and a wrong type or a
missing field at every level of the record and bundle schemas (generated
from ``sitegen.schema`` and the seeds, so a new field is covered at once)."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from conformance.cases import BUNDLE, DIR, RECORD, Case, doc_case, mutated, set_path, write
from pithfactory import SEED_BUNDLES, SEED_RECORDS, make_bundle, resign_bundle, sign_event
from sitegen.pith import shapes

SEED_BYTES = SEED_RECORDS[0].read_bytes()
SEED_BUNDLE_BYTES = SEED_BUNDLES[0].read_bytes()


def _replace(old: bytes, new: bytes) -> bytes:
    assert old in SEED_BYTES, old
    return SEED_BYTES.replace(old, new, 1)


BYTES_CASES = [
    ("not_json", b"this is not JSON", "load.json", ""),
    ("truncated_json", SEED_BYTES[:1000], "load.json", ""),
    ("invalid_utf8_in_string", _replace(b'"ImageNet', b'"Image\xffNet') if b'"ImageNet' in SEED_BYTES
     else _replace(b'"Extremely', b'"Extr\xffemely'), "load.json", ""),
    ("overlong_utf8_encoding", _replace(b'"Extremely', b'"\xc0\xafExtremely'), "load.json", ""),
    ("utf8_byte_order_mark", b"\xef\xbb\xbf" + SEED_BYTES, "load.json", ""),
    ("utf16_encoded_document", SEED_BYTES.decode().encode("utf-16"), "load.json", ""),
    ("duplicate_key_smuggles_a_second_type", b'{"record_type":"pith_number_record",' + SEED_BYTES[1:], "load.json", ""),
    ("duplicate_key_in_nested_object", _replace(b'"kind":"arxiv",', b'"kind":"arxiv","kind":"arxiv",'),
     "load.json", ""),
    ("nan_literal", _replace(b'"version":1}', b'"version":NaN}'), "load.json", ""),
    ("infinity_literal", _replace(b'"version":1}', b'"version":Infinity}'), "load.json", ""),
    ("negative_infinity_literal", _replace(b'"version":1}', b'"version":-Infinity}'), "load.json", ""),
    ("integer_beyond_64_bits", _replace(b'"version":1}', b'"version":18446744073709551616}'), "load.json", ""),
    ("negative_integer_beyond_64_bits", _replace(b'"version":1}', b'"version":-9223372036854775809}'), "load.json", ""),
    ("huge_integer_literal", _replace(b'"version":1}', b'"version":' + b"9" * 5000 + b"}"), "load.json", ""),
    ("recursion_bomb_arrays", b"[" * 100_000 + b"]" * 100_000, "load.json", ""),
    ("recursion_bomb_objects", b'{"a":' * 50_000 + b"{}" + b"}" * 50_000, "load.json", ""),
    ("nesting_just_past_the_limit", b'{"record_type":"pith_number_record","x":' + b"[" * 64 + b"]" * 64 + b"}",
     "load.json", ""),
    ("lone_surrogate_escape", _replace(b'"Extremely', b'"\\ud800Extremely'), "load.json", ""),
    # A lone LOW surrogate (DC00–DFFF) has no UTF-8 form either, in any string: value, key, array item.
    ("lone_low_surrogate_escape_in_title", _replace(b'"Extremely', b'"\\udc00Extremely'), "load.json", ""),
    ("lone_low_surrogate_escape_upper_case", _replace(b'"Extremely', b'"\\uDFFFExtremely'), "load.json", ""),
    ("lone_low_surrogate_escape_at_end_of_string", _replace(b'Takuya Akiba"', b'Takuya Akiba\\udc00"'),
     "load.json", ""),
    ("lone_low_surrogate_escape_in_array_item", _replace(b'"cs.CV","cs.LG"]', b'"cs.CV","\\udc00"]'),
     "load.json", ""),
    ("lone_low_surrogate_escape_in_object_key", _replace(b'"kind":"arxiv",', b'"kind":"arxiv","\\udc00":1,'),
     "load.json", ""),
    ("reversed_surrogate_pair_escape", _replace(b'"Extremely', b'"\\udc00\\ud800Extremely'), "load.json", ""),
    ("lone_low_surrogate_escape_in_bundle_event", SEED_BUNDLE_BYTES.replace(b'"graph_snapshot"', b'"\\udc00"', 1),
     "load.json", ""),
    ("empty_file", b"", "load.json", ""),
    ("whitespace_only", b" \n\t\n", "load.json", ""),
    ("trailing_garbage", SEED_BYTES + b"{}", "load.json", ""),
    ("single_quoted_json", b"{'record_type': 'pith_number_record'}", "load.json", ""),
    ("trailing_comma", b'{"record_type":"pith_number_record",}', "load.json", ""),
    ("comment_in_json", b'{"record_type":"pith_number_record" /* hi */}', "load.json", ""),
    ("top_level_array", b"[" + SEED_BYTES + b"]", "load.type", ""),
    ("top_level_string", b'"pith_number_record"', "load.type", ""),
    ("top_level_null", b"null", "load.type", ""),
    ("unknown_document_type", json.dumps({"record_type": "pith_number_receipt"}).encode(), "load.type", ""),
    ("no_document_type", json.dumps({"pith_number": RECORD["pith_number"]}).encode(), "load.type", ""),
    ("both_document_types", json.dumps({**RECORD, "bundle_type": "pith_open_graph_bundle"}).encode(), "load.type", ""),
    ("document_type_wrong_case", json.dumps({**RECORD, "record_type": "PITH_NUMBER_RECORD"}).encode(), "load.type", ""),
]


def _huge_file(content: Path) -> str:
    """A 100 MB document (sparse on disk): rejected by the size cap before it is read."""
    path = content / DIR / "hundred_megabyte_document.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(100 * 1024 * 1024)
    return f"content/{DIR}/hundred_megabyte_document.json"


def _directory_named_like_a_document(content: Path) -> str:
    (content / DIR / "record.json").mkdir(parents=True)
    return f"content/{DIR}/record.json"


def _symlink_outside_content(content: Path) -> str:
    outside = content.parent / "outside.json"
    outside.write_bytes(SEED_BYTES)
    (content / DIR).mkdir(parents=True, exist_ok=True)
    os.symlink(outside, content / DIR / "escape.json")
    return f"content/{DIR}/escape.json"


def _symlink_to_system_file(content: Path) -> str:
    (content / DIR).mkdir(parents=True, exist_ok=True)
    os.symlink("/etc/passwd", content / DIR / "passwd.json")
    return f"content/{DIR}/passwd.json"


def _relative_symlink_escape(content: Path) -> str:
    (content.parent / "secret.json").write_bytes(SEED_BYTES)
    (content / DIR).mkdir(parents=True, exist_ok=True)
    os.symlink("../../secret.json", content / DIR / "dotdot.json")
    return f"content/{DIR}/dotdot.json"


def _symlinked_directory(content: Path) -> str:
    (content.parent / "elsewhere").mkdir(exist_ok=True)
    (content / DIR).mkdir(parents=True, exist_ok=True)
    os.symlink(content.parent / "elsewhere", content / DIR / "linked")
    return f"content/{DIR}/linked"


def _dangling_symlink(content: Path) -> str:
    (content / DIR).mkdir(parents=True, exist_ok=True)
    os.symlink(content / DIR / "missing-target", content / DIR / "dangling.json")
    return f"content/{DIR}/dangling.json"


def _symlink_loop(content: Path) -> str:
    (content / DIR).mkdir(parents=True, exist_ok=True)
    os.symlink("loop.json", content / DIR / "loop.json")
    return f"content/{DIR}/loop.json"


def _fifo(content: Path) -> str:
    (content / DIR).mkdir(parents=True, exist_ok=True)
    os.mkfifo(content / DIR / "pipe.json")
    return f"content/{DIR}/pipe.json"


def _non_utf8_name(*names: bytes):
    """A file (under directories) whose name is not valid UTF-8, written with
    bytes paths; the case's file is named as sitegen shows it (surrogateescape)."""
    def setup(content: Path) -> str:
        here = os.path.join(os.fsencode(content), DIR.encode())
        for name in names[:-1]:
            here = os.path.join(here, name)
            os.makedirs(here, exist_ok=True)
        os.makedirs(here, exist_ok=True)
        with open(os.path.join(here, names[-1]), "wb") as f:
            f.write(SEED_BYTES)
        return f"content/{DIR}/{os.fsdecode(names[0])}"
    return setup


FS_CASES = [
    Case("file_name_not_valid_utf8", "malformed", _non_utf8_name(b"\xff.json"), "load.file", ""),
    Case("file_name_with_overlong_utf8_slash", "malformed", _non_utf8_name(b"\xc0\xaf.json"), "load.file", ""),
    Case("directory_name_not_valid_utf8", "malformed", _non_utf8_name(b"\xfe", b"record.json"), "load.file", ""),
    Case("hundred_megabyte_document", "malformed", _huge_file, "load.size", ""),
    Case("directory_named_like_a_document", "malformed", _directory_named_like_a_document, "load.file", ""),
    Case("symlink_pointing_outside_content", "malformed", _symlink_outside_content, "load.file", ""),
    Case("symlink_to_a_system_file", "malformed", _symlink_to_system_file, "load.file", ""),
    Case("relative_symlink_escaping_content", "malformed", _relative_symlink_escape, "load.file", ""),
    Case("symlinked_directory", "malformed", _symlinked_directory, "load.file", ""),
    Case("dangling_symlink", "malformed", _dangling_symlink, "load.file", ""),
    Case("symlink_loop", "malformed", _symlink_loop, "load.file", ""),
    Case("fifo_where_a_file_is_expected", "malformed", _fifo, "load.file", ""),
]


# --- impossible dates: the right shape, no such instant -----------------------
# Unsigned timestamps are checked as strictly as signed ones: an impossible
# date must never be skipped ("not a timestamp, so no limit") or reinterpreted.

def _bundle_with(edit):
    def make():
        bundle = make_bundle()
        edit(bundle)
        return resign_bundle(bundle)
    return make


def _resigned_event(index: int, edit):
    def change(bundle):
        event = bundle["events"][index]
        edit(event)
        bundle["events"][index] = sign_event(event)
    return _bundle_with(change)


_FEB_30 = "2026-02-30T00:00:00Z"

DATE_CASES = [
    doc_case("impossible_date_in_record_updated_at", "malformed", mutated(RECORD, set_path("updated_at", _FEB_30)),
             "record.schema", "updated_at"),
    doc_case("impossible_date_in_receipt_signed_at", "malformed",
             mutated(RECORD, set_path("receipt.signed_at", _FEB_30)), "record.schema", "receipt.signed_at"),
    doc_case("impossible_date_in_signed_submitted_at", "malformed",
             mutated(RECORD, set_path("canonical_record.metadata.submitted_at", _FEB_30)),
             "record.schema", "canonical_record.metadata.submitted_at"),
    doc_case("impossible_date_in_displayed_submitted_at", "malformed",
             mutated(RECORD, set_path("paper.submitted_at", _FEB_30)), "record.schema", "paper.submitted_at"),
    doc_case("february_29_of_a_common_year_in_record_created_at", "malformed",
             mutated(RECORD, set_path("created_at", "2025-02-29T00:00:00+00:00")), "record.schema", "created_at"),
    doc_case("hour_24_in_record_updated_at", "malformed",
             mutated(RECORD, set_path("updated_at", "2026-05-18T24:00:00+00:00")), "record.schema", "updated_at"),
    doc_case("impossible_offset_minute_in_record_updated_at", "malformed",
             mutated(RECORD, set_path("updated_at", "2026-05-18T00:00:00-00:60")), "record.schema", "updated_at"),
    doc_case("impossible_date_in_receipt_last_reissued_at", "malformed",
             mutated(RECORD, set_path("receipt.last_reissued_at", _FEB_30)),
             "record.schema", "receipt.last_reissued_at"),
    doc_case("impossible_date_in_bundle_built_at", "malformed",
             _bundle_with(lambda b: b.__setitem__("built_at", _FEB_30)), "bundle.schema", "built_at"),
    doc_case("impossible_date_in_bundle_signature_signed_at", "malformed",
             mutated(BUNDLE, set_path("bundle_signature.signed_at", _FEB_30)),
             "bundle.schema", "bundle_signature.signed_at"),
    doc_case("impossible_date_in_event_created_at", "malformed",
             _resigned_event(1, lambda e: e.__setitem__("created_at", _FEB_30)),
             "bundle.schema", "events[1].created_at"),
    doc_case("impossible_date_in_event_signature_signed_at", "malformed",
             mutated(BUNDLE, set_path("events.1.signature.signed_at", _FEB_30)),
             "bundle.schema", "events[1].signature.signed_at"),
    doc_case("impossible_date_in_record_event_receipt_signed_at", "malformed",
             _resigned_event(0, lambda e: e["payload"]["receipt"].__setitem__("signed_at", _FEB_30)),
             "event.payload", "events[0].payload.receipt.signed_at"),
]


# --- generated: a wrong type and a missing field at every level ------------

def _walk(shape: Any, value: Any, path: str) -> Iterator[tuple[str, Any, bool]]:
    """Yield ``(path, shape, required)`` for every field of ``value`` that the shape describes."""
    if isinstance(shape, shapes.Nullable):
        if value is not None:
            yield from _walk(shape.shape, value, path)
    elif isinstance(shape, dict) and isinstance(value, dict):
        for key, sub in shape.items():
            optional = isinstance(sub, shapes.Opt)
            sub = sub.shape if optional else sub
            if key in value:
                child = f"{path}.{key}" if path else key
                yield child, sub, not optional
                yield from _walk(sub, value[key], child)
    elif isinstance(shape, list) and isinstance(value, list) and value:
        yield f"{path}[0]", shape[0], True
        yield from _walk(shape[0], value[0], f"{path}[0]")


def _wrong_value(shape: Any) -> Any:
    if isinstance(shape, shapes.Nullable):
        return _wrong_value(shape.shape)
    if isinstance(shape, (dict, shapes.MapOf)) or shape is dict:
        return ["not", "an", "object"]
    if isinstance(shape, list) or shape is list:
        return {"not": "an array"}
    if shape is int:
        return "12"
    if shape is bool:
        return 1
    if isinstance(shape, shapes.AnyOf):
        return "neither"
    return 12  # str, Regex, Const


def _tokens(path: str) -> list:
    out: list = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        if name:
            out.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            out.append(int(index))
            rest = rest.lstrip("[")
    return out


def _set(doc: Any, path: str, value: Any, delete: bool = False) -> None:
    *parents, last = _tokens(path)
    for p in parents:
        doc = doc[p]
    if delete:
        del doc[last]
    else:
        doc[last] = value


def _const(doc: Any) -> Callable[[], Any]:
    return lambda: doc


def _generated(seed: dict, shape: Any, kind: str) -> list[Case]:
    cases = []
    for path, sub, required in _walk(shape, seed, ""):
        slug = path.replace(".", "__").replace("[", "_").replace("]", "")
        wrong = copy.deepcopy(seed)
        _set(wrong, path, _wrong_value(sub))
        check = f"{kind}.schema" if path not in ("record_type", "bundle_type") else "load.type"
        cases.append(doc_case(f"{kind}_wrong_type_at_{slug}", "malformed", _const(wrong), check,
                              "" if check == "load.type" else path))
        if required and not path.endswith("]"):
            missing = copy.deepcopy(seed)
            _set(missing, path, None, delete=True)
            cases.append(doc_case(f"{kind}_missing_{slug}", "malformed", _const(missing), check,
                                  "" if check == "load.type" else path))
    return cases


GENERATED = _generated(RECORD, shapes.RECORD, "record") + _generated(BUNDLE, shapes.BUNDLE, "bundle")

CASES = ([doc_case(n, "malformed", _const(d), c, f) for n, d, c, f in BYTES_CASES]
         + FS_CASES + DATE_CASES + GENERATED)

__all__ = ["CASES", "write"]

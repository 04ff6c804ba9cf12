"""Malformed input: bad bytes, bad JSON, bad files, and a wrong type or a
missing field at every level of the record and bundle schemas (generated
from ``sitegen.schema`` and the seeds, so a new field is covered at once)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, Iterator

from sitegen.pith import shapes
from conformance.cases import BUNDLE, DIR, RECORD, Case, doc_case, write
from pithfactory import SEED_RECORDS

SEED_BYTES = SEED_RECORDS[0].read_bytes()


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
    ("duplicate_key_in_nested_object", _replace(b'"kind":"arxiv",', b'"kind":"arxiv","kind":"arxiv",'), "load.json", ""),
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


FS_CASES = [
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


def _generated(seed: dict, shape: Any, kind: str) -> list[Case]:
    cases = []
    for path, sub, required in _walk(shape, seed, ""):
        slug = path.replace(".", "__").replace("[", "_").replace("]", "")
        wrong = copy.deepcopy(seed)
        _set(wrong, path, _wrong_value(sub))
        check = f"{kind}.schema" if path not in ("record_type", "bundle_type") else "load.type"
        cases.append(doc_case(f"{kind}_wrong_type_at_{slug}", "malformed", lambda d=wrong: d, check,
                              "" if check == "load.type" else path))
        if required and not path.endswith("]"):
            missing = copy.deepcopy(seed)
            _set(missing, path, None, delete=True)
            cases.append(doc_case(f"{kind}_missing_{slug}", "malformed", lambda d=missing: d, check,
                                  "" if check == "load.type" else path))
    return cases


GENERATED = _generated(RECORD, shapes.RECORD, "record") + _generated(BUNDLE, shapes.BUNDLE, "bundle")

CASES = ([doc_case(n, "malformed", lambda d=d: d, c, f) for n, d, c, f in BYTES_CASES]
         + FS_CASES + GENERATED)

__all__ = ["CASES", "write"]

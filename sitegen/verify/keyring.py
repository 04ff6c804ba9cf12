"""The operator's keyring: trusted Ed25519 keys from ``content/keys/*.json``.

Each file is a key document in the resolver's format (docs/protocol.md §3),
read through the guarded reader and checked by
:func:`sitegen.pith.keys.parse_key_document`. Trust comes only from these
files; a key embedded in a document (a bundle's ``public_keys``) is at most
compared with the key here of the same id.

The keyring fails closed: two files with the same ``key_id``, or the same
public key under two ids (revoking one id would not revoke the key), are
problems that stop the build.
"""

from __future__ import annotations

import os
from pathlib import Path

from sitegen.errors import InputError, Problem, os_problem
from sitegen.model import Keyring, SourceFile, TrustedKey
from sitegen.pith.keys import parse_key_document
from sitegen.reader import display_path, read_untrusted

__all__ = ["load_keyring", "MAX_KEY_BYTES", "KEY_HINT"]

#: Size cap of a key document.
MAX_KEY_BYTES = 1024 * 1024
#: Where an operator gets the Pith registry key (the fix in every "no keys" message).
KEY_HINT = ("add the key documents you trust: the Pith registry key pith-v1-2026-05.json is published at "
            "https://pith.science/pith-signing-key.json (check its fingerprint), and `sitegen init` writes it "
            "into a new site")


def load_keyring(keys_dir: Path, site_dir: Path) -> tuple[Keyring, list[Problem]]:
    """Load every ``*.json`` in ``keys_dir`` into a :class:`Keyring`.

    Returns ``(keyring, problems)``; never raises for bad input. A missing or
    empty directory is a problem (without trusted keys nothing can be
    verified), and so is an ambiguous key (see the module docstring).
    """
    rel_dir = display_path(keys_dir, site_dir)
    if not keys_dir.is_dir():
        return Keyring.of([]), [Problem(rel_dir + "/", "", f"no keys directory — {KEY_HINT}", "key.keyring")]
    keys: list[TrustedKey] = []
    problems: list[Problem] = []
    try:
        names = sorted(os.listdir(keys_dir))
    except OSError as e:
        return Keyring.of([]), [Problem(rel_dir + "/", "", f"cannot list the keys directory: {os_problem(e)} — "
                                        "make it readable by the user running sitegen", "key.keyring")]
    for name in names:
        if name.startswith(".") or not name.endswith(".json"):
            continue
        path = keys_dir / name
        rel = display_path(path, site_dir)
        try:
            data = read_untrusted(path, root=keys_dir, max_bytes=MAX_KEY_BYTES, rel=rel, root_name=rel_dir + "/",
                                  cap_setting="key documents are small")
        except InputError as e:
            problems.append(e.problem)
            continue
        key, errs = parse_key_document(SourceFile(path=path, rel=rel, data=data))
        problems.extend(errs)
        if key is None:
            continue
        twin = next((k for k in keys if k.key_id == key.key_id), None)
        if twin is not None:
            problems.append(Problem(rel, "key_id", f"{key.key_id!r} is also defined in {twin.source.rel}; "
                                    "key ids must be unique", "key.keyring"))
            continue
        same = next((k for k in keys if k.public_key == key.public_key), None)
        if same is not None:
            # Threat: revoking one id of a stolen key while it stays trusted under another.
            problems.append(Problem(rel, "public_key_b64", f"is the same key as {same.key_id!r} in "
                                    f"{same.source.rel}; one key, one key id", "key.keyring"))
            continue
        keys.append(key)
    if not keys and not problems:
        problems.append(Problem(rel_dir + "/", "", f"no trusted keys, so nothing can be verified — {KEY_HINT}",
                                "key.keyring"))
    return Keyring.of(keys), problems

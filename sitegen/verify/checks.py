"""Named verification checks shared by the record and bundle verifiers.

:class:`Checks` collects :class:`~sitegen.model.CheckResult` values for one
document; the rule functions below add the checks of docs/protocol.md §3–4 that
records, bundles and events have in common. Each rule's comment names the
threat it stops. Nothing here raises for bad input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sitegen.errors import quote
from sitegen.model import CheckResult, Keyring, TrustedKey
from sitegen.pith import canonical, keys, numbers, shapes
from sitegen.pith.routes import RESOLVER_HOST
from sitegen.pith.timestamps import parse_timestamp

__all__ = ["Checks", "check_schema", "check_signature", "check_receipt", "check_canonical_identity",
           "check_paper", "check_aliases", "check_links", "check_embedded_key"]


def _short(hex_digest: str) -> str:
    return f"{hex_digest[:12]}…"


class Checks:
    """An ordered list of named check results for one document."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def add(self, name: str, field: str, ok: bool, problem: str, passed: str = "") -> bool:
        self.results.append(CheckResult(name, field, bool(ok), passed if ok else problem))
        return bool(ok)

    def equal(self, name: str, field: str, observed: Any, expected: Any, *,
              expected_what: str = "expected", passed: str = "") -> bool:
        ok = observed == expected and type(observed) is type(expected)
        return self.add(name, field, ok,
                        f"is {quote(observed)}, {expected_what} {quote(expected)}",
                        passed or f"matches ({quote(expected, 60)})")

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def extend(self, results: list[CheckResult]) -> None:
        self.results.extend(results)


def check_schema(checks: Checks, name: str, body: Any, shape: Any) -> bool:
    """Add one failure per shape mismatch (or one pass) under check ``name``;
    True when ``body`` has the shape. Later checks may then index freely."""
    problems = shapes.validate(body, shape)
    for path, message in problems:
        checks.add(name, path, False, message)
    return not problems and checks.add(name, "", True, "", "all required fields present with the right types")


def check_signature(checks: Checks, prefix: str, field: str, *, keyring: Keyring,
                    block: Mapping[str, Any], digest_hex: str, what: str,
                    signed_at: str | None, date_field: str) -> TrustedKey | None:
    """Check a signature block (``key_id``, ``public_key_fingerprint``,
    ``signature_b64``) over the raw bytes of the *recomputed* ``digest_hex``.

    ``signed_at`` is the signature's date, taken from a signed field where the
    format has one (an event's ``created_at``, a bundle's ``built_at``);
    ``date_field`` names it. Adds ``<prefix>.key``, ``<prefix>.key_validity``
    (revocation, ``not_before``/``rotates_at``), ``<prefix>.fingerprint`` and
    ``<prefix>.signature``. Returns the trusted key when all pass.
    """
    key = keyring.get(block["key_id"])
    # Threat: signature by an attacker's key. Trust comes only from the keyring.
    if not checks.add(f"{prefix}.key", f"{field}.key_id", key is not None,
                      f"key {quote(block['key_id'])} is not in the keyring (content/keys/)",
                      f"key {block['key_id']} is trusted") or key is None:
        return None
    # Threat: a compromised (revoked) or retired (rotated) key signing new content.
    try:
        when = None if signed_at is None else parse_timestamp(signed_at)
    except ValueError:  # the shape check accepts only real timestamps; stay closed regardless
        checks.add(f"{prefix}.key_validity", date_field, False, f"{quote(signed_at)} is not a timestamp")
        return None
    problem = key.validity_problem(when)
    if not checks.add(f"{prefix}.key_validity", date_field, problem is None, problem or "",
                      f"key {key.key_id} is valid at {signed_at}"):
        return None
    # Threat: a receipt that names a trusted key id but was made for another key.
    checks.equal(f"{prefix}.fingerprint", f"{field}.public_key_fingerprint",
                 block["public_key_fingerprint"], key.fingerprint_hex,
                 expected_what=f"trusted key {key.key_id} has fingerprint")
    ok = keys.verify_digest_signature(digest_hex, block["signature_b64"], key.public_key)
    checks.add(f"{prefix}.signature", f"{field}.signature_b64", ok,
               f"does not verify with key {key.key_id} over {what} {_short(digest_hex)}",
               f"Ed25519 signature by {key.key_id} over {what} verifies")
    return key if ok else None


def check_receipt(checks: Checks, prefix: str, field: str, *, keyring: Keyring,
                  receipt: Mapping[str, Any], digest_hex: str) -> None:
    """Check a record receipt against the *recomputed* canonical hash
    (docs/protocol.md §3). Threat: a receipt copied from another record (replay)."""
    checks.equal(f"{prefix}.canonical_sha256", f"{field}.canonical_sha256", receipt["canonical_sha256"],
                 digest_hex, expected_what="canonical_record hashes to")
    # A receipt's signed_at is not covered by its signature (docs/protocol.md §3): the
    # window check stops honest mistakes; revocation is the defence for a stolen key.
    check_signature(checks, prefix, field, keyring=keyring, block=receipt, digest_hex=digest_hex,
                    what="the canonical hash", signed_at=receipt.get("signed_at"),
                    date_field=f"{field}.signed_at")


def check_canonical_identity(checks: Checks, prefix: str, doc: Mapping[str, Any]) -> tuple[str, str]:
    """Check ``canonical_sha256``, ``pith_number``, ``short_pith_number`` and
    ``source`` of a record or bundle against its ``canonical_record``.

    Returns ``(digest_hex, suffix)`` recomputed from the canonical record —
    never the claimed values (threat: a document relabelled with another
    record's Pith Number). docs/protocol.md §1–2, §4.1.
    """
    cr = doc["canonical_record"]
    digest = canonical.canonical_sha256(cr)
    suffix = numbers.pith_suffix(digest)
    year = cr["metadata"]["submitted_at"][:4]
    number = numbers.format_pith_number(year, suffix)
    checks.equal(f"{prefix}.canonical_sha256", "canonical_sha256", doc["canonical_sha256"], digest,
                 expected_what="canonical_record hashes to",
                 passed=f"canonical_record hashes to {digest}")
    checks.equal(f"{prefix}.pith_number", "pith_number", doc["pith_number"],
                 number, expected_what="the canonical record's Pith Number is",
                 passed=f"{number} recomputed from the canonical hash and submitted_at")
    checks.equal(f"{prefix}.short_pith_number", "short_pith_number", doc["short_pith_number"],
                 numbers.short_pith_number(suffix), expected_what="expected")
    checks.equal(f"{prefix}.source", "source", doc["source"], cr["source"],
                 expected_what="canonical_record.source is")
    checks.add(f"{prefix}.source_version", "canonical_record.source.version",
               cr["source"]["version"] >= 1, f"is {cr['source']['version']}, expected a version ≥ 1",
               f"v{cr['source']['version']}")
    return digest, suffix


def check_paper(checks: Checks, prefix: str, field: str, paper: Mapping[str, Any],
                metadata: Mapping[str, Any]) -> None:
    """Check displayed paper metadata against the signed canonical metadata
    (docs/protocol.md §4.1). Threat: a page showing a title, category, date or
    licence the signature does not cover. ``abstract_canon_sha256`` cannot be
    checked: only an excerpt is published."""
    for key in ("primary_cat", "license", "submitted_at"):
        checks.equal(f"{prefix}.{key}", f"{field}.{key}", paper[key], metadata[key],
                     expected_what=f"canonical_record.metadata.{key} is")
    checks.equal(f"{prefix}.cross_cats", f"{field}.cross_cats", sorted(paper["cross_cats"]),
                 metadata["cross_cats_sorted"], expected_what="sorted, expected cross_cats_sorted")
    title_hash = canonical.title_canon_sha256(paper["title"])
    checks.add(f"{prefix}.title", f"{field}.title", title_hash == metadata["title_canon_sha256"],
               f"lower-cased title hashes to {_short(title_hash)}, canonical_record.metadata."
               f"title_canon_sha256 is {_short(metadata['title_canon_sha256'])}",
               "title verified up to letter case: SHA-256 of the lower-cased title matches title_canon_sha256")


_SHORT_ALIASES = {"pith_short_8": 8, "pith_short_12": 12, "pith_short_16": 16}


def check_aliases(checks: Checks, prefix: str, field: str, aliases: list[Any], source: Mapping[str, Any],
                  suffix: str) -> None:
    """Check every alias of a known kind against the source id and suffix
    (docs/protocol.md §2, §4.1). Threat: an alias that makes one paper's id or DOI
    resolve to another paper's Pith Number. Unknown alias kinds are kept in
    the document but never used to build paths or links."""
    arxiv_id, version = source["id"], source["version"]
    expected = {
        "arxiv": arxiv_id,
        "arxiv_version": f"{arxiv_id}v{version}",
        "doi": f"10.48550/arxiv.{arxiv_id}",
        **{kind: suffix[:n] for kind, n in _SHORT_ALIASES.items()},
    }
    bad = []
    for i, alias in enumerate(aliases):
        kind, value = alias["alias_kind"], alias["alias_value"]
        if kind not in expected:
            continue
        want = expected[kind]
        same = value.lower() == want.lower() if kind == "doi" else value == want  # DOIs are case-insensitive
        if not same:
            bad.append(i)
            checks.add(f"{prefix}.aliases", f"{field}[{i}].alias_value", False,
                       f"{kind} alias is {quote(value)}, expected {quote(want)}")
    if not bad:
        checks.add(f"{prefix}.aliases", field, True, "",
                   f"{len(aliases)} alias{'' if len(aliases) == 1 else 'es'} consistent with {arxiv_id} and the suffix")


def check_links(checks: Checks, prefix: str, field: str, links: Mapping[str, str],
                expected_paths: Mapping[str, str]) -> None:
    """Check that each known link is ``https://<RESOLVER_HOST>`` with the path
    expected for this suffix (docs/protocol.md §4.1, §5). Threat: a document
    that points readers at another record or another site. Unknown link keys
    are not rendered."""
    bad = False
    for key, path in expected_paths.items():
        if key not in links:
            continue
        url = links[key]
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. an unbalanced '[' or ']' in the host (fuzzer find)
            parts = None
        if (parts is None or parts.scheme != "https" or parts.netloc != RESOLVER_HOST or parts.path != path
                or parts.query or parts.fragment):
            bad = True
            checks.add(f"{prefix}.links", f"{field}.{key}", False,
                       f"is {quote(url)}, expected {'https://' + RESOLVER_HOST + path!r}")
    if not bad:
        checks.add(f"{prefix}.links", field, True, "", "links point at this Pith Number")


def check_embedded_key(checks: Checks, prefix: str, field: str, embedded: Mapping[str, Any],
                       keyring: Keyring) -> None:
    """Compare a key embedded in a document with the trusted key of the same id.

    Threat: key substitution — a bundle shipping its own key under the trusted
    key id so that naive clients verify forged signatures with it. An embedded
    key is never a source of trust (docs/protocol.md §3)."""
    key = keyring.get(embedded["key_id"])
    if key is None:
        checks.add(f"{prefix}.public_keys", f"{field}.key_id", False,
                   f"embedded key {quote(embedded['key_id'])} is not in the keyring; add its key "
                   "document to content/keys/ if you trust it")
        return
    for name in keys.KEY_MATERIAL:
        if embedded[name] != key.document[name]:
            checks.add(f"{prefix}.public_keys", f"{field}.{name}", False,
                       f"is {quote(embedded[name])}, trusted key {key.key_id} has "
                       f"{quote(key.document[name])}")
            return
    checks.add(f"{prefix}.public_keys", field, True, "",
               f"embedded key {key.key_id} is identical to the trusted key")

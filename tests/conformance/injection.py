"""Injection and terminal safety.

Injection: values that try to become paths (traversal, absolute paths, NUL,
backslashes, Windows device names, very long names) or active content
(``javascript:``/``data:`` URLs, markup in fields that become URLs or
attributes). They are rejected by the schema before any path or page is made.
(Hostile text that is *validly signed* is published safely instead: see
hostile.py.)

Terminal: control characters, ANSI/OSC escapes, bidi overrides and newlines in
values and file names never reach the terminal raw (the runner checks every
case's output for that); these cases aim at it directly.
"""

from __future__ import annotations

import json
from pathlib import Path

from conformance.cases import BUNDLE, RECORD, Case, doc_case, mutated, set_path, write
from pithfactory import SEED_RECORDS

_PITH = "pith_number"
_ID = "canonical_record.source.id"

_TRAVERSAL_PITH_NUMBERS = {
    "pith_number_dotdot_traversal": "pith:2017:../../../../../../../etc/passwd",
    "pith_number_absolute_path": "pith:2017:/etc/passwd",
    "pith_number_with_nul": "pith:2017:5MNN3ESPUBUZ7RMNTFRAQPY7\x00U",
    "pith_number_with_backslashes": "pith:2017:..\\..\\..\\Windows\\win.ini",
    "pith_number_windows_device_name": "pith:2017:CON",
    "pith_number_windows_device_with_extension": "pith:2017:NUL.json",
    "pith_number_very_long": "pith:2017:" + "A" * 10_000,
    "pith_number_lowercase_suffix": "pith:2017:5mnn3espubuz7rmntfraqpy7zu",
    "pith_number_cyrillic_homoglyph": "pith:2017:5MNN3ESPUBUZ7RMNTFR\u0410QPY7ZU",
    "pith_number_url_encoded_traversal": "pith:2017:%2e%2e%2f%2e%2e%2fetc%2fpasswd",
}

_TRAVERSAL_IDS = {
    "arxiv_id_absolute_path": "/etc/passwd",
    "arxiv_id_windows_path": "C:\\Windows\\win.ini",
    "arxiv_id_old_style_with_dotdot": "hep-lat/../../0305021",
    "arxiv_id_with_nul": "1711.04325\x00.html",
    "arxiv_id_very_long": "1" * 10_000 + ".12345",
    "arxiv_id_javascript_url": "javascript:alert(1)",
    "arxiv_id_with_query_and_fragment": "1711.04325?x=1#top",
    "arxiv_id_with_markup": "<script>alert(1)</script>",
}

INJECTION_CASES = (
    [doc_case(n, "injection", mutated(RECORD, set_path(_PITH, v)), "record.schema", _PITH)
     for n, v in _TRAVERSAL_PITH_NUMBERS.items()]
    + [doc_case(n, "injection", mutated(RECORD, set_path(_ID, v)), "record.schema", _ID)
       for n, v in _TRAVERSAL_IDS.items()]
    + [
        doc_case("short_pith_number_traversal", "injection",
                 mutated(RECORD, set_path("short_pith_number", "pith:../../x")), "record.schema", "short_pith_number"),
        doc_case("data_url_in_links", "injection",
                 mutated(RECORD, set_path("links.html", "data:text/html,<script>alert(1)</script>")),
                 "record.links", "links.html"),
        doc_case("plain_http_link", "injection",
                 mutated(RECORD, set_path("links.json", RECORD["links"]["json"].replace("https:", "http:"))),
                 "record.links", "links.json"),
        # Found by atheris: urlsplit raised ValueError ("Invalid IPv6 URL") out of the verifier.
        doc_case("unbalanced_bracket_in_link_host", "injection",
                 mutated(RECORD, set_path("links.html", "https://p]ith.science/pith/X")), "record.links", "links.html"),
        doc_case("unbalanced_bracket_in_bundle_link_host", "injection",
                 mutated(BUNDLE, set_path("links.bundle", "https://[pith.science/pith/X/bundle.json")),
                 "bundle.links", "links.bundle"),
        doc_case("doi_alias_with_traversal", "injection",
                 mutated(RECORD, set_path("aliases.2.alias_value", "10.48550/arxiv.1711.04325/../../../etc")),
                 "record.aliases", "aliases[2].alias_value"),
        doc_case("javascript_url_as_citing_arxiv_id", "injection",
                 mutated(RECORD, set_path("inbound_citations.sample.0.citing_arxiv_id", "javascript:alert(1)")),
                 "record.schema", "inbound_citations.sample[0].citing_arxiv_id"),
        doc_case("markup_as_key_id", "injection",
                 mutated(RECORD, set_path("receipt.key_id", "<img src=x onerror=alert(1)>")),
                 "record.schema", "receipt.key_id"),
        doc_case("markup_as_event_type", "injection",
                 mutated(BUNDLE, set_path("events.0.event_type", "<script>")), "bundle.schema", "events[0].event_type"),
        doc_case("markup_as_cross_category", "injection",
                 mutated(RECORD, set_path("canonical_record.metadata.cross_cats_sorted", ['"><script>'])),
                 "record.schema", "canonical_record.metadata.cross_cats_sorted[0]"),
        doc_case("timestamp_with_markup", "injection",
                 mutated(RECORD, set_path("canonical_record.metadata.submitted_at", "2017-11-12T17:36:46Z<b>")),
                 "record.schema", "canonical_record.metadata.submitted_at"),
    ]
)


SEED = SEED_RECORDS[0].read_bytes()


def _named(filename: str, data: bytes = b"{"):
    def setup(content: Path) -> str:
        return write(content, filename, data)
    return setup


TERMINAL_CASES = [
    doc_case("ansi_escape_in_rejected_value", "terminal",
             mutated(RECORD, set_path("aliases.0.alias_value", "\x1b[2J\x1b[31mpwned\x1b[0m")),
             "record.aliases", "aliases[0].alias_value"),
    doc_case("osc8_hyperlink_escape_in_value", "terminal",
             mutated(RECORD, set_path("aliases.1.alias_value", "\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\")),
             "record.aliases", "aliases[1].alias_value"),
    doc_case("carriage_return_and_backspace_in_value", "terminal",
             mutated(RECORD, set_path("aliases.0.alias_value", "ok\r\x08\x08fake: all checks passed")),
             "record.aliases", "aliases[0].alias_value"),
    doc_case("bidi_override_in_value", "terminal",
             mutated(RECORD, set_path("pith_number", "pith:2017:\u202eUZ7YPQARFTNMR7ZUBUPSE3NNM5")),
             "record.schema", "pith_number"),
    doc_case("megabyte_value_is_truncated", "terminal",
             mutated(RECORD, set_path("aliases.0.alias_value", "A" * 1_000_000)),
             "record.aliases", "aliases[0].alias_value"),
    doc_case("control_characters_in_duplicate_key", "terminal",
             lambda: b'{"\x1b[31m": 1, "\x1b[31m": 2}', "load.json", ""),
    Case("ansi_escape_in_file_name", "terminal", _named("\x1b[31mred\x1b[0m.json"), "load.json", ""),
    Case("newline_in_file_name_forges_a_line", "terminal",
         _named("evil\ncontent/x.json: all 125 checks passed.json"), "load.json", ""),
    Case("bidi_override_in_file_name", "terminal", _named("\u202enosj.json"), "load.json", ""),
    Case("unknown_type_with_escape_in_type_value", "terminal",
         _named("typed.json", json.dumps({"record_type": "\x1b[31mevil"}).encode()), "load.type", ""),
]

CASES = INJECTION_CASES + TERMINAL_CASES

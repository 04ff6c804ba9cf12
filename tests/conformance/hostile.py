"""Hostile documents that are *validly signed* (by the test key): the
signature is fine, the text is an attack. They must be published — escaped,
inert text, no script runs — never rejected and never executed.

Every payload that could run tries ``window.__pwned = 1`` and ``alert()``;
the browser test checks neither happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pithfactory import make_bundle, make_record

RUN = "window.__pwned=1;alert(1)"


@dataclass(frozen=True)
class Hostile:
    name: str
    make: Callable[[], dict]
    kind: str = "record"


def _record(n: int, **kw) -> Callable[[], dict]:
    return lambda: make_record(arxiv_id=f"2301.{n:05d}", **kw)


HOSTILE = [
    Hostile("script_tag_in_title", _record(1, title=f"<script>{RUN}</script>")),
    Hostile("event_handler_in_authors", _record(2, authors=f'<img src=x onerror="{RUN}">, Eve <svg onload={RUN}>')),
    Hostile("closing_script_in_abstract", _record(3, abstract=f"</script><script>{RUN}</script>")),
    Hostile("attribute_breakout_in_abstract", _record(4, abstract=f'" onmouseover="{RUN}" x="')),
    Hostile("javascript_url_as_license", _record(5, license=f"javascript:{RUN}")),
    Hostile("data_url_as_license", _record(6, license=f"data:text/html,<script>{RUN}</script>")),
    Hostile("license_url_breaking_out_of_href", _record(7, license=f'https://x.test/" onclick="{RUN}')),
    Hostile("css_injection_in_title", _record(8, title="</style><style>body{display:none}</style>")),
    Hostile("bidi_override_in_title", _record(9, title="Invoice \u202egnp.exe benign")),
    Hostile("zero_width_characters_in_title", _record(10, title="Pa\u200bper\u2060 \ufeffTitle")),
    Hostile("html_entities_in_title", _record(11, title="&lt;script&gt;alert(1)&lt;/script&gt; &amp;")),
    Hostile("jinja_syntax_in_title", _record(12, title="{{ 7*7 }} {% raw %} {{ config }}")),
    Hostile("iframe_in_abstract", _record(13, abstract='<iframe src="javascript:alert(1)"></iframe>')),
    Hostile("meta_refresh_in_title", _record(14, title='<meta http-equiv="refresh" content="0;url=https://evil.test">')),
    Hostile("base_tag_in_authors", _record(15, authors='<base href="https://evil.test/">, Mallory')),
    Hostile("script_in_bundle_graph_snapshot", lambda: make_bundle(arxiv_id="2301.00016",
            title=f"<script>{RUN}</script>", authors=f"<img src=x onerror={RUN}>"), "bundle"),
    Hostile("null_and_control_characters_in_abstract", _record(17, abstract="a\x00b\x07c\x1b[31md")),
]

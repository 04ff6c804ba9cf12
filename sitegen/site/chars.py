"""Characters no output file may carry, whatever the text.

Text that is legal in a JSON document may still break the files sitegen
writes: XML 1.0 (``feed.xml``, the sitemaps) forbids C0 controls other than
tab, LF and CR, U+FFFE, U+FFFF and surrogates; HTML calls every control
(C0, DEL, C1) and every noncharacter a parse error; a lone surrogate has no
UTF-8 form at all, so writing it fails. :func:`well_formed` replaces each
such character with a visible U+FFFD — record views do it to every unsigned
string, and the Jinja environment does it to every value a template outputs
(:func:`sitegen.site.theme.make_environment`), so no page, feed or sitemap is
malformed whatever reaches it. Linear time (one compiled character class).
"""

from __future__ import annotations

import re

__all__ = ["well_formed", "first_illegal", "REPLACEMENT"]

REPLACEMENT = "\ufffd"

#: C0 controls but tab/LF/CR, DEL and C1, surrogates, and the noncharacters
#: (U+FDD0–U+FDEF and the last two code points of every plane).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
                      + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
                      + "]")


def well_formed(text: str) -> str:
    """``text`` with every character XML 1.0 or HTML forbids (see module
    docstring) replaced by U+FFFD; ``text`` itself when it has none."""
    if text.isascii() and text.isprintable():  # the common case, checked in C
        return text
    if _ILLEGAL.search(text) is None:
        return text
    return _ILLEGAL.sub(REPLACEMENT, text)


def first_illegal(text: str) -> str | None:
    """The first character of ``text`` that :func:`well_formed` would replace, or None."""
    if text.isascii() and text.isprintable():  # the common case, checked in C
        return None
    m = _ILLEGAL.search(text)
    return m.group() if m else None

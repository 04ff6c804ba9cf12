"""YAML front matter of a Markdown page: ``title``, ``description``, ``draft``, ``weight``.

A page may start with a block of YAML between two ``---`` lines (the closing
line may also be ``...``), as in Hugo, Jekyll and MkDocs::

    ---
    title: Setting up a mirror
    description: How to build and host a verified Pith mirror.
    weight: 10
    draft: false
    ---

The front matter is untrusted input like the rest of ``content/``:

* it is found by one forward scan over at most :data:`MAX_FRONT_MATTER_CHARS`
  characters (a page starting with ``---`` and no closing line within that
  bound is an error, not a slow search);
* PyYAML's event stream is checked first (:func:`_check_events`), stopping at
  the first thing a flat ``key: value`` mapping cannot hold: anchors and
  aliases (so no "billion laughs" expansion can happen), explicit tags, lists,
  nested mappings, several documents, unknown or repeated keys. PyYAML's
  pure-Python scanner takes time quadratic in the nesting depth of ``[``/``{``;
  stopping at the first nested collection keeps it linear;
* only then is it loaded with ``yaml.safe_load`` (never ``yaml.load``), and
  every value's type is checked: a YAML 1.1 surprise (``title: yes`` is
  ``True``, ``title: 2024-01-01`` a date) is an error that says to quote it.

Errors are :class:`ValueError` with a message naming the key; the caller
names the file.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import yaml

from sitegen.errors import quote, safe_text
from sitegen.site.tex import plain_text

__all__ = ["FrontMatter", "split_front_matter", "parse_front_matter", "MAX_FRONT_MATTER_CHARS", "KEYS"]

#: Longest front matter (characters, both ``---`` lines included). A title, a
#: description and two numbers need a few hundred.
MAX_FRONT_MATTER_CHARS = 4096
#: Longest title and description, after whitespace is collapsed.
MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 500
#: ``weight`` is between ``-MAX_WEIGHT`` and ``MAX_WEIGHT``.
MAX_WEIGHT = 1_000_000
#: The keys a page's front matter may hold; any other is an error (typos).
KEYS = ("description", "draft", "title", "weight")


@dataclass(frozen=True)
class FrontMatter:
    """A page's front matter: ``title`` and ``description`` (None when not
    given; whitespace collapsed), ``draft`` (not published), ``weight``
    (navigation order, smallest first; 0 when not given)."""

    title: str | None = None
    description: str | None = None
    draft: bool = False
    weight: int = 0


def split_front_matter(text: str) -> tuple[str | None, str]:
    """``(yaml, body)`` of a page: the YAML between a first line ``---`` and
    the next line ``---`` or ``...``, or ``(None, text)`` when the page does
    not start with a ``---`` line. Linear: one forward scan that stops after
    :data:`MAX_FRONT_MATTER_CHARS` characters. Raises :class:`ValueError`
    for front matter not closed within that bound and for TOML front matter
    (``+++``)."""
    first_end = text.find("\n", 0, 8)
    first = (text[:first_end] if first_end >= 0 else text[:8]).rstrip()
    if first == "+++":
        raise ValueError("front matter in TOML ('+++') is not supported; write it in YAML between '---' lines")
    if first != "---" or first_end < 0:
        return None, text
    start = pos = first_end + 1
    bound = MAX_FRONT_MATTER_CHARS + 8  # room for the closing line itself
    while pos < len(text) and pos <= MAX_FRONT_MATTER_CHARS:
        end = text.find("\n", pos, bound)
        if end < 0:
            end = min(len(text), bound)
        if text[pos:end].rstrip() in ("---", "...") and (end == len(text) or text[end] == "\n"):
            return text[start:pos], text[end + 1:]
        pos = end + 1
    raise ValueError(f"the page starts with a '---' line but no closing '---' line follows within "
                     f"{MAX_FRONT_MATTER_CHARS} characters; close the front matter (at most "
                     f"{MAX_FRONT_MATTER_CHARS} characters), or do not start the page with '---'")


def _where(event: yaml.Event) -> str:
    """`` (line N)``: where ``event`` starts, as a line of the page (the
    front matter starts on line 2)."""
    mark = event.start_mark
    return f" (line {mark.line + 2})" if mark is not None else ""


def _check_events(text: str) -> None:
    """Refuse, at the first offending event, anything but one flat mapping of
    known keys to plain scalars (see the module docstring)."""
    documents, depth, expect_key, key = 0, 0, True, ""
    seen: set[str] = set()
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
            continue
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise ValueError(f"front matter holds more than one YAML document{_where(event)}")
            continue
        if isinstance(event, yaml.AliasEvent):
            raise ValueError(f"YAML aliases ({quote('*' + str(event.anchor))}) are not allowed in front matter"
                             f"{_where(event)}")
        anchor, tag = getattr(event, "anchor", None), getattr(event, "tag", None)
        if anchor is not None:
            raise ValueError(f"YAML anchors ({quote('&' + str(anchor))}) are not allowed in front matter"
                             f"{_where(event)}")
        if tag is not None:
            raise ValueError(f"YAML tags ({quote(str(tag))}) are not allowed in front matter{_where(event)}")
        if isinstance(event, yaml.MappingStartEvent) and depth == 0 and documents == 1 and not seen:
            depth = 1
            continue
        if isinstance(event, yaml.MappingEndEvent) and depth == 1:
            depth = 2  # the mapping is closed; only the end of the document may follow
            continue
        if depth != 1:
            raise ValueError(f"front matter must be 'key: value' lines{_where(event)}")
        if isinstance(event, yaml.ScalarEvent):
            if expect_key:
                key = event.value
                if key not in KEYS:
                    raise ValueError(f"unknown front matter key {quote(key)}{_where(event)} "
                                     f"(known: {', '.join(KEYS)})")
                if key in seen:
                    raise ValueError(f"front matter key {quote(key)} is given twice{_where(event)}")
                seen.add(key)
            expect_key = not expect_key
            continue
        what = "a list" if isinstance(event, yaml.SequenceStartEvent) else "a mapping"
        if expect_key:
            raise ValueError(f"front matter keys must be plain words, got {what}{_where(event)}")
        raise ValueError(f"{key}: expected {_EXPECTED[key]}, got {what}{_where(event)}")


_EXPECTED = {"title": "text", "description": "text", "draft": "true or false", "weight": "a whole number"}


def _text(key: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected text, got {quote(value)}; put it in quotes")
    text = plain_text(value)
    if not text:
        raise ValueError(f"{key}: must not be empty")
    if len(text) > limit:
        raise ValueError(f"{key}: is {len(text)} characters, over the {limit}-character limit")
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise ValueError(f"{key}: must not contain a control character (U+{ord(ch):04X})")
    return text


def parse_front_matter(text: str) -> FrontMatter:
    """The :class:`FrontMatter` of YAML ``text`` (from :func:`split_front_matter`).
    Raises :class:`ValueError` naming the key for an unknown key, a value of
    the wrong type, and YAML that is invalid or more than a flat mapping."""
    if len(text) > MAX_FRONT_MATTER_CHARS:  # split_front_matter never returns more; a direct caller might
        raise ValueError(f"front matter is over {MAX_FRONT_MATTER_CHARS} characters")
    try:
        _check_events(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f" (line {mark.line + 2})" if mark is not None else ""
        raise ValueError(f"front matter is not valid YAML: {safe_text(str(e.problem or e.context), 200)}{line}"
                         ) from None
    except yaml.YAMLError as e:
        raise ValueError(f"front matter is not valid YAML: {quote(str(e), 200)}") from None
    if data is None:
        return FrontMatter()
    assert isinstance(data, dict)  # _check_events let only one flat mapping through
    fields: dict[str, object] = {}
    for key in ("title", "description"):
        if key in data:
            fields[key] = _text(key, data[key], MAX_TITLE_CHARS if key == "title" else MAX_DESCRIPTION_CHARS)
    if "draft" in data:
        if not isinstance(data["draft"], bool):
            raise ValueError(f"draft: expected true or false, got {quote(data['draft'])}")
        fields["draft"] = data["draft"]
    if "weight" in data:
        weight = data["weight"]
        if not isinstance(weight, int) or isinstance(weight, bool):
            raise ValueError(f"weight: expected a whole number, got {quote(weight)}")
        if not -MAX_WEIGHT <= weight <= MAX_WEIGHT:
            raise ValueError(f"weight: must be between {-MAX_WEIGHT} and {MAX_WEIGHT}, got {weight}")
        fields["weight"] = weight
    return FrontMatter(**fields)  # type: ignore[arg-type]

"""Text that goes into a picture: untrusted names made visible and harmless, numbers and labels.

Frame names, titles and notes come from captures of someone else's machine. lxml escapes the XML
specials (`<`, `&`, quotes), but it refuses characters XML cannot carry at all, and some legal
characters hide or reorder text. `visible()` replaces all of those with a visible stand-in:

* C0 control characters and DEL become their Unicode "control pictures" (U+2400-U+2421: ␀ ␉ ␊ ␛ ␡);
* bytes that were not UTF-8 (carried in foldkit's strings as surrogate escapes) become `\\xNN`;
* C1 controls, bidirectional overrides and isolates, other lone surrogates and the non-characters
  U+FFFE/U+FFFF become `\\uXXXX`.
"""

from __future__ import annotations

import re

from foldkit.lazy import regex

#: `typing.TYPE_CHECKING` without importing typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from foldkit.profile import Weight

#: The characters `visible()` replaces, as a regular-expression class: C0 controls, DEL and C1
#: controls, the bidi controls, every surrogate (lone, or a surrogate-escaped byte) and
#: U+FFFE/U+FFFF. Written out, not made from the tables below at import (a test checks that it is
#: exactly their keys): the tables are built when first used.
_NEEDS_WORK_CLASS = r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
_NEEDS_WORK = regex(globals(), "_NEEDS_WORK", _NEEDS_WORK_CLASS)

#: The translation tables, built on first use (`_tables`): `visible`'s, every surrogate's (the
#: only characters UTF-8 cannot encode) visible form, and that form inside a JSON string.
_TABLES: dict[str, dict[int, str]] = {}


def _tables() -> dict[str, dict[int, str]]:
    """`_TABLES`, built the first time: "visible" (control pictures, `\\uXXXX` escapes and the
    `\\xNN` of surrogate-escaped bytes), "surrogates" and "json" (see `_TABLES`)."""
    if _TABLES:
        return _TABLES
    control_pictures = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"}
    escaped_bytes = {0xDC00 + b: f"\\x{b:02x}" for b in range(0x80, 0x100)}
    unicode_escapes = {
        c: f"\\u{c:04x}"
        for c in [
            *range(0x80, 0xA0),  # C1 controls
            0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),  # bidi controls
            *range(0xD800, 0xDC80), *range(0xDD00, 0xE000),  # lone surrogates not from surrogateescape
            0xFFFE, 0xFFFF,
        ]
    }  # fmt: skip
    surrogates = {c: f"\\u{c:04x}" for c in range(0xD800, 0xE000)} | escaped_bytes
    _TABLES["visible"] = control_pictures | unicode_escapes | escaped_bytes
    _TABLES["surrogates"] = surrogates
    _TABLES["json"] = {c: v.replace("\\", "\\\\") for c, v in surrogates.items()}
    return _TABLES


#: The annotation suffixes foldkit and stackcollapse-perf.pl add: kernel, JIT, inlined, waker.
ANNOTATION = re.compile(r"_\[[kjiw]\]$")
#: How the leaf frame of off-CPU time starts (`[off-cpu:S]`, `fold --off-cpu`/`--wall`); drawn blue.
OFF_CPU_PREFIX = "[off-cpu:"


def visible(text: str) -> str:
    """`text` with every character XML cannot carry, or that would hide or reorder text, replaced
    by a visible stand-in (see the module docstring)."""
    if _NEEDS_WORK.search(text) is None:
        return text
    return text.translate(_tables()["visible"])


def utf8_safe(text: str) -> str:
    """`text` as valid UTF-8, for every output that must be (Parquet, JSON, polars frames, JUnit,
    HTML): bytes that were not UTF-8 in the input (surrogate escapes) become `\\xNN`, as
    `visible()` shows them, other lone surrogates `\\uXXXX`; anything else is kept."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.translate(_tables()["surrogates"])
    return text


def utf8_all(texts: Iterable[str | None]) -> list[str | None]:
    """`utf8_safe` of each text (None kept), with one check for the common all-valid case: the
    strings of a polars column."""
    texts = list(texts)
    try:
        "".join(t for t in texts if t is not None).encode("utf-8")
    except UnicodeEncodeError:
        return [None if t is None else utf8_safe(t) for t in texts]
    return texts


def utf8_json(text: str) -> bytes:
    """JSON text (`json.dumps(..., ensure_ascii=False)`) as UTF-8 bytes, undecodable input bytes in
    its strings given the visible form of `utf8_safe` (the only place surrogates can be)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.translate(_tables()["json"]).encode("utf-8")


def visible_lines(text: str) -> str:
    """`visible(text)` line by line: newlines kept, so a message of several lines stays readable."""
    return "\n".join(visible(part) for part in text.split("\n"))


def display_name(name: str) -> str:
    """A frame name as shown in labels and tooltips: annotation suffix removed, made visible."""
    return visible(ANNOTATION.sub("", name))


def format_count(value: Weight) -> str:
    """A weight for people: thousands separated, fractions to at most two decimals."""
    if isinstance(value, int):
        return f"{value:,}"
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def format_number(value: Weight) -> str:
    """A weight for machines (data attributes): integers plainly, fractions without float noise."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    return repr(value)


def format_px(value: float) -> str:
    """A coordinate: two decimals, without trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def fit_label(name: str, width_px: float, char_px: float, truncate_right: bool, min_chars: int) -> str:
    """The part of `name` that fits in `width_px`: all of it, or a cut with `..` marking the cut
    (at the end when `truncate_right`, else at the start), or "" when not even `min_chars` fit."""
    chars = int(width_px / char_px) if char_px > 0 else 0
    if chars < min_chars:
        return ""
    if len(name) <= chars:
        return name
    keep = chars - 2
    return name[:keep] + ".." if truncate_right else ".." + name[len(name) - keep:]

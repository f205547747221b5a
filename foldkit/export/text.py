"""Text helpers shared by the exports that need valid UTF-8 (JSON, Parquet)."""

from __future__ import annotations


def utf8_safe(text: str) -> str:
    """`text` as valid Unicode: bytes that were not UTF-8 in the input become `\\xNN` escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text

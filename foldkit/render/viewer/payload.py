"""The viewer's data: a `FrameTree` and its colours packed into one gzip-compressed, base64-encoded
binary block, described by a small JSON header.

Layout of the decompressed bytes (little-endian, each array starting at a multiple of 8):

    selfs       float64 x nodes, once per side (after first, then before)
    name_ids    uint32 x nodes
    depths      uint32 x nodes
    colors      uint8 x 3 x names (r, g, b of each name's fill)
    names       the names in UTF-8, each followed by "\\n"

Names are made visible (`text.visible`: no controls, bidi overrides or lone surrogates) before they
are packed; the page only ever sets them as text. The base64 alphabet cannot end a `<script>`
element, so the block is inert in the page whatever the names hold.
"""

from __future__ import annotations

import base64
import re
import sys
import zlib
from array import array
from collections.abc import Callable
from typing import Any

from foldkit.render.text import visible
from foldkit.render.viewer.tree import FrameTree

#: zlib level of the embedded data: level 6 made the 1,000,000-stack benchmark profile 8% smaller
#: than level 1 for twice the compression time (still well under the time to build the tree).
COMPRESS_LEVEL = 6

_RGB = re.compile(r"rgb\((\d+),(\d+),(\d+)\)")
_HEX = re.compile(r"#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})")


def rgb_bytes(fill: str) -> bytes:
    """`rgb(r,g,b)` or `#rrggbb` as three bytes (grey for anything else)."""
    m = _RGB.fullmatch(fill)
    if m:
        return bytes(min(int(v), 255) for v in m.groups())
    m = _HEX.fullmatch(fill)
    if m:
        return bytes(int(v, 16) for v in m.groups())
    return b"\xa0\xa0\xa0"


def _le(values: array) -> bytes:
    if sys.byteorder != "little":  # pragma: no cover - every supported platform is little-endian
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _pad8(data: bytes) -> bytes:
    return data + bytes(-len(data) % 8)


def pack(tree: FrameTree, color: Callable[[str], str]) -> tuple[dict[str, Any], str]:
    """(header, base64 text) of `tree`, every name coloured by `color(name)`."""
    shown = [visible(name) for name in tree.names]
    names_bytes = "".join(name + "\n" for name in shown).encode("utf-8")
    colors = b"".join(rgb_bytes(color(name)) for name in tree.names)
    parts = [*(_le(s) for s in tree.selfs), _le(tree.name_ids), _le(tree.depths), _pad8(colors), names_bytes]
    raw = b"".join(parts)
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, 31)  # gzip, for DecompressionStream
    packed = compressor.compress(raw) + compressor.flush()
    header = {
        "nodes": len(tree),
        "names": len(tree.names),
        "sides": len(tree.selfs),
        "namesBytes": len(names_bytes),
        "rawBytes": len(raw),
        "compression": "gzip",
    }
    return header, base64.b64encode(packed).decode("ascii")

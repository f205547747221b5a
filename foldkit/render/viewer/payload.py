"""The viewer's data: a `FrameTree` and its colours packed into one gzip-compressed, base64-encoded
binary block, described by a small JSON header.

Layout of the decompressed bytes (little-endian; every array starts at a multiple of its item
size), each array in the narrowest type that holds it, named in the header (`types`):

    selfs       per node, once per side (after first, then before): uint32 when every weight is
                an integer below 2**32, else float64
    given_ids   uint32 x given: with a `palette` in the header, the names whose fills follow
    name_ids    per node, its name's code: 0 for the next name not met before (names are
                numbered in the order they are first met in the tree), else its id + 1
                (`name_codes`); uint16 when there are fewer than 65,536 names, else uint32
    depths      per node: uint16 when no stack is 65,535 frames deep, else uint32
    colors      uint8 x 3 x given (r, g, b): the fills of `given_ids`, or without a `palette` of
                every name in order (`given` = names)
    names       the names in UTF-8, each followed by "\\n"

With a palette the page knows (`PAGE_PALETTES`: `default` and the hue palettes), the page colours
every name of printable ASCII itself (`palette.js`, the twin of `palette.py`), as each is first
drawn: the data carries only the other names' fills (and nothing of the 20 M names of a large
profile). Other palettes, `--hash` and `--cp` give every fill.

Names are made visible (`text.visible`: no controls, bidi overrides or lone surrogates) before they
are packed; the page only ever sets them as text. The base64 alphabet cannot end a `<script>`
element, so the block is inert in the page whatever the names hold.
"""

from __future__ import annotations

import base64
import io
import re
import sys
import zlib
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from foldkit.render.viewer.tree import FrameTree
from foldkit.text import visible

if TYPE_CHECKING:
    from foldkit._native import ViewerTree

#: What the twin gives the core for the names it does not colour: {name id: (shown name, rgb)}.
Given = dict[int, tuple[str, bytes]]

#: The palettes the page colours names with itself (`palette.js`; the native core's
#: `palette::Palette` takes the same).
PAGE_PALETTES = ("default", "red", "green", "blue", "aqua", "yellow", "purple", "orange", "hot", "mem", "io")

#: zlib level of the embedded data, measured on the native packer (CPU seconds of packing, base64
#: size): the 45 MB `--tid --addrs` benchmark profile (23 MB raw) level 1 0.19 s / 8.3 MB, level 2
#: 0.31 s / 5.9 MB, level 6 0.31 s / 5.5 MB; 1,000,000 generated stacks (27 MB raw) level 1
#: 0.23 s / 16.6 MB, level 2 0.33 s / 12.5 MB, level 6 0.65 s / 11.5 MB. Level 1: the page is
#: built at the speed of an SVG; a third larger data block costs the browser little.
COMPRESS_LEVEL = 1

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


#: Array type names as the page knows them, by array typecode.
ARRAY_TYPES = {"H": "u16", "I": "u32", "d": "f64"}


def le_bytes(values: array) -> bytes:
    """The array's items as little-endian bytes."""
    if sys.byteorder != "little":  # pragma: no cover - every supported platform is little-endian
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _narrow(values: array, limit: int) -> array:
    """`values` (unsigned integers) as uint16 when every one is below `limit` <= 2**16."""
    return array("H", values) if max(values, default=0) < limit else values


def _weights(selfs: list[array]) -> list[array]:
    """Self weights as uint32 when all are integers that fit, else as they are (float64)."""
    if all(w.is_integer() and w < 2**32 for side in selfs for w in side):
        return [array("I", map(int, side)) for side in selfs]
    return selfs


def page_palette(palette: str | None) -> str | None:
    """`palette` when the page colours names with it itself, else None (every fill given)."""
    return palette if palette in PAGE_PALETTES else None


def plain(name: str) -> bool:
    """True when every character of `name` is printable ASCII: a name the page colours itself
    (and shows as it is)."""
    return all(" " <= c <= "~" for c in name)


def name_codes(ids: array) -> array:
    """Per node, its name's code in the payload: 0 for the next name not met before, else the
    name's id + 1 (the ids of new names, one more each time, compress badly; zeros do not)."""
    codes = array(ids.typecode, bytes(len(ids) * ids.itemsize))
    fresh = 0
    for i, nid in enumerate(ids):
        if nid == fresh:
            fresh += 1
        else:
            codes[i] = nid + 1
    return codes


def _header(nodes: int, names: int, sides: int, names_bytes: int, raw_bytes: int, types: list[str], palette: str | None, given: int) -> dict[str, Any]:
    return {
        "nodes": nodes,
        "names": names,
        "sides": sides,
        "namesBytes": names_bytes,
        "rawBytes": raw_bytes,
        "compression": "gzip",
        "types": types,
        "palette": palette,
        "given": given,
    }


def native_header(tree: ViewerTree, color: Callable[[str], str], palette: str | None) -> tuple[dict[str, Any], Given]:
    """(header, what the twin gives) of the payload of a tree the native core holds
    (`tree.native_tree`): the page colours the names that `palette` colours there (`palette=None`
    or a palette the page does not know: none), `color` and `visible` give the rest."""
    palette = page_palette(palette)
    given = {i: (visible(name), rgb_bytes(color(name))) for i, name in tree.names_for_twin(palette)}
    names_bytes, raw_bytes, types, fills = tree.header(palette, given)
    return _header(len(tree), tree.name_count, tree.sides, names_bytes, raw_bytes, list(types), palette, fills), given


def write_native(tree: ViewerTree, given: Given, palette: str | None, out: BinaryIO) -> None:
    """Write the base64 text of the payload `native_header` described to `out`, in chunks as the
    core compresses it (never whole in memory)."""
    tree.write(out, page_palette(palette), given, COMPRESS_LEVEL)


def pack_native(tree: ViewerTree, color: Callable[[str], str], palette: str | None) -> tuple[dict[str, Any], str]:
    """`pack` of a tree the native core holds: (header, base64 text)."""
    header, given = native_header(tree, color, palette)
    out = io.BytesIO()
    write_native(tree, given, palette, out)
    return header, out.getvalue().decode("ascii")


def pack(tree: FrameTree, color: Callable[[str], str], palette: str | None = None) -> tuple[dict[str, Any], str]:
    """(header, base64 text) of `tree`: the page colours the names of printable ASCII with
    `palette` when it knows it, `color(name)` gives the fills of the others (of every name
    without such a palette)."""
    palette = page_palette(palette)
    shown = [visible(name) for name in tree.names]
    names_bytes = "".join(name + "\n" for name in shown).encode("utf-8")
    given = [i for i, name in enumerate(tree.names) if palette is None or not plain(name)]
    colors = b"".join(rgb_bytes(color(tree.names[i])) for i in given)
    given_ids = le_bytes(array("I", given)) if palette is not None else b""
    selfs = _weights(tree.selfs)
    depths = _narrow(tree.depths, 2**16)
    # uint16 names only before uint16 depths, so that the depths stay aligned
    codes = name_codes(tree.name_ids)
    name_ids = array("H", codes) if len(tree.names) < 2**16 and depths.typecode == "H" else codes
    raw = b"".join([*(le_bytes(s) for s in selfs), given_ids, le_bytes(name_ids), le_bytes(depths), colors, names_bytes])
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, 31)  # gzip, for DecompressionStream
    packed = compressor.compress(raw) + compressor.flush()
    types = [ARRAY_TYPES[selfs[0].typecode], ARRAY_TYPES[name_ids.typecode], ARRAY_TYPES[depths.typecode]]
    header = _header(len(tree), len(tree.names), len(tree.selfs), len(names_bytes), len(raw), types, palette, len(given))
    return header, base64.b64encode(packed).decode("ascii")

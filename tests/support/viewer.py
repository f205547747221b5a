"""Reading a viewer page back in Python: its data blocks, settings and the tree it embeds."""

from __future__ import annotations

import base64
import gzip
import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import lxml.html

from foldkit.render.palette import frame_color

#: struct codes of the page's array types.
FORMATS = {"u16": "H", "u32": "I", "f64": "d"}


@dataclass
class Embedded:
    """What a viewer page carries."""

    meta: dict[str, Any]
    names: list[str]
    name_ids: tuple[int, ...]
    depths: tuple[int, ...]
    selfs: list[tuple[float, ...]]
    #: the given fills (r, g, b each): of `given_ids`, or of every name when the page has no palette
    colors: bytes
    #: with a palette in the header, the names whose fills are given (the page colours the rest)
    given_ids: tuple[int, ...] = ()

    def paths(self) -> dict[tuple[str, ...], int]:
        """Frame path -> node index."""
        out: dict[tuple[str, ...], int] = {}
        stack: list[str] = []
        for i, d in enumerate(self.depths):
            del stack[max(d - 1, 0):]
            if d:
                stack.append(self.names[self.name_ids[i]])
            out[tuple(stack)] = i
        return out

    def color(self, name: str) -> str:
        """The fill the page draws `name` with: given, or from the header's palette as the
        page's `palette.js` computes it (its twin, `frame_color`)."""
        k = self.names.index(name)
        palette = self.meta.get("palette")
        if palette:
            if k not in self.given_ids:
                return frame_color(name, palette)
            k = self.given_ids.index(k)
        r, g, b = self.colors[3 * k : 3 * k + 3]
        return f"rgb({r},{g},{b})"


def decode_names(codes: tuple[int, ...]) -> tuple[int, ...]:
    """Name ids from the payload's codes (0: the next new name, else id + 1), as the page reads them."""
    ids, fresh = [], 0
    for code in codes:
        if code == 0:
            ids.append(fresh)
            fresh += 1
        else:
            ids.append(code - 1)
    return tuple(ids)


def parse_page(html: bytes) -> tuple[Any, Embedded]:
    """(lxml document, embedded data) of a viewer page."""
    doc = lxml.html.fromstring(html)
    meta = json.loads(doc.get_element_by_id("foldkit-meta").text)
    raw = gzip.decompress(base64.b64decode(doc.get_element_by_id("foldkit-data").text))
    n, m, sides = meta["nodes"], meta["names"], meta["sides"]
    codes = [FORMATS[t] for t in meta["types"]]
    at = 0

    def take(code: str) -> tuple[Any, ...]:
        nonlocal at
        values = struct.unpack_from(f"<{n}{code}", raw, at)
        at += struct.calcsize(code) * n
        return values

    selfs = [take(codes[0]) for _ in range(sides)]
    given = meta["given"] if meta.get("palette") else m
    given_ids: tuple[int, ...] = ()
    if meta.get("palette"):
        given_ids = struct.unpack_from(f"<{given}I", raw, at)
        at += 4 * given
    ids = decode_names(take(codes[1]))
    depths = take(codes[2])
    colors = raw[at : at + 3 * given]
    names = raw[len(raw) - meta["namesBytes"] :].decode("utf-8").split("\n")[:m]
    return doc, Embedded(meta, names, ids, depths, selfs, colors, given_ids)


def opened(page: bytes) -> tuple[bytes, bytes]:
    """(the page with its data block emptied, the data block decompressed): two pages whose trees
    were compressed differently (the native core's and the Python twin's) compare equal when they
    carry the same header, settings and tree."""
    before, mark, rest = page.partition(b'id="foldkit-data">')
    data, end, after = rest.partition(b"</script>")
    assert mark and end, "no data block"
    return before + mark + end + after, gzip.decompress(base64.b64decode(data))


def png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced RGB or RGBA PNG, such as
    a browser screenshot (enough of PNG for tests; no imaging library needed)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, bits, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert bits == 8 and color in (2, 6) and interlace == 0, "unsupported PNG"
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def pixel(image: tuple[int, int, list[bytes]], x: int, y: int) -> str:
    """The colour at (x, y) of a decoded PNG, as `rgb(r,g,b)`."""
    width, _, rows = image
    channels = len(rows[0]) // width
    r, g, b = rows[y][x * channels : x * channels + 3]
    return f"rgb({r},{g},{b})"

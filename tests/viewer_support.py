"""Reading a viewer page back in Python: its data blocks, settings and the tree it embeds."""

from __future__ import annotations

import base64
import gzip
import json
import struct
from dataclasses import dataclass
from typing import Any

import lxml.html


@dataclass
class Embedded:
    """What a viewer page carries."""

    meta: dict[str, Any]
    names: list[str]
    name_ids: tuple[int, ...]
    depths: tuple[int, ...]
    selfs: list[tuple[float, ...]]
    colors: bytes

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
        k = self.names.index(name)
        r, g, b = self.colors[3 * k : 3 * k + 3]
        return f"rgb({r},{g},{b})"


def parse_page(html: bytes) -> tuple[Any, Embedded]:
    """(lxml document, embedded data) of a viewer page."""
    doc = lxml.html.fromstring(html)
    meta = json.loads(doc.get_element_by_id("foldkit-meta").text)
    raw = gzip.decompress(base64.b64decode(doc.get_element_by_id("foldkit-data").text))
    n, m, sides = meta["nodes"], meta["names"], meta["sides"]
    selfs = [struct.unpack_from(f"<{n}d", raw, 8 * n * s) for s in range(sides)]
    at = 8 * n * sides
    ids = struct.unpack_from(f"<{n}I", raw, at)
    depths = struct.unpack_from(f"<{n}I", raw, at + 4 * n)
    colors = raw[at + 8 * n : at + 8 * n + 3 * m]
    names = raw[len(raw) - meta["namesBytes"] :].decode("utf-8").split("\n")[:m]
    return doc, Embedded(meta, names, ids, depths, selfs, colors)

"""The viewer's Time view data: every sample's weight by (stack, 20 ms bucket), for a FlameScope-style
subsecond heatmap whose ranges the page turns back into flame graphs.

Layout of the decompressed block (little-endian), `cells` entries sorted by bucket then node:

    weight   float64 per cell: the weight of the samples of that stack in that bucket
    bucket   uint32 per cell: (time - start) // BUCKET, so column = bucket // ROWS, row = bucket % ROWS
    node     uint32 per cell: the tree node (pre-order index) the stack ends at

Samples are bucketed per stack, so the block grows with the distinct (stack, bucket) pairs, not
with the samples; a stack the tree left out (zero or negative weight) is left out here too.
"""

from __future__ import annotations

import base64
import math
import zlib
from array import array
from collections.abc import Callable, Iterable
from typing import Any

from foldkit.profile import Weight
from foldkit.render.viewer.payload import COMPRESS_LEVEL, le_bytes
from foldkit.render.viewer.tree import FrameTree

#: Rows of the heatmap: buckets per second (FlameScope's 50 rows of 20 ms).
ROWS = 50
#: One bucket, in seconds.
BUCKET = 1.0 / ROWS


def stack_nodes(tree: FrameTree) -> dict[str, int]:
    """Folded stack -> the node it ends at, for every node some stack ends at (self > 0 on a side)."""
    out: dict[str, int] = {}
    path: list[str] = []
    names, name_ids, depths = tree.names, tree.name_ids, tree.depths
    ends = [any(side[i] > 0 for side in tree.selfs) for i in range(len(tree))]
    for i in range(1, len(tree)):
        d = depths[i]
        del path[d - 1 :]
        path.append(names[name_ids[i]])
        if ends[i]:
            out[";".join(path)] = i
    if len(tree) and ends[0]:
        out[""] = 0
    return out


def time_payload(
    tree: FrameTree,
    timeline: Iterable[tuple[float, str, Weight]],
    stack_of: Callable[[str], str] = lambda s: s,
) -> tuple[dict[str, Any], str] | None:
    """(header, base64 block) of the samples' weights by stack and bucket; None when no sample has
    a timestamp. `stack_of` maps a timeline stack to the tree's form (`--reverse`)."""
    samples = [(t, s, w) for t, s, w in timeline if not math.isnan(t) and w > 0]
    if not samples:
        return None
    start = min(t for t, _, _ in samples)
    nodes = stack_nodes(tree)
    cells: dict[tuple[int, int], float] = {}
    for t, stack, w in samples:
        node = nodes.get(stack_of(stack))
        if node is None:
            continue
        key = (int((t - start) / BUCKET), node)
        cells[key] = cells.get(key, 0.0) + w
    keys = sorted(cells)
    weight = array("d", (cells[k] for k in keys))
    bucket = array("I", (k[0] for k in keys))
    node = array("I", (k[1] for k in keys))
    raw = le_bytes(weight) + le_bytes(bucket) + le_bytes(node)
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, 31)
    packed = compressor.compress(raw) + compressor.flush()
    buckets = (keys[-1][0] + 1) if keys else 1
    header = {"start": start, "rows": ROWS, "bucket": BUCKET, "buckets": buckets, "cells": len(keys), "rawBytes": len(raw)}
    return header, base64.b64encode(packed).decode("ascii")

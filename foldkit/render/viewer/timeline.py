"""The viewer's Time view data: every sample's weight by (stack, 20 ms bucket), for a FlameScope-style
subsecond heatmap whose ranges the page turns back into flame graphs.

Layout of the decompressed block, `cells` entries sorted by node then bucket: three arrays, in
the types the header's `types` names, each stored as byte planes (all first bytes of its items,
then all second bytes, …; little-endian items), which compress far better than the items do:

    weight   per cell, the weight of the samples of that stack in that bucket divided by the
             header's `scale` (the greatest common divisor of the weights: a perf capture's
             sample period, so the weights become sample counts): uint8, uint16 or uint32 when
             every one is an integer that fits, else float64 (scale 1)
    node     per cell, the tree node (pre-order index) the stack ends at, minus the previous cell's
    bucket   per cell, (time - start) // BUCKET (column = bucket // ROWS, row = bucket % ROWS), minus
             the previous cell's when both are of the same node
             (node and bucket: the narrowest of uint8, uint16, uint32 that holds every step)

Samples are bucketed per stack, so the block grows with the distinct (stack, bucket) pairs, not
with the samples; a stack the tree left out (zero or negative weight) is left out here too.
"""

from __future__ import annotations

import base64
import math
import zlib
from array import array
from collections.abc import Callable, Iterable
from math import isfinite
from typing import Any

from foldkit.profile import Weight
from foldkit.render.viewer.payload import ARRAY_TYPES, COMPRESS_LEVEL, le_bytes
from foldkit.render.viewer.tree import FrameTree

#: Rows of the heatmap: buckets per second (FlameScope's 50 rows of 20 ms).
ROWS = 50
#: One bucket, in seconds.
BUCKET = 1.0 / ROWS
#: The most buckets a Time view spans (23.3 hours): the page holds a float64 per bucket (32 MiB),
#: and a cell's bucket must fit 32 bits. Samples spread wider (a timestamp of 2**64 s in a mangled
#: capture) leave the Time view out, with a warning.
MAX_BUCKETS = 2**22


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


#: Array type names of the Time block (the main block's, and bytes).
TIME_TYPES = {**ARRAY_TYPES, "B": "u8"}


def _narrowest(values: list[int]) -> array:
    top = max(values, default=0)
    return array("B" if top < 2**8 else "H" if top < 2**16 else "I", values)


def byte_planes(values: array) -> bytes:
    """The array's little-endian items as byte planes: every item's first byte, then every
    item's second byte, and so on (the page puts them back together)."""
    raw = le_bytes(values)
    size = values.itemsize
    return raw if size == 1 else b"".join(raw[i::size] for i in range(size))


def time_payload(
    tree: FrameTree,
    timeline: Iterable[tuple[float, str, Weight]],
    stack_of: Callable[[str], str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], str] | None:
    """(header, base64 block) of the samples' weights by stack and bucket; None when no sample has
    a timestamp, or they span more than MAX_BUCKETS (said to `warn`). `stack_of` maps a timeline
    stack to the tree's form (`--reverse`)."""
    samples = timeline if isinstance(timeline, list) else list(timeline)
    times = [t for t, _, w in samples if w > 0 and isfinite(t)]
    if not times:
        return None
    start, end = min(times), max(times)
    del times
    if (end - start) * ROWS >= MAX_BUCKETS:
        if warn is not None:
            warn(
                f"the samples' timestamps span {end - start:.6g} s (from {start:.6g} to {end:.6g}); the Time view "
                f"shows at most {MAX_BUCKETS // ROWS / 3600:.1f} hours, so it is left out"
            )
        return None
    nodes = stack_nodes(tree)
    if stack_of is not None:
        mapped = {s: stack_of(s) for s in {s for _, s, _ in samples}}  # each distinct stack once
        nodes = {s: nodes[m] for s, m in mapped.items() if m in nodes}
    get = nodes.get
    cells: dict[int, Weight] = {}
    for t, stack, w in samples:
        if w > 0 and isfinite(t):
            node = get(stack)
            if node is not None:
                key = node << 32 | int((t - start) * ROWS)  # node-major order when sorted
                cells[key] = cells.get(key, 0) + w
    keys = sorted(cells)
    values = [cells[k] for k in keys]
    counts = [v for v in values if isinstance(v, int) and 0 <= v < 2**32]
    scale = 1
    if len(counts) == len(values):
        scale = math.gcd(*counts) or 1
        weight = _narrowest([v // scale for v in counts])
    else:
        weight = array("d", map(float, values))
    node_step: list[int] = []
    bucket_step: list[int] = []
    prev_node, prev_bucket = 0, 0
    for k in keys:
        node, bucket = k >> 32, k & 0xFFFFFFFF
        node_step.append(node - prev_node)
        bucket_step.append(bucket - prev_bucket if node == prev_node else bucket)
        prev_node, prev_bucket = node, bucket
    arrays = [weight, _narrowest(node_step), _narrowest(bucket_step)]
    raw = b"".join(byte_planes(values_array) for values_array in arrays)
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, 31)
    packed = compressor.compress(raw) + compressor.flush()
    header = {
        "start": start,
        "rows": ROWS,
        "bucket": BUCKET,
        "buckets": max((k & 0xFFFFFFFF for k in keys), default=0) + 1,
        "cells": len(keys),
        "scale": scale,
        "rawBytes": len(raw),
        "types": [TIME_TYPES[a.typecode] for a in arrays],
    }
    return header, base64.b64encode(packed).decode("ascii")

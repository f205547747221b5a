"""The viewer's Time view data: every sample's weight by (stack, 20 ms bucket), for a FlameScope-style
subsecond heatmap whose ranges the page turns back into flame graphs.

Layout of the decompressed block (little-endian), `cells` entries sorted by node then bucket,
three arrays each aligned to its item size, in the types the header's `types` names:

    weight   per cell, the weight of the samples of that stack in that bucket: uint32 when every one
             is an integer below 2**32, else float64
    node     per cell, the tree node (pre-order index) the stack ends at, minus the previous cell's
    bucket   per cell, (time - start) // BUCKET (column = bucket // ROWS, row = bucket % ROWS), minus
             the previous cell's when both are of the same node
             (node and bucket: uint16 when every step fits, else uint32; steps make them compress to
             about a third)

Samples are bucketed per stack, so the block grows with the distinct (stack, bucket) pairs, not
with the samples; a stack the tree left out (zero or negative weight) is left out here too.
"""

from __future__ import annotations

import base64
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


def _narrowest(values: list[int]) -> array:
    return array("H", values) if max(values, default=0) < 2**16 else array("I", values)


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
    integral = all(isinstance(v, int) and 0 <= v < 2**32 for v in values)
    weight = array("I", values) if integral else array("d", map(float, values))
    node_step: list[int] = []
    bucket_step: list[int] = []
    prev_node, prev_bucket = 0, 0
    for k in keys:
        node, bucket = k >> 32, k & 0xFFFFFFFF
        node_step.append(node - prev_node)
        bucket_step.append(bucket - prev_bucket if node == prev_node else bucket)
        prev_node, prev_bucket = node, bucket
    arrays = [weight, _narrowest(node_step), _narrowest(bucket_step)]
    raw = bytearray()
    for values_array in arrays:
        raw += bytes(-len(raw) % values_array.itemsize)  # every array aligned to its item size
        raw += le_bytes(values_array)
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, 31)
    packed = compressor.compress(bytes(raw)) + compressor.flush()
    header = {
        "start": start,
        "rows": ROWS,
        "bucket": BUCKET,
        "buckets": max((k & 0xFFFFFFFF for k in keys), default=0) + 1,
        "cells": len(keys),
        "rawBytes": len(raw),
        "types": [ARRAY_TYPES[a.typecode] for a in arrays],
    }
    return header, base64.b64encode(packed).decode("ascii")

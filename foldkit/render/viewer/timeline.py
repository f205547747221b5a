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
from typing import TYPE_CHECKING, Any

from foldkit.native import NativeCore, native_core
from foldkit.profile import Weight
from foldkit.render.viewer.payload import ARRAY_TYPES, COMPRESS_LEVEL, le_bytes
from foldkit.render.viewer.tree import FrameTree
from foldkit.timeline import Timeline

if TYPE_CHECKING:
    from foldkit._native import ViewerTree

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


class _NativeCells:
    """The cells of a `Timeline` with int64 weights, made in the native core from its arrays and
    the native tree (`_cells` is the reference)."""

    def __init__(self, core: NativeCore, tree: ViewerTree, timeline: Timeline, stack_of: Callable[[str], str] | None) -> None:
        self.core, self.tree = core, tree
        weights = timeline.weights
        assert isinstance(weights, array)  # `of` checked
        self.arrays = (timeline.times.tobytes(), timeline.ids.tobytes(), weights.tobytes())
        self.stacks = timeline.stacks if stack_of is None else [stack_of(s) for s in timeline.stacks]
        #: the earliest and latest time of a sample of positive weight, None when none has one
        self.span = core.timeline_span(self.arrays[0], self.arrays[2])

    @classmethod
    def of(
        cls, tree: ViewerTree | None, timeline: Iterable[tuple[float, str, Weight]], stack_of: Callable[[str], str] | None
    ) -> _NativeCells | None:
        """The native cells when the core is in use and takes these, else None."""
        core = native_core()
        if core is None or tree is None or not isinstance(timeline, Timeline) or not isinstance(timeline.weights, array):
            return None
        return cls(core, tree, timeline, stack_of)

    def cells(self, start: float) -> tuple[list[int], list[Weight]]:
        """(keys, weights) as `_cells` gives them."""
        nodes = self.core.viewer_stack_nodes(self.tree, self.stacks)
        raw, values = self.core.timeline_cells(*self.arrays, nodes, start, float(ROWS))
        keys = array("Q")
        keys.frombytes(raw)
        return keys.tolist(), values  # type: ignore[return-value]


def _cells(
    tree: FrameTree, samples: list[tuple[float, str, Weight]], stack_of: Callable[[str], str] | None, start: float
) -> tuple[list[int], list[Weight]]:
    """(keys, weights) of the cells, keys `node << 32 | bucket` ascending (the reference)."""
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
    return keys, [cells[k] for k in keys]


def time_payload(
    tree: FrameTree | Callable[[], FrameTree],
    timeline: Iterable[tuple[float, str, Weight]],
    stack_of: Callable[[str], str] | None = None,
    warn: Callable[[str], None] | None = None,
    native_tree: ViewerTree | None = None,
) -> tuple[dict[str, Any], str] | None:
    """(header, base64 block) of the samples' weights by stack and bucket; None when no sample has
    a timestamp, or they span more than MAX_BUCKETS (said to `warn`). `stack_of` maps a timeline
    stack to the tree's form (`--reverse`). `tree` may be a function giving it (called only when
    needed); with the `native_tree` it was made from and a `Timeline`, the cells are made natively."""
    fast = _NativeCells.of(native_tree, timeline, stack_of)
    samples: list[tuple[float, str, Weight]] = []
    if fast is not None:
        span = fast.span
    else:
        samples = timeline if isinstance(timeline, list) else list(timeline)
        times = [t for t, _, w in samples if w > 0 and isfinite(t)]
        span = (min(times), max(times)) if times else None
        del times
    if span is None:
        return None
    start, end = span
    if (end - start) * ROWS >= MAX_BUCKETS:
        if warn is not None:
            warn(
                f"the samples' timestamps span {end - start:.6g} s (from {start:.6g} to {end:.6g}); the Time view "
                f"shows at most {MAX_BUCKETS // ROWS / 3600:.1f} hours, so it is left out"
            )
        return None
    if fast is not None:
        keys, values = fast.cells(start)
    else:
        keys, values = _cells(tree() if callable(tree) else tree, samples, stack_of, start)
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

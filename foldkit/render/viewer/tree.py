"""The call tree a viewer page embeds: every frame of every stack, shared prefixes merged once.

    tree = build_tree(weights)                   # one profile
    tree = build_tree(after, before)             # a differential tree: the union of both sides

A `FrameTree` is a string table plus parallel arrays, one entry per tree node in depth-first
pre-order (a node comes before its descendants; siblings in the order of their names, as the SVG
draws them), node 0 being the root `all`:

    names       distinct frame names; `name_ids[i]` indexes it
    depths[i]   0 for the root, 1 for the outermost frames, ...
    selfs[k][i] weight of the stacks that end exactly at node i, one array per side

Nothing is pruned: a node exists for every distinct stack prefix. Stacks with zero or negative
weight (on every side) are left out and counted; the empty stack is weight on the root. The cost is one sort of the stacks plus one
step per frame that is not shared with the previous stack in sorted order.

`native_tree(*sides)` builds the same tree in the native core (`native/core/src/viewer.rs`) from
dicts or a folded file's stack table, and keeps it there for `payload.pack_native`; this module's
`build_tree` is its twin and the reference.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from foldkit.native import native_core
from foldkit.profile import StackTable, Weight
from foldkit.render import defaults

if TYPE_CHECKING:
    from foldkit._native import ViewerTree

_SEP = "\x00"


@dataclass
class FrameTree:
    """Nodes in pre-order (see the module docstring)."""

    names: list[str] = field(default_factory=list)
    name_ids: array = field(default_factory=lambda: array("I"))
    depths: array = field(default_factory=lambda: array("I"))
    selfs: list[array] = field(default_factory=list)
    #: Stacks left out because their weight was zero or negative.
    nonpositive: int = 0

    def __len__(self) -> int:
        return len(self.name_ids)

    @classmethod
    def from_native(cls, tree: ViewerTree) -> FrameTree:
        """The `FrameTree` of a tree the native core built (`native_tree`)."""
        names, name_ids, depths, selfs = tree.arrays()
        out = cls(names=names, nonpositive=tree.nonpositive)
        out.name_ids.frombytes(name_ids)
        out.depths.frombytes(depths)
        for side in selfs:
            values = array("d")
            values.frombytes(side)
            out.selfs.append(values)
        return out

    @property
    def max_depth(self) -> int:
        """Depth of the deepest node."""
        return max(self.depths, default=0)

    def totals(self, side: int = 0) -> list[float]:
        """Inclusive weight of every node on `side` (its self weight plus its descendants')."""
        total = list(self.selfs[side])
        depths = self.depths
        open_nodes: list[int] = []
        for i in range(len(total)):
            d = depths[i]
            while len(open_nodes) > d:
                child = open_nodes.pop()
                total[open_nodes[-1]] += total[child]
            open_nodes.append(i)
        while len(open_nodes) > 1:
            child = open_nodes.pop()
            total[open_nodes[-1]] += total[child]
        return total


def _sort_key(stack: str) -> str:
    # `;` sorts below every other character, so the stacks under one frame are contiguous
    return stack.replace(";", _SEP)


def _escaped_sort_key(stack: str) -> str:
    # names holding \x00 or \x01 themselves: both become two characters starting with \x01
    return stack.replace("\x01", "\x01\x02").replace(_SEP, "\x01\x01").replace(";", _SEP)


class _Interner(dict[str, int]):
    """Name -> id, a new id for each new name (dict lookups stay in C for known names)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__((n, i) for i, n in enumerate(names))
        self.names = names

    def __missing__(self, name: str) -> int:
        nid = self[name] = len(self.names)
        self.names.append(name)
        return nid


def build_tree(*sides: Mapping[str, Weight], root: str = defaults.ROOT_NAME) -> FrameTree:
    """The merged tree of one or more profiles' stacks (see the module docstring)."""
    if not sides:
        raise ValueError("build_tree needs at least one profile")
    keys = set().union(*(s.keys() for s in sides))
    stacks = [s for s in keys if any(side.get(s, 0) > 0 for side in sides)]
    escape = any(_SEP in s or "\x01" in s for s in stacks)
    stacks.sort(key=_escaped_sort_key if escape else _sort_key)
    tree = FrameTree(names=[root], nonpositive=len(keys) - len(stacks))
    intern = _Interner(tree.names).__getitem__
    name_ids: list[int] = [0]
    depths: list[int] = [0]
    leaves: list[int] = []
    prev: list[str] = []
    path: list[int] = [0]  # node of each depth along the previous stack
    for stack in stacks:
        frames = stack.split(";") if stack else []  # the empty stack is the root itself
        n = min(len(frames), len(prev))
        k = 0
        while k < n and frames[k] == prev[k]:
            k += 1
        start = len(name_ids)
        end = start + len(frames) - k
        name_ids.extend(map(intern, frames[k:]))
        depths.extend(range(k + 1, len(frames) + 1))
        del path[k + 1 :]
        path.extend(range(start, end))
        leaves.append(end - 1 if end > start else path[-1])
        prev = frames
    size = len(name_ids)
    tree.name_ids = array("I", name_ids)
    tree.depths = array("I", depths)
    del name_ids, depths
    for side in sides:
        selfs = array("d", bytes(8 * size))
        for stack, leaf in zip(stacks, leaves, strict=True):
            w = side.get(stack, 0)
            if w > 0:
                selfs[leaf] = w
        tree.selfs.append(selfs)
    return tree


def native_tree(
    *sides: Mapping[str, Weight] | StackTable,
    root: str = defaults.ROOT_NAME,
    scales: list[float] | None = None,
    reverse: bool = False,
) -> ViewerTree | None:
    """`build_tree(*sides)` built and held by the native core (a `foldkit._native.ViewerTree`), or
    None when there is no native core or it does not take these sides (a weight that is not an int
    within 64 bits, a table with a stack that is not UTF-8, a scale not finite and above zero):
    build those with `build_tree`. `scales` (one per side, default 1): each side's weights are
    shown multiplied by it, as `build_tree(*scaled(side, scale))` shows them; with `reverse`, every
    stack's frames in the opposite order, as `build_tree(*reversed_weights(side))`. A ValueError
    when the tree is beyond the payload's limits (4 GiB of names, 2**32 nodes)."""
    native = native_core()
    if native is None or not all(isinstance(s, dict) or isinstance(s, native.FoldedStacks) for s in sides):
        return None
    if reverse:
        return native.viewer_tree(list(sides), root, None if scales is None else list(scales), True)
    if scales is None or all(s == 1.0 for s in scales):
        return native.viewer_tree(list(sides), root)
    return native.viewer_tree(list(sides), root, list(scales))


def scaled(side: Mapping[str, Weight], scale: float) -> Mapping[str, Weight]:
    """`side`'s weights times `scale` (as `analysis.diff.diff_profiles` normalises BEFORE), `side`
    itself when `scale` is 1."""
    return side if scale == 1.0 else {s: w * scale for s, w in side.items()}

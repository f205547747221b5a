"""Transforms that reshape stacks without looking at names: `--collapse-recursion`, `--max-depth`,
`--prune-below`. All three keep the total weight."""

from __future__ import annotations

from dataclasses import dataclass

from foldkit.errors import UsageError
from foldkit.profile import Profile, Weight, map_stacks
from foldkit.transform.base import PRUNED, SEP

#: Recursion modes of `--collapse-recursion`: `direct` merges a frame calling itself (`a;r;r;b` ->
#: `a;r;b`, like FlameGraph's stackcollapse-recursive.pl); `all` also merges indirect recursion
#: (`a;r;b;r;c` -> `a;r;c`: everything between a frame and its outermost occurrence goes).
RECURSION_MODES = ("direct", "all")


@dataclass(frozen=True)
class CollapseRecursion:
    """Merge recursive calls: `direct` (a frame calling itself) or `all` (any recursion)."""

    mode: str = "direct"

    def __post_init__(self) -> None:
        if self.mode not in RECURSION_MODES:
            raise UsageError(f"--collapse-recursion takes no value or =all, not {self.mode!r}")


@dataclass(frozen=True)
class MaxDepth:
    """Cut stacks to their first `depth` frames from the root."""

    depth: int

    def __post_init__(self) -> None:
        if not isinstance(self.depth, int) or self.depth < 1:
            raise UsageError(f"--max-depth must be a whole number of frames >= 1, not {self.depth!r}")

    @classmethod
    def parse(cls, text: str) -> MaxDepth:
        """From the command line: a whole number of frames."""
        try:
            return cls(int(text))
        except ValueError:
            raise UsageError(f"--max-depth takes a whole number of frames, not {text!r}") from None


@dataclass(frozen=True)
class PruneBelow:
    """Replace call paths weighing under `percent` % of the total by one `[pruned]` frame."""

    percent: float

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100:
            raise UsageError(f"--prune-below is a percentage between 0 and 100, not {self.percent!r}")

    @classmethod
    def parse(cls, text: str) -> PruneBelow:
        """From the command line: a percentage, `0.5` or `0.5%`."""
        try:
            return cls(float(text.strip().rstrip("%")))
        except ValueError:
            raise UsageError(f"--prune-below takes a percentage such as 0.5 or 1%, not {text!r}") from None


def _collapse_direct(stack: str) -> str:
    frames = stack.split(SEP)
    out = [frames[0]]
    for frame in frames[1:]:
        if frame != out[-1]:
            out.append(frame)
    return SEP.join(out)


def _collapse_all(stack: str) -> str:
    out: list[str] = []
    where: dict[str, int] = {}
    for frame in stack.split(SEP):
        i = where.get(frame)
        if i is None:
            where[frame] = len(out)
            out.append(frame)
        else:
            for dropped in out[i + 1 :]:
                del where[dropped]
            del out[i + 1 :]
    return SEP.join(out)


def collapse_recursion(profile: Profile, options: CollapseRecursion) -> Profile:
    """Stacks with recursive calls merged into one frame (total weight unchanged)."""
    return map_stacks(profile, _collapse_all if options.mode == "all" else _collapse_direct)


def max_depth(profile: Profile, options: MaxDepth) -> Profile:
    """Stacks cut to their first N frames; what was above counts as the last kept frame's own time."""
    depth = options.depth
    return map_stacks(profile, lambda s: SEP.join(s.split(SEP, depth)[:depth]))


def prune_below(profile: Profile, options: PruneBelow) -> Profile:
    """Every call path (a stack prefix) weighing less than the given share of the total is replaced
    by a single `[pruned]` frame, so the graph loses its slivers but no frame changes width."""
    total = profile.total
    if not profile.weights or total <= 0:
        return map_stacks(profile, lambda s: s)
    threshold = total * options.percent / 100
    # the call tree: node ids by (parent id, frame), inclusive weight per node
    children: dict[tuple[int, str], int] = {}
    inclusive: list[Weight] = [0]
    paths: dict[str, list[int]] = {}
    for stack, w in profile.weights.items():
        parent = 0
        path = []
        for frame in stack.split(SEP):
            node = children.get((parent, frame))
            if node is None:
                node = children[(parent, frame)] = len(inclusive)
                inclusive.append(0)
            inclusive[node] += w
            path.append(node)
            parent = node
        paths[stack] = path

    def prune(stack: str) -> str:
        path = paths.get(stack)
        if path is None:
            return stack
        for depth, node in enumerate(path):
            if inclusive[node] < threshold:
                return SEP.join([*stack.split(SEP)[:depth], PRUNED])
        return stack

    return map_stacks(profile, prune)

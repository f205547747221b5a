"""Helpers every transform shares: rewriting stacks (weights, counts and timeline together) and
compiling user regular expressions with a clear error."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import replace

from foldkit.errors import UsageError
from foldkit.profile import Profile, Weight

#: Frame separator of folded stacks.
SEP = ";"

#: The frame that stands for frames a transform removed when nothing else is left of a stack, so
#: that its weight still counts (`--hide` of every frame, `--prune-below` of a whole process).
HIDDEN = "[hidden]"
PRUNED = "[pruned]"

StackMap = Callable[[str], str | None]


@functools.lru_cache(maxsize=256)
def compile_regex(pattern: str, flag: str = "regex") -> re.Pattern[str]:
    """`pattern` compiled, or a UsageError naming the flag and what is wrong with it."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"{flag}: invalid regular expression {pattern!r}: {exc}") from None


def frame_matcher(pattern: str, flag: str) -> Callable[[str], bool]:
    """A memoised test `frame -> does the regex match somewhere in it`."""
    search = compile_regex(pattern, flag).search
    memo: dict[str, bool] = {}

    def matches(frame: str) -> bool:
        hit = memo.get(frame)
        if hit is None:
            hit = memo[frame] = search(frame) is not None
        return hit

    return matches


def map_stacks(profile: Profile, fn: StackMap) -> Profile:
    """A new profile where every stack is replaced by `fn(stack)` (None drops it).

    Stacks that map to the same result are summed; counts and the timeline follow the weights, so
    every transform keeps them consistent without thinking about it.
    """
    memo: dict[str, str | None] = {}
    weights: dict[str, Weight] = {}
    old_counts = profile.counts
    counts: dict[str, int] | None = None if old_counts is None else {}
    for stack, w in profile.weights.items():
        new = memo[stack] = fn(stack)
        if new is None:
            continue
        weights[new] = weights.get(new, 0) + w
        if counts is not None and old_counts is not None:
            counts[new] = counts.get(new, 0) + old_counts.get(stack, 0)
    timeline = None
    if profile.timeline is not None:
        for _, stack, _ in profile.timeline:
            if stack not in memo:  # a timeline should only hold known stacks; map strays anyway
                memo[stack] = fn(stack)
        get = memo.__getitem__
        timeline = [(t, new, w) for t, s, w in profile.timeline if (new := get(s)) is not None]
    return replace(profile, weights=weights, counts=counts, timeline=timeline)


def split_frames(stack: str) -> list[str]:
    """The frames of a folded stack, root first."""
    return stack.split(SEP) if stack else []


def join_frames(frames: list[str], empty: str) -> str:
    """A folded stack from frames; `empty` stands in when no frame is left."""
    return SEP.join(frames) if frames else empty


def clean_frame(name: str) -> str:
    """A frame name that cannot break the folded format (no `;`, no line breaks)."""
    return name.replace(SEP, ":").replace("\n", " ").replace("\r", " ")

"""Filters on frames: `--focus`, `--focus-root`, `--exclude`, `--hide` (regexes) and `--base` (names).

A pattern is a Python regular expression searched for in each frame name as it appears in the
folded stack (annotations such as `_[k]` included); anchor it (`^main$`) for an exact name.

`--focus-root` and `--hide` can remove the root frames that hold comm/PID/TID; the profile's
`meta["root_frames"]` then says so (none left, or unknown when only some stacks lost them).
"""

from __future__ import annotations

from dataclasses import dataclass

from foldkit.profile import ROOT_FRAMES, Profile, map_stacks, root_frame_count
from foldkit.transform.base import (
    HIDDEN,
    SEP,
    compile_regex,
    frame_matcher,
    join_frames,
)


@dataclass(frozen=True)
class Focus:
    """Keep only stacks with a frame matching `pattern`."""

    pattern: str

    def __post_init__(self) -> None:
        compile_regex(self.pattern, "--focus")


@dataclass(frozen=True)
class FocusRoot:
    """Keep only stacks with a frame matching `pattern`, cut below the first (rootmost) match."""

    pattern: str

    def __post_init__(self) -> None:
        compile_regex(self.pattern, "--focus-root")


@dataclass(frozen=True)
class Base:
    """inferno's `--base`: cut each stack at the leaf-most frame named exactly one of `names`."""

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.names, str):
            object.__setattr__(self, "names", (self.names,))


@dataclass(frozen=True)
class Exclude:
    """Drop stacks with a frame matching `pattern`."""

    pattern: str

    def __post_init__(self) -> None:
        compile_regex(self.pattern, "--exclude")


@dataclass(frozen=True)
class Hide:
    """Remove frames matching `pattern`, keeping the rest of each stack (and its weight)."""

    pattern: str

    def __post_init__(self) -> None:
        compile_regex(self.pattern, "--hide")


def focus(profile: Profile, options: Focus) -> Profile:
    """Only the stacks that have a frame matching the pattern, unchanged."""
    matches = frame_matcher(options.pattern, "--focus")
    return map_stacks(profile, lambda s: s if any(map(matches, s.split(SEP))) else None)


def focus_root(profile: Profile, options: FocusRoot) -> Profile:
    """Stacks with a matching frame, starting at their rootmost match (inferno's `--base`)."""
    matches = frame_matcher(options.pattern, "--focus-root")

    roots = root_frame_count(profile.meta)
    kept_roots: set[bool] = set()  # whether a cut kept the stack's root frames

    def cut(stack: str) -> str | None:
        frames = stack.split(SEP)
        for i, frame in enumerate(frames):
            if matches(frame):
                kept_roots.add(i == 0)
                return SEP.join(frames[i:])
        return None

    out = map_stacks(profile, cut)
    if roots and kept_roots:
        out = _roots_now(out, kept_roots, profile.meta[ROOT_FRAMES])
    return out


def _roots_now(profile: Profile, kept: set[bool], layout: tuple[str, ...]) -> Profile:
    """`profile` with `meta["root_frames"]` as left by a filter: `layout` when every stack kept its
    root frames, () when none did, unknown (removed) when some did."""
    meta = {k: v for k, v in profile.meta.items() if k != ROOT_FRAMES}
    if kept == {True}:
        meta[ROOT_FRAMES] = layout
    elif kept == {False}:
        meta[ROOT_FRAMES] = ()
    profile.meta = meta
    return profile


def base(profile: Profile, options: Base) -> Profile:
    """Stacks starting at their leaf-most frame (the leaf itself excluded) named exactly one of
    the names, as inferno-flamegraph's `--base`: a stack with no such frame above its leaf is dropped."""
    names = frozenset(options.names)

    def cut(stack: str) -> str | None:
        frames = stack.split(SEP)
        for i in range(len(frames) - 2, -1, -1):
            if frames[i] in names:
                return SEP.join(frames[i:])
        return None

    return map_stacks(profile, cut)


def exclude(profile: Profile, options: Exclude) -> Profile:
    """The stacks that have no frame matching the pattern."""
    matches = frame_matcher(options.pattern, "--exclude")
    return map_stacks(profile, lambda s: None if any(map(matches, s.split(SEP))) else s)


def hide(profile: Profile, options: Hide) -> Profile:
    """Every stack without its matching frames; a stack left with no frame becomes `[hidden]`."""
    matches = frame_matcher(options.pattern, "--hide")
    roots = root_frame_count(profile.meta)
    kept_roots: set[bool] = set()

    def keep(stack: str) -> str:
        frames = stack.split(SEP)
        if roots:
            kept_roots.add(not any(map(matches, frames[:roots])))
        return join_frames([f for f in frames if not matches(f)], HIDDEN)

    out = map_stacks(profile, keep)
    if roots and False in kept_roots:
        out = _roots_now(out, {False} if kept_roots == {False} and roots == 1 else {True, False}, profile.meta[ROOT_FRAMES])
    return out

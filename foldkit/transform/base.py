"""Helpers every transform shares: frame separators and stand-ins, and compiling user regular
expressions with a clear error (rewriting stacks is `foldkit.profile.map_stacks`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from foldkit.errors import UsageError

#: Frame separator of folded stacks.
SEP = ";"

#: The frame that stands for frames a transform removed when nothing else is left of a stack, so
#: that its weight still counts (`--hide` of every frame, `--prune-below` of a whole process).
HIDDEN = "[hidden]"
PRUNED = "[pruned]"

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


def split_frames(stack: str) -> list[str]:
    """The frames of a folded stack, root first."""
    return stack.split(SEP) if stack else []


def join_frames(frames: list[str], empty: str) -> str:
    """A folded stack from frames; `empty` stands in when no frame is left."""
    return SEP.join(frames) if frames else empty


def clean_frame(name: str) -> str:
    """A frame name that cannot break the folded format (no `;`, no line breaks)."""
    return name.replace(SEP, ":").replace("\n", " ").replace("\r", " ")

"""`--rename 'REGEX=>REPLACEMENT'`: rewrite frame names with a regular expression substitution."""

from __future__ import annotations

import re
from dataclasses import dataclass

from foldkit.errors import UsageError
from foldkit.profile import Profile, map_stacks
from foldkit.transform.base import HIDDEN, SEP, clean_frame, compile_regex, join_frames

#: Separates the pattern from the replacement on the command line.
ARROW = "=>"


@dataclass(frozen=True)
class Rename:
    """Replace every match of `pattern` in each frame name by `replacement` (Python `re.sub`
    syntax: `\\1`, `\\g<name>`). A frame renamed to nothing is removed."""

    pattern: str
    replacement: str

    def __post_init__(self) -> None:
        regex = compile_regex(self.pattern, "--rename")
        try:
            regex.sub(self.replacement, "")  # checks the template's group references
        except (re.error, IndexError) as exc:
            raise UsageError(f"--rename: invalid replacement {self.replacement!r}: {exc}") from None

    @classmethod
    def parse(cls, text: str) -> Rename:
        """`REGEX=>REPLACEMENT` (split at the first `=>`)."""
        pattern, arrow, replacement = text.partition(ARROW)
        if not arrow or not pattern:
            raise UsageError(f"--rename takes 'REGEX=>REPLACEMENT', e.g. 'std::__1::=>std::', not {text!r}")
        return cls(pattern, replacement)


def rename(profile: Profile, options: Rename) -> Profile:
    """Every frame name rewritten; stacks that become identical are merged."""
    sub = compile_regex(options.pattern, "--rename").sub
    memo: dict[str, str] = {}

    def new_name(frame: str) -> str:
        got = memo.get(frame)
        if got is None:
            try:
                got = memo[frame] = clean_frame(sub(options.replacement, frame))
            except (re.error, IndexError) as exc:
                raise UsageError(f"--rename: replacement {options.replacement!r} failed: {exc}") from None
        return got

    def rewrite(stack: str) -> str:
        return join_frames([n for n in map(new_name, stack.split(SEP)) if n], HIDDEN)

    return map_stacks(profile, rewrite)

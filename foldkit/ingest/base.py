"""The small interface every input format module implements."""

from __future__ import annotations

from typing import Protocol

from foldkit.errors import InputError
from foldkit.ingest.options import FoldOptions
from foldkit.inputs import Source
from foldkit.profile import Diagnostics, Profile


class InputFormat(Protocol):
    """A module in foldkit.ingest: its name, a description, an example, `sniff` and `fold`."""

    NAME: str
    DESCRIPTION: str
    EXAMPLE: str

    def sniff(self, head: bytes) -> bool | None:
        """True if `head` (the first bytes of the input) is this format, False if not, None if unsure."""
        ...

    def fold(self, source: Source, options: FoldOptions) -> Profile:
        """Fold the whole source into a profile."""
        ...


def end_blocks(diag: Diagnostics, name: str, block: list[str], start: int, found: bool, what: str) -> None:
    """At the end of an input of blocks that each end with a value line (BCC, DTrace): warn about
    a last block cut off before its value (line `start`), and fail when no block was `found`
    and lines were bad (`what` names the format)."""
    if block:
        diag.warnings.append(
            f"{name}:{start}: the last stack has no value (input cut off?); "
            f"its {len(block)} line(s) were dropped, the rest was folded"
        )
        diag.bad_line(name, start, block[0])
    if not found and diag.bad_lines:
        raise InputError(f"{name}: no {what} stack found; " + "; ".join(diag.messages()))

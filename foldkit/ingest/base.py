"""The small interface every input format module implements."""

from __future__ import annotations

from typing import Protocol

from foldkit.ingest.options import FoldOptions
from foldkit.inputs import Source
from foldkit.profile import Profile


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

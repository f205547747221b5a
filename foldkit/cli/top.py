"""`foldkit top` (not implemented yet)."""

from __future__ import annotations

from foldkit.cli import common as c
from foldkit.errors import UsageError


def top(inputs: c.Inputs, output: c.Output = None, quiet: c.Quiet = False, verbose: c.Verbose = False) -> None:
    """Not implemented yet.

    Example: (later)
    """
    raise UsageError("foldkit top is not implemented yet")

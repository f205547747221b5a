"""`foldkit flamegraph` (not implemented yet)."""

from __future__ import annotations

from foldkit.cli import common as c
from foldkit.errors import UsageError


def flamegraph(inputs: c.Inputs, output: c.Output = None, quiet: c.Quiet = False, verbose: c.Verbose = False) -> None:
    """Not implemented yet.

    Example: (later)
    """
    raise UsageError("foldkit flamegraph is not implemented yet")

"""The `foldkit` console script and `python -m foldkit`: the big folded files the command line
names start being read (`foldkit.readahead`) before the command line's own modules load."""

from __future__ import annotations

import sys


def entry() -> None:
    """Console-script entry point."""
    from foldkit import readahead

    readahead.start(sys.argv[1:])
    from foldkit.cli import entry as run

    run()

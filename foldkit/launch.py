"""The `foldkit` console script and `python -m foldkit`: the big folded files the command line
names start being read (`foldkit.readahead`) before the command line's own modules load."""

from __future__ import annotations

import signal
import sys


def _interrupted(signum: int, frame: object) -> None:
    """SIGINT before the command line catches KeyboardInterrupt: its message and exit code."""
    sys.stderr.write("foldkit: interrupted\n")
    raise SystemExit(130)


def entry() -> None:
    """Console-script entry point. Ctrl-C while the modules load (the package's own `__init__`
    already does this for the console script) prints foldkit's line and exits 130."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not ignored
        signal.signal(signal.SIGINT, _interrupted)
    from foldkit import readahead

    readahead.start(sys.argv[1:])
    from foldkit.cli import entry as run

    run()

"""foldkit: fold profiler captures into stacks, render flame graphs, diff and check profiles."""

from __future__ import annotations

import signal as _signal
import sys as _sys


def _console() -> bool:
    """Whether this is the command line starting (the console script `foldkit ...`, or
    `python -m foldkit ...`, while its package is imported: `sys.argv[0]` is then "-m"), not a
    library import."""
    if not _sys.argv:
        return False
    if _sys.argv[0] == "-m":
        run = _sys.orig_argv[_sys.orig_argv.index("-m") + 1 :] if "-m" in _sys.orig_argv else []
        return run[:1] == ["foldkit"]
    return _sys.argv[0].rpartition("/")[2] == "foldkit"


#: Whether this is the command line starting (`foldkit ...`, `python -m foldkit ...`), not a
#: library import.
_CONSOLE = _console()

if _CONSOLE and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    # the console script, starting (and SIGINT not ignored, as in a background job): Ctrl-C
    # while the command's modules import gives foldkit's one line and 130, not a traceback
    # (`foldkit.cli.entry` hands SIGINT back to KeyboardInterrupt once it catches that)

    def _interrupted(signum: int, frame: object) -> None:
        _sys.stderr.write("foldkit: interrupted\n")
        raise SystemExit(130)

    _signal.signal(_signal.SIGINT, _interrupted)

#: `typing.TYPE_CHECKING`, without importing typing (a tenth of `foldkit --version`'s time).
TYPE_CHECKING = False

__version__ = "0.1.0"

if TYPE_CHECKING:
    from typing import Any

    from foldkit.api import check, diff, read
    from foldkit.ingest import FoldOptions
    from foldkit.profile import Profile

#: Public names imported on first use, so `import foldkit` (and every command-line run) loads
#: only what it needs: `foldkit --version` nothing more, a command not the API's dataclasses
#: before it needs them, and the readers of every format are behind FoldOptions. `Profile` is
#: taken from foldkit.api, which gives it its methods.
_PUBLIC = {
    "FoldOptions": "foldkit.ingest",
    "Profile": "foldkit.api",
    "check": "foldkit.api",
    "diff": "foldkit.api",
    "read": "foldkit.api",
}


def __getattr__(name: str) -> Any:
    """The public names of `__all__`, from their modules."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


__all__ = ["FoldOptions", "Profile", "__version__", "check", "diff", "read"]

if not _CONSOLE:
    # a library user (a script, a notebook, the tests) gets `Profile` with its methods however it
    # was imported (`from foldkit.profile import Profile` too); the console script loads the API
    # only when a command needs it
    from foldkit import api as _api  # noqa: F401

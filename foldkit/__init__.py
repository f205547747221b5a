"""foldkit: fold profiler captures into stacks, render flame graphs, diff and check profiles."""

from __future__ import annotations

# `_signal` is the C module `signal` wraps: built in, so the handler below is installed before any
# module is imported (`signal` itself imports enum, functools and collections first: a Ctrl-C
# landing there, on a loaded machine, printed a KeyboardInterrupt traceback from the import)
import _signal
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


def _interrupted(signum: int, frame: object) -> None:
    """SIGINT while the command line starts (before it catches KeyboardInterrupt): foldkit's one
    line and exit 130, not a traceback. The one handler for the console script (installed below)
    and `python -m foldkit` (`foldkit.launch.entry`); `foldkit.cli.entry` hands SIGINT back to
    KeyboardInterrupt once it catches that."""
    _sys.stderr.write("foldkit: interrupted\n")
    raise SystemExit(130)


def _unraisable(unraisable: _sys.UnraisableHookArgs) -> None:
    """`sys.unraisablehook` of the command line: Ctrl-C whose exception Python could not raise,
    because the signal's handler ran in a `__del__` or a weakref callback (the import system's
    among them), still ends the command; Python would print it as "Exception ignored in ..." and
    carry on, and the command ran to its end. A KeyboardInterrupt is raised again at the main
    thread's next call or return past this hook (`_raise_interrupt`); `_interrupted`'s SystemExit
    (its line written) ends the process with 130 here, as nothing is written before the command
    runs. Anything else is Python's own report."""
    if issubclass(unraisable.exc_type, KeyboardInterrupt):
        _sys.setprofile(_raise_interrupt)
    elif _from_interrupted(unraisable.exc_value):
        import os

        _sys.stderr.flush()
        os._exit(130)
    else:
        _sys.__unraisablehook__(unraisable)


def _raise_interrupt(frame: FrameType, event: str, arg: object) -> None:
    """A profile function (`sys.setprofile`) that raises KeyboardInterrupt at the first call or
    return outside `_unraisable`, and is then removed."""
    if frame.f_code is _unraisable.__code__:
        return
    _sys.setprofile(None)
    raise KeyboardInterrupt


def _from_interrupted(exc: BaseException | None) -> bool:
    """Whether `exc` is the SystemExit `_interrupted` raised."""
    traceback = exc.__traceback__ if isinstance(exc, SystemExit) else None
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_code is _interrupted.__code__


def _interruption(exc: BaseException) -> BaseException | None:
    """The Ctrl-C `exc` was raised from (along its causes): a KeyboardInterrupt, or `_interrupted`'s
    SystemExit (its line written); None if none. Python 3.11 raises a RuntimeError from what a
    class attribute's `__set_name__` raises while the class is made (an enum's members', a
    `functools.cached_property`'s), where Ctrl-C lands as a module imports."""
    cause = exc.__cause__
    while cause is not None and not (isinstance(cause, KeyboardInterrupt) or _from_interrupted(cause)):
        cause = cause.__cause__
    return cause


def _forget_unhandled_interrupt() -> None:
    """Clear CPython's note of an unhandled KeyboardInterrupt, which would end the process by
    SIGINT instead of the exit code asked for. CPython notes one whenever a KeyboardInterrupt
    leaves code that `exec()` or `eval()` ran from a string (the methods `dataclasses` and
    `namedtuple` make while a module imports, where Ctrl-C often lands), even when it is caught
    further up, as the commands do; `python -m foldkit` (`Py_RunMain`) then re-raised SIGINT after
    the interpreter's shutdown (status -2, not 130). The console script ends through a path that
    does not look at the note. Every `exec()` of a string clears the note before it runs, and one
    that raises nothing leaves it clear."""
    exec("")


def _held(call: Callable[..., Any], *args: object) -> Any:
    """`call(*args)` with Ctrl-C held: noted while it runs, then handed to the SIGINT handler of
    before (only the main thread handles signals, and one that Python did not install cannot be
    put back: then `call` runs as it is)."""
    import _thread

    if _thread.get_ident() != _MAIN_THREAD or _signal.getsignal(_signal.SIGINT) is None:
        return call(*args)
    noted: list[int] = []
    before = _signal.signal(_signal.SIGINT, lambda signum, frame: noted.append(signum))
    try:
        return call(*args)
    finally:
        _signal.signal(_signal.SIGINT, before)
        if noted:
            _signal.raise_signal(_signal.SIGINT)


def _hold_interrupts_in_extensions() -> None:
    """Make extension modules initialise with Ctrl-C held (`_held`). Cython's initialisation,
    lxml.etree's among them, swallows what the Python code it calls raises in places (a `try: ...
    except: pass` around registering its types with `collections.abc`): Ctrl-C landing there was
    lost, and the command ran to its end (exit 0)."""
    loader = _sys.modules["_frozen_importlib_external"].ExtensionFileLoader
    create, execute = loader.create_module, loader.exec_module
    loader.create_module = lambda self, spec: _held(create, self, spec)
    loader.exec_module = lambda self, module: _held(execute, self, module)


#: The thread that imported the package (the main thread), set when the handlers are installed.
_MAIN_THREAD = 0


def _catch_interrupts() -> None:
    """Install `_interrupted`, `_unraisable` and `_hold_interrupts_in_extensions` unless SIGINT is
    ignored (as in a background job) or handled."""
    global _MAIN_THREAD
    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        import _thread

        _MAIN_THREAD = _thread.get_ident()
        _signal.signal(_signal.SIGINT, _interrupted)
        _sys.unraisablehook = _unraisable
        _hold_interrupts_in_extensions()


if _CONSOLE:
    _catch_interrupts()

#: `typing.TYPE_CHECKING`, without importing typing (a tenth of `foldkit --version`'s time).
TYPE_CHECKING = False

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
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
    from foldkit.lazy import attribute

    return attribute(globals(), _PUBLIC, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


__all__ = ["FoldOptions", "Profile", "__version__", "check", "diff", "read"]

if not _CONSOLE:
    # a library user (a script, a notebook, the tests) gets `Profile` with its methods however it
    # was imported (`from foldkit.profile import Profile` too); the console script loads the API
    # only when a command needs it
    from foldkit import api as _api  # noqa: F401

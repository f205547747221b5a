"""What the commands share once their flags are parsed, without Typer (for `foldkit.cli.draw` and
the drop-in fast path `foldkit.cli.fast`): the `--cluster` reader, printing a run's warnings and
notes, and ending the process with a command's exit code."""

from __future__ import annotations

import gc
import sys

from foldkit import _forget_unhandled_interrupt, _interruption
from foldkit.errors import UsageError

#: `typing.TYPE_CHECKING` without importing typing: the plain flame graph's start-up
#: (`foldkit.cli.fast`) runs through `exit_with` and loads none of typing, contextlib or signal.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager

    from foldkit.cluster.reading import Reader
    from foldkit.ingest.options import FoldOptions
    from foldkit.profile import Diagnostics, Profile
    from foldkit.transform import Pipeline
else:
    import _signal  # the C module `signal` wraps (`signal` loads enum)


def cluster_reader(address: str | None, local_only: str | None = None) -> AbstractContextManager[Reader | None]:
    """A reader that folds each input on the cluster at `address` (None without one); `local_only`
    names an option that needs the inputs read here, which `--cluster` then contradicts."""
    from contextlib import contextmanager  # on use: `exit_with`'s callers need none of it

    return contextmanager(_cluster_reader)(address, local_only)


def _cluster_reader(address: str | None, local_only: str | None) -> Iterator[Reader | None]:
    """`cluster_reader`'s generator."""
    if address is None:
        yield None
        return
    if local_only is not None:
        raise UsageError(f"{local_only} reads its inputs on this machine; drop --cluster")
    from foldkit.cluster import connect
    from foldkit.cluster.reading import reader

    with connect(address) as cluster:
        yield reader(cluster)


def read_transformed(
    transforms: Pipeline | None, inputs: list[str], options: FoldOptions, reader: Callable[[list[str], FoldOptions], Profile] | None
) -> Profile:
    """`transforms.read(inputs, options, reader)`; without transform steps (`transforms` None or
    empty) `read_untransformed`'s same profile, without loading the transforms."""
    if transforms:
        return transforms.read(inputs, options, reader)
    return read_untransformed(inputs, options, reader)


def read_untransformed(inputs: list[str], options: FoldOptions, reader: Callable[[list[str], FoldOptions], Profile] | None) -> Profile:
    """What `Pipeline().read(inputs, options, reader)` gives (no transform steps), without loading
    the transforms: the stacks read, with the root frames `options` asked for declared. Only a
    perf profile whose root frames differ from those (none that foldkit's readers make) loads
    them, to rewrite its roots as `Pipeline.read` does."""
    from foldkit.ingest import read
    from foldkit.ingest.options import perf_root_frames
    from foldkit.profile import ROOT_FRAMES

    profile = (reader or read)(inputs, options)
    if profile.format != "perf":
        return profile
    wanted = perf_root_frames(options.pid, options.tid)
    declared = profile.meta.setdefault(ROOT_FRAMES, wanted)
    if declared is None or tuple(declared) == wanted:
        return profile
    from foldkit.transform.roots import with_root_frames

    return with_root_frames(profile, wanted)


def report(diagnostics: Diagnostics, quiet: bool, verbose: bool) -> None:
    """Print warnings (unless quiet) and notes (if verbose) to stderr."""
    notes = list(diagnostics.notes) if verbose else []
    messages = [] if quiet else list(diagnostics.messages())
    if not (notes or messages):
        return  # (nothing to make visible: the text module is not loaded)
    from foldkit.text import visible_lines

    for note in notes:
        print(f"foldkit: {visible_lines(note)}", file=sys.stderr)
    for message in messages:
        print(f"foldkit: warning: {visible_lines(message)}", file=sys.stderr)


def _ignore(_: object) -> None:
    """An unraisable-exception hook that reports nothing (see `exit_with`)."""


def exit_with(run: Callable[[], int]) -> None:
    """Runs a command line for the console script (`foldkit.launch.entry`, once reading ahead
    has started; `run` gives the exit code) and exits with its code. From here on, Ctrl-C is
    Python's KeyboardInterrupt, which the commands (and the native core's waits) handle, and
    `run` turns into exit 130."""
    if getattr(_signal.getsignal(_signal.SIGINT), "__name__", None) == "_interrupted":
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    try:
        code = run()
    except KeyboardInterrupt:  # between the handler above and the command's own
        print("foldkit: interrupted", file=sys.stderr)
        code = 130
    except RuntimeError as exc:  # Ctrl-C as a class was made (`foldkit._interruption`)
        if _interruption(exc) is None:
            raise
        print("foldkit: interrupted", file=sys.stderr)
        code = 130
    if code == 130:
        # interrupted: "foldkit: interrupted" is the last word. Threads of the abandoned work (a
        # worker pool's queue feeder writing to a closed pipe) may still fail while the
        # interpreter shuts down; Python would print those as "Exception ignored in ..." reports.
        sys.unraisablehook = _ignore
        _forget_unhandled_interrupt()
    # The command is done and its output written. The interpreter's shutdown would now run a
    # garbage collection over every object left (20 ms after drawing a big flame graph); frozen
    # objects are left out of it, and the process frees them all at once as it exits.
    gc.freeze()
    sys.exit(code)

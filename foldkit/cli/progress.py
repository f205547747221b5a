"""A progress bar for long reads (`fold`, `flamegraph`): bytes of the inputs read, on stderr, only
on a terminal and never with -q, shown once reading has taken PROGRESS_DELAY seconds.

It is fed by `Source.bytes_read` (the stored, compressed bytes read). A plain file that the native
perf folder reads by range in its own threads does not pass through that counter: the bar then
pulses, with the elapsed time."""

from __future__ import annotations

import contextlib
import sys
import threading

from foldkit.inputs import Source, watch_sources

#: `typing.TYPE_CHECKING` without importing typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import TextIO

#: Seconds of reading before the bar appears: short runs stay silent.
PROGRESS_DELAY = 0.5
#: Seconds between updates of the bar.
REFRESH = 0.1


def _counted(sources: list[Source]) -> int | None:
    """Bytes to read in all `sources`, when every one has a known size and is read through its
    counter; None otherwise."""
    if not sources or any(s.size is None or (s.path is not None and s.compression == "none") for s in sources):
        return None
    return sum(s.size or 0 for s in sources)


@contextlib.contextmanager
def reading_progress(quiet: bool = False, stream: TextIO | None = None, delay: float | None = None) -> Iterator[None]:
    """Show a bar of the bytes read while the block runs, after `delay` (default PROGRESS_DELAY)
    seconds (see the module docstring)."""
    out = stream or sys.stderr
    wait = PROGRESS_DELAY if delay is None else delay
    if quiet or not out.isatty():
        yield
        return
    sources: list[Source] = []
    done = threading.Event()

    def show() -> None:
        if done.wait(wait):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        from foldkit.text import visible

        columns = (TextColumn("[bold]reading[/bold]"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeElapsedColumn())
        with Progress(*columns, TextColumn("{task.description}", markup=False), console=Console(file=out), transient=True) as bar:
            task = bar.add_task("", total=None)
            while not done.wait(REFRESH):
                bar.update(
                    task,
                    completed=sum(s.bytes_read for s in sources),
                    total=_counted(sources),
                    description=visible(sources[-1].name) if sources else "",
                )

    thread = threading.Thread(target=show, name="foldkit-progress", daemon=True)
    with watch_sources(sources.append):
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

"""Progress while a report is built: a rich progress bar on a terminal, one plain line per capture
otherwise (CI logs, cron mail). Capture names are untrusted: shown through `visible()`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO

from foldkit.report.result import CaptureResult
from foldkit.report.runner import Progress
from foldkit.text import visible, visible_lines


def describe(result: CaptureResult) -> str:
    """One capture's outcome in a few words."""
    if result.status == "error":  # a message of several lines (a listing) stays one, indented
        return "error: " + visible_lines(result.error or "").replace("\n", "\n    ")
    if result.status == "skipped":
        return "skipped (not a capture)"
    parts = [result.format or "?"]
    if result.samples is not None:
        parts.append(f"{result.samples:,} samples")
    if result.warnings:
        parts.append(f"{len(result.warnings)} warning(s)")
    if result.check is not None:
        parts.append("check " + ("not made" if result.check.passed is None else "UNDERPOWERED" if result.check.underpowered else "PASS" if result.check.passed else "FAIL"))
    return ", ".join(parts)


def plain_progress(stream: TextIO, verbose: bool = False) -> Progress:
    """A progress callback printing `foldkit: [3/200] name: outcome (0.4 s)` lines."""

    def show(result: CaptureResult, done: int, total: int) -> None:
        print(f"foldkit: [{done}/{total}] {visible(result.name)}: {describe(result)} ({result.seconds:.1f} s)", file=stream, flush=True)
        if verbose:
            for warning in result.warnings:
                print(f"foldkit:   warning: {visible(warning)}", file=stream, flush=True)

    return show


@contextlib.contextmanager
def progress_display(quiet: bool = False, verbose: bool = False, stream: TextIO | None = None) -> Iterator[Progress | None]:
    """The progress callback for this terminal (None when `quiet`): a rich bar when `stream`
    (default stderr) is a terminal, where errors and failed checks are printed above the bar."""
    out = stream or sys.stderr
    if quiet:
        yield None
        return
    if not out.isatty():
        yield plain_progress(out, verbose)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    console = Console(file=out, highlight=False)
    with Bar(
        TextColumn("[bold]report[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}", markup=False),
        console=console,
    ) as bar:
        task = bar.add_task("", total=None)

        def show(result: CaptureResult, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=visible(result.name))
            if result.status == "error" or result.regressed or (verbose and result.warnings):
                console.print(f"{visible(result.name)}: {describe(result)}", markup=False, highlight=False)

        yield show

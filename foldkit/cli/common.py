"""Options shared by every command, declared once; helpers that turn them into library calls."""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from foldkit.ingest.options import FoldOptions
from foldkit.profile import Diagnostics

Inputs = Annotated[
    list[str],
    typer.Argument(metavar="INPUT", help="Capture files (perf script text, BPF dumps, folded; plain, .gz or .zst), or - for stdin. Several are merged.", show_default=False),
]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Output file (default: stdout). A .gz or .zst suffix compresses.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print no warnings.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Say what was detected and done.")]

FOLD = "Folding"
Format = Annotated[str, typer.Option("--format", "-f", help="Input format: auto, perf, bpftrace, bcc, folded.", rich_help_panel=FOLD)]
Pid = Annotated[bool, typer.Option("--pid", help="Root frame comm-PID (perf, BCC). To keep only some processes, use --only-pid.", rich_help_panel=FOLD)]
Tid = Annotated[bool, typer.Option("--tid", help="Root frame comm-PID/TID (perf).", rich_help_panel=FOLD)]
Kernel = Annotated[bool, typer.Option("--kernel", help="Annotate kernel frames with _[k].", rich_help_panel=FOLD)]
Jit = Annotated[bool, typer.Option("--jit", help="Annotate JIT frames with _[j].", rich_help_panel=FOLD)]
All = Annotated[bool, typer.Option("--all", help="Annotate kernel _[k], JIT _[j] and inlined _[i] frames.", rich_help_panel=FOLD)]
Addrs = Annotated[bool, typer.Option("--addrs", help="Keep addresses of unresolved frames: [dso <addr>].", rich_help_panel=FOLD)]
Event = Annotated[str | None, typer.Option("--event", help="perf: fold only this event (e.g. cpu-clock; modifiers ignored).", rich_help_panel=FOLD)]
WeightBy = Annotated[str, typer.Option("--weight", help="perf: weigh samples by 'period' (like stackcollapse-perf.pl) or count 'samples'.", rich_help_panel=FOLD)]
SkipAfter = Annotated[list[str] | None, typer.Option("--skip-after", metavar="FUNC", help="Drop the frames below (rootward of) the first frame with this name (repeatable).", rich_help_panel=FOLD)]
Maps = Annotated[list[str] | None, typer.Option("--map", metavar="MAP", help="bpftrace: which map(s) to fold, as printed (@name, @ for the anonymous map) or 'all' (repeatable).", rich_help_panel=FOLD)]
Strict = Annotated[bool, typer.Option("--strict", help="Fail (exit 2) on unrecognised input lines, or on a capture with no sample, instead of warning.", rich_help_panel=FOLD)]
Unit = Annotated[str | None, typer.Option("--unit", help="What the weights count (samples, ns, bytes, ...) when the input does not say: folded text without a '# foldkit: unit=...' first line.", rich_help_panel=FOLD)]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=0, help="Threads (0 = one per core).", rich_help_panel=FOLD)]
Demangle = Annotated[bool, typer.Option("--demangle", help="Demangle C++ (_Z…) and Rust (legacy, v0) symbol names, in every input format.", rich_help_panel=FOLD)]
MaxRecord = Annotated[str, typer.Option("--max-record", help="Longest line or record read (bytes; K, M, G suffixes); longer ones are skipped as unrecognised.", rich_help_panel=FOLD)]

OffCpu = Annotated[bool, typer.Option("--off-cpu", help="perf: time threads spent off-CPU (ns), from sched:sched_switch events: each switch-out stack charged until the thread's next switch-in; blocked states only by default.", rich_help_panel=FOLD)]
Wall = Annotated[bool, typer.Option("--wall", help="perf: wall-clock time per thread (ns): on-CPU cpu-clock/task-clock samples plus off-CPU intervals (leaf frame [off-cpu:STATE]).", rich_help_panel=FOLD)]
OffCpuStates = Annotated[str, typer.Option("--off-cpu-states", metavar="STATES", help="With --off-cpu/--wall: prev_state letters to count ('all', 'blocked' = all but R, or e.g. S,D). Default: blocked for --off-cpu, all for --wall.", rich_help_panel=FOLD)]
Wakeups = Annotated[bool, typer.Option("--wakeups", help="With --off-cpu/--wall: append the stack of the thread that woke the sleeper (sched:sched_wakeup events), after a -- frame.", rich_help_panel=FOLD)]

_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(text: str, flag: str) -> int:
    """A size in bytes from `64M`, `512K`, `1G` or a plain number; UsageError otherwise."""
    from foldkit.errors import UsageError

    raw = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = raw[-1:] if raw[-1:] in _SIZE_UNITS else ""
    number = raw[: len(raw) - len(unit)]
    if not number.isdigit() or int(number) <= 0:
        raise UsageError(f"{flag} must be a positive size such as 64M, not {text!r}")
    return int(number) * _SIZE_UNITS[unit]


def fold_options(
    format: str = "auto",
    pid: bool = False,
    tid: bool = False,
    kernel: bool = False,
    jit: bool = False,
    all: bool = False,
    addrs: bool = False,
    event: str | None = None,
    weight: str = "period",
    skip_after: list[str] | None = None,
    maps: list[str] | None = None,
    strict: bool = False,
    jobs: int = 0,
    keep_time: bool = False,
    demangle: bool = False,
    max_record: str = "64M",
    unit: str | None = None,
    off_cpu: bool = False,
    wall: bool = False,
    off_cpu_states: str = "default",
    wakeups: bool = False,
) -> FoldOptions:
    """FoldOptions from the shared command-line flags."""
    from foldkit.errors import UsageError

    if off_cpu and wall:
        raise UsageError("--off-cpu and --wall exclude each other (--wall includes the off-CPU time)")
    clock = "off-cpu" if off_cpu else "wall" if wall else "cpu"
    if clock == "cpu" and (wakeups or off_cpu_states != "default"):
        raise UsageError("--wakeups and --off-cpu-states need --off-cpu or --wall")
    if weight not in ("period", "samples"):
        raise UsageError(f"--weight must be 'period' or 'samples', not {weight!r}")
    return FoldOptions(
        format=format,
        pid=pid,
        tid=tid,
        kernel=kernel or all,
        jit=jit or all,
        inline=all,
        addrs=addrs,
        event=event,
        weight=weight,
        skip_after=tuple(skip_after or ()),
        maps=tuple(maps or ()),
        strict=strict,
        jobs=jobs,
        keep_time=keep_time,
        demangle=demangle,
        max_record=parse_size(max_record, "--max-record"),
        unit=unit or None,
        clock=clock,
        off_cpu_states=off_cpu_states,
        wakeups=wakeups,
    )


#: The folding flags every capture-reading command accepts, as (parameter name, annotated type, default).
FOLD_PARAMETERS: list[tuple[str, object, object]] = [
    ("format", Format, "auto"),
    ("pid", Pid, False),
    ("tid", Tid, False),
    ("kernel", Kernel, False),
    ("jit", Jit, False),
    ("all", All, False),
    ("addrs", Addrs, False),
    ("event", Event, None),
    ("weight", WeightBy, "period"),
    ("skip_after", SkipAfter, None),
    ("map", Maps, None),
    ("strict", Strict, False),
    ("jobs", Jobs, 0),
    ("demangle", Demangle, False),
    ("max_record", MaxRecord, "64M"),
    ("unit", Unit, None),
    ("off_cpu", OffCpu, False),
    ("wall", Wall, False),
    ("off_cpu_states", OffCpuStates, "default"),
    ("wakeups", Wakeups, False),
]

F = typing.TypeVar("F", bound=Callable[..., object])


def add_parameters(
    func: Callable[..., object],
    parameters: list[tuple[str, object, object]],
    build: Callable[..., object],
    as_name: str,
) -> Callable[..., object]:
    """Give a Typer command extra keyword parameters; they are passed to `build` and the result to
    the command as `as_name`. Shared flags are declared once and every command stays small."""
    hints = typing.get_type_hints(func, include_extras=True)
    sig = inspect.signature(func)
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values() if p.name != as_name]
    names = [name for name, _, _ in parameters]
    extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a) for n, a, d in parameters]

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        built = build(**{n: kwargs.pop(n) for n in names if n in kwargs})
        return func(*args, **{as_name: built}, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=[*own, *extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**{p.name: p.annotation for p in own}, **{n: a for n, a, _ in parameters}}
    del wrapper.__wrapped__  # Typer must read the new signature, not the wrapped one
    return wrapper


def _fold_options_from_flags(**flags: typing.Any) -> FoldOptions:
    flags["maps"] = flags.pop("map", None)
    return fold_options(**flags)


def reads_captures(func: F) -> F:
    """Decorator: the command gets every folding flag, and receives them as `fold_options: FoldOptions`."""
    return add_parameters(func, FOLD_PARAMETERS, _fold_options_from_flags, "fold_options")  # type: ignore[return-value]


def report(diagnostics: Diagnostics, quiet: bool, verbose: bool) -> None:
    """Print warnings (unless quiet) and notes (if verbose) to stderr."""
    from foldkit.text import visible_lines

    if verbose:
        for note in diagnostics.notes:
            print(f"foldkit: {visible_lines(note)}", file=sys.stderr)
    if not quiet:
        for message in diagnostics.messages():
            print(f"foldkit: warning: {visible_lines(message)}", file=sys.stderr)

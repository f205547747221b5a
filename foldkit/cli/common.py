"""Options shared by every command, declared once; helpers that turn them into library calls."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from foldkit.cli.running import report as report
from foldkit.ingest.options import FoldOptions, clock_of_flags
from foldkit.inputs import DEFAULT_MAX_RECORD

Inputs = Annotated[
    list[str],
    typer.Argument(metavar="INPUT", help="Capture files (perf script text, BPF dumps, folded; plain, .gz or .zst), or - for stdin. Several are merged.", show_default=False),
]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Output file (default: stdout). A .gz or .zst suffix compresses.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print no warnings.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Say what was detected and done.")]

FOLD = "Folding"
Format = Annotated[str, typer.Option("--format", "-f", help="Input format: auto, perf, pprof, histogram, bpftrace, dtrace, bcc, events, folded.", rich_help_panel=FOLD)]
Pid = Annotated[bool, typer.Option("--pid", help="Root frame comm-PID (perf, BCC). To keep only some processes, use --only-pid.", rich_help_panel=FOLD)]
Tid = Annotated[bool, typer.Option("--tid", help="Root frame comm-PID/TID (perf).", rich_help_panel=FOLD)]
Kernel = Annotated[bool, typer.Option("--kernel", help="Annotate kernel frames with _[k].", rich_help_panel=FOLD)]
Jit = Annotated[bool, typer.Option("--jit", help="Annotate JIT frames with _[j].", rich_help_panel=FOLD)]
All = Annotated[bool, typer.Option("--all", help="Annotate kernel _[k], JIT _[j] and inlined _[i] frames.", rich_help_panel=FOLD)]
Addrs = Annotated[bool, typer.Option("--addrs", help="Keep addresses of unresolved frames: [dso <addr>].", rich_help_panel=FOLD)]
Event = Annotated[str | None, typer.Option("--event", "--event-filter", help="perf: fold only this event (e.g. cpu-clock; modifiers ignored).", rich_help_panel=FOLD)]
WeightBy = Annotated[str, typer.Option("--weight", help="perf: weigh samples by 'period' (like stackcollapse-perf.pl) or count 'samples'.", rich_help_panel=FOLD)]
SkipAfter = Annotated[list[str] | None, typer.Option("--skip-after", metavar="FUNC", help="Drop the frames below (rootward of) the first frame with this name (repeatable).", rich_help_panel=FOLD)]
SkipAfterDropRoot = Annotated[bool, typer.Option("--skip-after-drop-root", help="With --skip-after: a cut stack loses its root (process) frame too, as inferno-collapse-perf writes it.", rich_help_panel=FOLD)]
Maps = Annotated[list[str] | None, typer.Option("--map", metavar="MAP", help="bpftrace: which map(s) to fold, as printed (@name, @ for the anonymous map) or 'all' (repeatable).", rich_help_panel=FOLD)]
Strict = Annotated[bool, typer.Option("--strict", help="Fail (exit 2) on unrecognised input lines, or on a capture with no sample, instead of warning.", rich_help_panel=FOLD)]
Unit = Annotated[str | None, typer.Option("--unit", help="What the weights count (samples, ns, bytes, ...) when the input does not say: folded text without a '# foldkit: unit=...' first line, otherwise called 'weight'.", rich_help_panel=FOLD)]
_JOBS_HELP = "Threads (0 = one per core)."
Jobs = Annotated[int, typer.Option("--jobs", "-j", "--nthreads", min=0, help=_JOBS_HELP, rich_help_panel=FOLD)]
#: `foldkit fold` also takes inferno-collapse-perf's `-n` (elsewhere `-n` is a table's `--limit`).
FoldJobs = Annotated[int, typer.Option("--jobs", "-j", "--nthreads", "-n", min=0, help=_JOBS_HELP, rich_help_panel=FOLD)]
Demangle = Annotated[bool, typer.Option("--demangle", help="Demangle C++ (_Z…) and Rust (legacy, v0) symbol names, in every input format.", rich_help_panel=FOLD)]
KeepBpfFrames = Annotated[bool, typer.Option("--keep-bpf-frames", help="BCC/libbpf-tools: keep the tracing program's own frames (bpf_prog_*, bpf_trace_run*), dropped by default.", rich_help_panel=FOLD)]
SampleType = Annotated[str | None, typer.Option("--sample-type", metavar="TYPE", help="pprof: fold this sample type (alloc_space, inuse_objects, cpu, …); default: the profile's default type, else its last, as go tool pprof does.", rich_help_panel=FOLD)]
#: `--max-record`'s default as the option spells it (foldkit.inputs.DEFAULT_MAX_RECORD).
MAX_RECORD_TEXT = f"{DEFAULT_MAX_RECORD >> 20}M"
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


#: The folding flags every capture-reading command accepts: parameter name -> (its option, whether
#: a big folded input may still be read ahead when it is given: False when it changes how folded
#: files are read; see `foldkit.launch`). A flag named like a `FoldOptions` field is that field (its
#: default is the field's, written once in ingest/options.py); `fold_options` turns the others,
#: the command line's own spellings, into fields.
FOLD_FLAGS: dict[str, tuple[object, bool]] = {
    "format": (Format, False),
    "pid": (Pid, True),
    "tid": (Tid, True),
    "kernel": (Kernel, True),
    "jit": (Jit, True),
    "all": (All, True),
    "addrs": (Addrs, True),
    "event": (Event, True),
    "weight": (WeightBy, True),
    "skip_after": (SkipAfter, True),
    "skip_after_drop_root": (SkipAfterDropRoot, True),
    "map": (Maps, True),
    "strict": (Strict, True),
    "jobs": (Jobs, False),
    "demangle": (Demangle, True),
    "max_record": (MaxRecord, False),
    "unit": (Unit, True),
    "sample_type": (SampleType, True),
    "keep_bpf_frames": (KeepBpfFrames, True),
    "off_cpu": (OffCpu, True),
    "wall": (Wall, True),
    "off_cpu_states": (OffCpuStates, True),
    "wakeups": (Wakeups, True),
}
#: Defaults of the flags that are no field, or whose command-line value is not the field's.
_FLAG_DEFAULTS: dict[str, object] = {
    "all": False,
    "skip_after": None,
    "skip_after_drop_root": False,
    "map": None,
    "max_record": MAX_RECORD_TEXT,
    "off_cpu": False,
    "wall": False,
}
_FIELD_DEFAULTS = {f.name: f.default for f in dataclasses.fields(FoldOptions)}

#: `FOLD_FLAGS` as (parameter name, annotated type, default), for `add_parameters`.
FOLD_PARAMETERS: list[tuple[str, object, object]] = [
    (name, option, _FLAG_DEFAULTS[name] if name in _FLAG_DEFAULTS else _FIELD_DEFAULTS[name]) for name, (option, _) in FOLD_FLAGS.items()
]


def fold_options(**flags: typing.Any) -> FoldOptions:
    """FoldOptions from the folding flags (`FOLD_FLAGS`, by parameter name): the command line's
    own spellings turned into fields, the rest passed on by name to `foldkit.api.fold_options`
    (which says what `--all` turns on)."""
    from foldkit.api import fold_options as from_keywords
    from foldkit.errors import UsageError

    off_cpu, wall = flags.pop("off_cpu", False), flags.pop("wall", False)
    clock = clock_of_flags(off_cpu, wall, bool(flags.get("wakeups")), flags.get("off_cpu_states", "default"))
    if flags.get("weight", "period") not in ("period", "samples"):
        raise UsageError(f"--weight must be 'period' or 'samples', not {flags['weight']!r}")
    flags["clock"] = clock
    flags["maps"] = tuple(flags.pop("map", None) or ())
    flags["skip_after"] = tuple(flags.get("skip_after") or ())
    flags["skip_after_drops_root"] = flags.pop("skip_after_drop_root", False)
    flags["max_record"] = parse_size(flags.get("max_record", MAX_RECORD_TEXT), "--max-record")
    for name in ("unit", "sample_type"):  # an empty value is none
        flags[name] = flags.get(name) or None
    return from_keywords(**flags)


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


def reads_captures(func: F, jobs: object = Jobs) -> F:
    """Decorator: the command gets every folding flag, and receives them as `fold_options: FoldOptions`
    (`jobs`: the declaration of `--jobs`, for a command that takes more spellings of it)."""
    parameters = [(n, jobs if n == "jobs" else a, d) for n, a, d in FOLD_PARAMETERS]
    return add_parameters(func, parameters, fold_options, "fold_options")  # type: ignore[return-value]


def reads_captures_collapse(func: F) -> F:
    """`reads_captures` with inferno-collapse-perf's `-n` for `--jobs` (`foldkit fold`)."""
    return reads_captures(func, FoldJobs)

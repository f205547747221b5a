"""The drop-in fast path: `foldkit flamegraph` invoked as FlameGraph's and inferno's pipelines
invoke a flame-graph tool (`foldkit flamegraph x.folded -o x.svg`, `... > x.svg`, stdin, the
picture flags those tools share) runs without loading Typer, click or rich, whose import alone
costs more than drawing a small graph.

`parse(args)` reads a command line by hand only when every argument is one this module knows
and means here exactly what it means to the Typer command (`foldkit.cli.flamegraph`): the
spellings in `FLAGS` (a test checks them against the command's own parameters), values given as
the next argument or after `=` (long options), integers and numbers as click converts them
(`int(value)`, `float(value)`), a repeated option's last value. Anything else (another flag, a
value that looks like an option, `--`, combined short flags, `--help`, no input, a cluster from
the environment) gives None, and the Typer command line parses it instead; so do the errors
click reports. What `parse` accepts is drawn by the command's own `foldkit.cli.draw.draw`, with
the picture flags' defaults of `render_values.RENDER_DEFAULTS` and the folding flags' defaults
(`FoldOptions()`), through the same error handling: the same output bytes, messages and exit
codes either way (tests/cli/test_fast_path.py runs a table of command lines both ways).

`foldkit fold` as inferno-collapse-perf's and stackcollapse-perf.pl's pipelines invoke it
(`foldkit fold x.perf -o x.folded`, `... > x.folded`, stdin, the folding flags those tools share:
`FOLD_FLAGS`) runs so too, through the command's own `foldkit.cli.folding.fold_captures` with
the folding flags' `FoldOptions` (`fold_options`) and no transform step, without loading Typer
or the transforms.

`FOLDKIT_FAST_PATH=0` turns the fast path off (every command line goes through Typer).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from foldkit.ingest.options import FoldOptions

#: Environment variable that, set to 0, sends every command line through Typer.
SWITCH = "FOLDKIT_FAST_PATH"

#: The command the fast path runs.
COMMAND = "flamegraph"

#: Option spelling -> (parameter name, kind): "flag" (True when given), "off" (False when given:
#: the second spelling of a `--x/--y` pair), "str", "int", "float" (converted as click converts).
FLAGS: dict[str, tuple[str, str]] = {
    "--output": ("output", "str"),
    "-o": ("output", "str"),
    "--quiet": ("quiet", "flag"),
    "-q": ("quiet", "flag"),
    "--title": ("title", "str"),
    "--subtitle": ("subtitle", "str"),
    "--width": ("width", "int"),
    "--height": ("height", "int"),
    "--minwidth": ("minwidth", "str"),
    "--fonttype": ("fonttype", "str"),
    "--fontsize": ("fontsize", "float"),
    "--fontwidth": ("fontwidth", "float"),
    "--countname": ("countname", "str"),
    "--nametype": ("nametype", "str"),
    "--notes": ("notes", "str"),
    "--colors": ("colors", "str"),
    "--palette": ("colors", "str"),
    "-c": ("colors", "str"),
    "--hash": ("hash", "flag"),
    "--deterministic": ("deterministic", "flag"),
    "--bgcolors": ("bgcolors", "str"),
    "--reverse": ("reverse", "flag"),
    "--inverted": ("inverted", "flag"),
    "-i": ("inverted", "flag"),
    "--factor": ("factor", "float"),
    "--total": ("total", "float"),
    "--search-color": ("search_color", "str"),
    "--truncate-text-right": ("truncate_text_right", "flag"),
    "--truncate-text-left": ("truncate_text_right", "off"),
    "--sort-by-weight": ("sort_by_weight", "flag"),
    "--max-frames": ("max_frames", "int"),
    "--colordiffusion": ("colordiffusion", "flag"),
    "--stroke-color": ("stroke_color", "str"),
    "--uicolor": ("uicolor", "str"),
    "--no-javascript": ("no_javascript", "flag"),
}

#: The command's parameters that are no picture flag.
_OWN = ("output", "quiet")

#: The other command the fast path runs.
FOLD_COMMAND = "fold"

#: `foldkit fold`'s spellings the fast path takes, as `FLAGS` ("count": an int of at least 0, as
#: click's `min=0` takes it). Those named like a `FoldOptions` field set that field; `all` is
#: `FoldOptions.annotated`.
FOLD_FLAGS: dict[str, tuple[str, str]] = {
    "--output": ("output", "str"),
    "-o": ("output", "str"),
    "--quiet": ("quiet", "flag"),
    "-q": ("quiet", "flag"),
    "--verbose": ("verbose", "flag"),
    "-v": ("verbose", "flag"),
    "--unit-header": ("unit_header", "flag"),
    "--format": ("format", "str"),
    "-f": ("format", "str"),
    "--pid": ("pid", "flag"),
    "--tid": ("tid", "flag"),
    "--kernel": ("kernel", "flag"),
    "--jit": ("jit", "flag"),
    "--all": ("all", "flag"),
    "--addrs": ("addrs", "flag"),
    "--demangle": ("demangle", "flag"),
    "--strict": ("strict", "flag"),
    "--event": ("event", "str"),
    "--event-filter": ("event", "str"),
    "--weight": ("weight", "str"),
    "--jobs": ("jobs", "count"),
    "-j": ("jobs", "count"),
    "--nthreads": ("jobs", "count"),
    "-n": ("jobs", "count"),
    "--off-cpu": ("off_cpu", "flag"),
    "--wall": ("wall", "flag"),
    "--wakeups": ("wakeups", "flag"),
    "--off-cpu-states": ("off_cpu_states", "str"),
}

#: `foldkit fold`'s parameters that are no folding flag.
_FOLD_OWN = ("output", "quiet", "verbose", "unit_header")

#: The values `--weight` takes (the command line refuses others, with its own message).
_WEIGHTS = ("period", "samples")


class Plan:
    """A command line the fast path runs: its inputs and the values given, by parameter name."""

    def __init__(self, inputs: list[str], given: dict[str, Any], messages: list[str], command: str = COMMAND) -> None:
        self.inputs = inputs
        self.given = given
        #: `compat`'s warnings about the compatibility flags dropped (printed when run).
        self.messages = messages
        #: `COMMAND` or `FOLD_COMMAND`
        self.command = command


def _value(kind: str, text: str) -> tuple[bool, Any]:
    """(True, the value) of an option's text as click converts it for `kind`, or (False, None)
    when click would refuse it (its message is then click's, through Typer)."""
    if kind == "str":
        return True, text
    try:
        value = int(text) if kind in ("int", "count") else float(text)
    except ValueError:
        return False, None
    return (False, None) if kind == "count" and value < 0 else (True, value)


def parse(args: list[str]) -> Plan | None:
    """The plan for `args` (the command line without the program name), or None when the fast
    path does not take it (see the module docstring)."""
    if not args or args[0] not in (COMMAND, FOLD_COMMAND) or os.environ.get(SWITCH, "1").strip() == "0":
        return None
    from foldkit.cli.compat import without_compat_flags
    from foldkit.cluster import ENV as CLUSTER_ENV
    from foldkit.errors import FoldkitError

    if os.environ.get(CLUSTER_ENV):
        return None
    try:
        args, messages = without_compat_flags(args)
    except FoldkitError:
        return None
    if args[0] == FOLD_COMMAND:
        return _parse_fold(args, messages)
    read = _read_args(args[1:], FLAGS)
    if read is None:
        return None
    return Plan(*read, messages)


def _read_args(args: list[str], flags: dict[str, tuple[str, str]]) -> tuple[list[str], dict[str, Any]] | None:
    """(inputs, values given by parameter name) of a command's arguments whose spellings are
    `flags`, or None when one is not the fast path's to read (see the module docstring)."""
    inputs: list[str] = []
    given: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "-" or not arg.startswith("-"):
            inputs.append(arg)
            continue
        name, eq, text = arg.partition("=")
        if eq and not name.startswith("--"):
            return None  # `-o=x` means the value `=x` to click: left to it
        spec = flags.get(name)
        if spec is None:
            return None
        parameter, kind = spec
        if kind in ("flag", "off"):
            if eq:
                return None
            given[parameter] = kind == "flag"
            continue
        if not eq:
            if i >= len(args):
                return None
            text = args[i]
            i += 1
            if text.startswith("-") and text != "-":
                return None
        ok, value = _value(kind, text)
        if not ok:
            return None
        given[parameter] = value
    if not inputs:
        return None
    return inputs, given


def _draw_plain(plan: Plan) -> bool:
    """Draw the plain flame graph (`foldkit.cli.plain`) of a command line without picture flags
    that names one input and writes SVG to stdout or a `.svg` file that is not the input; False
    (nothing written) when it is not one."""
    output = plan.given.get("output")
    if len(plan.inputs) != 1 or not set(plan.given) <= set(_OWN):
        return False
    if output is not None and output != "-":
        if not os.path.basename(output).lower().endswith(".svg"):
            return False
        try:
            if os.path.samefile(output, plan.inputs[0]):
                return False  # refused by the full path
        except OSError:
            pass
    from foldkit.cli import plain

    return plain.write(plan.inputs[0], output)


def run(plan: Plan) -> int:
    """Draw what `plan` asks for (`foldkit.cli.draw.draw`), or fold it (`_run_fold`); the exit
    code, as the Typer command line's `main` gives it."""
    from foldkit.cli.compat import warn
    from foldkit.errors import FoldkitError

    quiet = bool(plan.given.get("quiet", False))
    warn(["-q"] if quiet else [], plan.messages)
    try:
        if plan.command == FOLD_COMMAND:
            _run_fold(plan)
            return 0
        if _draw_plain(plan):
            return 0
        from pathlib import Path

        from foldkit.cli.draw import draw
        from foldkit.cli.render_values import RENDER_DEFAULTS, render_flags
        from foldkit.ingest.options import FoldOptions

        output = plan.given.get("output")
        flags = {name: plan.given.get(name, default) for name, default in RENDER_DEFAULTS.items()}
        render = render_flags(**flags)
        draw(plan.inputs, None if output is None else Path(output), None, quiet, False, fold_options=FoldOptions(), render=render, transforms=None)
    except FoldkitError as exc:
        from foldkit.text import visible_lines

        print(f"foldkit: error: {visible_lines(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("foldkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 0


def _parse_fold(args: list[str], messages: list[str]) -> Plan | None:
    """The plan for a `foldkit fold` command line (compatibility flags dropped), or None."""
    read = _read_args(args[1:], FOLD_FLAGS)
    if read is None or read[1].get("weight", "period") not in _WEIGHTS:
        return None
    return Plan(*read, messages, command=FOLD_COMMAND)


def fold_options(given: dict[str, Any]) -> FoldOptions:
    """The `FoldOptions` of a fold plan's values (those not in `_FOLD_OWN`): the fields named so,
    the defaults of the others; `all` annotates (`FoldOptions.annotated`); `--off-cpu` / `--wall`
    are the clock (`clock_of_flags`, as the command's `fold_options` makes it)."""
    from foldkit.ingest.options import FoldOptions, clock_of_flags

    fields = {name: value for name, value in given.items() if name not in (*_FOLD_OWN, "all", "off_cpu", "wall")}
    fields["clock"] = clock_of_flags(
        bool(given.get("off_cpu")), bool(given.get("wall")), bool(given.get("wakeups")), given.get("off_cpu_states", "default")
    )
    options = FoldOptions(**fields)
    return options.annotated() if given.get("all") else options


def _run_fold(plan: Plan) -> None:
    """Fold what `plan` asks for, as `foldkit fold` does (`foldkit.cli.folding.fold_captures`)."""
    from pathlib import Path

    from foldkit.cli.folding import fold_captures

    output = plan.given.get("output")
    fold_captures(
        plan.inputs,
        None if output is None else Path(output),
        unit_header=bool(plan.given.get("unit_header", False)),
        quiet=bool(plan.given.get("quiet", False)),
        verbose=bool(plan.given.get("verbose", False)),
        fold_options=fold_options(plan.given),
    )


__all__ = ["COMMAND", "FLAGS", "FOLD_COMMAND", "FOLD_FLAGS", "SWITCH", "Plan", "fold_options", "parse", "run"]

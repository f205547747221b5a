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

`foldkit top`, `foldkit diff` and `foldkit check` given two inputs (or one for top) and flags
of `TOP_FLAGS`, `DIFF_FLAGS` and `CHECK_FLAGS` (their own, the folding flags of `READ_FLAGS`, and
for `diff` the picture flags) run so too, through the commands' own `foldkit.cli.ranking.rank`,
`foldkit.cli.diffing.compare` and `foldkit.cli.gating.gate_runs`, with the defaults those modules
declare (`DEFAULTS`) for the flags not given, and no transform step: `foldkit diff a b -o d.html`
starts in a third of Typer's time.

Every one of those commands also takes the transform flags there (`TRANSFORM_FLAGS`, in
command-line order, each value given as the next argument or after `=`), made into the same
`Pipeline` as the Typer command makes (`foldkit.transform.build_pipeline`): the transforms are
loaded only when one is given.

`FOLDKIT_FAST_PATH=0` turns the fast path off (every command line goes through Typer).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from foldkit.ingest.options import FoldOptions
    from foldkit.transform import Pipeline

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

#: The other commands the fast path runs.
TOP_COMMAND = "top"
DIFF_COMMAND = "diff"
CHECK_COMMAND = "check"

#: The folding flags `top`, `diff` and `check` take on the fast path: fold's, without `fold`'s
#: own `--unit-header` and `-n` (there `--limit`, or `diff`'s `--normalize`); with `-o`, `-q`, `-v`.
READ_FLAGS: dict[str, tuple[str, str]] = {s: v for s, v in FOLD_FLAGS.items() if v[0] != "unit_header" and s != "-n"}

#: The table flags of `top` and `diff`.
_TABLE_FLAGS: dict[str, tuple[str, str]] = {
    "--csv": ("csv", "flag"),
    "--json": ("json", "flag"),
    "--parquet": ("parquet", "flag"),
    "--sort": ("sort", "str"),
    "--limit": ("limit", "count"),
}

#: `foldkit top`'s spellings the fast path takes.
TOP_FLAGS: dict[str, tuple[str, str]] = {**READ_FLAGS, **_TABLE_FLAGS, "-n": ("limit", "count"), "--by": ("by", "str")}

#: The picture flags' parameters (`FLAGS`' but the command's own).
_PICTURE = {parameter for parameter, _ in FLAGS.values()} - set(_OWN)

#: `foldkit diff`'s spellings the fast path takes (with every picture flag of `FLAGS`).
DIFF_FLAGS: dict[str, tuple[str, str]] = {
    **READ_FLAGS,
    **_TABLE_FLAGS,
    **{s: v for s, v in FLAGS.items() if v[0] in _PICTURE},
    "--basis": ("basis", "str"),
    "--color-by": ("color_by", "str"),
    "--normalize": ("normalize", "flag"),
    "-n": ("normalize", "flag"),
    "--no-normalize": ("normalize", "off"),
    "--strip-hex": ("strip_hex", "flag"),
    "-s": ("strip_hex", "flag"),
    "--folded": ("folded", "flag"),
}

#: `foldkit check`'s spellings the fast path takes ("list": a repeatable option, its values in
#: order).
CHECK_FLAGS: dict[str, tuple[str, str]] = {
    **READ_FLAGS,
    "--max-increase": ("max_increase", "str"),
    "--function": ("function", "list"),
    "--budget": ("budget", "list"),
    "--alpha": ("alpha", "float"),
    "--run-noise": ("run_noise", "float"),
    "--only": ("only", "flag"),
    "--absolute": ("absolute", "flag"),
    "--shares-only": ("absolute", "off"),
    "--json": ("json", "str"),
    "--junit": ("junit", "str"),
    "--markdown": ("markdown", "str"),
    "--svg": ("svg", "str"),
    "--strip-hex": ("strip_hex", "flag"),
    "-s": ("strip_hex", "flag"),
}

#: Per command the fast path runs: its spellings.
COMMAND_FLAGS: dict[str, dict[str, tuple[str, str]]] = {
    COMMAND: FLAGS,
    FOLD_COMMAND: FOLD_FLAGS,
    TOP_COMMAND: TOP_FLAGS,
    DIFF_COMMAND: DIFF_FLAGS,
    CHECK_COMMAND: CHECK_FLAGS,
}

#: The transform flags every command the fast path runs takes (`foldkit.transform.TRANSFORMS`'
#: spellings, written out so that reading a command line does not load the transforms; a test
#: checks them against the registry): spelling -> (name, whether it takes a value). Not
#: `--collapse-recursion`, whose value is optional (the Typer command line reads it).
TRANSFORM_FLAGS: dict[str, tuple[str, bool]] = {
    "--focus": ("focus", True),
    "--focus-root": ("focus_root", True),
    "--base": ("base", True),
    "--exclude": ("exclude", True),
    "--hide": ("hide", True),
    "--max-depth": ("max_depth", True),
    "--prune-below": ("prune_below", True),
    "--comm": ("comm", True),
    "--only-pid": ("only_pid", True),
    "--time": ("time", True),
    "--rename": ("rename", True),
    "--python": ("python", False),
    "--normalize-symbols": ("normalize_symbols", False),
}

#: Where a plan keeps its transform flags' occurrences, (name, value or None) in command-line
#: order: `plan.given[TRANSFORMS]`.
TRANSFORMS = "transforms"

#: Per command: its parameters whose value is a file written (a `Path` to the command).
_PATHS = {CHECK_COMMAND: ("output", "json", "junit", "markdown", "svg")}

#: The values `--weight` takes (the command line refuses others, with its own message).
_WEIGHTS = ("period", "samples")


class Plan:
    """A command line the fast path runs: its inputs and the values given, by parameter name."""

    def __init__(self, inputs: list[str], given: dict[str, Any], messages: list[str], command: str = COMMAND) -> None:
        self.inputs = inputs
        self.given = given
        #: `compat`'s warnings about the compatibility flags dropped (printed when run).
        self.messages = messages
        #: The command: a key of `COMMAND_FLAGS`.
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
    if not args or args[0] not in COMMAND_FLAGS or os.environ.get(SWITCH, "1").strip() == "0":
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
    read = _read_args(args[1:], COMMAND_FLAGS[args[0]])
    if read is None or read[1].get("weight", "period") not in _WEIGHTS:
        return None  # (another --weight: refused by the command line, with its own message)
    return Plan(*read, messages, command=args[0])


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
        if spec is None and name in TRANSFORM_FLAGS:
            spec = (TRANSFORMS, "transform" if TRANSFORM_FLAGS[name][1] else "transform flag")
        if spec is None:
            return None
        parameter, kind = spec
        if kind in ("list", "transform"):  # (its values in order, as click collects them)
            if not eq:
                if i >= len(args) or (args[i].startswith("-") and args[i] != "-"):
                    return None
                text = args[i]
                i += 1
            given.setdefault(parameter, []).append((TRANSFORM_FLAGS[name][0], text) if kind == "transform" else text)
            continue
        if kind == "transform flag":
            if eq:
                return None
            given.setdefault(parameter, []).append((TRANSFORM_FLAGS[name][0], None))
            continue
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
    """Run what `plan` asks for through its command's own function (`_RUNNERS`); the exit code,
    as the Typer command line's `main` gives it."""
    from foldkit.cli.compat import warn
    from foldkit.errors import FoldkitError

    quiet = bool(plan.given.get("quiet", False))
    warn(["-q"] if quiet else [], plan.messages)
    try:
        _RUNNERS[plan.command](plan)
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


def _pipeline(plan: Plan) -> Pipeline | None:
    """The transform steps of `plan`'s transform flags, in command-line order (as the Typer
    command makes them: `foldkit.transform.build_pipeline`), or None without any."""
    occurrences = plan.given.get(TRANSFORMS)
    if not occurrences:
        return None
    from foldkit.transform import build_pipeline

    values: dict[str, list[str]] = {}
    for name, value in occurrences:
        values.setdefault(name, [])
        if value is not None:
            values[name].append(value)
    return build_pipeline([name for name, _ in occurrences], values)


def _run_draw(plan: Plan) -> None:
    """Draw what `plan` asks for: the plain flame graph (`_draw_plain`), else as the command
    draws (`foldkit.cli.draw.draw`)."""
    if _draw_plain(plan):
        return
    from pathlib import Path

    from foldkit.cli.draw import draw
    from foldkit.ingest.options import FoldOptions

    transforms = _pipeline(plan)  # (made first, as the Typer command's decorators make them)
    output = plan.given.get("output")
    draw(plan.inputs, None if output is None else Path(output), None, bool(plan.given.get("quiet", False)), False, fold_options=FoldOptions(), render=_render(plan.given), transforms=transforms)


def _render(given: dict[str, Any]) -> Any:
    """The `RenderFlags` of the picture flags `given` (the others at their defaults)."""
    from foldkit.cli.render_values import RENDER_DEFAULTS, render_flags

    return render_flags(**{name: given.get(name, default) for name, default in RENDER_DEFAULTS.items()})


def as_path(text: str) -> str:
    """`str(pathlib.Path(text))`, without loading pathlib: the name of a file written as the
    Typer command receives it (a `Path`: repeated and trailing slashes and `.` parts dropped, two
    leading slashes kept, "" is "."), so that messages naming it are the same either way."""
    root = ""
    if text.startswith("/"):
        root = "//" if text.startswith("//") and not text.startswith("///") else "/"
    return root + "/".join(part for part in text.split("/") if part and part != ".") or "."


def _own(plan: Plan, defaults: dict[str, Any]) -> dict[str, Any]:
    """The values of a command's own parameters (`defaults`' names): those given (the name of a
    file written as the command receives it: `as_path`), the defaults of the others."""
    own = {name: plan.given.get(name, default) for name, default in defaults.items()}
    for name in _PATHS.get(plan.command, ("output",)):
        if isinstance(own.get(name), str):
            own[name] = as_path(own[name])
    return own


def _read_options(plan: Plan) -> FoldOptions:
    """The `FoldOptions` of `plan`'s folding flags (`READ_FLAGS`)."""
    folding = {parameter for parameter, _ in READ_FLAGS.values()} - {"output", "quiet", "verbose"}
    return fold_options({name: value for name, value in plan.given.items() if name in folding})


def _run_top(plan: Plan) -> None:
    """`foldkit top` of `plan` (`foldkit.cli.ranking.rank`)."""
    from foldkit.cli.ranking import DEFAULTS, rank

    transforms = _pipeline(plan)
    rank(plan.inputs, **_own(plan, DEFAULTS), fold_options=_read_options(plan), transforms=transforms)


def _run_diff(plan: Plan) -> None:
    """`foldkit diff` of `plan` (`foldkit.cli.diffing.compare`; the picture flags' `RenderFlags`
    made only when one is given)."""
    from foldkit.cli.diffing import DEFAULTS, compare

    transforms = _pipeline(plan)  # (then the folding flags' options, then the picture's: the order
    options = _read_options(plan)  # in which the Typer command's decorators refuse them)
    render = _render(plan.given) if set(plan.given) & _PICTURE else None
    compare(plan.inputs, **_own(plan, DEFAULTS), fold_options=options, render=render, transforms=transforms)


def _run_check(plan: Plan) -> None:
    """`foldkit check` of `plan` (`foldkit.cli.gating.gate_runs`)."""
    from foldkit.cli.gating import DEFAULTS, gate_runs

    transforms = _pipeline(plan)
    gate_runs(plan.inputs, **_own(plan, DEFAULTS), fold_options=_read_options(plan), transforms=transforms)


def fold_options(given: dict[str, Any]) -> FoldOptions:
    """The `FoldOptions` of a fold plan's values (those not in `_FOLD_OWN`): the fields named so,
    the defaults of the others; `all` annotates (`FoldOptions.annotated`); `--off-cpu` / `--wall`
    are the clock (`clock_of_flags`, as the command's `fold_options` makes it)."""
    from foldkit.ingest.options import FoldOptions, clock_of_flags

    fields = {name: value for name, value in given.items() if name not in (*_FOLD_OWN, TRANSFORMS, "all", "off_cpu", "wall")}
    fields["clock"] = clock_of_flags(
        bool(given.get("off_cpu")), bool(given.get("wall")), bool(given.get("wakeups")), given.get("off_cpu_states", "default")
    )
    options = FoldOptions(**fields)
    return options.annotated() if given.get("all") else options


def _run_fold(plan: Plan) -> None:
    """Fold what `plan` asks for, as `foldkit fold` does (`foldkit.cli.folding.fold_captures`)."""
    from foldkit.cli.folding import fold_captures

    transforms = _pipeline(plan)
    output = plan.given.get("output")
    fold_captures(
        plan.inputs,
        None if output is None else as_path(output),
        unit_header=bool(plan.given.get("unit_header", False)),
        quiet=bool(plan.given.get("quiet", False)),
        verbose=bool(plan.given.get("verbose", False)),
        fold_options=fold_options(plan.given),
        transforms=transforms,
    )


#: What runs each command's plan.
_RUNNERS = {COMMAND: _run_draw, FOLD_COMMAND: _run_fold, TOP_COMMAND: _run_top, DIFF_COMMAND: _run_diff, CHECK_COMMAND: _run_check}

__all__ = [
    "CHECK_COMMAND",
    "CHECK_FLAGS",
    "COMMAND",
    "COMMAND_FLAGS",
    "DIFF_COMMAND",
    "DIFF_FLAGS",
    "FLAGS",
    "FOLD_COMMAND",
    "FOLD_FLAGS",
    "READ_FLAGS",
    "SWITCH",
    "TOP_COMMAND",
    "TOP_FLAGS",
    "TRANSFORMS",
    "TRANSFORM_FLAGS",
    "Plan",
    "as_path",
    "fold_options",
    "parse",
    "run",
]

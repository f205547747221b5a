"""The `foldkit` command line: one module per command, registered here; errors mapped to exit codes once."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

import typer
import typer.main

from foldkit import __version__
from foldkit.cli import compat, transforms
from foldkit.cli.common import FOLD_FLAGS
from foldkit.cli.help import Command
from foldkit.cli.running import exit_with
from foldkit.errors import EXIT_USAGE, FoldkitError

_app = typer.Typer(
    name="foldkit",
    help="Fold perf script and BPF stack dumps; render flame graphs; diff profiles and gate CI on regressions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: Each command's module (its function has the command's name), in the order `--help` lists them.
#: A run imports only the module of the command it runs: start-up is most of a small job's time.
COMMAND_MODULES = {
    "fold": "foldkit.cli.fold",
    "flamegraph": "foldkit.cli.flamegraph",
    "top": "foldkit.cli.top",
    "diff": "foldkit.cli.diff",
    "check": "foldkit.cli.check",
    "report": "foldkit.cli.report",
    "formats": "foldkit.cli.formats",
}


#: Parameters after which a command's folded inputs are not read ahead (`foldkit.launch`): the
#: folding flags that say so in `FOLD_FLAGS`, and those that change how inputs are read (a flame
#: chart reads folded lines in order, one by one) or stop the command before it reads.
NOT_READ_AHEAD = frozenset({"cluster", "flamechart", "help", *(name for name, (_, ahead) in FOLD_FLAGS.items() if not ahead)})


def read_ahead_spellings(commands: Iterable[str]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """`foldkit.launch.READ_AHEAD` derived from these commands' own parameters: per command, the
    spellings of its NOT_READ_AHEAD options and of its `--output`, sorted."""
    context = typer.main._click.Context
    group = typer.main.get_command(_register(COMMAND_MODULES))
    root = context(group, **(_app.info.context_settings or {}))
    out = {}
    for name in sorted(commands):
        command = group.commands[name]  # type: ignore[attr-defined]
        params = command.get_params(context(command, parent=root, info_name=name))
        spelled = {p.name: (*p.opts, *p.secondary_opts) for p in params}
        stops = sorted(s for n, names in spelled.items() if n in NOT_READ_AHEAD for s in names)
        out[name] = (tuple(stops), tuple(sorted(spelled.get("output", ()))))
    return out


def _function(name: str) -> Callable[..., Any]:
    func: Callable[..., Any] = getattr(importlib.import_module(COMMAND_MODULES[name]), name)
    return func


def _register(names: Iterable[str]) -> typer.Typer:
    """The app with (at least) these commands registered, listed in `COMMAND_MODULES` order."""
    known = {info.name for info in _app.registered_commands}
    for name in names:
        if name not in known:
            _app.command(name, cls=Command)(_function(name))
    order = list(COMMAND_MODULES)
    _app.registered_commands.sort(key=lambda info: order.index(info.name or ""))
    return _app


def __getattr__(name: str) -> Any:
    # `app` (every command registered) and `COMMANDS` ((function, name) pairs), for tests and tools
    if name == "app":
        return _register(COMMAND_MODULES)
    if name == "COMMANDS":
        _register(COMMAND_MODULES)
        return [(_function(n), n) for n in COMMAND_MODULES]
    raise AttributeError(name)


def _version(value: bool) -> None:
    if value:
        print(f"foldkit {__version__}")
        raise typer.Exit()


def _version_verbose(args: list[str]) -> bool:
    """`foldkit --version -v`: the version and whether the native core is in use."""
    if "--version" not in args or not {"-v", "--verbose"} & set(args):
        return False
    from foldkit.native import native_status

    print(f"foldkit {__version__}")
    print(native_status())
    return True


@_app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version (with -v: and whether the native core is in use)."),
) -> None:
    """foldkit: from captured profiler text to folded stacks, flame graphs, diffs and CI checks."""


def _command(args: list[str] | None = None) -> typer.main._click.Command:
    """The click command built from the app (afresh: running a command changes its parameters,
    so a command object serves one invocation; `tests/support/fuzz.py` reuses one for speed), with just
    the command `args` name when they start with one, else with every command."""
    wanted = [args[0]] if args and args[0] in COMMAND_MODULES else list(COMMAND_MODULES)
    return typer.main.get_command(_register(wanted))


#: The environment variable a shell's completion script sets when it asks for completions
#: (`eval "$(_FOLDKIT_COMPLETE=bash_source foldkit)"` prints that script).
COMPLETE_VAR = "_FOLDKIT_COMPLETE"


def _completion_wanted() -> bool:
    """Whether the shell asks for completions; if so, Typer's shell support is loaded (only then:
    `add_completion=False` keeps `--install-completion` out of every help page and start-up)."""
    if not os.environ.get(COMPLETE_VAR):
        return False
    from typer.completion import completion_init

    completion_init()
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 check failed, 2 usage or input error)."""
    try:
        args = compat.translate(list(sys.argv[1:] if argv is None else argv))
    except FoldkitError as exc:
        print(f"foldkit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    args = transforms.prepare_args(args)
    if _version_verbose(args):
        return 0
    try:
        if _completion_wanted():  # prints the script or the completions and exits
            _command(args)(args=args, prog_name="foldkit", complete_var=COMPLETE_VAR)
        code = _command(args)(args=args, standalone_mode=False)
        if code == 130:  # Typer turns Ctrl-C into this return value when not standalone
            raise KeyboardInterrupt
    except FoldkitError as exc:
        # names quoted in a message must not reach the terminal raw
        from foldkit.text import visible_lines

        print(f"foldkit: error: {visible_lines(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("foldkit: aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("foldkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        # command-line usage errors (click's, vendored by recent Typer) know how to show themselves
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            return EXIT_USAGE
        raise
    return 0


def entry() -> None:
    """Runs the command line for the console script (`foldkit.launch.entry`, once reading ahead
    has started) and exits with `main`'s code (`running.exit_with`)."""
    exit_with(main)

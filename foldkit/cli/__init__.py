"""The `foldkit` command line: one module per command, registered here; errors mapped to exit codes once."""

from __future__ import annotations

import sys

import typer
import typer.main

from foldkit import __version__
from foldkit.cli import check, diff, flamegraph, fold, formats, report, top, transforms
from foldkit.cli.help import Command
from foldkit.errors import EXIT_USAGE, FoldkitError

app = typer.Typer(
    name="foldkit",
    help="Fold perf script and BPF stack dumps; render flame graphs; diff profiles and gate CI on regressions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: (command function, name) in the order `--help` lists them.
COMMANDS = [
    (fold.fold, "fold"),
    (flamegraph.flamegraph, "flamegraph"),
    (top.top, "top"),
    (diff.diff, "diff"),
    (check.check, "check"),
    (report.report, "report"),
    (formats.formats, "formats"),
]
for func, name in COMMANDS:
    app.command(name, cls=Command)(func)


def _version(value: bool) -> None:
    if value:
        print(f"foldkit {__version__}")
        raise typer.Exit()


def _version_verbose(args: list[str]) -> bool:
    """`foldkit --version -v`: the version and whether the native core is in use."""
    if "--version" not in args or not {"-v", "--verbose"} & set(args):
        return False
    from foldkit.engine import native_status

    print(f"foldkit {__version__}")
    print(native_status())
    return True


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version (with -v: and whether the native core is in use)."),
) -> None:
    """foldkit: from captured profiler text to folded stacks, flame graphs, diffs and CI checks."""


def _command() -> typer.main._click.Command:
    """The click command built from `app` (afresh: running a command changes its parameters,
    so a command object serves one invocation; `tests/fuzz.py` reuses one for speed)."""
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 check failed, 2 usage or input error)."""
    args = transforms.prepare_args(sys.argv[1:] if argv is None else argv)
    if _version_verbose(args):
        return 0
    try:
        code = _command()(args=args, standalone_mode=False)
        if code == 130:  # Typer turns Ctrl-C into this return value when not standalone
            raise KeyboardInterrupt
    except FoldkitError as exc:
        # names quoted in a message must not reach the terminal raw
        from foldkit.render.text import visible_lines

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
    """Console-script entry point."""
    sys.exit(main())

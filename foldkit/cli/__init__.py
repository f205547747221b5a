"""The `foldkit` command line. The Typer application (every command, the error-to-exit-code
mapping) is `foldkit.cli.typer_app`; its names are given here on first use, so a module of this package
that does not need Typer (the drop-in fast path `foldkit.cli.fast`, the flame graph's drawing in
`foldkit.cli.draw`) loads without it."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: The names `foldkit.cli.typer_app` gives (`from foldkit.cli import main` keeps working).
_APP_NAMES = frozenset(
    {
        "main",
        "entry",
        "app",
        "COMMANDS",
        "COMMAND_MODULES",
        "COMPLETE_VAR",
        "NOT_READ_AHEAD",
        "read_ahead_spellings",
        "_command",
    }
)


def __getattr__(name: str) -> Any:
    """The Typer application's names (`_APP_NAMES`), from `foldkit.cli.typer_app`."""
    if name not in _APP_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module("foldkit.cli.typer_app"), name)

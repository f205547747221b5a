"""foldkit's command class: positional arguments shown by their metavar (`INPUT...`), as in the
usage line, without the Python type label (`<list[str]>`) recent Typer versions add; and a
parser that records the order of the options (`foldkit.cli.transforms.record_order`)."""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand


class _Argument(TyperArgument):
    """A positional argument shown as `NAME...` (optional: `[NAME...]`; a metavar naming
    several, `BEFORE AFTER`, as it is)."""

    def _shown(self) -> str:
        name = self.metavar or (self.name or "").upper()
        return f"{name}..." if self.nargs != 1 and " " not in name else name

    def _usage_display_name(self) -> str:
        return self._shown() if self.required else f"[{self._shown()}]"

    def _rich_display_name(self) -> str:
        return self._shown()

    def make_metavar(self, ctx: Any = None, *, usage: bool = False) -> str:
        # Typer < 0.29 writes a required argument as `{NAME}` in the usage line
        return self._usage_display_name() if usage else self._shown()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class Command(TyperCommand):
    """A foldkit command (see the module docstring)."""

    def make_parser(self, ctx: Any) -> Any:
        from foldkit.cli.transforms import record_order

        return record_order(super().make_parser(ctx), ctx)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _Argument

"""The transform flags every command shares (`--focus`, `--exclude`, `--time`, ...), declared once
from the registry in `foldkit.transform`, injected by one decorator, applied in command-line order.

Click gives each option's values in order but not how different options interleave. Its option
parser does see every occurrence in order, and reports that order to the command's own parse
only: foldkit's command class (`foldkit.cli.help.Command`) has its parser leave it in the
context (`record_order`), so the command line is parsed once.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer

from foldkit.cli.common import add_parameters
from foldkit.transform import TRANSFORMS, Pipeline, Transform
from foldkit.transform import build_pipeline as build_pipeline  # (the fast path's too)

PANEL = "Transforms (applied in the order given)"
#: Appended to the help of every command that takes the transform flags.
ORDER_NOTE = "Transform flags (--focus ... --normalize-symbols) are applied in the order they are given."

#: Name of the injected Click context parameter (how the decorator finds the order of the flags).
CONTEXT_PARAMETER = "transform_context"
#: Where a command's parser leaves its parameters in the order their options occur (`ctx.meta`).
ORDER_KEY = "foldkit.option_order"

_COLLAPSE = "--collapse-recursion"


def prepare_args(args: Sequence[str]) -> list[str]:
    """The command line with `--collapse-recursion` given its optional value (bare means
    `=direct`; `all` may follow as the next word)."""
    out: list[str] = []
    i = 0
    args = list(args)
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        if arg == _COLLAPSE:
            following = args[i + 1] if i + 1 < len(args) else None
            if following in ("all", "direct"):
                out.append(f"{_COLLAPSE}={following}")
                i += 2
                continue
            arg = f"{_COLLAPSE}=direct"
        out.append(arg)
        i += 1
    return out


def record_order(parser: Any, ctx: Any) -> Any:
    """`parser`, a command's option parser, made to leave in `ctx.meta[ORDER_KEY]` the
    parameters in the order their options occur (one entry per occurrence) when it parses."""
    parse = parser.parse_args

    def parse_args(args: list[str]) -> Any:
        opts, rest, order = parse(args=args)
        ctx.meta[ORDER_KEY] = list(order)
        return opts, rest, order

    parser.parse_args = parse_args
    return parser


def _option(t: Transform) -> object:
    if not t.takes_value:
        return Annotated[bool, typer.Option(t.flag, help=t.help, rich_help_panel=PANEL)]
    return Annotated[
        list[str] | None,
        typer.Option(t.flag, help=t.help, metavar=t.metavar, rich_help_panel=PANEL, show_default=False),
    ]


#: (parameter name, annotated type, default) of every transform flag, plus the Click context.
TRANSFORM_PARAMETERS: list[tuple[str, object, object]] = [
    *((t.name, _option(t), False if not t.takes_value else None) for t in TRANSFORMS.values()),
    (CONTEXT_PARAMETER, typer.Context, None),
]


def occurrence_order(ctx: Any, given: dict[str, int]) -> list[str] | None:
    """The transform parameter names in the order their flags appear on the command line (one
    entry per occurrence), or None when the parser left no order (a command invoked without
    parsing a command line) or one that does not match what Click parsed."""
    order = ctx.meta.get(ORDER_KEY)
    if order is None:
        return None
    names = [p.name for p in order if p.name in given]
    counts = {name: names.count(name) for name in given}
    for name, n in given.items():
        if counts[name] != n and not (TRANSFORMS[name].takes_value is False and counts[name] >= 1):
            return None
    return names


def _pipeline_from_flags(**flags: Any) -> Pipeline:
    ctx = flags.pop(CONTEXT_PARAMETER, None)
    values: dict[str, list[str]] = {}
    given: dict[str, int] = {}
    for name, value in flags.items():
        if value is None or value is False:
            continue
        values[name] = [] if value is True else list(value)
        given[name] = 1 if value is True else len(value)
    if not given:
        return Pipeline()
    order = occurrence_order(ctx, given) if ctx is not None else None
    if order is None:
        if sum(given.values()) > 1:
            print(
                "foldkit: warning: could not recover the command-line order of the transform flags; "
                "applying them in the order `--help` lists them",
                file=sys.stderr,
            )
        order = [name for name in TRANSFORMS if name in given for _ in range(given[name])]
    return build_pipeline(order, values)


F = typing.TypeVar("F", bound=Callable[..., object])


def transforms_stacks(func: F) -> F:
    """Decorator: the command gets every transform flag, and receives them as
    `transforms: Pipeline` (call `transforms.read(inputs, fold_options)` or `.apply(profile)`)."""
    wrapper = add_parameters(func, TRANSFORM_PARAMETERS, _pipeline_from_flags, "transforms")
    wrapper.__doc__ = inspect.cleandoc(func.__doc__ or "") + "\n\n" + ORDER_NOTE
    return wrapper  # type: ignore[return-value]

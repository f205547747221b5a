"""The picture flags of every command that draws a flame graph, declared once (flamegraph.pl/inferno
names and meanings); `@renders_svg` injects them and passes `render: RenderFlags` (the
`RenderOptions`, the `--cp` palette file and the `--nameattr` file)."""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from foldkit.cli.common import add_parameters
from foldkit.cli.render_values import RENDER_DEFAULTS, render_flags
from foldkit.cli.render_values import RenderFlags as RenderFlags
from foldkit.render import defaults
from foldkit.render.palette import PALETTES

PICTURE = "Picture"
Title = Annotated[str | None, typer.Option("--title", help="Title (default: Flame Graph, Icicle Graph or Flame Chart).", rich_help_panel=PICTURE)]
Subtitle = Annotated[str | None, typer.Option("--subtitle", help="Second line under the title.", rich_help_panel=PICTURE)]
Width = Annotated[int, typer.Option("--width", help="Image width in pixels.", rich_help_panel=PICTURE)]
Height = Annotated[int, typer.Option("--height", help="Height of one frame row in pixels.", rich_help_panel=PICTURE)]
MinWidth = Annotated[str, typer.Option("--minwidth", help="Hide frames narrower than this: pixels (0.1) or a share of the total (0.5%).", rich_help_panel=PICTURE)]
FontType = Annotated[str, typer.Option("--fonttype", help="Font family.", rich_help_panel=PICTURE)]
FontSize = Annotated[float, typer.Option("--fontsize", help="Font size in pixels.", rich_help_panel=PICTURE)]
FontWidth = Annotated[float, typer.Option("--fontwidth", help="Average character width as a fraction of the font size (decides how much of a label fits).", rich_help_panel=PICTURE)]
CountName = Annotated[str | None, typer.Option("--countname", help="What the weights count, in tooltips (default: the input's unit, e.g. samples or ns).", rich_help_panel=PICTURE)]
NameType = Annotated[str, typer.Option("--nametype", help="Prefix of the details line.", rich_help_panel=PICTURE)]
Notes = Annotated[str, typer.Option("--notes", help="Notes embedded in the SVG (<desc>).", rich_help_panel=PICTURE)]
Palette = Annotated[str, typer.Option("--colors", "--palette", "-c", help=f"Colour palette: {', '.join(PALETTES)}.", rich_help_panel=PICTURE)]
Hash = Annotated[bool, typer.Option("--hash", help="Shade by a hash weighted to the start of the name (similar names, similar colours).", rich_help_panel=PICTURE)]
Deterministic = Annotated[bool, typer.Option("--deterministic", help="Colours depend only on the name (always the case in foldkit; accepted for inferno compatibility).", rich_help_panel=PICTURE)]
ConsistentPalette = Annotated[bool, typer.Option("--cp", help="Keep colours consistent across runs in a palette map file (read, then updated).", rich_help_panel=PICTURE)]
PaletteFile = Annotated[Path | None, typer.Option("--palette-file", help=f"Palette map file for --cp (default: {defaults.PALETTE_FILE}); implies --cp.", rich_help_panel=PICTURE)]
BgColors = Annotated[str | None, typer.Option("--bgcolors", help="Background: yellow, blue, green, grey or a colour (#f8f8f8).", rich_help_panel=PICTURE)]
Reverse = Annotated[bool, typer.Option("--reverse", help="Reverse every stack (leaf frames at the root).", rich_help_panel=PICTURE)]
Inverted = Annotated[bool, typer.Option("--inverted", "-i", help="Icicle graph: root at the top, stacks growing down.", rich_help_panel=PICTURE)]
FlameChart = Annotated[bool, typer.Option("--flamechart", help="Flame chart: samples in time order (perf timestamps; the input order for folded stacks).", rich_help_panel=PICTURE)]
Negate = Annotated[bool, typer.Option("--negate", help="Differential graphs: swap the red (grew) and blue (shrank) hues.", rich_help_panel=PICTURE)]
Factor = Annotated[float, typer.Option("--factor", help="Multiply the weights shown in tooltips by this.", rich_help_panel=PICTURE)]
Total = Annotated[float | None, typer.Option("--total", help="Weight that spans the full width, to draw several graphs on one scale.", rich_help_panel=PICTURE)]
SearchColor = Annotated[str, typer.Option("--search-color", help="Fill of frames matching a search.", rich_help_panel=PICTURE)]
TruncateRight = Annotated[bool, typer.Option("--truncate-text-right/--truncate-text-left", help="Cut long labels at the end (work::insertion_sort<std::..) or at the start (..sort<std::string>).", rich_help_panel=PICTURE)]
SortByWeight = Annotated[bool, typer.Option("--sort-by-weight", help="Siblings widest first instead of alphabetical.", rich_help_panel=PICTURE)]
Random = Annotated[bool, typer.Option("--random", help="Random shades of the palette's hues (flamegraph.pl): colours change from run to run.", rich_help_panel=PICTURE)]
ColorDiffusion = Annotated[bool, typer.Option("--colordiffusion", help="Colour by width instead of name: the wider the frame, the redder (inferno).", rich_help_panel=PICTURE)]
StrokeColor = Annotated[str | None, typer.Option("--stroke-color", help="Outline every frame in this colour (#7d7d7d; none: no outline).", rich_help_panel=PICTURE)]
UiColor = Annotated[str | None, typer.Option("--uicolor", help="Colour of the title, buttons and details line (#rrggbb).", rich_help_panel=PICTURE)]
NameAttr = Annotated[Path | None, typer.Option("--nameattr", metavar="FILE", help="Per-function frame attributes: lines of NAME<tab>key=value<tab>... (title= replaces the tooltip; links are not drawn).", rich_help_panel=PICTURE)]
PrettyXml = Annotated[bool, typer.Option("--pretty-xml", help="Indent the SVG, one element per line.", rich_help_panel=PICTURE)]
NoJavascript = Annotated[bool, typer.Option("--no-javascript", help="Leave the script out: a static picture (no zoom, search or details line).", rich_help_panel=PICTURE)]
MaxFrames = Annotated[int, typer.Option("--max-frames", help="Frame budget: above it the minimum width rises (and the subtitle says so).", rich_help_panel=PICTURE)]

#: (parameter name, annotated type, default) of every picture flag (defaults: `RENDER_DEFAULTS`).
RENDER_PARAMETERS: list[tuple[str, object, object]] = [(name, option, RENDER_DEFAULTS[name]) for name, option in [
    ("title", Title),
    ("subtitle", Subtitle),
    ("width", Width),
    ("height", Height),
    ("minwidth", MinWidth),
    ("fonttype", FontType),
    ("fontsize", FontSize),
    ("fontwidth", FontWidth),
    ("countname", CountName),
    ("nametype", NameType),
    ("notes", Notes),
    ("colors", Palette),
    ("hash", Hash),
    ("deterministic", Deterministic),
    ("cp", ConsistentPalette),
    ("palette_file", PaletteFile),
    ("bgcolors", BgColors),
    ("reverse", Reverse),
    ("inverted", Inverted),
    ("flamechart", FlameChart),
    ("negate", Negate),
    ("factor", Factor),
    ("total", Total),
    ("search_color", SearchColor),
    ("truncate_text_right", TruncateRight),
    ("sort_by_weight", SortByWeight),
    ("max_frames", MaxFrames),
    ("random", Random),
    ("colordiffusion", ColorDiffusion),
    ("stroke_color", StrokeColor),
    ("uicolor", UiColor),
    ("nameattr", NameAttr),
    ("pretty_xml", PrettyXml),
    ("no_javascript", NoJavascript),
]]


F = typing.TypeVar("F", bound=Callable[..., object])


def renders_svg(func: F) -> F:
    """Decorator: the command gets every picture flag, and receives them as `render: RenderFlags`."""
    return add_parameters(func, RENDER_PARAMETERS, render_flags, "render")  # type: ignore[return-value]

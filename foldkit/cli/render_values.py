"""The picture flags' values without their Typer declarations (`foldkit.cli.render_flags`):
each flag's default, and the `RenderFlags` the flags make, for the Typer commands and for the
drop-in fast path (`foldkit.cli.fast`), which must not load Typer."""

from __future__ import annotations

import typing
from pathlib import Path

from foldkit.render import defaults
from foldkit.render.options import RenderOptions

#: Every picture flag's default, by parameter name (the Typer options' and the drop-in fast path's).
RENDER_DEFAULTS: dict[str, object] = {
    "title": None,
    "subtitle": None,
    "width": defaults.WIDTH,
    "height": defaults.FRAME_HEIGHT,
    "minwidth": defaults.MIN_WIDTH,
    "fonttype": defaults.FONT_TYPE,
    "fontsize": defaults.FONT_SIZE,
    "fontwidth": defaults.FONT_WIDTH,
    "countname": None,
    "nametype": defaults.NAME_TYPE,
    "notes": "",
    "colors": defaults.PALETTE,
    "hash": False,
    "deterministic": False,
    "cp": False,
    "palette_file": None,
    "bgcolors": None,
    "reverse": False,
    "inverted": False,
    "flamechart": False,
    "negate": False,
    "factor": defaults.FACTOR,
    "total": None,
    "search_color": defaults.SEARCH_COLOR,
    "truncate_text_right": True,
    "sort_by_weight": False,
    "max_frames": defaults.MAX_FRAMES,
    "random": False,
    "colordiffusion": False,
    "stroke_color": None,
    "uicolor": None,
    "nameattr": None,
    "pretty_xml": False,
    "no_javascript": False,
}


class RenderFlags(typing.NamedTuple):
    """The picture flags: the options, the palette map file when `--cp` asks for one, and the
    `--nameattr` file."""

    options: RenderOptions
    palette_file: Path | None
    nameattr: Path | None = None


def render_flags(**flags: typing.Any) -> RenderFlags:
    """RenderOptions (and the `--cp` palette file) from the picture flags."""
    palette_file = flags.pop("palette_file")
    nameattr = flags.pop("nameattr")
    if flags.pop("cp") and palette_file is None:
        palette_file = Path(defaults.PALETTE_FILE)
    flags.pop("deterministic")  # colours are always a function of the name
    options = RenderOptions(
        title=flags["title"],
        subtitle=flags["subtitle"],
        width=flags["width"],
        frame_height=flags["height"],
        min_width=flags["minwidth"],
        font_type=flags["fonttype"],
        font_size=flags["fontsize"],
        font_width=flags["fontwidth"],
        count_name=flags["countname"],
        name_type=flags["nametype"],
        notes=flags["notes"],
        palette=flags["colors"],
        hash=flags["hash"],
        bgcolors=flags["bgcolors"],
        reverse=flags["reverse"],
        inverted=flags["inverted"],
        flamechart=flags["flamechart"],
        negate=flags["negate"],
        factor=flags["factor"],
        total=flags["total"],
        search_color=flags["search_color"],
        truncate_text_right=flags["truncate_text_right"],
        sort_by_weight=flags["sort_by_weight"],
        max_frames=flags["max_frames"],
        random=flags["random"],
        color_diffusion=flags["colordiffusion"],
        stroke_color=flags["stroke_color"],
        ui_color=flags["uicolor"],
        pretty_xml=flags["pretty_xml"],
        javascript=not flags["no_javascript"],
    )
    return RenderFlags(options, palette_file, nameattr)

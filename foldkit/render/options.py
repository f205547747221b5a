"""`RenderOptions`: how to draw a flame graph. Field meanings follow flamegraph.pl/inferno."""

from __future__ import annotations

import math
from dataclasses import dataclass

from foldkit.errors import UsageError
from foldkit.lazy import regex
from foldkit.render import defaults
from foldkit.render.palette import BACKGROUNDS, PALETTES

_COLOR = regex(globals(), "_COLOR", r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?|rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)|[a-zA-Z]{3,20}")
_MIN_WIDTH = regex(globals(), "_MIN_WIDTH", r"(\d+(?:\.\d*)?|\.\d+)(%?)")


@dataclass(frozen=True)
class RenderOptions:
    """What the picture looks like. Every default lives in `foldkit.render.defaults`."""

    title: str | None = None  # None: "Flame Graph", "Icicle Graph" or "Flame Chart" by mode
    subtitle: str | None = None  # second line under the title
    width: int = defaults.WIDTH  # image width, px
    frame_height: int = defaults.FRAME_HEIGHT  # one row, px (flamegraph.pl --height)
    min_width: str = defaults.MIN_WIDTH  # drop frames narrower than this: px, or "N%" of the total
    font_type: str = defaults.FONT_TYPE
    font_size: float = defaults.FONT_SIZE
    font_width: float = defaults.FONT_WIDTH  # average character width / font size
    count_name: str | None = None  # None: the profile's unit ("samples", "ns", ...)
    name_type: str = defaults.NAME_TYPE  # prefix of the details line
    notes: str = ""  # embedded in the SVG as <desc>
    palette: str = defaults.PALETTE  # a name from palette.PALETTES
    hash: bool = False  # colour by a hash weighted to the start of the name: similar names, similar colours
    deterministic: bool = True  # colours are a function of the name; always true in foldkit
    bgcolors: str | None = None  # yellow, blue, green, grey or a colour; None: chosen by palette
    reverse: bool = False  # reverse every stack (leaf becomes root) before drawing
    inverted: bool = False  # icicle graph: root at the top
    flamechart: bool = False  # time order instead of merged, alphabetical siblings
    negate: bool = False  # differential graphs: swap the red and blue hues
    factor: float = defaults.FACTOR  # multiply the weights shown in tooltips
    total: float | None = None  # weight that spans the full width (several graphs on one scale)
    search_color: str = defaults.SEARCH_COLOR
    truncate_text_right: bool = True  # cut long labels at the end (False: at the start)
    sort_by_weight: bool = False  # siblings widest first instead of alphabetical
    max_frames: int = defaults.MAX_FRAMES  # frame budget; the minimum width rises to stay within it
    random: bool = False  # random shades (flamegraph.pl --random): colours change from run to run
    color_diffusion: bool = False  # inferno --colordiffusion: the wider the frame, the redder
    stroke_color: str | None = None  # outline of every frame (inferno --stroke-color); None: none
    ui_color: str | None = None  # fill of the title, buttons and details line (inferno --uicolor)
    pretty_xml: bool = False  # indent the SVG (inferno --pretty-xml)
    javascript: bool = True  # False: no script, a static picture (inferno --no-javascript)

    def __post_init__(self) -> None:
        if self.width < 2 * defaults.XPAD + 10:
            raise UsageError(f"--width must be at least {2 * defaults.XPAD + 10} pixels")
        if self.frame_height < 2:
            raise UsageError("--height (frame height) must be at least 2 pixels")
        if not (self.font_size > 0 and self.font_width > 0):
            raise UsageError("--fontsize and --fontwidth must be positive")
        self.min_width_value()  # validates
        if self.palette not in PALETTES:
            raise UsageError(f"unknown palette {self.palette!r}; choose one of: {', '.join(PALETTES)}")
        if self.bgcolors is not None and self.bgcolors not in BACKGROUNDS and not _COLOR.fullmatch(self.bgcolors):
            raise UsageError(
                f"--bgcolors must be one of {', '.join(BACKGROUNDS)} or a colour like #f0f0f0, not {self.bgcolors!r}"
            )
        for flag, value in (("--stroke-color", self.stroke_color), ("--uicolor", self.ui_color)):
            if value is not None and not _COLOR.fullmatch(value):
                raise UsageError(f"{flag} must be a colour like #7d7d7d or rgb(125,125,125), not {value!r}")
        if not _COLOR.fullmatch(self.search_color):
            raise UsageError(f"--search-color must be a colour like rgb(230,0,230) or #e600e6, not {self.search_color!r}")
        if not (math.isfinite(self.factor) and self.factor > 0):
            raise UsageError("--factor must be a positive number")
        if self.total is not None and not (math.isfinite(self.total) and self.total > 0):
            raise UsageError("--total must be a positive number")
        if self.max_frames < 1:
            raise UsageError("--max-frames must be at least 1")
        if self.flamechart and self.sort_by_weight:
            raise UsageError("--sort-by-weight cannot be combined with --flamechart (a flame chart is in time order)")

    def min_width_value(self) -> tuple[float, bool]:
        """(value, is_percent) parsed from `min_width` ("0.1" pixels or "0.5%")."""
        m = _MIN_WIDTH.fullmatch(str(self.min_width).strip())
        if m is None:
            raise UsageError(f"--minwidth must be pixels (0.1) or a percentage (0.5%), not {self.min_width!r}")
        value, percent = float(m.group(1)), bool(m.group(2))
        if percent and value > 100:
            raise UsageError("--minwidth percentage must be at most 100%")
        return value, percent

    def default_title(self) -> str:
        """The title drawn when none is given."""
        if self.flamechart:
            return defaults.TITLE_CHART
        return defaults.TITLE_INVERTED if self.inverted else defaults.TITLE

    @property
    def plot_width(self) -> float:
        """Width in pixels that the whole weight spans."""
        return float(self.width - 2 * defaults.XPAD)


DEFAULT_RENDER_OPTIONS = RenderOptions()

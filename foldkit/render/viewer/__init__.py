"""The HTML flame-graph viewer: a `Profile` (or two, for a diff) to one self-contained `.html` file
that draws every frame on a canvas, with flame, icicle, sandwich and top-table views.

    render_viewer(profile, RenderOptions(...)) -> bytes
    render_diff_viewer(before, after, unit=..., basis="union", options=...) -> bytes

* `tree.py`    — `build_tree(*sides) -> FrameTree`: every stack prefix once, in pre-order
  (`native_tree` builds it in the native core, the usual path; `build_tree` is its twin);
* `payload.py` — the tree and each name's fill packed into a compressed, base64 block
  (`pack_native` for a native tree, `pack` for a `FrameTree`);
* `timeline.py` — the Time view's samples by stack and 20 ms bucket, when the profile has times;
* `page.py`    — the HTML document (lxml), its Content-Security-Policy and inert data blocks;
* `viewer.js`, `viewer.css` — the page's script and style (package files).

Colours come from `palette.py`, so a frame has the same fill as in the SVG. Nothing is pruned: the
page merges frames narrower than a pixel when it draws, never in the data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from foldkit import __version__
from foldkit.errors import UsageError
from foldkit.profile import Diagnostics, LazyProfile, Profile, StackTable, Weight, root_frame_count
from foldkit.render import VIEWER_SUFFIXES, defaults, reverse_stack, reversed_weights, wants_viewer
from foldkit.render.options import DEFAULT_RENDER_OPTIONS, RenderOptions
from foldkit.render.palette import background, colorizer
from foldkit.render.viewer.page import viewer_page
from foldkit.render.viewer.payload import pack, pack_native
from foldkit.render.viewer.tree import FrameTree, build_tree, native_tree
from foldkit.text import visible

if TYPE_CHECKING:
    from foldkit._native import ViewerTree

#: Default widths of a differential viewer: the larger side, so frames only in BEFORE are shown.
DIFF_BASIS = "union"

#: What `basis` accepts in a differential viewer (the page can switch between them).
BASES = ("union", "after", "before")


def _settings(options: RenderOptions, unit: str, title: str) -> dict[str, Any]:
    top, bottom = background(options.palette, options.bgcolors)
    return {
        "title": visible(title),
        "subtitle": visible(options.subtitle or ""),
        "unit": visible(options.count_name or unit or defaults.COUNT_NAME),
        "factor": options.factor,
        "view": "icicle" if options.inverted else "flame",
        "frameHeight": options.frame_height,
        "fontFamily": visible(options.font_type),
        "fontSize": options.font_size,
        "searchColor": options.search_color,
        "truncate": "right" if options.truncate_text_right else "left",
        "background": [top, bottom],
        "generator": f"foldkit {__version__}",
    }


def _check(options: RenderOptions) -> None:
    if options.flamechart:
        raise UsageError("the HTML viewer draws merged stacks; write a flame chart (--flamechart) as .svg")


def _packed(
    sides: list[Mapping[str, Weight] | StackTable], color: Callable[[str], str], palette: str | None
) -> tuple[dict[str, Any], str, int, Callable[[], FrameTree], ViewerTree | None]:
    """(header, data, stacks left out, the tree for the Time view, the native tree when there is
    one) of `sides`' merged tree: built
    and packed natively when the core takes the sides (`palette`: the palette the core may colour
    with, None when `color` is not a plain palette's), else by the Python twins."""
    native = native_tree(*sides)
    if native is not None:
        header, data = pack_native(native, color, palette)
        return header, data, native.nonpositive, lambda: FrameTree.from_native(native), native
    tree = build_tree(*(s.to_dict() if not isinstance(s, Mapping) else s for s in sides))
    header, data = pack(tree, color)
    return header, data, tree.nonpositive, lambda: tree, None


def render_viewer(
    profile: Profile,
    options: RenderOptions = DEFAULT_RENDER_OPTIONS,
    *,
    palette_map: dict[str, str] | None = None,
    diagnostics: Diagnostics | None = None,
) -> bytes:
    """The viewer page of `profile`. `palette_map` (`--cp`) works as for the SVG; stacks with zero
    or negative weight are left out and said in `diagnostics`."""
    _check(options)
    table = profile.table if isinstance(profile, LazyProfile) and not options.reverse else None
    side = table if table is not None else reversed_weights(profile.weights) if options.reverse else profile.weights
    plain = options.palette if palette_map is None and not options.hash else None
    header, data, nonpositive, tree, native = _packed([side], colorizer(options.palette, options.hash, palette_map), plain)
    if diagnostics is not None and nonpositive:
        diagnostics.warnings.append(f"{nonpositive} stack(s) with zero or negative weight left out of the graph")
    title = options.title if options.title is not None else (defaults.TITLE_INVERTED if options.inverted else defaults.TITLE)
    roots = 0 if options.reverse else root_frame_count(profile.meta)
    meta = {**_settings(options, profile.unit, title), **header, "diff": False, "rootFrames": roots}
    timed = None
    if profile.timeline:
        from foldkit.render.viewer.timeline import time_payload

        warn = None if diagnostics is None else diagnostics.warnings.append
        timed = time_payload(tree, profile.timeline, reverse_stack if options.reverse else None, warn, native)
    if timed is not None:
        meta["time"] = timed[0]
    return viewer_page(title, meta, data, meta["generator"], timed[1] if timed else None)


def render_diff_viewer(
    before: Mapping[str, Weight],
    after: Mapping[str, Weight],
    *,
    unit: str = defaults.COUNT_NAME,
    basis: str = DIFF_BASIS,
    options: RenderOptions = DEFAULT_RENDER_OPTIONS,
    title: str = "Differential Flame Graph",
    sides: tuple[str, str] = ("before", "after"),
    color_by: str = "self",
    roots: int = 0,
) -> bytes:
    """The differential viewer page: the union of both sides' stacks, frames coloured by the change
    of their self weight (`color_by="self"`) or total weight (`"total"`) (red grew, blue shrank;
    `options.negate` swaps), widths from `basis` (union: the larger side, so frames only in BEFORE
    are shown). The first `roots` frames of every stack hold comm/PID/TID: no function in the table."""
    _check(options)
    if basis not in BASES:
        raise UsageError(f"--basis must be one of {', '.join(BASES)}, not {basis!r}")
    if options.reverse:
        after, before = reversed_weights(after), reversed_weights(before)
    plain = None if options.hash else options.palette
    header, data, _, _, _ = _packed([after, before], colorizer(options.palette, options.hash), plain)
    shown_title = options.title if options.title is not None else title
    meta = {
        **_settings(options, unit, shown_title),
        **header,
        "diff": True,
        "basis": basis,
        "negate": options.negate,
        "colorBy": color_by,
        "rootFrames": 0 if options.reverse else roots,
        "sideNames": [visible(s) for s in sides],
    }
    return viewer_page(shown_title, meta, data, meta["generator"])


__all__ = ["BASES", "DIFF_BASIS", "VIEWER_SUFFIXES", "render_diff_viewer", "render_viewer", "wants_viewer"]

"""The HTML flame-graph viewer: a `Profile` (or two, for a diff) to one self-contained `.html` file
that draws every frame on a canvas, with flame, icicle, sandwich and top-table views.

    render_viewer(profile, RenderOptions(...)) -> bytes
    write_viewer(profile, out, RenderOptions(...))          # streamed to a binary file
    render_diff_viewer(before, after, unit=..., basis="union", options=...) -> bytes
    write_diff_viewer(before, after, out, ...)              # sides: dicts or native stack tables
    diff_viewer(before, after, ...)(out)                    # the tree built first, then written

* `tree.py`    — `build_tree(*sides) -> FrameTree`: every stack prefix once, in pre-order
  (`native_tree` builds it in the native core, the usual path; `build_tree` is its twin);
* `payload.py` — the tree and the fills the page does not work out itself packed into a
  compressed, base64 block (`pack_native` for a native tree, `pack` for a `FrameTree`);
* `timeline.py` — the Time view's samples by stack and 20 ms bucket, when the profile has times;
* `page.py`    — the HTML document (lxml), its Content-Security-Policy and inert data blocks; the
  packed tree's base64 text is written into its data block as the core compresses it, so no
  whole copy of it is held;
* `viewer.js`, `palette.js`, `viewer.css` — the page's script and style (package files).

Colours come from `palette.py`, so a frame has the same fill as in the SVG: for the palettes the
page knows, `palette.js` (its twin) computes them in the page as frames are first drawn. Nothing is pruned: the
page merges frames narrower than a pixel when it draws, never in the data.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, BinaryIO

from foldkit import __version__
from foldkit.errors import UsageError
from foldkit.profile import Diagnostics, LazyProfile, Profile, StackTable, Weight, root_frame_count
from foldkit.render import VIEWER_SUFFIXES, defaults, reverse_stack, reversed_weights, wants_viewer
from foldkit.render.options import DEFAULT_RENDER_OPTIONS, RenderOptions
from foldkit.render.palette import background, colorizer
from foldkit.render.viewer.page import viewer_document
from foldkit.render.viewer.payload import native_header, pack, write_native
from foldkit.render.viewer.tree import FrameTree, build_tree, native_tree, scaled
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


@dataclass
class _Payload:
    """The packed tree of a page: its header, how to write its base64 text, the stacks left out,
    and (for the Time view) the tree itself."""

    header: dict[str, Any]
    write: Callable[[BinaryIO], None]
    nonpositive: int
    tree: Callable[[], FrameTree]
    #: the native tree when the core built it (the Time view's cells are then made natively)
    native: ViewerTree | None = None


def _payload(
    sides: list[Mapping[str, Weight] | StackTable],
    color: Callable[[str], str],
    palette: str | None,
    scales: list[float] | None = None,
    reverse: bool = False,
) -> _Payload:
    """The payload of `sides`' merged tree, each side's weights times its `scales` entry (default
    1), with `reverse` every stack's frames in the opposite order: built and packed natively when
    the core takes the sides, else by the Python twins (from the sides' weights scaled first, as
    `analysis.diff.diff_profiles` scales them, then reversed). `palette`: the palette the page may
    colour names with, None when `color` is not a plain palette's."""
    try:
        native = native_tree(*sides, scales=scales, reverse=reverse)
    except ValueError as exc:  # beyond the payload's limits
        raise UsageError(str(exc)) from None
    if native is not None:
        header, given = native_header(native, color, palette)
        return _Payload(header, partial(write_native, native, given, palette), native.nonpositive, partial(FrameTree.from_native, native), native)
    factors = scales or [1.0] * len(sides)
    weights = [scaled(_weights(s), f) for s, f in zip(sides, factors, strict=True)]
    tree = build_tree(*(reversed_weights(w) if reverse else w for w in weights))
    header, data = pack(tree, color, palette)
    return _Payload(header, lambda out: _write_text(out, data), tree.nonpositive, lambda: tree)


def _write_text(out: BinaryIO, text: str) -> None:
    out.write(text.encode("ascii"))


def _write_page(out: BinaryIO, title: str, meta: dict[str, Any], payload: _Payload, time_data: str | None = None) -> None:
    """The page's bytes to `out`: the document lxml writes, the payload streamed into its data block."""
    before, after = viewer_document(title, meta, meta["generator"], time_data)
    out.write(before)
    payload.write(out)
    out.write(after)


def _bytes(write: Callable[[BinaryIO], None]) -> bytes:
    out = io.BytesIO()
    write(out)
    return out.getvalue()


def write_viewer(
    profile: Profile,
    out: BinaryIO,
    options: RenderOptions = DEFAULT_RENDER_OPTIONS,
    *,
    palette_map: dict[str, str] | None = None,
    diagnostics: Diagnostics | None = None,
) -> None:
    """Write the viewer page of `profile` to `out`, its data as it is compressed. `palette_map`
    (`--cp`) works as for the SVG; stacks with zero or negative weight are left out and said in
    `diagnostics`."""
    _check(options)
    table = profile.table if isinstance(profile, LazyProfile) else None
    side = table if table is not None else profile.weights
    plain = options.palette if palette_map is None and not options.hash else None
    payload = _payload([side], colorizer(options.palette, options.hash, palette_map), plain, reverse=options.reverse)
    if diagnostics is not None and payload.nonpositive:
        diagnostics.warnings.append(f"{payload.nonpositive} stack(s) with zero or negative weight left out of the graph")
    title = options.title if options.title is not None else (defaults.TITLE_INVERTED if options.inverted else defaults.TITLE)
    roots = 0 if options.reverse else root_frame_count(profile.meta)
    meta = {**_settings(options, profile.unit, title), **payload.header, "diff": False, "rootFrames": roots}
    timed = None
    if profile.timeline:
        from foldkit.render.viewer.timeline import time_payload

        warn = None if diagnostics is None else diagnostics.warnings.append
        timed = time_payload(payload.tree, profile.timeline, reverse_stack if options.reverse else None, warn, payload.native)
    if timed is not None:
        meta["time"] = timed[0]
    _write_page(out, title, meta, payload, timed[1] if timed else None)


def render_viewer(
    profile: Profile,
    options: RenderOptions = DEFAULT_RENDER_OPTIONS,
    *,
    palette_map: dict[str, str] | None = None,
    diagnostics: Diagnostics | None = None,
) -> bytes:
    """The viewer page of `profile` (`write_viewer`) as bytes."""
    return _bytes(partial(write_viewer, profile, options=options, palette_map=palette_map, diagnostics=diagnostics))


def diff_viewer(
    before: Mapping[str, Weight] | StackTable,
    after: Mapping[str, Weight] | StackTable,
    *,
    unit: str = defaults.COUNT_NAME,
    basis: str = DIFF_BASIS,
    options: RenderOptions = DEFAULT_RENDER_OPTIONS,
    title: str = "Differential Flame Graph",
    sides: tuple[str, str] = ("before", "after"),
    color_by: str = "self",
    roots: int = 0,
    before_scale: float = 1.0,
) -> Callable[[BinaryIO], None]:
    """The differential viewer page, its tree built: a function that writes the page to a binary
    file (`write_diff_viewer`), so that what cannot be drawn is said before an output is opened.
    The union of both sides' stacks (dicts, or native stack tables, which stay in the core),
    BEFORE's weights shown times `before_scale` (a normalised BEFORE: each stack's weight scaled
    as `analysis.diff.diff_profiles` scales it; the core keeps the integers and scales each node's
    once), frames coloured by the change of their self weight (`color_by="self"`) or total weight
    (`"total"`) (red grew, blue shrank; `options.negate` swaps), widths from `basis` (union: the
    larger side, so frames only in BEFORE are shown). The first `roots` frames of every stack hold
    comm/PID/TID: no function in the table."""
    _check(options)
    if basis not in BASES:
        raise UsageError(f"--basis must be one of {', '.join(BASES)}, not {basis!r}")
    plain = None if options.hash else options.palette
    payload = _payload([after, before], colorizer(options.palette, options.hash), plain, [1.0, before_scale], options.reverse)
    shown_title = options.title if options.title is not None else title
    meta = {
        **_settings(options, unit, shown_title),
        **payload.header,
        "diff": True,
        "basis": basis,
        "negate": options.negate,
        "colorBy": color_by,
        "rootFrames": 0 if options.reverse else roots,
        "sideNames": [visible(s) for s in sides],
    }
    return lambda out: _write_page(out, shown_title, meta, payload)


def write_diff_viewer(
    before: Mapping[str, Weight] | StackTable,
    after: Mapping[str, Weight] | StackTable,
    out: BinaryIO,
    **kwargs: Any,
) -> None:
    """Write the differential viewer page (`diff_viewer`, the same keyword arguments) to `out`,
    its data as it is compressed."""
    diff_viewer(before, after, **kwargs)(out)


def _weights(side: Mapping[str, Weight] | StackTable) -> Mapping[str, Weight]:
    return side if isinstance(side, Mapping) else side.to_dict()


def render_diff_viewer(
    before: Mapping[str, Weight] | StackTable,
    after: Mapping[str, Weight] | StackTable,
    **kwargs: Any,
) -> bytes:
    """The differential viewer page (`write_diff_viewer`, the same keyword arguments) as bytes."""
    return _bytes(diff_viewer(before, after, **kwargs))


__all__ = ["BASES", "DIFF_BASIS", "VIEWER_SUFFIXES", "diff_viewer", "render_diff_viewer", "render_viewer", "wants_viewer", "write_diff_viewer", "write_viewer"]

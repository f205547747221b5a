"""SVG writer: a `Layout` to a self-contained, interactive SVG, built with lxml's element API.

    write_svg(layout, options, fill=..., count_name=..., tooltip=None, attributes=None,
              subtitle=None, kind="flamegraph") -> bytes

* `fill(i)` is frame i's fill colour (the palette for flame graphs, the delta for diffs);
* `tooltip(i)` its `<title>` text (default `name (1,234 samples, 5.67%)`, like flamegraph.pl);
* `attributes(i)` extra `data-*` attributes for frame i (diffs add `data-before`/`data-after`).

Every drawn frame is one `<rect>` in `<g id="frames">`, in the layout's depth-first pre-order,
followed by its label when at least three characters fit:

    <rect data-name="full name" data-depth="3" data-start="1200" data-weight="345"
          x=".." y=".." width=".." height=".." fill="..">
      <title>name (345 samples, 1.23%)</title>
    </rect>
    <text x=".." y="..">label that fits</text>

`data-start` and `data-weight` are in input units (the left edge and inclusive weight), so the
embedded script zooms exactly and other tools can read the picture back. Untrusted strings only
ever become attribute values or text nodes (lxml escapes them) after `text.visible()`, which the
writer applies itself to every tooltip and attribute a caller supplies (diffs, checks); the
script and style are package files, and settings reach the script as `data-*` attributes of the
root element, never as generated code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

from lxml import etree

from foldkit.errors import UsageError
from foldkit.render import defaults
from foldkit.render.layout import Layout
from foldkit.render.options import RenderOptions
from foldkit.render.palette import background
from foldkit.text import (
    display_name,
    fit_label,
    format_count,
    format_number,
    format_px,
    visible,
)

SVG_NS = "http://www.w3.org/2000/svg"
_G = f"{{{SVG_NS}}}g"
_RECT = f"{{{SVG_NS}}}rect"
_TEXT = f"{{{SVG_NS}}}text"
_TITLE = f"{{{SVG_NS}}}title"

#: Distance of the search button and "Matched" line from the right edge, in pixels (as flamegraph.pl).
_SEARCH_X = 100
_IGNORECASE_X = 16


@cache
def asset(name: str) -> str:
    """The text of a package file (`flamegraph.js`, `flamegraph.css`)."""
    return Path(__file__).with_name(name).read_text(encoding="utf-8")


def default_tooltip(layout: Layout, options: RenderOptions, count_name: str) -> Callable[[int], str]:
    """flamegraph.pl's tooltip: `name (1,234 samples, 5.67%)`, weights times `--factor`; the text
    needs no `visible()` (its name and unit went through it)."""
    span = layout.span or 1
    names, weights, factor = layout.names, layout.weights, options.factor
    unit = visible(count_name)
    if not math.isfinite(span * factor):
        raise UsageError(f"--factor {factor:g} makes the weights shown too large to be numbers")
    shown: dict[str, str] = {}

    def tooltip(i: int) -> str:
        name = names[i]
        text = shown.get(name)
        if text is None:
            text = shown[name] = display_name(name)
        w = weights[i]
        return f"{text} ({format_count(w * factor)} {unit}, {100 * w / span:.2f}%)"

    return tooltip


class _Geometry:
    """Pixel positions of rows and header lines."""

    def __init__(self, layout: Layout, options: RenderOptions, has_subtitle: bool) -> None:
        fs = options.font_size
        self.top = fs * 3 + (fs * 2 if has_subtitle else 0)
        self.bottom = fs * 2 + 10
        rows = layout.max_depth + 1 if len(layout) else 1
        self.height = rows * options.frame_height + self.top + self.bottom
        self.inverted = options.inverted
        self.fh = options.frame_height

    def row_y(self, depth: int) -> float:
        """Top edge of a frame at `depth`."""
        if self.inverted:
            return self.top + depth * self.fh
        return self.height - self.bottom - (depth + 1) * self.fh + defaults.FRAME_PAD


def _text(parent: etree._Element, x: float, y: float, text: str, **attrib: str) -> etree._Element:
    el = etree.SubElement(parent, _TEXT, {"x": format_px(x), "y": format_px(y), **attrib})
    el.text = text
    return el


def write_svg(
    layout: Layout,
    options: RenderOptions,
    *,
    fill: Callable[[int], str],
    count_name: str = defaults.COUNT_NAME,
    tooltip: Callable[[int], str] | None = None,
    attributes: Callable[[int], Mapping[str, str]] | None = None,
    subtitle: str | None = None,
    kind: str = "flamegraph",
    message: str | None = None,
) -> bytes:
    """The SVG document for `layout` (see the module docstring); `message` is shown in place of
    frames when there is nothing to draw."""
    title = options.title if options.title is not None else options.default_title()
    geo = _Geometry(layout, options, bool(subtitle))
    width = options.width
    fs = options.font_size
    height = geo.height
    top, bottom = background(options.palette, options.bgcolors)
    root = etree.Element(
        f"{{{SVG_NS}}}svg",
        {
            "version": "1.1",
            "width": str(width),
            "height": format_px(height),
            "viewBox": f"0 0 {width} {format_px(height)}",
            "font-family": visible(options.font_type),
            "font-size": format_px(fs),
            "data-generator": "foldkit",
            "data-kind": kind,
            "data-span": format_number(layout.span),
            "data-xpad": str(defaults.XPAD),
            "data-font-width": repr(options.font_width),
            "data-min-label-chars": str(defaults.MIN_LABEL_CHARS),
            "data-label-pad": str(defaults.LABEL_PAD),
            "data-name-type": visible(options.name_type),
            "data-search-color": options.search_color,
            "data-truncate": "right" if options.truncate_text_right else "left",
        },
        nsmap={None: SVG_NS},
    )
    if options.notes:
        desc = etree.SubElement(root, f"{{{SVG_NS}}}desc", {"id": "notes"})
        desc.text = visible(options.notes)
    defs = etree.SubElement(root, f"{{{SVG_NS}}}defs")
    gradient = etree.SubElement(defs, f"{{{SVG_NS}}}linearGradient", {"id": "background", "x1": "0", "x2": "0", "y1": "0", "y2": "1"})
    etree.SubElement(gradient, f"{{{SVG_NS}}}stop", {"offset": "5%", "stop-color": top})
    etree.SubElement(gradient, f"{{{SVG_NS}}}stop", {"offset": "95%", "stop-color": bottom})
    style = etree.SubElement(root, f"{{{SVG_NS}}}style", {"type": "text/css"})
    style.text = asset("flamegraph.css")
    etree.SubElement(root, _RECT, {"x": "0", "y": "0", "width": str(width), "height": format_px(height), "fill": "url(#background)"})
    _text(root, width / 2, fs * 2, visible(title), id="title", **{"font-size": format_px(fs + 5)})
    if subtitle:
        _text(root, width / 2, fs * 4, visible(subtitle), id="subtitle")
    _text(root, defaults.XPAD, height - geo.bottom / 2, " ", id="details")
    _text(root, defaults.XPAD, fs * 2, "Reset Zoom", id="unzoom", **{"class": "hide"})
    _text(root, width - defaults.XPAD - _SEARCH_X, fs * 2, "Search", id="search")
    _text(root, width - defaults.XPAD - _IGNORECASE_X, fs * 2, "ic", id="ignorecase")
    _text(root, width - defaults.XPAD - _SEARCH_X, height - geo.bottom / 2, " ", id="matched")
    frames = etree.SubElement(root, _G, {"id": "frames"})
    if message is not None:
        _text(root, width / 2, geo.top + options.frame_height, visible(message), id="message", **{"text-anchor": "middle"})
    else:
        shown = tooltip or default_tooltip(layout, options, count_name)
        _write_frames(frames, layout, options, geo, fill, shown, attributes, tooltip_visible=tooltip is None)
    script = etree.SubElement(root, f"{{{SVG_NS}}}script", {"type": "text/ecmascript"})
    script.text = etree.CDATA(asset("flamegraph.js"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def _write_frames(
    frames: etree._Element,
    layout: Layout,
    options: RenderOptions,
    geo: _Geometry,
    fill: Callable[[int], str],
    tooltip: Callable[[int], str],
    attributes: Callable[[int], Mapping[str, str]] | None,
    tooltip_visible: bool = False,
) -> None:
    """One `<rect>` (with its `<title>`) per frame, followed by its `<text>` label when one fits;
    `tooltip_visible` when the tooltips need no `visible()` (the default tooltip's parts are).
    This is the hot loop: as few lxml calls and attributes per frame as the format allows."""
    sub = etree.SubElement
    scale = options.plot_width / layout.span if layout.span else 0.0
    xpad = defaults.XPAD
    rect_h = format_px(geo.fh - defaults.FRAME_PAD)
    label_dy = (geo.fh - defaults.FRAME_PAD) / 2 + options.font_size / 4
    char_px = options.font_size * options.font_width
    min_label_px = char_px * defaults.MIN_LABEL_CHARS + defaults.LABEL_PAD
    right = options.truncate_text_right
    min_chars = defaults.MIN_LABEL_CHARS
    row_y: dict[int, tuple[str, str]] = {}
    shown: dict[str, tuple[str, str]] = {}  # name -> (data-name, label text)
    names, depths, starts, weights = layout.names, layout.depths, layout.starts, layout.weights
    for i in range(len(names)):
        name = names[i]
        depth = depths[i]
        w = weights[i]
        texts = shown.get(name)
        if texts is None:
            texts = shown[name] = (visible(name), display_name(name))
        ys = row_y.get(depth)
        if ys is None:
            y = geo.row_y(depth)
            ys = row_y[depth] = (format_px(y), format_px(y + label_dy))
        x = xpad + starts[i] * scale
        width = w * scale
        attrib = {
            "data-name": texts[0],
            "data-depth": str(depth),
            "data-start": format_number(starts[i]),
            "data-weight": format_number(w),
            "x": format_px(x),
            "y": ys[0],
            "width": format_px(width),
            "height": rect_h,
            "fill": fill(i),
        }
        if attributes is not None:
            attrib.update({k: visible(v) for k, v in attributes(i).items()})
        sub(sub(frames, _RECT, attrib), _TITLE).text = tooltip(i) if tooltip_visible else visible(tooltip(i))
        if width >= min_label_px:
            label = fit_label(texts[1], width - defaults.LABEL_PAD, char_px, right, min_chars)
            if label:
                sub(frames, _TEXT, {"x": format_px(x + defaults.LABEL_PAD), "y": ys[1]}).text = label

"""SVG writer: a `Layout` to a self-contained, interactive SVG, streamed with lxml's incremental writer.

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

import io
import math
from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from foldkit.errors import UsageError
from foldkit.native import native_core
from foldkit.render import defaults
from foldkit.render.assets import asset, svg_script
from foldkit.render.assets import with_search as with_search  # the viewer page imports it from here
from foldkit.render.layout import Layout
from foldkit.render.nameattr import NameAttributes
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
_SVG = f"{{{SVG_NS}}}svg"
_G = f"{{{SVG_NS}}}g"
_RECT = f"{{{SVG_NS}}}rect"
_TEXT = f"{{{SVG_NS}}}text"
_TITLE = f"{{{SVG_NS}}}title"

#: Where the native core's frames go in the document lxml writes (a comment lxml writes as it
#: is; no name or title can hold `<!--`, lxml escapes `<` in them).
_FRAMES_MARK = "foldkit-native-frames"

#: Distance of the search button and "Matched" line from the right edge, in pixels (as flamegraph.pl).
_SEARCH_X = 100
_IGNORECASE_X = 16


def _check_factor(layout: Layout, options: RenderOptions) -> None:
    """Refuse a `--factor` that makes the tooltips' weights overflow."""
    if not math.isfinite((layout.span or 1) * options.factor):
        raise UsageError(f"--factor {options.factor:g} makes the weights shown too large to be numbers")


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


def _part(tag: str, attrib: Mapping[str, str] | None = None, text: str | etree.CDATA | None = None) -> etree._Element:
    """A complete element for `xf.write` into the open `<svg>`. It has no namespace of its own, so
    lxml writes it as `<tag .../>` and it takes the root's default SVG namespace, byte for byte as
    the tree serialiser would write it (a namespaced one would repeat the declaration)."""
    el = etree.Element(tag, attrib)
    el.text = text
    return el


def _text(x: float, y: float, text: str, **attrib: str) -> etree._Element:
    return _part("text", {"x": format_px(x), "y": format_px(y), **attrib}, text)


def _style_rules(options: RenderOptions) -> str:
    """CSS for `--stroke-color` and `--uicolor` (colours `RenderOptions` validated, so no markup)."""
    rules = ""
    if options.stroke_color is not None and options.stroke_color != "none":
        rules += f"#frames > rect {{ stroke: {options.stroke_color}; stroke-width: 1; }}\n"
    if options.ui_color is not None:
        rules += f"#title, #details, #unzoom, #search, #ignorecase, #matched {{ fill: {options.ui_color}; }}\n"
    return rules


def _header(options: RenderOptions, geo: _Geometry, title: str, subtitle: str | None) -> list[etree._Element]:
    """Everything before the frames: notes, background, style, title and the controls."""
    width, fs, height = options.width, options.font_size, geo.height
    top, bottom = background(options.palette, options.bgcolors)
    parts = [_part("desc", {"id": "notes"}, visible(options.notes))] if options.notes else []
    defs = _part("defs")
    gradient = etree.SubElement(defs, "linearGradient", {"id": "background", "x1": "0", "x2": "0", "y1": "0", "y2": "1"})
    etree.SubElement(gradient, "stop", {"offset": "5%", "stop-color": top})
    etree.SubElement(gradient, "stop", {"offset": "95%", "stop-color": bottom})
    parts += [
        defs,
        _part("style", {"type": "text/css"}, asset("flamegraph.css") + _style_rules(options)),
        _part("rect", {"x": "0", "y": "0", "width": str(width), "height": format_px(height), "fill": "url(#background)"}),
        _text(width / 2, fs * 2, visible(title), id="title", **{"font-size": format_px(fs + 5)}),
    ]
    if subtitle:
        parts.append(_text(width / 2, fs * 4, visible(subtitle), id="subtitle"))
    parts += [
        _text(defaults.XPAD, height - geo.bottom / 2, " ", id="details"),
        _text(defaults.XPAD, fs * 2, "Reset Zoom", id="unzoom", **{"class": "hide"}),
        _text(width - defaults.XPAD - _SEARCH_X, fs * 2, "Search", id="search"),
        _text(width - defaults.XPAD - _IGNORECASE_X, fs * 2, "ic", id="ignorecase"),
        _text(width - defaults.XPAD - _SEARCH_X, height - geo.bottom / 2, " ", id="matched"),
    ]
    return parts


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
    names: NameAttributes | None = None,
    palette: tuple[str, bool] | None = None,
    native: bool = True,
) -> bytes:
    """The SVG document for `layout` (see the module docstring); `message` is shown in place of
    frames when there is nothing to draw; `names` (`--nameattr`) gives some functions' frames a
    tooltip of their own and extra attributes. `palette` (name, `--hash`) says that `fill` is
    that palette's colouring (`palette.colorizer`), which the native core can then compute
    itself; the frames are written natively when it is built and can (`native=False`: never),
    byte for byte as the lxml writer here writes them."""
    title = options.title if options.title is not None else options.default_title()
    geo = _Geometry(layout, options, bool(subtitle))
    width = options.width
    height = format_px(geo.height)
    root = {
        "version": "1.1",
        "width": str(width),
        "height": height,
        "viewBox": f"0 0 {width} {height}",
        "font-family": visible(options.font_type),
        "font-size": format_px(options.font_size),
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
    }
    if message is None and tooltip is None:
        _check_factor(layout, options)
    native_frames = None
    if native and palette is not None and message is None and len(layout) and tooltip is None and attributes is None and names is None:
        native_frames = _native_frames(layout, options, geo, fill, palette, visible(count_name))
    out = io.BytesIO()
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(_SVG, root, nsmap={None: SVG_NS}):
            xf.write(*_header(options, geo, title, subtitle))
            if message is not None or not len(layout):
                xf.write(_part("g", {"id": "frames"}))
            else:
                with xf.element(_G, {"id": "frames"}):
                    if native_frames is not None:
                        xf.write(etree.Comment(_FRAMES_MARK))
                    else:
                        _write_frames(xf, layout, options, geo, fill, tooltip, attributes, visible(count_name), names)
            if message is not None:
                y = geo.top + options.frame_height
                xf.write(_text(width / 2, y, visible(message), id="message", **{"text-anchor": "middle"}))
            if options.javascript:
                xf.write(_part("script", {"type": "text/ecmascript"}, etree.CDATA(svg_script())))
    data = out.getvalue()
    if native_frames is not None:
        # the document joined once around the frames (each copy of a big SVG costs page faults)
        head, _, tail = data.partition(f"<!--{_FRAMES_MARK}-->".encode())
        data = b"".join((head, native_frames, tail, b"" if options.pretty_xml else b"\n"))
        if not options.pretty_xml:
            return data
    if options.pretty_xml:
        return pretty(data)
    return data + b"\n"


def _native_frames(
    layout: Layout,
    options: RenderOptions,
    geo: _Geometry,
    fill: Callable[[int], str],
    palette: tuple[str, bool],
    unit: str,
) -> bytes | None:
    """The frames' markup from the native core (`_native.svg_frames`), exactly what
    `_write_frames` writes for a `fill` that is `palette`'s colouring, or None when the core is
    not built or cannot (fractional or huge weights, names holding surrogates, a palette it
    does not know): names that are not ASCII get their fill from `fill` here."""
    core = native_core()
    if core is None:
        return None
    fills: dict[str, str] = {}
    for i, name in enumerate(layout.names):
        if not name.isascii() and name not in fills:
            fills[name] = fill(i)
    char_px = options.font_size * options.font_width
    style = {
        "scale": float(options.plot_width / layout.span if layout.span else 0.0),
        "span": float(layout.span or 1),
        "factor": float(options.factor),
        "unit": unit,
        "xpad": float(defaults.XPAD),
        "inverted": bool(geo.inverted),
        "top": float(geo.top),
        "height": float(geo.height),
        "bottom": float(geo.bottom),
        "frame_height": float(geo.fh),
        "frame_pad": float(defaults.FRAME_PAD),
        "rect_height": format_px(geo.fh - defaults.FRAME_PAD),
        "label_dy": float((geo.fh - defaults.FRAME_PAD) / 2 + options.font_size / 4),
        "char_px": float(char_px),
        "min_label_px": float(char_px * defaults.MIN_LABEL_CHARS + defaults.LABEL_PAD),
        "label_pad": float(defaults.LABEL_PAD),
        "min_chars": defaults.MIN_LABEL_CHARS,
        "truncate_right": bool(options.truncate_text_right),
        "palette": palette[0],
        "hash_start": bool(palette[1]),
    }
    if type(layout.span) is not int or not 0 <= layout.span < 2**46:
        return None
    try:
        return core.svg_frames(layout.names, layout.depths, layout.starts, layout.weights, fills, style)
    except RuntimeError:  # a panic in the native core (a bug): the lxml writer writes them
        return None


def pretty(data: bytes) -> bytes:
    """An SVG document indented (`--pretty-xml`); text content is left as it is."""
    root = etree.fromstring(data, etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True, strip_cdata=False))
    etree.indent(root, space="    ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def _write_frames(
    xf: Any,  # the writer `etree.xmlfile` gives inside its `with`
    layout: Layout,
    options: RenderOptions,
    geo: _Geometry,
    fill: Callable[[int], str],
    tooltip: Callable[[int], str] | None,
    attributes: Callable[[int], Mapping[str, str]] | None,
    unit: str,
    names: NameAttributes | None = None,
) -> None:
    """One `<rect>` (with its `<title>`) per frame, followed by its `<text>` label when one fits,
    written into the open `<g id="frames">` of `xf`. Without `tooltip`, flamegraph.pl's: `name
    (1,234 samples, 5.67%)`, weights times `--factor`, in `unit`.

    This is the hot loop: every string that depends only on a frame's name or depth is made once,
    and lxml gets as few calls and attributes per frame as the format allows."""
    element, write = xf.element, xf.write
    number, px, count = format_number, format_px, format_count
    span, factor = layout.span or 1, options.factor
    scale = options.plot_width / layout.span if layout.span else 0.0
    xpad, label_pad = defaults.XPAD, defaults.LABEL_PAD
    rect_h = px(geo.fh - defaults.FRAME_PAD)
    label_dy = (geo.fh - defaults.FRAME_PAD) / 2 + options.font_size / 4
    char_px = options.font_size * options.font_width
    min_label_px = char_px * defaults.MIN_LABEL_CHARS + label_pad
    right = options.truncate_text_right
    min_chars = defaults.MIN_LABEL_CHARS
    rows: dict[int, tuple[str, str, str]] = {}  # depth -> (data-depth, y, label y)
    shown: dict[str, tuple[str, str]] = {}  # name -> (data-name, display name)
    for i, (name, depth, start, w) in enumerate(zip(layout.names, layout.depths, layout.starts, layout.weights, strict=True)):
        texts = shown.get(name)
        if texts is None:
            texts = shown[name] = (visible(name), display_name(name))
        row = rows.get(depth)
        if row is None:
            y = geo.row_y(depth)
            row = rows[depth] = (str(depth), px(y), px(y + label_dy))
        x = xpad + start * scale
        width = w * scale
        attrib = {
            "data-name": texts[0],
            "data-depth": row[0],
            "data-start": number(start),
            "data-weight": number(w),
            "x": px(x),
            "y": row[1],
            "width": px(width),
            "height": rect_h,
            "fill": fill(i),
        }
        if attributes is not None:
            attrib.update({k: visible(v) for k, v in attributes(i).items()})
        own_title = None
        if names is not None:
            attrib.update({k: visible(v) for k, v in names.attributes.get(name, {}).items()})
            own_title = names.titles.get(name)
        with element(_RECT, attrib), element(_TITLE):
            if own_title is not None:
                write(visible(own_title))
            elif tooltip is None:
                write(f"{texts[1]} ({count(w * factor)} {unit}, {100 * w / span:.2f}%)")
            else:
                write(visible(tooltip(i)))
        if width >= min_label_px:
            label = fit_label(texts[1], width - label_pad, char_px, right, min_chars)
            if label:
                with element(_TEXT, {"x": px(x + label_pad), "y": row[2]}):
                    write(label)

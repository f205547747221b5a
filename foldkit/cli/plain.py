"""The plain flame graph, native from the file to the SVG: `foldkit flamegraph x.folded` with no
picture flag (every one at its default), for a folded file small enough not to be read ahead.
The native core reads the file into its table, lays it out and writes the whole document
(`_native.table_svg`, whose twin and reference is `foldkit.render.svg.write_svg` with lxml);
Python makes no object per frame and loads neither lxml nor the readers, the layout's and the
options' dataclasses or the palettes, whose import alone took longer than drawing a tower of
29,000 frames.

`draw(path)` gives the SVG, or None whenever the picture is not a plain one or anything about
the input needs the readers' judgement; the caller (`foldkit.cli.fast`) then draws it as every
other picture, with the same bytes (tests/cli/test_plain.py compares the two). What makes an
input plain, each the case where the full path gives exactly this picture and says nothing:

* a regular file named `*.folded` below `readahead.MIN_BYTES` (bigger ones are read while the
  modules load, which this path would not overlap), starting with ASCII (not compressed);
* its first lines are ones the folded sniffer is sure of (none indented, a bpftrace `@` entry
  or a comment), so the format detected is `folded` without asking another sniffer;
* the native reader takes every line (no line handed back: no comment, header or bad line), no
  decimal weight, no call-site offset to strip, no stack of zero or negative weight, weights
  within 2^46 (checked natively), something to draw;
* the frame budget is not reached and every drawn name is ASCII (checked natively).
"""

from __future__ import annotations

import math
import os
import stat

from foldkit import readahead
from foldkit.constants import (
    DEFAULT_MAX_RECORD,
    HEAD_SIZE,
    LONG_LINE_HEAD,
    SNIFFED_LINES,
    UNKNOWN_UNIT,
)
from foldkit.jobs import default_jobs
from foldkit.native import native_core
from foldkit.render import defaults
from foldkit.render.assets import asset, svg_script
from foldkit.render.backgrounds import background

TYPE_CHECKING = False
if TYPE_CHECKING:
    from foldkit._native import FoldedStacks
    from foldkit.native import NativeCore

#: The suffix an input's name needs (the folded sniffer then decides first).
SUFFIX = ".folded"

#: First bytes of a line the sniffer does not count as a sure folded line (indented: perf or
#: BCC frames; `@`: a bpftrace map entry), or skips (`#`).
_UNSURE_FIRST = b" \t\n\r\x0b\x0c@#"


def _sure_lines(lines: list[bytes]) -> bool:
    """True when `lines` (the sniffed ones, blank lines still among them) hold a line and every
    one that is not blank starts as the folded sniffer counts a sure folded line, given that
    every line parses as `stack weight` (the native reader took them all)."""
    shown = [line for line in lines if line.strip()]
    return bool(shown) and all(line[:1] not in _UNSURE_FIRST for line in shown)


def _sniffed_folded(path: str) -> bool:
    """True when format detection (`ingest.detect`) of the file at `path`, named `*.folded`,
    returns the folded format at its first sniff: from its head, or from its whole first line
    when the head holds no line end (one deep stack). Assumes every line parses as folded."""
    with open(path, "rb") as f:
        head = f.read(HEAD_SIZE)
        if not head[:4].isascii():
            return False  # compressed (gzip, zstd), or not text the sniffers agree on
        if len(head) < HEAD_SIZE:
            return _sure_lines(head.split(b"\n")[:SNIFFED_LINES])
        if b"\n" not in head:  # the whole first line decides (`ingest._first_line`)
            longer = head + f.read(LONG_LINE_HEAD - HEAD_SIZE)
            end = longer.find(b"\n")
            if end < 0 and len(longer) >= LONG_LINE_HEAD:
                return False
            return _sure_lines([longer if end < 0 else longer[:end]])
    # the last line of a full head may be cut: the sniffer leaves it out
    lines = [line for line in head.split(b"\n")[:SNIFFED_LINES] if line.strip()]
    return _sure_lines(lines[:-1])


def _threshold(span: int) -> int:
    """The native layout's threshold for the default `--minwidth` (`render.min_fraction`,
    `layout._native_threshold`)."""
    text = defaults.MIN_WIDTH.strip()
    if text.endswith("%"):
        fraction = float(text[:-1]) / 100
    else:
        fraction = float(text) / float(defaults.WIDTH - 2 * defaults.XPAD)
    min_weight = span * fraction if fraction > 0 else 0.0
    return min(max(math.ceil(min_weight), 0), 2**126)


def page() -> dict[str, object]:
    """What the native writer needs of the plain picture besides its frames: the defaults and
    package files (`_native.table_svg`)."""
    return {
        "width": defaults.WIDTH,
        "frame_height": defaults.FRAME_HEIGHT,
        "frame_pad": defaults.FRAME_PAD,
        "xpad": defaults.XPAD,
        "font_type": defaults.FONT_TYPE,
        "font_size": float(defaults.FONT_SIZE),
        "font_width_repr": repr(defaults.FONT_WIDTH),
        "font_width": float(defaults.FONT_WIDTH),
        "name_type": defaults.NAME_TYPE,
        "search_color": defaults.SEARCH_COLOR,
        "title": defaults.TITLE,
        "unit": UNKNOWN_UNIT,
        "root": defaults.ROOT_NAME,
        "min_label_chars": defaults.MIN_LABEL_CHARS,
        "label_pad": defaults.LABEL_PAD,
        "truncate_right": True,
        "factor": float(defaults.FACTOR),
        "palette": defaults.PALETTE,
        "background": background(defaults.PALETTE, None, hue=False),
        "css": asset("flamegraph.css"),
        "script": svg_script(),
    }


def _plain_table(path: str) -> tuple[NativeCore, FoldedStacks] | None:
    """The native core and the stack table of the folded file at `path` when it may be drawn as
    the plain picture (the native writer still has its say: `table_svg`), else None."""
    core = native_core()
    if core is None or not path.endswith(SUFFIX):
        return None
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size >= readahead.MIN_BYTES or not _sniffed_folded(path):
            return None
        table = core.read_folded_file(path, default_jobs(), DEFAULT_MAX_RECORD)
    except (OSError, ValueError, RuntimeError):
        return None  # the full path says what is wrong
    if table is None or not len(table) or table.deferred() or table.may_hold_offsets() or table.has_floats():
        return None
    return core, table


def draw(path: str) -> bytes | None:
    """The SVG of the plain flame graph of the folded file at `path`, or None when it is not a
    plain one (see the module docstring)."""
    found = _plain_table(path)
    if found is None:
        return None
    core, table = found
    return _svg(core, table)


def _svg(core: NativeCore, table: FoldedStacks) -> bytes | None:
    """`draw`'s SVG of a table `_plain_table` gave."""
    span = table.sums()[1]
    try:
        return core.table_svg(table, _threshold(span), min(defaults.MAX_FRAMES, 2**62), page())
    except RuntimeError:  # a panic in the native core (a bug): the full path draws it
        return None


def write(path: str, output: str | None) -> bool:
    """Write the SVG of the plain flame graph of the folded file at `path` to `output` (a file,
    replaced as `foldkit.outputs` replaces one; None or `-`: standard output), the native core
    writing it straight from its table (`outputs.write_natively`); False, having written
    nothing, when it is not a plain one (see the module docstring). Errors as `write_bytes`'s."""
    found = _plain_table(path)
    if found is None:
        return False
    core, table = found
    threshold = _threshold(table.sums()[1])
    frames = min(defaults.MAX_FRAMES, 2**62)
    settings = page()

    def native(file: str | None, new: bool) -> bool:
        try:
            return core.table_svg_write(table, threshold, frames, settings, file, new)
        except RuntimeError:  # a panic in the native core (a bug): the full path draws it
            if file is not None and new:
                try:
                    os.unlink(file)
                except OSError:
                    pass
            return False

    from foldkit.outputs import write_natively

    return write_natively(output, native, lambda: _svg(core, table))

"""Every default of the flame-graph renderer, defined once; the library and the CLI both read them.

Values marked "as flamegraph.pl" keep pictures comparable with the ones users already know.
"""

from __future__ import annotations

#: Image width in pixels (as flamegraph.pl).
WIDTH = 1200
#: Height of one frame row in pixels (flamegraph.pl's `--height`).
FRAME_HEIGHT = 16
#: Gap between a frame and the row above it, in pixels (as flamegraph.pl).
FRAME_PAD = 1
#: Left and right margin in pixels (as flamegraph.pl).
XPAD = 10
#: Frames narrower than this many pixels are dropped (as flamegraph.pl); "N%" means a share of the total.
MIN_WIDTH = "0.1"
#: Font family and size of every text (as flamegraph.pl).
FONT_TYPE = "Verdana"
FONT_SIZE = 12.0
#: Average character width as a fraction of the font size, used to decide how much of a label fits
#: (as flamegraph.pl: measured on Verdana, slightly generous for narrower fonts).
FONT_WIDTH = 0.59
#: Labels need room for at least this many characters (two of them the ".." of a cut label).
MIN_LABEL_CHARS = 3
#: Left padding of a label inside its frame, in pixels.
LABEL_PAD = 3
#: What the name column is called in the details line (as flamegraph.pl).
NAME_TYPE = "Function:"
#: What the weights count when the profile does not say (as flamegraph.pl).
COUNT_NAME = "samples"
#: Default titles per mode (as flamegraph.pl).
TITLE = "Flame Graph"
TITLE_INVERTED = "Icicle Graph"
TITLE_CHART = "Flame Chart"
#: Default palette: tells user, kernel, C++, JIT and inlined frames apart (see palette.py).
PALETTE = "default"
#: Fill of frames that match a search (as flamegraph.pl).
SEARCH_COLOR = "rgb(230,0,230)"
#: Multiplier applied to the weights shown in tooltips (as flamegraph.pl's `--factor`).
FACTOR = 1.0
#: Most frames drawn before the renderer raises the minimum width by itself. Measured in headless
#: Chromium on 2 cores with the benchmark capture folded with --tid --addrs: 24,000 frames open in
#: 0.9 s and zoom or reset in 0.5 s; 61,000 take 3 s and 1-2 s, which users report as sluggish
#: (FlameGraph #39, inferno #102). 9,000 frames: 0.4 s and 0.2 s.
MAX_FRAMES = 30_000
#: File `--cp` reads and updates when no `--palette-file` is given (as flamegraph.pl).
PALETTE_FILE = "palette.map"
#: Name of the root frame that spans the whole graph (as flamegraph.pl).
ROOT_NAME = "all"

# --- differential graphs (`foldkit.render.diffgraph`) ---
#: What `--basis` accepts: whose weights give the frames their widths.
BASIS_CHOICES = ("after", "before", "union")
#: Default basis: AFTER's widths, as difffolded.pl + flamegraph.pl draw it.
DEFAULT_BASIS = "after"
#: What `diff --color-by` accepts: a frame's colour from the change of its own (self) weight, as
#: flamegraph.pl and inferno colour it, or of its inclusive (total) weight.
COLOR_BY_CHOICES = ("self", "total")
#: Default colouring of a differential graph: by self change, so only the frames whose own cost
#: changed are red or blue (their callers are not).
DEFAULT_COLOR_BY = "self"

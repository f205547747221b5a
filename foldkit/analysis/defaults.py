"""Defaults of the comparison commands (`top`, `diff`), defined once and importable without polars."""

from __future__ import annotations

#: What `top --sort` accepts.
SORT_CHOICES = ("self", "total")
#: Rows shown by default (pprof's `top` shows 10; 20 fits a terminal and covers most hot spots).
DEFAULT_LIMIT = 20
#: What `--sort` accepts for the changed-functions table.
DIFF_SORT_CHOICES = ("self", "total")
#: Rows of the changed-functions table shown by default.
DEFAULT_DIFF_LIMIT = 20
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

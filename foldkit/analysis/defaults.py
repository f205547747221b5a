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
#: Where a profile read with `--by dso` keeps each frame's shared object (`Profile.meta`).
DSO_META_KEY = "frame_dso"

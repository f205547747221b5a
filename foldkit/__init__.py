"""foldkit: fold profiler captures into stacks, render flame graphs, diff and check profiles."""

from __future__ import annotations

__version__ = "0.1.0"

from foldkit.api import check, diff, read
from foldkit.ingest import FoldOptions
from foldkit.profile import Profile

__all__ = ["FoldOptions", "Profile", "__version__", "check", "diff", "read"]

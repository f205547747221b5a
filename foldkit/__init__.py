"""foldkit: fold profiler captures into stacks, render flame graphs, diff and check profiles."""

from __future__ import annotations

__version__ = "0.1.0"

# `foldkit.check` names both the API function and the package of the CI gate (foldkit/check/).
# The (empty) package is imported first, so that importing its modules later (`from foldkit.check
# import gate`) finds it in sys.modules and does not rebind `foldkit.check` to the package.
import foldkit.check as _gate_package  # noqa: F401  (see above)
from foldkit.api import check, diff, read
from foldkit.ingest import FoldOptions
from foldkit.profile import Profile

__all__ = ["FoldOptions", "Profile", "__version__", "check", "diff", "read"]

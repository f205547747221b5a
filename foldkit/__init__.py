"""foldkit: fold profiler captures into stacks, render flame graphs, diff and check profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# foldkit.api is light (it imports what each function needs on use) and gives Profile its methods.
from foldkit.api import check, diff, read
from foldkit.profile import Profile

if TYPE_CHECKING:
    from foldkit.ingest import FoldOptions

#: Public names imported on first use, so `import foldkit` (and every command-line run) loads
#: only what it needs: the readers of every format are behind FoldOptions.
_PUBLIC = {"FoldOptions": "foldkit.ingest"}


def __getattr__(name: str) -> Any:
    """The public names of `__all__`, from their modules."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


__all__ = ["FoldOptions", "Profile", "__version__", "check", "diff", "read"]

"""`foldkit formats`: the input formats foldkit reads, each with a one-line example."""

from __future__ import annotations

from foldkit.ingest import FORMATS
from foldkit.native import native_status


def formats() -> None:
    """List the input formats foldkit reads (and detects by default), with a one-line example each.

    Examples:

    \b
      foldkit formats
    """
    width = max(len(name) for name in FORMATS)
    for name, module in FORMATS.items():
        print(f"{name:<{width}}  {module.DESCRIPTION}")
        print(f"{'':<{width}}  e.g. {module.EXAMPLE}")
    print(f"{'auto':<{width}}  (default) detect the format from the first bytes; -v says which was chosen")
    print()
    print(native_status())

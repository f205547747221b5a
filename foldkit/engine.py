"""How folding runs: how many threads, and whether the native core (`foldkit._native`) is used.

The native core is the Rust extension built with the package; `FOLDKIT_NATIVE=0` in the
environment turns it off, so the pure-Python reference implementation runs alone (tests use this
to compare the two).
"""

from __future__ import annotations

import os
from types import ModuleType

#: Environment variable that, set to 0, keeps the native core out of use.
NATIVE_SWITCH = "FOLDKIT_NATIVE"


def default_jobs() -> int:
    """Threads to use by default: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def load_native() -> ModuleType | None:
    """The native core whether or not it is switched off (its demanglers serve both
    implementations), or None when it is not built."""
    try:
        import foldkit._native as native
    except ImportError:
        return None
    return native


def native_core() -> ModuleType | None:
    """The native core, or None when it is not built or switched off (`FOLDKIT_NATIVE=0`)."""
    if os.environ.get(NATIVE_SWITCH, "1").strip() == "0":
        return None
    return load_native()


def native_status() -> str:
    """One line saying whether the native core is in use, and its version."""
    module = load_native()
    if module is None:
        return "native core: not built (pure-Python folding)"
    if native_core() is None:
        return f"native core: {module.__version__}, switched off by {NATIVE_SWITCH}=0 (pure-Python folding)"
    return f"native core: {module.__version__}, in use"


__all__ = ["NATIVE_SWITCH", "default_jobs", "load_native", "native_core", "native_status"]

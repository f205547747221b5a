"""How many threads (or worker processes) a command uses when `-j/--jobs` is not given."""

from __future__ import annotations

import os


def default_jobs() -> int:
    """Threads to use by default: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


__all__ = ["default_jobs"]

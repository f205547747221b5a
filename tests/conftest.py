"""Test-wide settings: Hypothesis without per-example deadlines (the machine is shared, and timings
belong in benchmarks/, never in tests)."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("foldkit", deadline=None)
settings.load_profile("foldkit")

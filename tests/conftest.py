"""Test-wide settings: Hypothesis without per-example deadlines (the machine is shared, and timings
belong in benchmarks/, never in tests).

Under CI (the `CI` environment variable set, as CI services do) Hypothesis is derandomized: the same
examples every run, so a landing is decided by the code, not by which random examples were drawn.
Elsewhere every run draws new examples, which is where new failures are found (and then pinned with
`@example`)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("foldkit", deadline=None)
settings.register_profile("foldkit-ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("foldkit-ci" if os.environ.get("CI", "").lower() not in ("", "0", "false") else "foldkit")

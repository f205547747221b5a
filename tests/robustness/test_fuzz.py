"""A few hundred fuzzed runs in every `make test` (`make fuzz` runs 10,000 inputs): mutated real
captures through every command end with exit 0, 1 or 2, never a traceback or a hang."""

from __future__ import annotations

import random

from tests.support import fuzz

#: Inputs per test run: 60 inputs x 5 in-process commands + one report of all 60.
COUNT = 60


def test_mutated_captures_never_crash_or_hang() -> None:
    outcome = fuzz.fuzz(COUNT, seed=20261126, log=lambda _: None)
    assert outcome.inputs == COUNT and outcome.runs == COUNT * 5 + 1
    assert outcome.failures == []
    assert outcome.tracebacks == 0 and outcome.hangs == 0
    assert outcome.exits.get(2, 0) > 0  # the mutations do reach the error paths


def test_mutations_are_seeded() -> None:
    seeds = fuzz.seed_inputs()
    others = [d for _, d in seeds]
    first = [fuzz.mutate(seeds[0][1], others, random.Random(7)) for _ in range(3)]
    again = [fuzz.mutate(seeds[0][1], others, random.Random(7)) for _ in range(3)]
    assert first == again and first[0] != seeds[0][1]

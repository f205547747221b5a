"""A few hundred fuzzed runs in every `make test` (`make fuzz` runs 10,000 inputs): mutated real
captures through every command end with exit 0, 1 or 2, never a traceback or a hang."""

from __future__ import annotations

import random
import time

import pytest

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


def test_a_spinning_or_blocked_command_counts_as_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPU time past the limit is a hang; a command blocked without using CPU is caught by the
    wall-clock backstop (STUCK_FACTOR times the limit)."""

    def spin(argv: list[str]) -> int:
        while True:
            pass

    def block(argv: list[str]) -> int:
        time.sleep(3600)
        return 0

    monkeypatch.setattr(fuzz, "STUCK_FACTOR", 2)
    for command in (spin, block):
        monkeypatch.setattr(fuzz, "main", command)
        outcome = fuzz.Outcome()
        notes: list[str] = []
        fuzz.run_in_process(["top"], outcome, notes.append, limit=1)
        assert outcome.hangs == 1 and notes == ["hang: ['top']"]


def test_waiting_is_not_a_hang_below_the_backstop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that waits longer than the limit without using CPU (as on a loaded machine) is
    not a hang: the limit is CPU time."""

    def wait(argv: list[str]) -> int:
        time.sleep(2)
        return 0

    monkeypatch.setattr(fuzz, "main", wait)
    outcome = fuzz.Outcome()
    fuzz.run_in_process(["top"], outcome, lambda note: None, limit=1)
    assert outcome.hangs == 0 and outcome.exits == {0: 1}

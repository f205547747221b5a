"""Benchmark: `foldkit diff` and `foldkit check` on two profiles of 100,000 distinct stacks each.

Run: python benchmarks/bench_compare.py [--stacks N] [--repeat R]   (foldkit installed, e.g. `make bench`)
Prints the median wall time of each step (library calls on profiles in memory, and the whole
command on folded files, parsing included) and the peak RSS. Target: each under 2 s.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from foldkit.analysis.diff import changes_table, diff_profiles, difffolded_bytes
from foldkit.ingest import read
from foldkit.profile import Profile
from foldkit.regression.gate import check_profiles
from foldkit.render.diffgraph import render_diff

#: Distinct function names in the synthetic program (a large C++ service has a few thousand hot ones).
FUNCTIONS = 4000
#: Stack depth range (typical of perf captures of real services).
DEPTH = (4, 40)


def make_profile(rng: random.Random, stacks: int, shift: float) -> Profile:
    """`stacks` distinct stacks over FUNCTIONS names; `shift` moves weight towards one function."""
    names = [f"ns::Component{i % 97}::method_{i}" for i in range(FUNCTIONS)]
    weights: dict[str, int] = {}
    while len(weights) < stacks:
        depth = rng.randint(*DEPTH)
        frames = ["service", "main"] + [names[min(FUNCTIONS - 1, int(rng.paretovariate(1.2)) * 7 + d)] for d in range(depth)]
        if rng.random() < shift:
            frames.append(names[42])
        weights[";".join(frames)] = rng.randint(1, 20)
    counts = dict(weights)
    return Profile(weights={s: c * 10101010 for s, c in counts.items()}, counts=counts, unit="ns", sources=["synthetic"])


def timed(label: str, func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        func()
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    print(f"{label:58s} median {median:6.3f} s   (min {min(times):.3f}, max {max(times):.3f}, n={repeat})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stacks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(1)
    t = time.perf_counter()
    before = make_profile(rng, args.stacks, 0.02)
    after = make_profile(rng, args.stacks, 0.05)
    print(f"made two profiles of {args.stacks:,} distinct stacks in {time.perf_counter() - t:.1f} s")

    timed("diff: align + two-column folded text", lambda: difffolded_bytes(diff_profiles(before, after)), args.repeat)
    timed("diff: align + changed-functions table", lambda: changes_table(diff_profiles(before, after, normalize=True)), args.repeat)
    timed("diff: align + differential SVG (--basis union)", lambda: render_diff(diff_profiles(before, after, normalize=True), "union"), args.repeat)
    timed("check: one capture per side", lambda: check_profiles([before], [after]), args.repeat)
    thirds_b = [before.with_weights(before.weights, before.counts) for _ in range(3)]
    thirds_a = [after.with_weights(after.weights, after.counts) for _ in range(3)]
    timed("check: three captures per side (6 profiles)", lambda: check_profiles(thirds_b, thirds_a), max(1, args.repeat // 2))

    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "before.folded", Path(tmp) / "after.folded"
        before.with_weights(before.counts or {}).to_folded(a)
        after.with_weights(after.counts or {}).to_folded(b)
        size = (a.stat().st_size + b.stat().st_size) / 1e6
        cmd = [sys.executable, "-m", "foldkit"]
        print(f"folded files: {size:.1f} MB together")
        timed("read both folded files (input layer alone)", lambda: (read(a), read(b)), args.repeat)
        timed("CLI: foldkit diff a b -o diff.folded (parsing included)", lambda: subprocess.run([*cmd, "diff", str(a), str(b), "-o", f"{tmp}/d.folded"], check=True), args.repeat)
        timed("CLI: foldkit diff a b (table, parsing included)", lambda: subprocess.run([*cmd, "diff", str(a), str(b), "-o", f"{tmp}/d.txt"], check=True), args.repeat)
        timed("CLI: foldkit diff a b -o diff.svg (parsing included)", lambda: subprocess.run([*cmd, "diff", str(a), str(b), "-o", f"{tmp}/d.svg"], check=True), args.repeat)
        timed("CLI: foldkit check a b (parsing included)", lambda: subprocess.run([*cmd, "check", "-q", str(a), str(b)], check=False, capture_output=True), args.repeat)
        timed("CLI: python -m foldkit --version (start-up alone)", lambda: subprocess.run([*cmd, "--version"], check=True, capture_output=True), args.repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {peak:.0f} MB, largest CLI run {child:.0f} MB")


if __name__ == "__main__":
    main()

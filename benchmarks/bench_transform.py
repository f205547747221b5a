"""Benchmark every transform and export on a large real capture, with its per-sample timeline,
and on a copy widened to 10x the distinct stacks without one (the usual case).

    PYTHONPATH=. python benchmarks/bench_transform.py [--input CAPTURE] [--repeat 5] [--widen 10]

Prints, per transform, the median time over `--repeat` runs and the throughput in distinct stacks
and timeline samples per second, then the peak RSS of the process (the widened copy dominates it). The default input is the
corpus's 20 s system-wide capture when /work/shared is mounted, else the fixture.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import foldkit  # noqa: E402
from foldkit.export.speedscope import to_speedscope_bytes  # noqa: E402
from foldkit.export.table import to_parquet_bytes  # noqa: E402
from foldkit.profile import Profile  # noqa: E402
from foldkit.transform import (  # noqa: E402
    TRANSFORMS,
    Base,
    CollapseRecursion,
    Comm,
    Exclude,
    Focus,
    FocusRoot,
    Hide,
    MaxDepth,
    NormalizeOptions,
    OnlyPid,
    PruneBelow,
    PythonView,
    Rename,
    TimeWindow,
)
from foldkit.transform.roots import split  # noqa: E402

BIG = Path("/work/shared/corpus/bench/system-wide-20s.perf.zst")
SMALL = ROOT / "fixtures" / "system-mixed.perf.zst"

STEPS: dict[str, object] = {
    "focus": Focus("^(do_syscall_64|main)$"),
    "focus_root": FocusRoot("^main$"),
    "base": Base(("main",)),
    "exclude": Exclude("^swapper"),
    "hide": Hide(r"^\[unknown\]$"),
    "collapse_recursion": CollapseRecursion("all"),
    "max_depth": MaxDepth(4),
    "prune_below": PruneBelow(0.5),
    "comm": Comm(("^(sort|xz|find)$",)),
    "only_pid": OnlyPid((1,)),
    "time": TimeWindow(2.0, 8.0),
    "rename": Rename("@@?GLIBC_[0-9.]+$", ""),
    "normalize_symbols": NormalizeOptions(),
    "python": PythonView(),
}


def widen(profile: Profile, n: int) -> Profile:
    """`n` distinct copies of every stack (a leaf frame `#i` is added): more distinct stacks of the
    same shape, as a longer or more varied capture would have."""
    if n <= 1:
        return profile
    weights = {f"{s};#{i}": w for s, w in profile.weights.items() for i in range(n)}
    counts = None if profile.counts is None else {f"{s};#{i}": c for s, c in profile.counts.items() for i in range(n)}
    timeline = None
    if profile.timeline is not None:
        timeline = [(t, f"{s};#{i}", w) for t, s, w in profile.timeline for i in range(n)]
    return replace(profile, weights=weights, counts=counts, timeline=timeline)


def median_seconds(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(profile: Profile, label: str, repeat: int) -> None:
    stacks = len(profile)
    samples = len(profile.timeline or ())
    print(f"\n{label}: {stacks:,} distinct stacks, {samples:,} timeline samples")
    print(f"{'transform':<22}{'median':>10}{'stacks/s':>14}{'samples/s':>14}")
    for name in TRANSFORMS:
        step = STEPS[name]
        if name == "time" and profile.timeline is None:
            continue
        if name == "only_pid":
            step = OnlyPid((int(next(iter(profile.weights)).split(";", 1)[0].rsplit("/", 1)[-1]),))

        def once(step: Any = step, name: str = name) -> object:
            return TRANSFORMS[name].func(profile, step)

        seconds = median_seconds(once, repeat)
        print(f"{name:<22}{seconds * 1000:>8.1f}ms{stacks / seconds:>14,.0f}{samples / seconds:>14,.0f}")
    for name, func in (
        ("split per thread", lambda: split(profile, "thread")),
        ("export speedscope", lambda: to_speedscope_bytes(profile)),
        ("export parquet", lambda: to_parquet_bytes(profile)),
        ("to_folded_bytes", lambda: profile.to_folded_bytes()),
    ):
        seconds = median_seconds(func, repeat)
        print(f"{name:<22}{seconds * 1000:>8.1f}ms{stacks / seconds:>14,.0f}{samples / seconds:>14,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=BIG if BIG.exists() else SMALL)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--widen", type=int, default=10)
    args = parser.parse_args()
    start = time.perf_counter()
    profile = foldkit.read(args.input, tid=True, keep_time=True)
    print(f"read {args.input} in {time.perf_counter() - start:.1f}s (tid, keep_time)")
    run(profile, args.input.name, args.repeat)
    if args.widen > 1:
        # the common case: many distinct stacks, no per-sample times (only --time and speedscope keep them)
        wide = widen(replace(profile, timeline=None), args.widen)
        run(wide, f"{args.input.name} widened x{args.widen}, without timeline", args.repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {rss:,.0f} MiB")


if __name__ == "__main__":
    main()

"""Power harness of `foldkit check` (not a timed test): how often the gate catches a real slowdown,
names the culprit first, and fails on identical code, on real `perf record` captures.

Run (as root, perf and gcc installed; foldkit installed, e.g. `make .venv/.installed`):

    python benchmarks/check_power.py record DIR        # ~25 captures of ~5 s CPU each (minutes)
    python benchmarks/check_power.py trials DIR        # the table: 1v1, 2v2, 3v3 at +0/+10/+20 %

The workload is tests/data/check/workload.c, built as tests/data/check/make-captures.sh builds
it. Its dial, CHECKSUM_PERCENT, sets how many calls `checksum_records()` makes to `mix_word()`,
which at the baseline dial (60) holds about 10% of the samples as self time. "+20% slowdown" means
what the issue means: `mix_word`'s CPU time +20%. Every run does the same work (ROUNDS batches), so
its samples per run measure that time; `trials` prints them per dial and labels each row by the
realised change (on a quiet machine dial +10/+20/+40% gave mix_word +9/+20/+37% of its samples per
run: the dial maps one to one, while its *share* rises less, +18% for +20%, because the total grows
too). `checksum_records`, whose own loop grows alike but holds ~2%, also counts as the culprit.
Each capture is `perf record -F 999 -g` (frame pointers) for about 5 s of CPU, then `perf script`;
the runs are recorded interleaved (base, +10, +20, +40, base, ...) so drift hits all alike.

`trials` draws, for each design (k runs a side) and each slowdown, `--trials` random comparisons:
k baseline captures against k other baseline captures (identical code: any FAIL is a false alarm)
or against k captures of the slowed build, reusing captures across trials, and prints:
detection rate (FAIL with the culprit among the regressions), culprit-first rate (the culprit is the
first regression named), false-alarm rate, how often the verdict was UNDERPOWERED, and a bound: how
often a test of `mix_word`'s self share *alone*, with the exact null distribution of its change
taken from every baseline-vs-baseline draw at the same false-alarm rate (1%), would have caught it;
no gate that does not know the culprit beforehand can beat that column.
"""

from __future__ import annotations

import argparse
import functools
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from foldkit.profile import Profile

#: The workload and how it is built (as tests/data/check/make-captures.sh does).
WORKLOAD = Path(__file__).resolve().parent.parent / "tests" / "data" / "check" / "workload.c"
CFLAGS = ("-O2", "-g", "-fno-omit-frame-pointer", "-fno-inline")
#: The baseline dial: `mix_word` holds about 10% of the samples as self time.
BASE_PERCENT = 60
#: Slowdowns of the dialled work, in percent: on a quiet machine they are slowdowns of `mix_word`'s CPU
#: time one to one (measured and printed by `trials`: +9/+20/+37% of its samples per run).
SLOWDOWNS = (10, 20, 40)
#: False-alarm rate at which the bound column is computed (the issue's target).
BOUND_ALARMS = 0.01
#: Batches per run: about 5 s of CPU at the baseline dial on the development machine.
ROUNDS = 4500
SAMPLING_HZ = 999
#: Functions whose regression is the culprit (the dialled work and the function that calls it).
CULPRITS = ("mix_word", "checksum_records")
DESIGNS = (1, 2, 3)


def record(directory: Path, base_runs: int, slow_runs: int, slowdowns: tuple[int, ...] = SLOWDOWNS) -> None:
    """Record `base_runs` baseline captures and `slow_runs` per slowdown (dial increase, percent)
    into `directory`, interleaved."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "workload"
        subprocess.run(["gcc", *CFLAGS, "-o", str(binary), str(WORKLOAD)], check=True)
        plan: list[tuple[str, int]] = []
        for i in range(max(base_runs, slow_runs)):
            if i < base_runs:
                plan.append((f"base-{i + 1:02d}", BASE_PERCENT))
            if i < slow_runs:
                plan += [(f"slow{s}-{i + 1:02d}", BASE_PERCENT * (100 + s) // 100) for s in slowdowns]
        for n, (name, percent) in enumerate(plan, 1):
            data = Path(tmp) / "perf.data"
            t = time.perf_counter()
            subprocess.run(
                ["perf", "record", "-q", "-F", str(SAMPLING_HZ), "-g", "-o", str(data), str(binary), str(percent), str(ROUNDS)],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            script = subprocess.run(["perf", "script", "-i", str(data)], check=True, capture_output=True).stdout
            script = script.replace(f"{tmp}/".encode(), b"")
            out = directory / f"{name}.perf.zst"
            part = directory / f".{name}.part"  # renamed when complete: `trials` may run meanwhile
            subprocess.run(["zstd", "-19", "-q", "-f", "-o", str(part)], input=script, check=True)
            part.rename(out)
            print(f"[{n}/{len(plan)}] {out.name}: {script.count(b'cpu-clock')} samples, {time.perf_counter() - t:.0f} s", flush=True)


def trials(
    directory: Path,
    count: int,
    null_count: int,
    seed: int,
    alpha: float | None,
    max_increase: str | None,
    run_noise: float | None,
    designs: tuple[int, ...] = DESIGNS,
    folded: Path | None = None,
) -> None:
    """Run the trials on the captures in `directory` and print the table: `count` checks per slowed
    row, `null_count` per identical-code row (a false-alarm rate near 1% needs more). With `folded`
    (a folder), each capture is folded to samples per stack there and the checks read those files
    (their stacks in the native table: the gate's native columns)."""
    from foldkit.ingest import FoldOptions, read
    from foldkit.regression import gate

    def load(prefix: str) -> list:
        paths = sorted(directory.glob(f"{prefix}-*.perf.zst"))
        if folded is None:
            return [read(p, FoldOptions(jobs=1)) for p in paths]
        runs = []
        for path in paths:
            capture = read(path, FoldOptions(jobs=1, weight="samples"))
            target = folded / f"{path.name}.folded"
            target.write_bytes(capture.to_folded_bytes())
            # read as `foldkit check` reads it: into the native table, whatever its size
            run = read(target, FoldOptions(jobs=1))
            _SHARE_CACHE[id(run)] = (_self_samples(capture), sum((capture.counts or {}).values()))
            runs.append(run)
        return runs

    base = load("base")
    slow = {s: runs for s in SLOWDOWNS if (runs := load(f"slow{s}"))}
    if not base or not slow:
        sys.exit(f"{directory}: no captures; run `{sys.argv[0]} record {directory}` first")
    print(f"captures: {len(base)} baseline, " + ", ".join(f"{len(v)} at +{s}%" for s, v in slow.items()))
    pools = {0: base, **slow}
    own = {s: [_self_samples(p) for p in runs] for s, runs in pools.items()}
    share = {s: _self_share(runs) for s, runs in pools.items()}
    time_change = {s: statistics.mean(v) / statistics.mean(own[0]) - 1 for s, v in own.items()}
    share_change = {s: v / share[0] - 1 for s, v in share.items()}
    for s in pools:
        print(
            f"dial +{s}%: {CULPRITS[0]} {statistics.mean(own[s]):.0f} self samples a run (sd {statistics.stdev(own[s]):.0f}): "
            f"{time_change[s] * 100:+.0f}% of its CPU time; self share {share[s] * 100:.2f}% "
            f"({share_change[s] * 100:+.0f}%, {(share[s] - share[0]) * 100:+.2f} pp)"
        )
    options = gate.CheckOptions()
    if alpha is not None:
        options = replace(options, alpha=alpha)
    if max_increase is not None:
        options = replace(options, max_increase=gate.Threshold.parse(max_increase))
    if run_noise is not None:
        options = replace(options, run_noise=run_noise / 100.0)
    print(
        f"settings: --max-increase {options.max_increase} --alpha {options.alpha:g} --run-noise {options.run_noise * 100:g} "
        "(shares only, as for captures of unequal length)"
    )
    rng = random.Random(seed)
    print()
    print("| runs a side | change | trials | detected | culprit named first | false alarms | underpowered | bound |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for k in designs:
        if 2 * k > len(base):
            continue
        bar = _null_quantile(base, k, rng)
        for change in (0, *SLOWDOWNS):
            pool = slow.get(change)
            if change and pool is None:
                continue  # no captures at this dial (a dial's absence is not identical code)
            if pool is not None and k > len(pool):
                continue
            detected = first = alarms = underpowered = bound = 0
            n = null_count if pool is None else count
            for _ in range(n):
                if pool is None:
                    drawn = rng.sample(base, 2 * k)
                    b, c = drawn[:k], drawn[k:]
                else:
                    b, c = rng.sample(base, k), rng.sample(pool, k)
                result = gate.check_profiles(b, c, options)
                names = [f.name for f in result.culprits()]
                underpowered += result.status == "underpowered"
                bound += _self_share(c) - _self_share(b) > bar
                if pool is None:
                    alarms += not result.passed
                else:
                    detected += (not result.passed) and any(n in CULPRITS for n in names)
                    first += bool(names) and names[0] in CULPRITS
            rate = functools.partial(_rate, of=n)
            what = (
                "identical code"
                if pool is None
                else f"{CULPRITS[0]} {time_change[change] * 100:+.0f}% time ({share_change[change] * 100:+.0f}% share)"
            )
            print(
                f"| {k} v {k} | {what} | {n} | {'—' if pool is None else rate(detected)} | "
                f"{'—' if pool is None else rate(first)} | {rate(alarms) if pool is None else '—'} | {rate(underpowered)} | "
                f"{rate(bound)} |",
                flush=True,
            )


def _rate(x: int, of: int) -> str:
    """`x` of `of` as a percentage (one decimal below 10%: false-alarm rates near the 1% target)."""
    return f"{100.0 * x / of:.1f}%" if 0 < x < of / 10 else f"{100.0 * x / of:.0f}%"


def _null_quantile(base: list, k: int, rng: random.Random, draws: int = 20000) -> float:
    """The change of the culprit's self share that k baseline runs against k other baseline runs
    exceed with probability BOUND_ALARMS (the bound's bar)."""
    null = []
    for _ in range(draws):
        drawn = rng.sample(base, 2 * k)
        null.append(_self_share(drawn[k:]) - _self_share(drawn[:k]))
    null.sort()
    return null[min(len(null) - 1, int((1.0 - BOUND_ALARMS) * len(null)))]


def _self_samples(profile: Profile) -> int:
    """The culprit's self samples in one run."""
    if id(profile) in _SHARE_CACHE:
        return _SHARE_CACHE[id(profile)][0]
    return sum(c for s, c in (profile.counts or {}).items() if s.rsplit(";", 1)[-1] == CULPRITS[0])


def _self_share(runs: list[Profile]) -> float:
    """The culprit's self share of all samples of `runs` together."""
    own = total = 0
    for p in runs:
        key = id(p)
        if key not in _SHARE_CACHE:
            _SHARE_CACHE[key] = (_self_samples(p), sum((p.counts or {}).values()))
        o, t = _SHARE_CACHE[key]
        own += o
        total += t
    return own / total if total else 0.0


_SHARE_CACHE: dict[int, tuple[int, int]] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="record the captures (root, perf, gcc, zstd)")
    rec.add_argument("directory", type=Path)
    rec.add_argument("--base-runs", type=int, default=12)
    rec.add_argument("--slow-runs", type=int, default=6)
    rec.add_argument("--slowdowns", default=",".join(map(str, SLOWDOWNS)), help="dial increases in percent (comma-separated)")
    tri = sub.add_parser("trials", help="run the trials and print the table")
    tri.add_argument("directory", type=Path)
    tri.add_argument("--trials", type=int, default=200, help="checks per slowed row")
    tri.add_argument("--null-trials", type=int, default=1000, help="checks per identical-code row")
    tri.add_argument("--seed", type=int, default=18)
    tri.add_argument("--alpha", type=float, default=None)
    tri.add_argument("--max-increase", default=None)
    tri.add_argument("--run-noise", type=float, default=None, help="the check's --run-noise, percent")
    tri.add_argument("--designs", default=",".join(map(str, DESIGNS)), help="runs a side to try (comma-separated)")
    tri.add_argument(
        "--folded", type=Path, default=None, metavar="DIR",
        help="fold each capture to samples per stack into DIR and check those folded files (the native columns)",
    )
    args = parser.parse_args()
    if args.command == "record":
        for tool in ("perf", "gcc", "zstd"):
            if shutil.which(tool) is None:
                sys.exit(f"{tool} is not installed")
        record(args.directory, args.base_runs, args.slow_runs, tuple(int(x) for x in args.slowdowns.split(",")))
    else:
        designs = tuple(int(x) for x in args.designs.split(","))
        if args.folded is not None:
            args.folded.mkdir(parents=True, exist_ok=True)
        trials(
            args.directory, args.trials, args.null_trials, args.seed, args.alpha, args.max_increase, args.run_noise,
            designs, args.folded,
        )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`fold --off-cpu` / `--wall` (scheduler-event pairing) against the on-CPU fold of the same capture,
native and Python twin (`FOLDKIT_NATIVE=0`).

Usage:
    python benchmarks/bench_offcpu.py [CAPTURE ...] [--runs 5] [--size-mb 32]

A CAPTURE is `perf script` text of `sched:sched_switch` events with call graphs (and cpu-clock
samples for `--wall`), plain or `.zst`. Without one, a ~32 MB input is built from the measuring
program's capture in tests/data/time (switches, wakeups and cpu-clock samples), repeated with its
timestamps shifted past the copy before, so that every copy pairs as a capture of its own.
Each configuration runs `--runs` times, taking turns, output to a temporary file; the median CPU
time (user + system of the process and its threads) and wall time are printed, with the ratio
that issue 20 item 6 sets a bar on: `--off-cpu`'s CPU time over the on-CPU fold's (bar: 2x).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reference  # benchmarks/reference.py
import zstandard

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "tests" / "data" / "time" / "spinsleep.perf.zst"
#: The timestamp of a `perf script` header line (`comm pid [cpu] 123.456789:`).
_TIME = re.compile(rb"^(\S[^\n]*? \[\d+\][ \t]+)(\d+)\.(\d+):", re.MULTILINE)


def build_input(size_mb: int, directory: Path) -> Path:
    """The measuring program's capture repeated to about `size_mb` MB, each copy's timestamps
    shifted past the one before."""
    text = zstandard.ZstdDecompressor().decompressobj().decompress(CAPTURE.read_bytes())
    times = [int(m.group(2)) for m in _TIME.finditer(text)]
    span = max(times) - min(times) + 1
    path = directory / f"sched-{size_mb}mb.perf"

    def shifted(copy: int) -> bytes:
        return _TIME.sub(lambda m: m.group(1) + str(int(m.group(2)) + copy * span).encode() + b"." + m.group(3) + b":", text)

    with path.open("wb") as out:
        copy = 0
        while out.tell() < size_mb * 1_000_000:
            out.write(shifted(copy))
            copy += 1
    return path


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds (user + system, the process and its threads) and wall seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode(errors='replace')[:500]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("captures", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mb", type=int, default=32)
    args = parser.parse_args()
    reference.compile_foldkit()
    fold = [sys.executable, "-m", "foldkit", "fold", "-q"]
    native = {k: v for k, v in os.environ.items() if k != "FOLDKIT_NATIVE"}
    twin = {**native, "FOLDKIT_NATIVE": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        inputs = args.captures or [build_input(args.size_mb, tmpdir)]
        out = str(tmpdir / "out.folded")
        print(f"runs per line: {args.runs} (median; configurations take turns)")
        for path in inputs:
            configs = [
                ("fold (on-CPU)", [*fold, str(path), "-o", out], native),
                ("fold --off-cpu", [*fold, "--off-cpu", str(path), "-o", out], native),
                ("fold --wall", [*fold, "--wall", str(path), "-o", out], native),
                ("fold --off-cpu --wakeups", [*fold, "--off-cpu", "--wakeups", str(path), "-o", out], native),
                ("fold --off-cpu, Python twin", [*fold, "--off-cpu", str(path), "-o", out], twin),
            ]
            results: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in configs}
            for _ in range(args.runs):
                for name, cmd, env in configs:
                    results[name].append(run(cmd, env))
            cpu = {name: statistics.median(r[0] for r in rs) for name, rs in results.items()}
            wall = {name: statistics.median(r[1] for r in rs) for name, rs in results.items()}
            print(f"\n{path.name}: {path.stat().st_size / 1e6:.1f} MB")
            print(f"{'configuration':32} {'CPU s':>8} {'wall s':>8} {'CPU / on-CPU fold':>18}")
            for name in results:
                print(f"{name:32} {cpu[name]:8.3f} {wall[name]:8.3f} {cpu[name] / cpu['fold (on-CPU)']:17.2f}x")
            print(f"--off-cpu natively: {cpu['fold --off-cpu'] / cpu['fold (on-CPU)']:.2f}x the on-CPU fold's CPU time (bar: 2x); "
                  f"the twin takes {cpu['fold --off-cpu, Python twin'] / cpu['fold --off-cpu']:.1f}x the native CPU time")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Scaling with distinct stacks: time and peak RSS of every command on folded files of 10 k to
10 M distinct stacks, beside inferno-flamegraph's on the same file, in one run.

Usage:
    python benchmarks/bench_scale.py [--sizes 10000,100000,1000000,10000000] [--runs 3]
        [--dir /tmp/foldkit-scale] [--commands fold,top,...] [--timeout 600] [--max-memory-gb 4]

Each input is `p;mN;sN 1` for N below the size (N distinct stacks, 2N+1 distinct frames), written
once into `--dir` (kept for later runs, and shared: written under a temporary name, then renamed).
Every command runs as a process (interpreter start-up included, outputs to a file in a folder of
this run's own under `--dir`, removed at the end); its wall time, CPU time (user + system) and peak RSS
(`wait4`) are taken, medians
of `--runs` runs, the commands taking turns within each run so load drifts hit every tool alike.
`diff` compares the file with the 10 k one; `inferno-diff-folded + inferno-flamegraph` is its peer
(`inferno-diff-folded big small | inferno-flamegraph`: CPU time of both, peak RSS of the larger).
A command that runs past `--timeout` seconds or past
`--max-memory-gb` of address space is reported as such (the machine is shared: nothing is let grow
without bound). The last two columns are inferno-flamegraph's wall time over the command's (at least
1.0 means as fast as inferno or faster) and the command's peak RSS over inferno's (at most 1.0 means
within inferno's memory): issue 26's two bars.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reference  # noqa: E402 - benchmarks/reference.py

SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
#: The stacks `diff` compares each file with.
SMALL = 10_000
FOLDKIT = [sys.executable, "-m", "foldkit"]

#: name -> argv builder (input file, the small file, output folder).
COMMANDS: dict[str, Callable[[Path, Path, Path], list[str]]] = {
    "flamegraph -o x.svg": lambda f, s, o: [*FOLDKIT, "flamegraph", str(f), "-o", str(o / "x.svg")],
    "flamegraph -o x.html": lambda f, s, o: [*FOLDKIT, "flamegraph", str(f), "-o", str(o / "x.html")],
    "fold -o x.folded": lambda f, s, o: [*FOLDKIT, "fold", str(f), "-o", str(o / "x.folded")],
    "top": lambda f, s, o: [*FOLDKIT, "top", str(f), "-o", str(o / "top.txt")],
    "diff big small --folded": lambda f, s, o: [*FOLDKIT, "diff", str(f), str(s), "-o", str(o / "d.folded")],
    "diff big small (table)": lambda f, s, o: [*FOLDKIT, "diff", str(f), str(s), "-o", str(o / "d.txt")],
    "diff big small -o d.svg": lambda f, s, o: [*FOLDKIT, "diff", str(f), str(s), "-o", str(o / "d.svg")],
    "diff big small -o d.html": lambda f, s, o: [*FOLDKIT, "diff", str(f), str(s), "-o", str(o / "d.html")],
    # the peer of `diff -o d.svg`: difffolded's two columns drawn by inferno (not normalised)
    "inferno-diff-folded + inferno-flamegraph": lambda f, s, o: [
        "sh", "-c", 'inferno-diff-folded "$1" "$2" | inferno-flamegraph > "$3"', "sh", str(f), str(s), str(o / "inferno-d.svg"),
    ],
    "check big small": lambda f, s, o: [*FOLDKIT, "check", str(f), str(s), "-o", str(o / "check.txt")],
    # every distinct name through Python's regular expression, the matching frames summed natively
    "check big small --function": lambda f, s, o: [
        *FOLDKIT, "check", str(f), str(s), "--function", "m1$", "-o", str(o / "check-function.txt"),
    ],
}


def generate(path: Path, n: int) -> None:
    """`p;mN;sN 1` for N below `n`, written once."""
    if path.exists() and path.stat().st_size > 0:
        return
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # (helpers share the files: renamed when whole)
    with tmp.open("w") as f:
        for start in range(0, n, 100_000):
            f.write("".join(f"p;m{i};s{i} 1\n" for i in range(start, min(n, start + 100_000))))
    tmp.replace(path)


def run(argv: list[str], stdout: Path, timeout: float, max_memory: int) -> tuple[float, float, float] | str:
    """(wall seconds, peak RSS in MB, CPU seconds) of one run, or why it has none."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))

    with stdout.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, preexec_fn=limit)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return f"over {timeout:.0f} s"
            time.sleep(0.01)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # check exits 1 for a regression
        return f"failed ({proc.returncode})"
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def cell(values: list[tuple[float, float, float] | str]) -> tuple[str, str, float | None]:
    """(time and CPU time, RSS, median seconds) of a command's runs."""
    text, rss_text, wall, _ = cell_rss(values)
    return text, rss_text, wall


def cell_rss(values: list[tuple[float, float, float] | str]) -> tuple[str, str, float | None, float | None]:
    """`cell`, and the median peak RSS in MB."""
    done = [v for v in values if not isinstance(v, str)]
    if not done:
        return str(values[0]), "", None, None
    wall = statistics.median(v[0] for v in done)
    rss = statistics.median(v[1] for v in done)
    cpu = statistics.median(v[2] for v in done)
    return f"{wall:.2f} s ({cpu:.2f} s CPU)", f"{rss:,.0f} MB", wall, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/foldkit-scale"))
    parser.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated names from the list above")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--max-memory-gb", type=float, default=4.0)
    args = parser.parse_args()
    reference.compile_foldkit()
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [c for c in args.commands.split(",") if c]
    unknown = [c for c in names if c not in COMMANDS]
    if unknown:
        parser.error(f"unknown commands {unknown}; known: {', '.join(COMMANDS)}")
    args.dir.mkdir(parents=True, exist_ok=True)
    small = args.dir / f"scale_{SMALL}.folded"
    generate(small, SMALL)
    inferno = reference.inferno("INFERNO_FLAMEGRAPH", "inferno-flamegraph")
    max_memory = int(args.max_memory_gb * 2**30)
    out = Path(tempfile.mkdtemp(prefix="out-", dir=args.dir))  # this run's outputs: the inputs are shared
    try:
        table(args, sizes, names, inferno, max_memory, small, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def table(
    args: argparse.Namespace, sizes: list[int], names: list[str], inferno: list[str] | None, max_memory: int, small: Path, out: Path
) -> None:
    """Run every command on every size and print the table's rows."""
    print("| stacks | file | command | foldkit | peak RSS | inferno-flamegraph | its peak RSS | speed vs inferno | RSS vs inferno |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in sizes:
        path = args.dir / f"scale_{n}.folded"
        generate(path, n)
        results: dict[str, list[tuple[float, float, float] | str]] = {name: [] for name in ["inferno", *names]}
        for _ in range(args.runs):
            if inferno is not None:
                results["inferno"].append(run([*inferno, str(path)], out / "inferno.svg", args.timeout, max_memory))
            for name in names:
                argv = COMMANDS[name](path, small, out)
                results[name].append(run(argv, out / "stdout", args.timeout, max_memory))
        ref_time, ref_rss, ref_wall, ref_mb = cell_rss(results["inferno"]) if inferno is not None else ("-", "", None, None)
        size = f"{path.stat().st_size / 1e6:,.1f} MB"
        for name in names:
            wall_text, rss_text, wall, mb = cell_rss(results[name])
            ratio = f"{ref_wall / wall:.2f}×" if ref_wall and wall else ""
            memory = f"{mb / ref_mb:.2f}×" if ref_mb and mb else ""
            print(f"| {n:,} | {size} | `{name}` | {wall_text} | {rss_text} | {ref_time} | {ref_rss} | {ratio} | {memory} |", flush=True)


if __name__ == "__main__":
    main()

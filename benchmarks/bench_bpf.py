#!/usr/bin/env python3
"""The bpftrace and BCC readers at scale: time and peak RSS of `foldkit fold` (and `flamegraph -o
x.html`) on generated maps of 10 k / 100 k / 1 M entries, beside FlameGraph's
stackcollapse-bpftrace.pl on the same bpftrace text (inferno has no bpftrace or BCC collapser), in
one run.

Usage:
    FLAMEGRAPH_DIR=/work/tools/FlameGraph python benchmarks/bench_bpf.py [--sizes 10000,100000,1000000]
        [--runs 3] [--dir /tmp/foldkit-bpf] [--forms bpftrace,bpftrace-json,bcc,bcc-folded] [--html]

Entry N of every input is the stack `main;mN%1000;sN` (N distinct stacks) with a value of N%7+1:
`@[\\n        sN+1\\n ...]: V` lines for bpftrace (`-f json`: the same map as one JSON line), a
BCC profile block (`    sN` ... `    -    app (PID)` / `        V`) and BCC's `-f` folded line.
Inputs are written once into `--dir` (kept for later runs). Each command runs as a process
(start-up included); medians of wall time, CPU time (user + system) and peak RSS over `--runs` runs,
the tools taking turns within each run (see `bench_scale.run`: the same limits on time and memory).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_scale  # noqa: E402 - benchmarks/bench_scale.py: run(), cell_rss()
import reference  # noqa: E402 - benchmarks/reference.py

SIZES = (10_000, 100_000, 1_000_000)
#: Issue 26's bar for `foldkit fold` of a 1,000,000-entry map: seconds and peak RSS (MB).
BAR_ENTRIES, BAR_SECONDS, BAR_MB = 1_000_000, 3.0, 300.0
FOLDKIT = [sys.executable, "-m", "foldkit"]


def _frames(i: int) -> tuple[str, str, str]:
    """Entry i's frames, leaf first."""
    return f"s{i}", f"m{i % 1000}", "main"


def _bpftrace(n: int) -> Iterator[str]:
    yield "Attaching 1 probe...\n\n\n"
    for i in range(n):
        leaf, mid, root = _frames(i)
        yield f"@[\n        {leaf}+1\n        {mid}+2\n        {root}+3\n]: {i % 7 + 1}\n"


def _bpftrace_json(n: int) -> Iterator[str]:
    yield '{"type": "attached_probes", "data": {"probes": 1}}\n'
    entries = {}
    for i in range(n):
        leaf, mid, root = _frames(i)
        entries[f"\n        {leaf}+1\n        {mid}+2\n        {root}+3\n"] = i % 7 + 1
    yield json.dumps({"type": "map", "data": {"@": entries}}) + "\n"


def _bcc(n: int) -> Iterator[str]:
    yield "Sampling at 49 Hertz of all threads by user + kernel stack... Hit Ctrl-C to end.\n\n"
    for i in range(n):
        leaf, mid, root = _frames(i)
        yield f"    {leaf}\n    {mid}\n    {root}\n    -                app ({100 + i % 50})\n        {i % 7 + 1}\n\n"


def _bcc_folded(n: int) -> Iterator[str]:
    for i in range(n):
        leaf, mid, root = _frames(i)
        yield f"app;{root};{mid};{leaf} {i % 7 + 1}\n"


#: form -> (file suffix, writer).
FORMS: dict[str, tuple[str, Callable[[int], Iterator[str]]]] = {
    "bpftrace": ("bpftrace.txt", _bpftrace),
    "bpftrace-json": ("bpftrace.json", _bpftrace_json),
    "bcc": ("bcc.txt", _bcc),
    "bcc-folded": ("bcc-folded.txt", _bcc_folded),
}


def generate(path: Path, writer: Callable[[int], Iterator[str]], n: int) -> None:
    """Write `writer(n)` to `path` once (to a temporary name, then renamed)."""
    if path.exists() and path.stat().st_size > 0:
        return
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with tmp.open("w") as f:
        for piece in writer(n):
            f.write(piece)
    tmp.replace(path)


def main() -> None:
    """Generate the inputs, run every tool `--runs` times, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/foldkit-bpf"))
    parser.add_argument("--forms", default=",".join(FORMS), help="comma-separated names from the list above")
    parser.add_argument("--html", action="store_true", help="also time `flamegraph -o x.html` of each input")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--max-memory-gb", type=float, default=4.0)
    args = parser.parse_args()
    forms = [f for f in args.forms.split(",") if f]
    unknown = [f for f in forms if f not in FORMS]
    if unknown:
        parser.error(f"unknown forms {unknown}; known: {', '.join(FORMS)}")
    reference.compile_foldkit()
    args.dir.mkdir(parents=True, exist_ok=True)
    collapse = reference.flamegraph_script("stackcollapse-bpftrace.pl")
    max_memory = int(args.max_memory_gb * 2**30)
    out = args.dir
    print(f"| entries | form | file | command | time | peak RSS | bar ({BAR_ENTRIES:,}: fold <= {BAR_SECONDS:g} s, <= {BAR_MB:g} MB) |")
    print("| ---: | --- | ---: | --- | ---: | ---: | --- |")
    for n in [int(s) for s in args.sizes.split(",")]:
        for form in forms:
            suffix, writer = FORMS[form]
            path = args.dir / f"{form}_{n}.{suffix}"
            generate(path, writer, n)
            commands: dict[str, list[str]] = {"foldkit fold": [*FOLDKIT, "fold", str(path), "-o", str(out / "x.folded")]}
            if args.html:
                commands["foldkit flamegraph -o x.html"] = [*FOLDKIT, "flamegraph", str(path), "-o", str(out / "x.html")]
            if form == "bpftrace" and collapse is not None:
                commands["stackcollapse-bpftrace.pl"] = [*collapse, str(path)]
            results: dict[str, list[tuple[float, float, float] | str]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, argv in commands.items():
                    results[name].append(bench_scale.run(argv, out / "stdout", args.timeout, max_memory))
            size = f"{path.stat().st_size / 1e6:,.1f} MB"
            for name in commands:
                time_text, rss_text, wall, mb = bench_scale.cell_rss(results[name])
                bar = ""
                if n == BAR_ENTRIES and name == "foldkit fold":
                    bar = "meets it" if wall is not None and mb is not None and wall <= BAR_SECONDS and mb <= BAR_MB else "MISSES it"
                print(f"| {n:,} | {form} | {size} | `{name}` | {time_text} | {rss_text} | {bar} |", flush=True)


if __name__ == "__main__":
    main()

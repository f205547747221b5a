#!/usr/bin/env python3
"""Flame graph rendering speed and memory: foldkit against inferno-flamegraph and flamegraph.pl.

Usage:
    python benchmarks/bench_render.py [INPUT ...] [--runs 5] [--capture CAPTURE]

INPUT is a folded file, or a capture that is folded first with `--tid --addrs` (the way to get
many distinct stacks: `foldkit fold --tid --addrs system-wide.perf.zst`). Without INPUT the
shipped fixtures/system-mixed.perf.zst is used. For each input it reports, as medians of
`--runs` runs:

* in-process: reading the folded file, laying out the frames, writing the SVG;
* `foldkit flamegraph INPUT -o -` (stdout discarded) as a command (interpreter start-up included), with the
  default minimum width and with `--minwidth 0` (the frame budget at work), with peak RSS;
* inferno-flamegraph (`INFERNO_FLAMEGRAPH` or PATH) and flamegraph.pl (`FLAMEGRAPH_DIR` or
  PATH) on the same folded file, when found.

`--capture CAPTURE` also times capture -> SVG end to end against capture -> folded, to show what
drawing adds to folding.
"""

from __future__ import annotations

import argparse
import os
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

from foldkit.ingest import FoldOptions, read  # noqa: E402
from foldkit.profile import Profile  # noqa: E402
from foldkit.render import Layout, RenderOptions, gc_paused, layout_profile, render_flamegraph  # noqa: E402
from foldkit.render.palette import colorizer  # noqa: E402
from foldkit.render.svg import write_svg  # noqa: E402

FIXTURE = ROOT / "fixtures" / "system-mixed.perf.zst"


def timed(func: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median wall seconds of `runs` calls, and the last result."""
    times = []
    result: object = None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run_command(cmd: list[str], stdin: Path | None = None) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (MiB, the process itself) and CPU seconds (user + system, the
    process and the children it waited for) of one command, output discarded."""
    with open(stdin or os.devnull, "rb") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fh, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[:400]}")
    return elapsed, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def median_command(cmd: list[str], runs: int, stdin: Path | None = None) -> tuple[float, int, float]:
    results = [run_command(cmd, stdin) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results), statistics.median(r[2] for r in results)


def reference_tools() -> dict[str, list[str]]:
    found = {
        "inferno-flamegraph": reference.inferno("INFERNO_FLAMEGRAPH", "inferno-flamegraph"),
        "flamegraph.pl": reference.flamegraph_script("flamegraph.pl"),
    }
    return {name: cmd for name, cmd in found.items() if cmd}


def folded_input(path: Path, tmpdir: Path) -> Path:
    """`path` itself if it is folded text, else its `--tid --addrs` fold written to `tmpdir`."""
    profile = read(str(path))
    if profile.format == "folded":
        return path
    profile = read(str(path), FoldOptions(tid=True, addrs=True))
    target = tmpdir / (path.name.split(".")[0] + ".tid-addrs.folded")
    target.write_bytes(profile.to_folded_bytes())
    return target


def bench_phases(profile: Profile, options: RenderOptions, label: str, runs: int) -> None:
    """In-process timings of the layout, the SVG writer and the whole render_flamegraph."""
    with gc_paused():
        layout_s, layout = timed(lambda: layout_profile(profile, options), runs)
        assert isinstance(layout, Layout)
        color = colorizer()
        svg_s, svg = timed(lambda: write_svg(layout, options, fill=lambda i: color(layout.names[i])), runs)
        assert isinstance(svg, bytes)
    render_s, _ = timed(lambda: render_flamegraph(profile, options), runs)
    print(
        f"  in-process, {label}: layout {layout_s:.3f} s, svg {svg_s:.3f} s, "
        f"render_flamegraph {render_s:.3f} s; {len(layout):,} frames, {len(svg) / 1e6:.2f} MB SVG"
    )


def bench_input(path: Path, runs: int) -> None:
    size = path.stat().st_size
    read_s, profile = timed(lambda: read(str(path)), runs)
    print(f"\n{path.name}: {size / 1e6:.1f} MB, {len(profile):,} distinct stacks; reading it: {read_s:.3f} s")  # type: ignore[arg-type]
    for label, options in (("default (--minwidth 0.1)", RenderOptions()), ("--minwidth 0 (frame budget)", RenderOptions(min_width="0"))):
        bench_phases(profile, options, label, runs)  # type: ignore[arg-type]
    foldkit = [sys.executable, "-m", "foldkit", "flamegraph", "-q"]
    rows = [
        ("foldkit flamegraph", *median_command([*foldkit, str(path), "-o", "-"], runs)),
        ("foldkit flamegraph --minwidth 0", *median_command([*foldkit, "--minwidth", "0", str(path), "-o", "-"], runs)),
    ]
    for name, cmd in reference_tools().items():
        rows.append((name, *median_command(cmd, max(1, runs if name != "flamegraph.pl" else 1), stdin=path)))
    width = max(len(r[0]) for r in rows)
    for name, seconds, rss, cpu in rows:
        print(f"  {name:<{width}}  {seconds:7.3f} s ({cpu:.3f} s CPU)  {size / 1e6 / seconds:7.1f} MB/s  peak RSS {rss:5d} MiB")


def bench_capture(capture: Path, runs: int) -> None:
    """Capture -> folded against capture -> SVG, runs interleaved so that load drifts hit both."""
    fold_cmd = [sys.executable, "-m", "foldkit", "fold", "-q", str(capture), "-o", "-"]
    svg_cmd = [sys.executable, "-m", "foldkit", "flamegraph", "-q", str(capture), "-o", "-"]
    folds, svgs = [], []
    for _ in range(runs):
        folds.append(run_command(fold_cmd))
        svgs.append(run_command(svg_cmd))
    fold_s, svg_s = statistics.median(r[0] for r in folds), statistics.median(r[0] for r in svgs)
    fold_cpu, svg_cpu = statistics.median(r[2] for r in folds), statistics.median(r[2] for r in svgs)
    profile = read(str(capture))
    render_s, _ = timed(lambda: render_flamegraph(profile), runs)
    print(
        f"\n{capture.name}: capture -> folded {fold_s:.3f} s ({fold_cpu:.3f} s CPU, {max(r[1] for r in folds)} MiB), "
        f"capture -> SVG {svg_s:.3f} s ({svg_cpu:.3f} s CPU, {max(r[1] for r in svgs)} MiB); "
        f"render_flamegraph alone {render_s:.3f} s ({len(profile):,} stacks)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--capture", type=Path, action="append", default=[])
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {len(os.sched_getaffinity(0))} cores; medians of {args.runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.inputs or [FIXTURE]:
            bench_input(folded_input(path, Path(tmp)), args.runs)
    for capture in args.capture:
        bench_capture(capture, args.runs)


if __name__ == "__main__":
    main()

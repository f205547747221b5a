#!/usr/bin/env python3
"""Flame graph rendering speed and memory: foldkit against inferno-flamegraph and flamegraph.pl.

Usage:
    python benchmarks/bench_render.py [INPUT ...] [--runs 5] [--capture CAPTURE] [--flamechart CAPTURE] [--no-deep]
        [--tower FRAMES]

INPUT is a folded file, or a capture that is folded first with `--tid --addrs` (the way to get
many distinct stacks) by each producer found: `foldkit fold`, `inferno-collapse-perf` and
`stackcollapse-perf.pl` (their folded text differs: the renderer must be fast on every one).
Without INPUT the shipped fixtures/system-mixed.perf.zst is used. For each folded file it
reports, as medians of `--runs` runs:

* in-process: reading the folded file, laying out the frames, writing the SVG;
* `foldkit flamegraph INPUT -o -` (stdout discarded) as a command (interpreter start-up included), with the
  default minimum width and with `--minwidth 0` (the frame budget at work), with peak RSS (a
  `*.folded` INPUT is read ahead while Python starts, as for any user: `foldkit.readahead`);
* inferno-flamegraph (`INFERNO_FLAMEGRAPH` or PATH) and flamegraph.pl (`FLAMEGRAPH_DIR` or
  PATH) on the same folded file, when found, and each command's speed as a multiple of
  inferno-flamegraph's (runs interleaved, so load drifts hit every tool alike);
* deep stacks: one folded stack of 29,000 and one of 100,000 frames, `flamegraph` with and
  without `--minwidth 0` and `diff --basis union` against a copy one frame shorter; and one of
  `--tower` frames (10,000,000, zstd-compressed) to SVG and to HTML, time and peak RSS.

`--capture CAPTURE` also times capture -> SVG end to end against capture -> folded, and against
`inferno-collapse-perf | inferno-flamegraph` (the capture decompressed first when it is .zst/.gz).
`--flamechart CAPTURE` times `--flamechart` of the capture and of its runs written as folded text in
time order, against `inferno-flamegraph --flamechart` of that text, and capture -> viewer page.
"""

from __future__ import annotations

import argparse
import os
import shlex
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

from foldkit.ingest import read  # noqa: E402
from foldkit.profile import Profile  # noqa: E402
from foldkit.render import Layout, RenderOptions, gc_paused, layout_profile, render_flamegraph  # noqa: E402
from foldkit.render.palette import colorizer  # noqa: E402
from foldkit.render.svg import write_svg  # noqa: E402

FIXTURE = ROOT / "fixtures" / "system-mixed.perf.zst"
#: Issue 26's bar for one stack of 10,000,000 frames (`--tower`), SVG or HTML: peak RSS in MB.
TOWER_BAR_MB = 300


def timed(func: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median wall seconds of `runs` calls, and the last result."""
    times = []
    result: object = None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run_command(cmd: list[str], stdin: Path | None = None, stdout: Path | None = None) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (MiB, the process itself) and CPU seconds (user + system, the
    process and the children it waited for) of one command, its output to `stdout` or discarded."""
    with open(stdin or os.devnull, "rb") as fh, open(stdout or os.devnull, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fh, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[:400]}")
    return elapsed, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def reference_tools() -> dict[str, list[str]]:
    found = {
        "inferno-flamegraph": reference.inferno("INFERNO_FLAMEGRAPH", "inferno-flamegraph"),
        "flamegraph.pl": reference.flamegraph_script("flamegraph.pl"),
    }
    return {name: cmd for name, cmd in found.items() if cmd}


def producers() -> dict[str, list[str]]:
    """The folding commands found, each taking `--tid --addrs CAPTURE` and writing to stdout."""
    found = {
        "foldkit": [sys.executable, "-m", "foldkit", "fold", "-q"],
        "inferno-collapse-perf": reference.inferno("INFERNO_COLLAPSE_PERF", "inferno-collapse-perf"),
        "stackcollapse-perf.pl": reference.flamegraph_script("stackcollapse-perf.pl"),
    }
    return {name: cmd for name, cmd in found.items() if cmd}


def folded_inputs(path: Path, tmpdir: Path) -> list[tuple[str, Path]]:
    """(who wrote it, file): `path` itself if it is folded text, else its `--tid --addrs` fold by
    each producer, written to `tmpdir` (by child processes: this one stays small, as the children
    it forks start from its size)."""
    if ".folded" in path.name:
        return [("", path)]
    text = plain_capture(path, tmpdir)  # the Perl script and inferno read no .zst
    out = []
    for name, cmd in producers().items():
        target = tmpdir / f"{path.name.split('.')[0]}.tid-addrs.{name}.folded"
        with target.open("wb") as fh:
            subprocess.run([*cmd, "--tid", "--addrs", str(text)], check=True, stdout=fh)
        out.append((name, target))
    return out


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


def interleaved(commands: dict[str, tuple[list[str], Path | None]], runs: int) -> dict[str, tuple[float, int, float]]:
    """Median wall seconds, peak RSS (MiB) and median CPU seconds of each command, the commands
    run in turn `runs` times (flamegraph.pl once: it is slow)."""
    results: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
    for n in range(runs):
        for name, (cmd, stdin) in commands.items():
            if n and name == "flamegraph.pl":
                continue
            results[name].append(run_command(cmd, stdin))
    return {
        name: (statistics.median(r[0] for r in rs), max(r[1] for r in rs), statistics.median(r[2] for r in rs))
        for name, rs in results.items()
    }


def print_rows(rows: dict[str, tuple[float, int, float]], size: int, reference: str | None) -> None:
    width = max(len(name) for name in rows)
    base = rows[reference][0] if reference in rows else None
    for name, (seconds, rss, cpu) in rows.items():
        ratio = f"  {base / seconds:5.2f}x {reference}" if base else ""
        print(f"  {name:<{width}}  {seconds:7.3f} s ({cpu:.3f} s CPU)  {size / 1e6 / seconds:7.1f} MB/s  peak RSS {rss:5d} MiB{ratio}")


def bench_in_process(path: Path, runs: int) -> None:
    """Reading, layout and SVG writing inside one process."""
    read_s, profile = timed(lambda: read(str(path)), runs)
    print(f"\n{path.name} in-process: {len(profile):,} distinct stacks; reading it: {read_s:.3f} s")  # type: ignore[arg-type]
    for label, options in (("default (--minwidth 0.1)", RenderOptions()), ("--minwidth 0 (frame budget)", RenderOptions(min_width="0"))):
        bench_phases(profile, options, label, runs)  # type: ignore[arg-type]


def bench_input(path: Path, runs: int, producer: str = "") -> float | None:
    """Whole commands on one folded file; foldkit's speed as a multiple of inferno-flamegraph's."""
    size = path.stat().st_size
    written = f", written by {producer}" if producer else ""
    print(f"\n{path.name}: {size / 1e6:.1f} MB{written}, whole commands")
    foldkit = [sys.executable, "-m", "foldkit", "flamegraph", "-q"]
    commands: dict[str, tuple[list[str], Path | None]] = {
        "foldkit flamegraph": ([*foldkit, str(path), "-o", "-"], None),
        "foldkit flamegraph --minwidth 0": ([*foldkit, "--minwidth", "0", str(path), "-o", "-"], None),
    }
    for name, cmd in reference_tools().items():
        commands[name] = (cmd, path)
    rows = interleaved(commands, runs)
    print_rows(rows, size, "inferno-flamegraph")
    if "inferno-flamegraph" not in rows:
        return None
    return rows["inferno-flamegraph"][0] / rows["foldkit flamegraph"][0]


def deep_stack(frames: int, tmpdir: Path) -> tuple[Path, Path]:
    """A folded file holding one stack `frames` deep, and one whose stack is a frame shorter."""
    names = [f"function_{i % 997}_{i}" for i in range(frames)]
    deep, shorter = tmpdir / f"deep-{frames}.folded", tmpdir / f"deep-{frames}-1.folded"
    deep.write_text(";".join(names) + " 7\n", encoding="utf-8")
    shorter.write_text(";".join(names[:-1]) + " 5\n", encoding="utf-8")
    return deep, shorter


def bench_deep(tmpdir: Path, runs: int) -> None:
    """Deep stacks: the layout and the diff lookups are linear in the number of frames."""
    foldkit = [sys.executable, "-m", "foldkit"]
    for frames in (29_000, 100_000):
        deep, shorter = deep_stack(frames, tmpdir)
        commands: dict[str, tuple[list[str], Path | None]] = {
            "flamegraph": ([*foldkit, "flamegraph", "-q", str(deep), "-o", "-"], None),
            "flamegraph --minwidth 0": ([*foldkit, "flamegraph", "-q", "--minwidth", "0", str(deep), "-o", "-"], None),
            "diff --basis union --minwidth 0": ([*foldkit, "diff", "-q", "--basis", "union", "--minwidth", "0", str(shorter), str(deep), "-o", "-"], None),
        }
        if (tool := reference.inferno("INFERNO_FLAMEGRAPH", "inferno-flamegraph")) is not None:
            commands["inferno-flamegraph"] = (tool, deep)
        print(f"\none stack {frames:,} frames deep ({deep.stat().st_size / 1e6:.2f} MB):")
        print_rows(interleaved(commands, runs), deep.stat().st_size, "inferno-flamegraph")


def tower(frames: int, tmpdir: Path) -> Path:
    """One stack `frames` deep (a thousand names over and over) as a zstd-compressed folded file,
    written a piece at a time (10,000,000 frames are 49 MB of text, 6 KB compressed)."""
    import zstandard

    target = tmpdir / f"tower-{frames}.folded.zst"
    names = [f"f{i}" for i in range(1000)]
    with target.open("wb") as fh, zstandard.ZstdCompressor(level=19).stream_writer(fh) as out:
        for done in range(0, frames, 1000):
            piece = names[: min(1000, frames - done)]
            out.write((";" if done else "").encode() + ";".join(piece).encode())
        out.write(b" 1\n")
    return target


def bench_tower(frames: int, tmpdir: Path, runs: int) -> None:
    """A stack far deeper than any budget: memory grows with the frames drawn, not with its depth
    (inferno-flamegraph would draw every frame of it, so it is not run)."""
    path = tower(frames, tmpdir)
    foldkit = [sys.executable, "-m", "foldkit", "flamegraph", "-q", str(path)]
    svg, html = tmpdir / "tower.svg", tmpdir / "tower.html"
    commands: dict[str, tuple[list[str], Path | None]] = {
        "flamegraph -o x.svg": ([*foldkit, "-o", str(svg)], None),
        "flamegraph -o x.html": ([*foldkit, "-o", str(html)], None),
    }
    print(f"\none stack {frames:,} frames deep ({path.stat().st_size / 1e3:.1f} KB of zstd):")
    rows = interleaved(commands, runs)
    print_rows(rows, path.stat().st_size, None)
    for name, (_, rss, _) in rows.items():  # ru_maxrss: MiB
        mb = rss * 2**20 / 1e6
        print(f"  {name}: peak RSS {mb:,.0f} MB (issue 26's bar: <= {TOWER_BAR_MB} MB: {'meets it' if mb <= TOWER_BAR_MB else 'MISSES it'})")


def plain_capture(capture: Path, tmpdir: Path) -> Path:
    """The capture as plain text (the inferno pipeline reads no .zst), decompressed by a child
    process: a child forked later starts from this process's size, and its peak RSS with it (the
    263 MB capture's zstd window made every command's, inferno's too, read 200 MiB)."""
    if not capture.name.endswith((".zst", ".gz")):
        return capture
    target = tmpdir / capture.name.rsplit(".", 1)[0]
    if not target.exists():
        subprocess.run([sys.executable, "-c", _PLAIN, str(capture), str(target)], check=True)
    return target


def bench_capture(capture: Path, runs: int, tmpdir: Path) -> None:
    """Capture -> folded and capture -> SVG against the inferno pipeline, runs interleaved."""
    text = plain_capture(capture, tmpdir)
    commands: dict[str, tuple[list[str], Path | None]] = {
        "foldkit fold": ([sys.executable, "-m", "foldkit", "fold", "-q", str(text), "-o", "-"], None),
        "foldkit flamegraph": ([sys.executable, "-m", "foldkit", "flamegraph", "-q", str(text), "-o", "-"], None),
    }
    collapse = reference.inferno("INFERNO_COLLAPSE_PERF", "inferno-collapse-perf")
    draw = reference.inferno("INFERNO_FLAMEGRAPH", "inferno-flamegraph")
    if collapse and draw:
        pipeline = f"{shlex.join(collapse)} {shlex.quote(str(text))} | {shlex.join(draw)}"
        commands["inferno-collapse-perf | inferno-flamegraph"] = (["sh", "-c", pipeline], None)
    print(f"\n{capture.name} -> SVG ({text.stat().st_size / 1e6:.1f} MB of perf script text):")
    print_rows(interleaved(commands, runs), text.stat().st_size, "inferno-collapse-perf | inferno-flamegraph")


#: Writes the flame chart's runs of a capture (argv[1]) as folded text in time order (argv[2]):
#: one line per run of consecutive samples of one stack, what inferno's --flamechart draws in order.
_WRITE_RUNS = """
import sys
from foldkit.ingest import FoldOptions, read
from foldkit.profile import format_weight
from foldkit.timeline import chart_runs
runs, _ = chart_runs(read([sys.argv[1]], FoldOptions(keep_time=True)).timeline)
with open(sys.argv[2], "w", encoding="utf-8", errors="surrogateescape") as out:
    out.writelines(f"{s} {format_weight(w)}\\n" for s, w in runs)
"""


#: Decompresses a capture (argv[1]) to a plain file (argv[2]).
_PLAIN = """
import sys
from foldkit.inputs import open_source
with open(sys.argv[2], "wb") as out:
    for chunk in open_source(sys.argv[1]).chunks():
        out.write(chunk)
"""


def bench_flamechart(capture: Path, runs: int, tmpdir: Path) -> None:
    """Capture -> flame chart, and the same chart from folded text in time order, against
    inferno-flamegraph --flamechart on that folded text (inferno's flame chart takes folded lines
    in input order, and inferno-collapse-perf sorts them: the runs are written by foldkit, in a
    child process, so both tools draw the same runs); and capture -> viewer (its Time view)."""
    text = plain_capture(capture, tmpdir)
    ordered = tmpdir / f"{capture.name.split('.')[0]}.runs.folded"
    subprocess.run([sys.executable, "-c", _WRITE_RUNS, str(text), str(ordered)], check=True)
    page = tmpdir / "chart.html"
    foldkit = [sys.executable, "-m", "foldkit", "flamegraph", "-q"]
    commands: dict[str, tuple[list[str], Path | None]] = {
        "foldkit --flamechart CAPTURE": ([*foldkit, "--flamechart", str(text), "-o", "-"], None),
        "foldkit --flamechart RUNS.folded": ([*foldkit, "--flamechart", str(ordered), "-o", "-"], None),
        "foldkit CAPTURE -o x.html (Time view)": ([*foldkit, str(text), "-o", str(page)], None),
    }
    draw = reference.inferno("INFERNO_FLAMEGRAPH", "inferno-flamegraph")
    if draw:
        commands["inferno-flamegraph --flamechart RUNS.folded"] = ([*draw, "--flamechart", str(ordered)], None)
    print(
        f"\n{capture.name} -> flame chart ({text.stat().st_size / 1e6:.1f} MB of perf script text; "
        f"RUNS.folded: its runs in time order, {ordered.stat().st_size / 1e6:.1f} MB):"
    )
    print_rows(interleaved(commands, runs), text.stat().st_size, "inferno-flamegraph --flamechart RUNS.folded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--capture", type=Path, action="append", default=[])
    parser.add_argument("--flamechart", type=Path, action="append", default=[], help="a capture to time flame charts of")
    parser.add_argument("--no-deep", action="store_true", help="skip the deep-stack runs (29,000 and 100,000 frames)")
    parser.add_argument("--tower", type=int, default=10_000_000, help="frames of the deepest stack (default 10,000,000; 0: none)")
    args = parser.parse_args()
    reference.compile_foldkit()
    print(f"python {sys.version.split()[0]}, {len(os.sched_getaffinity(0))} cores; medians of {args.runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        # commands first: the children forked later would start from this process's grown size
        inputs = [found for path in args.inputs or [FIXTURE] for found in folded_inputs(path, Path(tmp))]
        ratios = [(producer, path, bench_input(path, args.runs, producer)) for producer, path in inputs]
        if len(inputs) > 1:
            print("\nfoldkit flamegraph's speed as a multiple of inferno-flamegraph's, by who wrote the folded file (issue 20's bar: >= 1.3x):")
            for producer, path, ratio in ratios:
                shown = f"{ratio:5.2f}x" if ratio is not None else "  (no inferno-flamegraph)"
                print(f"  {producer or path.name:<24} {shown}")
        if not args.no_deep:
            bench_deep(Path(tmp), args.runs)
        if args.tower:
            bench_tower(args.tower, Path(tmp), min(args.runs, 3))
        for capture in args.capture:
            bench_capture(capture, args.runs, Path(tmp))
        for capture in args.flamechart:
            bench_flamechart(capture, args.runs, Path(tmp))
        for _, path in inputs:
            bench_in_process(path, args.runs)


if __name__ == "__main__":
    main()

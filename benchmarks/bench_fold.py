#!/usr/bin/env python3
"""Fold throughput and peak memory: foldkit against inferno-collapse-perf and stackcollapse-perf.pl.

Usage:
    python benchmarks/bench_fold.py [CAPTURE ...] [--runs 3] [--size-mb 200] [--repeat 4] [--no-blank]

Without CAPTURE it builds a ~200 MB input by concatenating the real system-wide capture shipped in
fixtures/. Each tool runs `--runs` times per configuration, the tools taking turns (one run of
each per round, so load from elsewhere falls on all of them alike), file in page cache, output to
a file (foldkit's `-o`, the peers' standard output: every tool's output file is there from
its run before, as in a pipeline run again), each run timed to its exit; the median is reported, with the ratios that matter: foldkit against inferno at
its best thread count and against the Perl script, zstd input against plain. `--repeat N` also
folds the first capture concatenated N times (the memory bound: peak RSS of the whole process
tree), and the start-up cost is measured on a 1 KB capture. The reference tools are measured when found: inferno via
`INFERNO_BIN` (the inferno-collapse-perf binary) or PATH, FlameGraph via `FLAMEGRAPH_DIR` (the
directory holding stackcollapse-perf.pl) or PATH. A zstd-compressed copy of each input is timed
too. Peak RSS is the largest resident set of any single process of the run (read from /proc every
20 ms, so it is a close lower bound) and the peak of the whole process tree's sum. `--no-blank`
also folds the first capture with its blank lines removed (samples one after another, as `perf
script -G` and some tools write them: issue 20's last hot path) against the capture as it is, each
plain and compressed (zstd -3, gzip -6); the peers cannot read that form (inferno-collapse-perf warns of weird stack lines, stackcollapse-perf.pl
writes nothing), so it is foldkit against itself.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import reference  # benchmarks/reference.py
import zstandard

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "system-mixed.perf.zst"


def build_input(size_mb: int, directory: Path) -> Path:
    """Concatenate the shipped system-wide capture until the file has `size_mb` MB."""
    piece = zstandard.ZstdDecompressor().decompressobj().decompress(FIXTURE.read_bytes())
    if not piece.endswith(b"\n\n"):
        piece += b"\n"
    target = directory / f"bench-{size_mb}mb.perf"
    with open(target, "wb") as fh:
        written = 0
        while written < size_mb * 1_000_000:
            fh.write(piece)
            written += len(piece)
    return target


def _tree_rss(root: int) -> tuple[int, int]:
    """(largest single RSS, sum of RSS) in KiB over `root` and its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    stack, seen = [root], []
    while stack:
        pid = stack.pop()
        seen.append(pid)
        stack.extend(children.get(pid, []))
    values = [rss.get(p, 0) for p in seen]
    return max(values, default=0), sum(values)


def run(cmd: list[str], out: Path | None = None) -> tuple[float, int, int, float]:
    """Wall seconds, peak single-process RSS and peak tree RSS (KiB), and CPU seconds (user +
    system, the process and the children it waited for) of one run; its standard output goes to
    the file `out` (made or truncated, as a shell's `> out` does) when given, else nowhere."""
    start = time.perf_counter()
    with open(out, "wb") if out is not None else contextlib.nullcontext(subprocess.DEVNULL) as sink:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.PIPE)
    # the end is seen by a thread waiting for it (not by the 20 ms polling for memory, which
    # added up to 20 ms to every run: 10 % of a 0.2 s one)
    ended: list[tuple[float, int, Any]] = []

    def wait() -> None:
        _, status, usage = os.wait4(proc.pid, 0)
        ended.append((time.perf_counter(), status, usage))

    waiter = threading.Thread(target=wait)
    waiter.start()
    peak_one = peak_sum = 0
    while waiter.is_alive():
        one, total = _tree_rss(proc.pid)
        peak_one, peak_sum = max(peak_one, one), max(peak_sum, total)
        waiter.join(0.02)
    (end, status, usage), = ended
    elapsed = end - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode(errors='replace')[:500]}")
    return elapsed, peak_one, peak_sum, usage.ru_utime + usage.ru_stime


#: Per command name: the file its standard output is written to (`run`), for the peers, which
#: write their folded stacks there (foldkit writes its own with `-o`): every tool writes its
#: output to a file that is there from the run before, as a pipeline's `> out.folded` does.
OUTPUTS: dict[str, Path] = {}


def median_runs(configs: list[tuple[str, list[str]]], runs: int) -> list[tuple[str, float, int, int, float]]:
    """(name, median seconds, max single RSS, max tree RSS, median CPU seconds) per command; the
    commands take turns."""
    results: dict[str, list[tuple[float, int, int, float]]] = {name: [] for name, _ in configs}
    for _ in range(runs):
        for name, cmd in configs:
            results[name].append(run(cmd, OUTPUTS.get(name)))
    return [
        (name, statistics.median(r[0] for r in rs), max(r[1] for r in rs), max(r[2] for r in rs), statistics.median(r[3] for r in rs))
        for name, rs in results.items()
    ]


def find_tools() -> dict[str, list[str]]:
    found = {
        "inferno-collapse-perf": reference.inferno("INFERNO_BIN", "inferno-collapse-perf"),
        "stackcollapse-perf.pl": reference.flamegraph_script("stackcollapse-perf.pl"),
    }
    return {name: cmd for name, cmd in found.items() if cmd}


def startup(foldkit: list[str], tmpdir: Path, runs: int) -> float:
    """Median seconds of `foldkit fold` on a 1 KB capture."""
    small = tmpdir / "small.perf"
    sample = b"bash 100/100 [000] 1.000001: 1001 cycles: \n\tffffffff815d6c20 f+0x1 ([kernel.kallsyms])\n\t    7f1e2215d058 main+0xed (/bin/bash)\n\n"
    small.write_bytes(sample * (1024 // len(sample) + 1))
    times = []
    for _ in range(max(21, runs)):  # timed by waiting, not by run()'s 20 ms polling for memory
        start = time.perf_counter()
        subprocess.run([*foldkit, str(small), "-o", str(tmpdir / "small.folded")], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


#: One fold inside a process whose imports are done: the CPU seconds (every thread's, user and
#: system) of `foldkit.read` of the capture, which reads, folds and merges it into a Profile.
_IN_PROCESS = """
import sys, time
import foldkit.api
import foldkit.ingest.perf
start = time.process_time()
foldkit.api.read(sys.argv[1])
print(time.process_time() - start)
"""


def parser_cpu(path: Path, runs: int) -> float:
    """Median CPU seconds of the fold itself (`_IN_PROCESS`, a fresh process each run): the
    parser's throughput per core, without the interpreter's start-up, the imports, the output
    and the exit, which the whole command's line includes."""
    cpus = []
    for _ in range(max(5, runs)):
        done = subprocess.run([sys.executable, "-c", _IN_PROCESS, str(path)], check=True, capture_output=True, text=True)
        cpus.append(float(done.stdout.split()[-1]))
    return statistics.median(cpus)


def repeated(path: Path, times: int, tmpdir: Path) -> Path:
    """`path` concatenated `times` times."""
    target = tmpdir / f"{path.stem}-x{times}.perf"
    data = path.read_bytes()
    if not data.endswith(b"\n\n"):
        data += b"\n"
    with open(target, "wb") as fh:
        for _ in range(times):
            fh.write(data)
    return target


def without_blank_lines(path: Path, tmpdir: Path) -> Path:
    """`path` with its blank lines removed (each sample's header then follows the last frame of the
    one before)."""
    target = tmpdir / f"{path.stem}-no-blank.perf"
    with open(path, "rb") as src, open(target, "wb") as out:
        out.writelines(line for line in src if line.strip())
    return target


def compressed_copy(path: Path, compression: str, tmpdir: Path) -> Path:
    """`path` compressed into `tmpdir` (once a run): zstd at level 3 or gzip at level 6 (the tools'
    defaults)."""
    target = tmpdir / (path.name + (".zst" if compression == "zstd" else ".gz"))
    if not target.exists():
        with open(path, "rb") as src:
            if compression == "zstd":
                with open(target, "wb") as out:
                    zstandard.ZstdCompressor(level=3, threads=-1).copy_stream(src, out)
            else:
                with gzip.open(target, "wb", compresslevel=6) as packed:
                    shutil.copyfileobj(src, packed, 1 << 20)
    return target


def no_blank(foldkit: list[str], capture: Path, tmpdir: Path, cores: int, runs: int) -> None:
    """Fold `capture` as it is and without its blank lines, plain and compressed with zstd -3 and
    gzip -6 (each decompressed and cut into chunks natively), and print each pair's ratio."""
    dense = without_blank_lines(capture, tmpdir)
    out = str(tmpdir / "out.folded")
    configs: list[tuple[str, list[str]]] = []
    for compression in ("plain", "zstd", "gzip"):
        for label, path in (("as captured", capture), ("no blank lines", dense)):
            if compression != "plain":
                path = compressed_copy(path, compression, tmpdir)
            configs.append((f"foldkit -j {cores}, {compression}, {label}", [*foldkit, str(path), "-o", out]))
    rows = median_runs(configs, runs)
    print(f"\n{capture.name} without blank lines ({dense.stat().st_size / 1e6:.1f} MB; the peers cannot read it):")
    print(f"{'input':46} {'time s':>8} {'CPU s':>8} {'MB/s':>8} {'RSS MB':>8}  (MB/s of the decompressed text)")
    size = {capture: capture.stat().st_size, dense: dense.stat().st_size}
    for name, t, one, _, cpu in rows:
        text = dense if "no blank" in name else capture
        print(f"{name:46} {t:8.2f} {cpu:8.2f} {size[text] / 1e6 / t:8.1f} {one / 1024:8.0f}")
    for k in range(0, len(rows), 2):
        (name, t, _, _, cpu), (_, t2, _, _, cpu2) = rows[k], rows[k + 1]
        kind = name.split(", ")[1]
        print(f"{kind}: without blank lines at {t / t2:.2f}x the speed (CPU {cpu / cpu2:.2f}x) of the capture as it is")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("captures", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=0, help="also fold the first capture concatenated this many times (memory bound)")
    parser.add_argument("--no-blank", action="store_true", help="also fold the first capture without its blank lines")
    args = parser.parse_args()
    reference.compile_foldkit()
    foldkit = [*reference.foldkit(), "fold", "-q"]
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        inputs: list[Path] = []
        for capture in args.captures or [build_input(args.size_mb, tmpdir)]:
            raw = zstandard.ZstdDecompressor().decompressobj().decompress(capture.read_bytes()) if capture.suffix == ".zst" else None
            if raw is not None:
                plain = tmpdir / capture.name.removesuffix(".zst")
                plain.write_bytes(raw)
                inputs.append(plain)
            else:
                inputs.append(capture)
        tools = find_tools()
        print(f"cores: {cores}; runs per line: {args.runs} (median time, max RSS; tools take turns)")
        print(f"start-up, foldkit fold of a 1 KB capture: {startup(foldkit, tmpdir, args.runs) * 1000:.0f} ms")
        for path in inputs:
            size = path.stat().st_size
            packed = compressed_copy(path, "zstd", tmpdir)
            print(f"\n{path.name}: {size / 1e6:.1f} MB")
            out = str(tmpdir / "out.folded")
            configs = [(f"foldkit -j {jobs}", [*foldkit, "-j", str(jobs), str(path), "-o", out]) for jobs in sorted({1, cores})]
            configs.append((f"foldkit -j {cores} (zstd input)", [*foldkit, str(packed), "-o", out]))
            for name, cmd in tools.items():
                if name == "inferno-collapse-perf":
                    configs += [(f"{name} --nthreads {n}", [*cmd, "--nthreads", str(n), str(path)]) for n in sorted({1, cores})]
            for name, _ in configs:
                if not name.startswith("foldkit"):
                    OUTPUTS[name] = tmpdir / f"out-{len(OUTPUTS)}.folded"
            OUTPUTS["stackcollapse-perf.pl"] = tmpdir / "out-perl.folded"
            rows = median_runs(configs, args.runs)
            if "stackcollapse-perf.pl" in tools:  # slow: its own (3) runs
                rows += median_runs([("stackcollapse-perf.pl", [*tools["stackcollapse-perf.pl"], str(path)])], max(1, min(args.runs, 3)))
            best_foldkit = min(t for n, t, _, _, _ in rows if n.startswith("foldkit -j") and "zstd" not in n)
            print(f"{'tool':38} {'time s':>8} {'CPU s':>8} {'MB/s':>8} {'MB/CPU-s':>9} {'RSS MB':>8} {'tree MB':>8} {'time / best foldkit':>20}")
            for name, t, one, tree, cpu in rows:
                print(
                    f"{name:38} {t:8.2f} {cpu:8.2f} {size / 1e6 / t:8.1f} {size / 1e6 / max(cpu, 1e-9):9.1f} "
                    f"{one / 1024:8.0f} {tree / 1024:8.0f} {t / best_foldkit:19.2f}x"
                )
            times = {n: t for n, t, _, _, _ in rows}
            cpu_of = {n: c for n, _, _, _, c in rows}
            zstd = times.get(f"foldkit -j {cores} (zstd input)")
            plain = times.get(f"foldkit -j {cores}")
            inferno = min((t for n, t in times.items() if n.startswith("inferno-collapse-perf")), default=None)
            perl = times.get("stackcollapse-perf.pl")
            print(f"foldkit (best) is {inferno / best_foldkit:.2f}x inferno-collapse-perf at its best thread count (issue 20's bar: >= 3.5x)" if inferno else "(inferno-collapse-perf not found: set INFERNO_BIN)")
            if plain and cpu_of.get(f"foldkit -j {cores}"):
                cpu = cpu_of[f"foldkit -j {cores}"]
                print(
                    f"foldkit -j {cores}, the whole process (start-up, read, fold, write, exit; user + system CPU "
                    f"{cpu:.3f} s): {size / 1e9 / cpu:.2f} GB per CPU-second = per core of CPU (issue 20's bar: >= 1 GB/s a core)"
                )
                parse = parser_cpu(path, args.runs)
                print(
                    f"foldkit's parser alone (in one process, imports done: read, fold, merge into a Profile; CPU "
                    f"{parse:.3f} s): {size / 1e9 / parse:.2f} GB per CPU-second (issue 20's bar: >= 1 GB/s a core)"
                )
            print(f"foldkit (best) is {perl / best_foldkit:.1f}x stackcollapse-perf.pl" if perl else "(stackcollapse-perf.pl not found: set FLAMEGRAPH_DIR)")
            if zstd and plain:
                print(f"zstd input runs at {plain / zstd:.2f}x the speed of plain text (-j {cores})")
        if args.no_blank and inputs:
            no_blank(foldkit, inputs[0], tmpdir, cores, args.runs)
        if args.repeat and inputs:
            big = repeated(inputs[0], args.repeat, tmpdir)
            t, one, tree, _ = run([*foldkit, str(big), "-o", str(tmpdir / "out.folded")])
            print(f"\n{big.name}: {big.stat().st_size / 1e6:.0f} MB in {t:.2f} s; peak RSS {one / 1024:.0f} MB, whole process tree {tree / 1024:.0f} MB")


if __name__ == "__main__":
    main()

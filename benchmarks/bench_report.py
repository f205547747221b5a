"""Benchmark: `foldkit report` on 200 captures of about 5 MB each, against a baseline.

Run: python benchmarks/bench_report.py [--captures 200] [--jobs 0] [--no-baseline] [--repeat 1]
[--cluster local:2] [--deep 100000 [--deep-captures 8]] [--pages]
(foldkit installed, e.g. `make bench`). The captures are made in a temporary folder (never in the
repository) by repeating the shipped real captures to about 5 MB each: perf (whole system and a
Java service), bpftrace, BCC and folded stacks, every fourth one zstd-compressed. The command runs
as a subprocess, as a nightly job would; the process tree (the command, its fork server and
workers) is sampled every 50 ms for its resident memory. Prints the wall time (median of
--repeat runs), the throughput, and the peak RSS of the whole tree and of its largest process.
Memory must not grow with the number of captures: compare --captures 50 with --captures 200.

With --cluster ADDRESS (e.g. local:2, a Dask LocalCluster of 2 worker processes), every repeat runs
the report both locally (--jobs N, N from local:N) and on the cluster, alternately, and prints the
cluster's overhead against the local median and the peak RSS of the client process (the command
itself, which for local:N also hosts the Dask scheduler), and the CPU time (user + system) of each
run's whole process tree: on a machine other work loads, the CPU time moves less than the wall time.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parent.parent
#: Shipped captures the benchmark is made of (path, share of the captures). perf dominates, as in
#: the nightly jobs that collect CPU profiles from many hosts.
SOURCES = [
    ("fixtures/system-mixed.perf.zst", 0.4),
    ("fixtures/java.perf", 0.2),
    ("fixtures/kstack-ustack-comm.bt", 0.15),
    ("fixtures/bcc-profile.txt", 0.15),
    ("tests/data/captures/bcc-profile-folded.txt.zst", 0.1),
]
#: Size of one capture (the issue's "5 MB each").
TARGET_BYTES = 5_000_000
#: How often the process tree's memory is sampled.
SAMPLE_SECONDS = 0.05
#: Issue 26's bar for a report of deep captures: peak RSS of the whole process tree, MB.
DEEP_BAR_MB = 500


def plain(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


def make_captures(folder: Path, count: int) -> int:
    """`count` captures of about TARGET_BYTES in `folder`; returns their total uncompressed size."""
    bodies = []
    for rel, share in SOURCES:
        data = plain(ROOT / rel)
        copies = max(1, round(TARGET_BYTES / len(data)))
        bodies.append((Path(rel).name.split(".")[0], data * copies, share))
    total = 0
    made = 0
    for name, body, share in bodies:
        n = round(count * share) if name != bodies[-1][0] else count - made
        for _ in range(n):
            path = folder / f"host-{made:03d}" / f"{name}.txt"
            path.parent.mkdir(parents=True)
            if made % 4 == 3:
                path.with_suffix(".txt.zst").write_bytes(zstandard.ZstdCompressor(level=3).compress(body))
            else:
                path.write_bytes(body)
            total += len(body)
            made += 1
    return total


def make_deep_captures(folder: Path, count: int, frames: int, samples: int = 3) -> int:
    """`count` perf captures of `samples` samples, each one call chain `frames` deep (the leaf differs
    between samples); returns their total size."""
    chain = "".join(f"\t{0x400000 + 16 * i:16x} function_{i % 997}_{i} (/usr/bin/deep)\n" for i in range(1, frames))
    total = 0
    folder.mkdir(parents=True)
    for c in range(count):
        with (folder / f"deep-{c:02d}.perf").open("w") as out:
            for n in range(samples):
                text = f"deep 100/100 [000] {1 + n / 1000:.6f}: 1001 cycles:\n\t{0x400000:16x} leaf_{n} (/usr/bin/deep)\n{chain}\n"
                out.write(text)
                total += len(text)
    return total


def deep_report(args: argparse.Namespace) -> None:
    """A report of deep captures: time and the peak RSS of its whole process tree against the bar."""
    with tempfile.TemporaryDirectory(prefix="foldkit-bench-report-") as tmp:
        folder = Path(tmp) / "captures"
        total = make_deep_captures(folder, args.deep_captures, args.deep)
        print(f"made {args.deep_captures} perf captures of 3 samples {args.deep:,} frames deep, {total / 1e6:,.1f} MB")
        times, cpus, peaks, largest = [], [], [], []
        for _ in range(args.repeat):
            elapsed, memory, _ = run_once(folder, Path(tmp) / "site", args.jobs, None)
            times.append(elapsed)
            cpus.append(memory.cpu)
            peaks.append(memory.peak_total * 1024 / 1e6)  # (KiB to MB, the bar's unit)
            largest.append(memory.peak_single * 1024 / 1e6)
            shutil.rmtree(Path(tmp) / "site", ignore_errors=True)
        peak = max(peaks)
        verdict = "meets it" if peak <= DEEP_BAR_MB else "MISSES it"
        print(
            f"foldkit report of deep captures, --jobs {args.jobs or 'auto'}: median {statistics.median(times):.1f} s "
            f"({statistics.median(cpus):.1f} CPU-s) over {args.repeat} run(s); peak RSS {peak:,.0f} MB for the whole "
            f"process tree, {max(largest):,.0f} MB for the largest process (bar: <= {DEEP_BAR_MB} MB for the tree: {verdict})"
        )


def _draw(cmd: list[str], folded: Path) -> None:
    """Run `cmd` (a flame graph tool) on `folded` as its standard input, its output discarded."""
    with folded.open("rb") as fh:
        subprocess.run(cmd, stdin=fh, stdout=subprocess.DEVNULL, check=True)


def page_times(runs: int) -> None:
    """The viewer page and the SVG of one capture of each kind, beside inferno-flamegraph's SVG."""
    import reference  # benchmarks/reference.py

    from foldkit.ingest import FoldOptions
    from foldkit.render import RenderOptions, render_flamegraph
    from foldkit.render.viewer import render_viewer
    from foldkit.report.capture import read_capture
    from foldkit.report.discover import CaptureInput

    inferno = reference.inferno("INFERNO_FLAMEGRAPH", "inferno-flamegraph")
    runs = max(3, runs)

    def median_of(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    print(f"report pages of one capture of each kind, medians of {runs} (in-process, as the workers build them):")
    print(f"{'capture':28} {'MB':>6} {'stacks':>8} {'viewer page s':>14} {'SVG s':>8} {'inferno SVG s':>14} {'inferno / viewer':>17}")
    with tempfile.TemporaryDirectory(prefix="foldkit-bench-pages-") as tmp:
        for rel, _ in SOURCES:
            data = plain(ROOT / rel)
            capture = Path(tmp) / Path(rel).name.removesuffix(".zst")
            capture.write_bytes(data * max(1, round(TARGET_BYTES / len(data))))
            item = CaptureInput(path=str(capture), name=capture.name, slug=capture.name, explicit=True)
            profile = read_capture(item, FoldOptions())  # as the report reads it (perf: with sample times)
            options = RenderOptions(title=capture.name)
            viewer_s = median_of(functools.partial(render_viewer, profile, options))
            svg_s = median_of(functools.partial(render_flamegraph, profile, options))
            ratio, inferno_text = "", "-"
            if inferno is not None:
                folded = Path(tmp) / "page.folded"
                profile.to_folded(folded)
                inferno_s = median_of(functools.partial(_draw, inferno, folded))
                inferno_text, ratio = f"{inferno_s:.3f}", f"{inferno_s / viewer_s:.2f}x"
            size = capture.stat().st_size / 1e6
            print(f"{capture.name:28} {size:6.1f} {len(profile):8,d} {viewer_s:14.3f} {svg_s:8.3f} {inferno_text:>14} {ratio:>17}", flush=True)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Samples the summed and the largest RSS of a process and all its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_total = 0
        self.peak_single = 0
        self.peak_root = 0
        self.processes = 0
        self.cpu = 0.0  # CPU seconds of the whole tree, once it ended
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            tree = _children()
            pids, todo = [], [self.pid]
            while todo:
                p = todo.pop()
                pids.append(p)
                todo.extend(tree.get(p, []))
            sizes = [_rss_kib(p) for p in pids]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max(self.peak_single, max(sizes, default=0))
            self.peak_root = max(self.peak_root, sizes[0] if sizes else 0)
            self.processes = max(self.processes, len(pids))
            time.sleep(SAMPLE_SECONDS)


def _children_cpu() -> float:
    """CPU seconds (user + system) of every descendant process that ended and was waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> float:
    """The machine's load average over the last minute."""
    return os.getloadavg()[0]


def run_once(folder: Path, site: Path, jobs: int, baseline: Path | None, cluster: str | None = None) -> tuple[float, TreeMemory, int]:
    cmd = [sys.executable, "-m", "foldkit", "report", str(folder), "-o", str(site), "--jobs", str(jobs), "-q"]
    if cluster is not None:
        cmd += ["--cluster", cluster]
    if baseline is not None:
        cmd += ["--baseline", str(baseline)]
    start = time.perf_counter()
    cpu = _children_cpu()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    memory = TreeMemory(proc.pid)
    memory.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    memory.cpu = _children_cpu() - cpu
    memory.done.set()
    memory.join()
    if proc.returncode not in (0, 1):  # 1: some capture regressed against the baseline
        sys.exit(f"foldkit report failed ({proc.returncode}): {err.decode(errors='replace')}")
    return elapsed, memory, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=0, help="captures at once (0: one per core)")
    parser.add_argument("--no-baseline", action="store_true", help="no --baseline (no check, no differential graphs)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cluster", help="also run on this Dask cluster (local:N: N local workers) and compare")
    parser.add_argument("--deep", type=int, default=0, help="instead, a report of captures whose stacks are this many frames deep")
    parser.add_argument("--deep-captures", type=int, default=8, help="how many deep captures (with --deep)")
    parser.add_argument("--pages", action="store_true", help="instead, time the pages of one capture of each kind beside inferno")
    args = parser.parse_args()
    if args.pages:
        page_times(args.repeat)
        return
    if args.deep:
        deep_report(args)
        return
    if args.cluster is not None:
        compare_cluster(args)
        return
    with tempfile.TemporaryDirectory(prefix="foldkit-bench-report-") as tmp:
        folder = Path(tmp) / "captures"
        t = time.perf_counter()
        total = make_captures(folder, args.captures)
        on_disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(
            f"made {args.captures} captures, {total / 1e6:,.0f} MB of capture text "
            f"({on_disk / 1e6:,.0f} MB on disk, every fourth zstd) in {time.perf_counter() - t:.1f} s"
        )
        baseline = None if args.no_baseline else next(folder.glob("host-000/*"))
        times, cpus = [], []
        memory = None
        site = Path(tmp) / "site"
        for _ in range(args.repeat):
            elapsed, memory, code = run_once(folder, site, args.jobs, baseline)
            times.append(elapsed)
            cpus.append(memory.cpu)
        assert memory is not None
        median = statistics.median(times)
        size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
        print(
            f"foldkit report, {os.cpu_count()} cores, --jobs {args.jobs or 'auto'}"
            f"{'' if baseline is None else ', --baseline'}: median {median:.1f} s over {args.repeat} run(s) "
            f"({args.captures / median:.2f} captures/s, {total / 1e6 / median:.1f} MB/s), median "
            f"{statistics.median(cpus):.1f} CPU-s of the process tree (runs: {', '.join(f'{t:.1f} s' for t in times)}); exit {code}"
        )
        print(
            f"peak RSS: {memory.peak_total / 1024:,.0f} MiB for the whole process tree "
            f"(up to {memory.processes} processes), {memory.peak_single / 1024:,.0f} MiB for the largest process"
        )
        print(f"report: {size / 1e6:,.0f} MB in {sum(1 for _ in site.rglob('*'))} files")
        shutil.rmtree(site, ignore_errors=True)


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def compare_cluster(args: argparse.Namespace) -> None:
    """Local and cluster runs side by side, alternately; medians, overhead and client RSS."""
    jobs = args.jobs
    if args.cluster.startswith("local:") and not jobs:
        jobs = int(args.cluster.removeprefix("local:"))
    with tempfile.TemporaryDirectory(prefix="foldkit-bench-report-") as tmp:
        folder = Path(tmp) / "captures"
        total = make_captures(folder, args.captures)
        baseline = None if args.no_baseline else next(folder.glob("host-000/*"))
        print(f"made {args.captures} captures, {total / 1e6:,.0f} MB of capture text; --jobs {jobs} against --cluster {args.cluster}")
        times: dict[str, list[float]] = {"local": [], "cluster": []}
        cpus: dict[str, list[float]] = {"local": [], "cluster": []}
        pairs: list[float] = []
        loads = [load_average()]
        memory: dict[str, TreeMemory] = {}
        for i in range(args.repeat):
            for kind in ("local", "cluster") if i % 2 == 0 else ("cluster", "local"):
                site = Path(tmp) / f"site-{kind}"
                elapsed, mem, _ = run_once(folder, site, jobs, baseline, args.cluster if kind == "cluster" else None)
                times[kind].append(elapsed)
                cpus[kind].append(mem.cpu)
                loads.append(load_average())
                if kind not in memory or mem.peak_root > memory[kind].peak_root:
                    memory[kind] = mem
                print(f"  {kind:7s} run {i + 1}: {elapsed:.1f} s, {mem.cpu:.1f} CPU-s (load average {loads[-1]:.1f})")
                shutil.rmtree(site, ignore_errors=True)
            pairs.append(times["cluster"][-1] / times["local"][-1])
        medians = {kind: statistics.median(t) for kind, t in times.items()}
        for kind in ("local", "cluster"):
            m = memory[kind]
            print(
                f"{kind:7s}: median {medians[kind]:.1f} s over {args.repeat} run(s) ({total / 1e6 / medians[kind]:.1f} MB/s, "
                f"{args.captures / medians[kind]:.2f} captures/s), median {statistics.median(cpus[kind]):.1f} CPU-s; "
                f"peak RSS: client process {_mib(m.peak_root)}, largest process {_mib(m.peak_single)}, "
                f"whole tree {_mib(m.peak_total)} ({m.processes} processes)"
            )
        ratio = medians["cluster"] / medians["local"]
        cpu_ratio = statistics.median(cpus["cluster"]) / statistics.median(cpus["local"])
        print(f"cluster / local wall time: {ratio:.3f} (overhead {100 * (ratio - 1):+.1f} %); pairs: {', '.join(f'{p:.3f}' for p in pairs)}")
        print(f"cluster / local CPU time: {cpu_ratio:.3f} (overhead {100 * (cpu_ratio - 1):+.1f} %)")
        print(f"load average (1 min) before and after each run: {min(loads):.1f} to {max(loads):.1f}")


if __name__ == "__main__":
    main()

"""Throughput and peak memory of the bpftrace, BCC and folded folders.

Builds inputs of about SIZE_MB by repeating real corpus captures (for bpftrace that is an interval
dump: the same map printed again and again), folds each RUNS times in a fresh process and prints the
median time, MB/s and the peak RSS.

    PYTHONPATH=. python benchmarks/bench_bpf.py [SIZE_MB]
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "tests" / "data" / "captures"
#: Three runs give a median that is stable to a few percent on the 2-core reference machine.
RUNS = 3
DEFAULT_SIZE_MB = 50
INPUTS = {
    "bpftrace": "bpftrace-kstack-ustack-perf-comm",
    "bcc": "bcc-profile",
    "folded": "bcc-profile-folded",
}


def _build(capture: str, size: int, directory: Path) -> Path:
    data = zstandard.ZstdDecompressor().decompress((CAPTURES / f"{capture}.txt.zst").read_bytes())
    if not data.endswith(b"\n\n"):
        data += b"\n"
    path = directory / f"{capture}.x{size // len(data) + 1}.txt"
    path.write_bytes(data * (size // len(data) + 1))
    return path


def _one(fmt: str, path: str) -> None:
    from foldkit.ingest import FoldOptions, read

    start = time.perf_counter()
    profile = read(path, FoldOptions(format=fmt, maps=("all",) if fmt == "bpftrace" else ()))
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{elapsed:.4f} {peak_kib} {len(profile)}")


def main() -> None:
    """Build the inputs, run every folder RUNS times, print a table."""
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        _one(sys.argv[2], sys.argv[3])
        return
    size = int(float(sys.argv[1]) * 1e6) if len(sys.argv) > 1 else DEFAULT_SIZE_MB * 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'format':<9} {'input MB':>9} {'median s':>9} {'MB/s':>7} {'peak RSS MB':>12} {'stacks':>7}")
        for fmt, capture in INPUTS.items():
            path = _build(capture, size, Path(tmp))
            mb = path.stat().st_size / 1e6
            times, peaks = [], []
            stacks = "0"
            for _ in range(RUNS):
                done = subprocess.run(
                    [sys.executable, __file__, "--one", fmt, str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                    env={"PYTHONPATH": str(ROOT)},
                )
                seconds, peak, stacks = done.stdout.split()
                times.append(float(seconds))
                peaks.append(int(peak) / 1024)
            median = statistics.median(times)
            print(f"{fmt:<9} {mb:>9.1f} {median:>9.2f} {mb / median:>7.1f} {max(peaks):>12.0f} {stacks:>7}")


if __name__ == "__main__":
    main()

"""CPU time and peak memory of reading and writing pprof, native core against its Python twin.

Reads PROFILE (a `.pb.gz`; e.g. `foldkit fold /tmp/big.perf -o /tmp/big.pb.gz`) with `foldkit fold
PROFILE -o x.folded`, and writes its stacks back with `foldkit fold x.folded -o y.pb.gz`, each in a
fresh process with the native core on and off (`FOLDKIT_NATIVE=0`), RUNS times, and prints the
median CPU time (user + system) and peak RSS of each. CPU time, not wall time: the machine is
shared. The outputs of the two paths are compared byte for byte.

    PYTHONPATH=. python benchmarks/bench_pprof.py PROFILE
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

#: Three runs give a median that is stable to a few percent on the 2-core reference machine.
RUNS = 3


#: Runs foldkit's command line in this process and prints its peak RSS (KB) last on stderr.
_CHILD = (
    "import resource, sys\n"
    "from foldkit.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _run(args: list[str], native: bool) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MB) of one `foldkit` run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "FOLDKIT_NATIVE": "1" if native else "0"}
    done = subprocess.run([sys.executable, "-c", _CHILD, *args, "-q"], check=True, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, int(done.stderr.split()[-1]) / 1024


def main(profile: str) -> None:
    """Print the table for `profile`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        print(f"{'step':<8} {'core':<7} {'CPU s':>7} {'peak MB':>8}")
        for step in ("read", "write"):
            outputs = []
            for native in (True, False):
                name = "native" if native else "python"
                target = out / (f"{name}.folded" if step == "read" else f"{name}.pb.gz")
                source = profile if step == "read" else str(out / "native.folded")
                runs = [_run(["fold", source, "-o", str(target)], native) for _ in range(RUNS)]
                print(f"{step:<8} {name:<7} {statistics.median(c for c, _ in runs):7.2f} {max(m for _, m in runs):8.0f}")
                outputs.append(target.read_bytes())
            print(f"{step:<8} outputs {'identical' if outputs[0] == outputs[1] else 'DIFFER'}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

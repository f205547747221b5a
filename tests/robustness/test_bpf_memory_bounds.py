"""The native bpftrace and BCC readers hold a big map in bounded memory: 300,000 distinct entries
fold in a process whose address space is limited (RLIMIT_AS) to well below what the Python readers
need for them (they hold every entry as Python objects). A generous bound, no timing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.native import native_core

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")

ENTRIES = 300_000
#: Address space allowed: the native readers peak near 115 MB here, the Python readers near 230 MB.
LIMIT = 180 * 2**20
#: The child's environment: one malloc arena. glibc reserves 64 MB of address space for each arena
#: a thread makes when another holds the one it wanted, which depends on how the threads are
#: scheduled: the fold's address space peaked at 317 MB with arenas (114 MB resident; under the
#: limit it depended on which reservation failed first: one bcc failure in a loaded run), 133 MB
#: with one.
ENV = {**os.environ, "MALLOC_ARENA_MAX": "1"}

CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from foldkit.cli import main
main(["fold", sys.argv[1], "-o", sys.argv[2]])
"""


def _bpftrace(path: Path) -> None:
    with path.open("w") as f:
        f.write("Attaching 1 probe...\n\n")
        for i in range(ENTRIES):
            f.write(f"@[\n        s{i}+1\n        m{i % 1000}+2\n        main+3\n]: {i % 7 + 1}\n")


def _bcc(path: Path) -> None:
    with path.open("w") as f:
        f.write("Sampling at 49 Hertz of all threads by user + kernel stack... Hit Ctrl-C to end.\n\n")
        for i in range(ENTRIES):
            f.write(f"    s{i}\n    m{i % 1000}\n    main\n    -                app (7)\n        {i % 7 + 1}\n\n")


@pytest.mark.parametrize("write", [_bpftrace, _bcc], ids=["bpftrace", "bcc"])
def test_a_big_map_folds_within_a_bounded_address_space(write: object, tmp_path: Path) -> None:
    source, out = tmp_path / "in.txt", tmp_path / "out.folded"
    write(source)  # type: ignore[operator]
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(limit=LIMIT), str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=ENV,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = out.read_text().splitlines()
    assert len(lines) == ENTRIES and lines[0].startswith("app;main;m0;s0 " if write is _bcc else "main;m0;s0 ")

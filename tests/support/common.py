"""Shared test helpers: test data paths, decompression and golden files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import zstandard

TESTS = Path(__file__).parents[1]
DATA = TESTS / "data"
GOLDEN = TESTS / "golden"
FIXTURES = TESTS.parent / "fixtures"


def data_bytes(relative: str) -> bytes:
    """Contents of a file under tests/data (zstd-compressed copies are decompressed)."""
    path = DATA / relative
    if not path.exists() and (DATA / f"{relative}.zst").exists():
        path = DATA / f"{relative}.zst"
    raw = path.read_bytes()
    if path.suffix == ".zst":
        return zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    return raw


def folded_multiset(data: bytes) -> Counter[bytes]:
    """The lines of folded text as a multiset (blank lines ignored)."""
    return Counter(line for line in data.split(b"\n") if line)


def folded_weights(data: bytes) -> dict[bytes, float]:
    """stack -> summed weight for folded text."""
    out: dict[bytes, float] = {}
    for line in data.split(b"\n"):
        if line:
            stack, _, w = line.rpartition(b" ")
            out[stack] = out.get(stack, 0) + float(w)
    return out


def assert_golden(name: str, data: bytes) -> None:
    """Compare `data` with tests/golden/NAME (zstd-compressed when NAME ends in .zst).

    FOLDKIT_BLESS=1 rewrites the golden; a missing golden is written and the test fails, asking
    for review."""
    path = GOLDEN / name
    compressed = name.endswith(".zst")
    if os.environ.get("FOLDKIT_BLESS") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        path.write_bytes(zstandard.ZstdCompressor(level=19).compress(data) if compressed else data)
        if not existed and os.environ.get("FOLDKIT_BLESS") != "1":
            raise AssertionError(f"golden {path} was missing and has been written: review and commit it")
        return
    expected = path.read_bytes()
    if compressed:
        expected = zstandard.ZstdDecompressor().decompressobj().decompress(expected)
    assert data == expected, f"output differs from golden {path} (FOLDKIT_BLESS=1 to accept)"


def run_cli_without(modules: list[str], argv: list[str]) -> subprocess.CompletedProcess[str]:
    """`foldkit ARGV` in a fresh interpreter in which importing any of `modules` fails (an
    optional package that is not installed)."""
    code = (
        f"import sys; sys.modules.update(dict.fromkeys({modules!r}))\n"
        "from foldkit.cli import main\n"
        f"sys.exit(main({argv!r}))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def run_on_pty(cmd: list[str], env: dict[str, str], stream: str = "stdout") -> tuple[int, bytes]:
    """(exit code, what `cmd` wrote) with its `stream` ("stdout" or "stderr") a pseudo-terminal,
    the other discarded; read while it runs, so a full terminal buffer never blocks it."""
    import pty

    leader, follower = pty.openpty()
    other = {"stdout": "stderr", "stderr": "stdout"}[stream]
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, **{stream: follower, other: subprocess.DEVNULL})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks)


def chunked(text: bytes, cuts: list[int]) -> list[bytes]:
    """`text` cut after newlines near the given offsets, as `Source.chunks` cuts it."""
    chunks, pos = [], 0
    for cut in sorted(cuts):
        end = text.find(b"\n", max(cut, pos))
        if end < 0:
            break
        chunks.append(text[pos : end + 1])
        pos = end + 1
    if pos < len(text):
        chunks.append(text[pos:])
    return [c for c in chunks if c]


def console_modules(argv: list[str], folder: Path) -> tuple[subprocess.CompletedProcess[bytes], set[str]]:
    """The console script (`foldkit.launch.entry`) run with `argv` in a fresh interpreter (fast
    path on, no cluster from the environment; its exit code is not checked), and the modules it
    loaded beyond those the interpreter had before (recorded before anything is imported), as it
    exits. `folder` holds the list meanwhile."""
    import ast

    dump = folder / "modules.txt"
    code = (
        "import atexit, sys; before = set(sys.modules); "
        f"atexit.register(lambda: open({str(dump)!r}, 'w').write(repr(sorted(set(sys.modules) - before)))); "
        f"sys.argv = ['foldkit', *{argv!r}]; "
        "from foldkit.launch import entry; entry()"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FOLDKIT_CLUSTER", "FOLDKIT_FAST_PATH")}
    proc = subprocess.run([sys.executable, "-c", code], timeout=120, env=env, capture_output=True)
    return proc, set(ast.literal_eval(dump.read_text()))

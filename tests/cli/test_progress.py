"""The progress bar of `fold` and `flamegraph`: bytes read, on a terminal only, never with -q."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import zstandard

from foldkit.cli.progress import _counted, reading_progress
from foldkit.inputs import open_source, watch_sources
from tests.support.common import DATA, run_on_pty

CAPTURE = DATA / "captures" / "perf-c-fp.txt.zst"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_sources_count_the_stored_bytes_they_read(tmp_path: Path) -> None:
    seen = []
    with watch_sources(seen.append):
        source = open_source(str(CAPTURE))
    assert seen == [source] and source.size == CAPTURE.stat().st_size
    source.read_all()
    assert source.bytes_read == source.size
    assert open_source(b"a;b 1\n").size is None
    plain = tmp_path / "plain.perf"
    plain.write_bytes(zstandard.ZstdDecompressor().decompressobj().decompress(CAPTURE.read_bytes()))
    assert _counted([open_source(str(CAPTURE))]) == CAPTURE.stat().st_size
    assert _counted([open_source(str(plain))]) is None  # read by range natively: the bar pulses


def test_the_bar_shows_on_a_terminal_only_and_not_when_quiet() -> None:
    tty = Tty()
    with reading_progress(stream=tty, delay=0.0):
        source = open_source(str(CAPTURE))
        source.read_all()
        # the bar's thread draws when it gets the CPU: wait for it (a loaded machine can take seconds)
        deadline = time.monotonic() + 60
        while "perf-c-fp.txt.zst" not in tty.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "reading" in tty.getvalue() and "perf-c-fp.txt.zst" in tty.getvalue()
    for quiet, stream in ((True, Tty()), (False, io.StringIO())):
        with reading_progress(quiet, stream=stream, delay=0.0):
            open_source(str(CAPTURE)).read_all()
            time.sleep(0.3)
        assert stream.getvalue() == ""


def test_fold_on_a_terminal_draws_the_bar_on_stderr(tmp_path: Path) -> None:
    """A real terminal on stderr; the folded output still goes to the file, unchanged."""
    big = tmp_path / "big.perf.zst"
    data = zstandard.ZstdDecompressor().decompressobj().decompress(CAPTURE.read_bytes())
    big.write_bytes(zstandard.ZstdCompressor(level=1).compress(data * 20))
    env = {**os.environ, "COLUMNS": "120"}
    out = tmp_path / "out.folded"
    code, shown = run_on_pty(
        [sys.executable, "-c", "import foldkit.cli.progress as p; p.PROGRESS_DELAY = 0.0; from foldkit.cli import main; raise SystemExit(main())", "fold", str(big), "-o", str(out)],
        env, stream="stderr",
    )  # fmt: skip
    assert code == 0 and out.stat().st_size > 0
    assert b"reading" in shown
    quiet = subprocess.run([sys.executable, "-m", "foldkit", "fold", str(big), "-o", str(out), "-q"], capture_output=True, timeout=120)
    assert quiet.stderr == b""

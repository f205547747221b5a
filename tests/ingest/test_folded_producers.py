"""Folded files as each producer writes them (stackcollapse-perf.pl, inferno-collapse-perf, BCC's
`profile -f` and `-f -d`, foldkit), and the forms around them (CRLF, comments and foldkit's unit
header, decimal weights, two columns, whitespace around frames and weights): the native file
reader reads every stack of them itself (only comments are left to the reference reader) and
gives the reference reader's result; so does `foldkit.read` (every command's way in), on the
stored files and on what the installed inferno-collapse-perf and stackcollapse-perf.pl write now
(issue 20, item 1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

from foldkit import _native
from foldkit.ingest import FoldOptions, read
from foldkit.ingest.folded import fold_chunks, fold_file
from foldkit.profile import LazyProfile, Profile
from tests.ingest.test_folded_file_native import python_outcome
from tests.ingest.test_folded_native import described
from tests.support.common import DATA, data_bytes

PRODUCERS = {
    "stackcollapse-perf.pl": DATA / "producers" / "stackcollapse-perf.folded.zst",
    "inferno-collapse-perf": DATA / "producers" / "inferno-collapse-perf.folded.zst",
    "foldkit": DATA / "producers" / "foldkit.folded.zst",
    "bcc profile -f": DATA / "captures" / "bcc-profile-folded.txt.zst",
}


def producer_text(name: str) -> bytes:
    """The folded text `name` wrote."""
    if name == "bcc profile -f -d":  # BCC's delimited folded form: a `-` frame between user and kernel
        return b"".join(
            line.replace(b";entry_SYSCALL_64", b";-;entry_SYSCALL_64", 1) + b"\n"
            for line in producer_text("bcc profile -f").splitlines()
        )
    return zstandard.ZstdDecompressor().decompressobj().decompress(PRODUCERS[name].read_bytes())


def _lines(text: bytes, fn: Callable[[bytes], bytes]) -> bytes:
    return b"".join(fn(line) + b"\n" for line in text.splitlines())


def _decimal(line: bytes) -> bytes:
    stack, _, weight = line.rpartition(b" ")
    return stack + b" " + str(int(weight) / 4).encode()


def _two_columns(line: bytes) -> bytes:
    stack, _, weight = line.rpartition(b" ")
    return stack + b" " + str(int(weight) + 1).encode() + b" " + weight


#: Each form, made from a producer's text.
FORMS: dict[str, Callable[[bytes], bytes]] = {
    "as written": lambda text: text,
    "CRLF": lambda text: text.replace(b"\n", b"\r\n"),
    "comments and unit header": lambda text: b"# foldkit: unit=ns event=cpu-clock\n# a comment\n" + text + b"# end\n",
    "two spaces and a tab before the weight": lambda text: _lines(text, lambda ln: b"  \t".join(ln.rsplit(b" ", 1))),
    "whitespace at the ends": lambda text: _lines(text, lambda ln: b"  " + ln + b" \t"),
    "decimal weights": lambda text: _lines(text, _decimal),
    "two columns (difffolded.pl)": lambda text: _lines(text, _two_columns),
}

PRODUCER_NAMES = [*PRODUCERS, "bcc profile -f -d"]


def native_read(text: bytes, threads: int, min_split: int) -> tuple[object, Profile | None]:
    """The native file reader's table of `text` and `fold_file`'s profile of it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.folded"
        path.write_bytes(text)
        table = _native.read_folded_file(str(path), threads, 1 << 26, 1000, min_split=min_split)
        options = FoldOptions(jobs=threads)
        return table, fold_file("in.folded", str(path), options, 1 << 26, min_split=min_split)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("producer", PRODUCER_NAMES)
def test_every_producer_and_form_is_read_natively_with_the_twins_result(producer: str, form: str) -> None:
    text = FORMS[form](producer_text(producer))
    if form == "two columns (difffolded.pl)":
        # two-column lines go to the reference reader, which keeps their before column (the
        # differential graph); the native chunk reader reads every other line around them
        assert native_read(text, 1, 1 << 22)[1] is None
        chunked = fold_chunks("in.folded", [text], FoldOptions())
        assert chunked.before is not None and described(chunked) == python_outcome(text, FoldOptions())
        return
    for threads, min_split in ((1, 1 << 22), (3, 1)):
        table, profile = native_read(text, threads, min_split)
        assert table is not None and profile is not None, "the native file reader read the file"
        left = [line for _, line in table.deferred()]
        assert all(line.startswith(b"#") for line in left), left[:3]  # only comments cost a reference read
        if form == "decimal weights":
            assert table.has_floats() and not isinstance(profile, LazyProfile)
        else:
            assert isinstance(profile, LazyProfile) and profile.table is not None
        assert described(profile) == python_outcome(text, FoldOptions())


def test_inferno_and_the_perl_script_write_frames_that_end_in_a_space() -> None:
    """The reason for this file: those lines once sent the whole file to the Python reader."""
    for producer in ("stackcollapse-perf.pl", "inferno-collapse-perf"):
        assert any(line.endswith(b"]  200040") for line in producer_text(producer).splitlines())


def test_the_delimited_bcc_form_has_its_delimiter_frames() -> None:
    assert b";-;entry_SYSCALL_64" in producer_text("bcc profile -f -d")


def _but_notes(outcome: tuple[object, ...]) -> tuple[object, ...]:
    """`described`'s outcome without its notes (`read` notes the format it detected)."""
    return outcome[:4] + outcome[5:]


@pytest.mark.parametrize("producer", PRODUCER_NAMES)
def test_reading_each_producers_file_as_every_command_does_keeps_the_native_table(producer: str, tmp_path: Path) -> None:
    """`foldkit.read` of the file by its path (what `fold`, `flamegraph`, `top`, `diff` and `check`
    do): the stacks stay in the native table, with the reference reader's result."""
    text = producer_text(producer)
    path = tmp_path / "in.folded"
    path.write_bytes(text)
    profile = read(str(path))
    assert isinstance(profile, LazyProfile) and profile.table is not None
    assert _but_notes(described(profile)) == _but_notes(python_outcome(text, FoldOptions()))


def _installed_producers() -> dict[str, list[str]]:
    """The folding commands installed here (inferno-collapse-perf on PATH, FlameGraph's script in
    FLAMEGRAPH_DIR or /work/tools/FlameGraph), each to run as `[*cmd, --tid, --addrs, capture]`."""
    found: dict[str, list[str]] = {}
    if inferno := shutil.which("inferno-collapse-perf"):
        found["inferno-collapse-perf"] = [inferno]
    script = Path(os.environ.get("FLAMEGRAPH_DIR", "/work/tools/FlameGraph")) / "stackcollapse-perf.pl"
    if script.is_file() and shutil.which("perl"):
        found["stackcollapse-perf.pl"] = ["perl", str(script)]
    return found


@pytest.mark.parametrize("producer", ["inferno-collapse-perf", "stackcollapse-perf.pl"])
def test_what_the_installed_producers_write_today_keeps_the_native_table(producer: str, tmp_path: Path) -> None:
    """The same with the folded text the installed versions write now (the files above were written
    by fixed versions), of a real capture with `--tid --addrs` (frames ending in a space)."""
    command = _installed_producers().get(producer)
    if command is None:
        pytest.skip(f"{producer} is not installed")
    capture = tmp_path / "capture.perf"
    capture.write_bytes(data_bytes("captures/perf-system-mixed.txt"))
    text = subprocess.run([*command, "--tid", "--addrs", str(capture)], capture_output=True, check=True, timeout=300).stdout
    assert text.count(b"\n") > 100, text[:200]
    path = tmp_path / "in.folded"
    path.write_bytes(text)
    profile = read(str(path))
    assert isinstance(profile, LazyProfile) and profile.table is not None
    assert _but_notes(described(profile)) == _but_notes(python_outcome(text, FoldOptions()))

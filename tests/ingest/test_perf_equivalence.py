"""The native perf folder (Rust, threads) and the Python line path (the reference twin) give the
same profile byte for byte, for any chunk size, thread count and folding flag: property tests on
generated perf script text and on every real capture."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.errors import InputError, UsageError
from foldkit.ingest import FoldOptions, perf, read
from foldkit.native import native_core
from foldkit.profile import Profile
from tests.support.common import DATA

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")


@contextmanager
def twin() -> Iterator[None]:
    """Fold with the Python line path only."""
    with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
        yield


COMMS = ["bash", "java", "C2 CompilerThre", "kworker/0:1", "FS Broker 5858", ":-1", "tmpl", "python3.11"]
EVENTS = ["cpu-clock:ppp:", "cycles:u:", "cycles:", "task-clock:", "sched:sched_switch: prev_comm=a prev_pid=1 ==> next_comm=b",
          "cpu-clock/freq=499/:", "page-faults:"]
FRAMES = [
    "\tffffffff815d6c20 mod_lruvec_state+0x20 ([kernel.kallsyms])",
    "\tffffffff81000000 entry_SYSCALL_64+0x1f ([kernel.kallsyms])",
    "\t    7f1e2215d058 __libc_start_main+0xed (/lib/x86_64-linux-gnu/libc-2.15.so)",
    "\t    7f1e2215d0c0  (/lib/x86_64-linux-gnu/libc-2.15.so)",
    "\t    55d0c1e2a3b4 [unknown] (/usr/bin/python3.11)",
    "\t5966605dd52f8e00 [unknown] ([unknown])",
    "\t          40a1b2 work::run<(anonymous namespace)::Shape>(int)+0x12 (/tmp/cw/tmpl)",
    "\t          40a1b2 std::_Function_handler<double (double), main::{lambda(double)#1}>::_M_invoke+0x9 (/tmp/cw/tmpl)",
    "\t          40a1b3 cmp_int+0x3bb (inlined)",
    "\t    7f3a00001234 LCounter;::countTo->LFoo;::bar+0x50 (/tmp/perf-1234.map)",
    "\t    7f3a00001299 long Work.depthSum(Work$Node, int)+0xa0 (/tmp/perf-32305.map)",
    "\t            1a2b JS:*regexPhase /tmp/cw/work.js:24:20+0x548 (/tmp/cw/jd/jitted-32340-2183.so)",
    "\t    7f12aa000000 [unknown] (/memfd:sealed-9117 (deleted))",
    "\t          8c3453 tcp_sendmsg (/lib/modules/4.3.0/build/vmlinux)",
    "\t    ffffffffc087cbc9 mlx5e_xdp_handle+0xa9 (/lib/modules/5.4/mlx5_core.ko)",
    "\t    7f00000000ff caf\xc3\xa9+0x1 (/x \xff\xfe.so)",
    "\t    55d0c1e2a3b4 _$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..Drop$GT$::drop::h3ab4e1c5e3a0b2c1+0x1 (/r)",
    "\t    55d0c1e2a3b4 std::rt::lang_start::_$u7b$$u7b$closure$u7d$$u7d$::h0123456789abcdef+0x2 (/r)",
    "\t          40a1b2 _ZN4work3runILi3EEEvRKSt6vectorIiSaIiEE+0x12 (/tmp/cw/tmpl)",
    "\t          40a1b2 _ZN3std2rt10lang_start17h0123456789abcdefE+0x5 (/r)",
    "\t          40a1b2 \x1cspaced\x1d+0x5 (/r)",
]


@st.composite
def perf_text(draw: st.DrawFn) -> bytes:
    lines: list[str] = []
    if draw(st.booleans()):
        lines += ["# ========", "# cmdline : /usr/bin/perf record -g", "# ========", "#"]
    n = draw(st.integers(min_value=0, max_value=12))
    for i in range(n):
        comm = draw(st.sampled_from(COMMS))
        ids = draw(st.sampled_from(["{p}", "{p}/{t}", "{p}  "]))
        cpu = draw(st.sampled_from(["", " [000]", " [011]"]))
        time = draw(st.sampled_from(["", f"  {1000 + i}.{i:06d}:"]))
        period = draw(st.sampled_from(["", " 1", "    1001001", " 40"]))
        event = draw(st.sampled_from(EVENTS))
        header = f"{comm} {ids.format(p=100 + i % 3, t=200 + i % 2)}{cpu}{time}{period} {event} "
        lines.append(header)
        for frame in draw(st.lists(st.sampled_from(FRAMES), max_size=6)):
            lines.append(frame)
            if draw(st.integers(0, 9)) == 0:
                lines.append("  tmpl.cpp:124")
        if draw(st.integers(0, 15)) == 0:
            lines.append("PERF_RECORD_EXIT(1:1):(0:0)")
        if i < n - 1 or draw(st.booleans()):
            lines.append("")
    newline = "\r\n" if draw(st.integers(0, 9)) == 0 else "\n"
    return newline.join(lines).encode("utf-8", "surrogateescape") + (b"\n" if lines and draw(st.booleans()) else b"")


# Frame lines in perf's usual `\t%16lx sym (dso)` layout, with the same symbols at several addresses
# (the fast path names such lines by the text after the address column), and near misses of that
# layout: other widths, a hex-looking symbol, an empty symbol, an address with a space inside.
TAILS = ["mod_lruvec_state+0x20 ([kernel.kallsyms])", "main+0x1f (/tmp/cw/a.out)", "main+0x2a (/tmp/cw/a.out)",
         "[unknown] ([unknown])", "cafe (/lib/libc.so.6)", "deadbeef+0x1 (/x.so)", "cmp_int+0x3bb (inlined)",
         "LCounter;::countTo->LFoo;::bar+0x50 (/tmp/perf-1234.map)", "f(int)::{lambda()#1}+0x9 (/tmp/cw/tmpl)",
         "(anonymous namespace)::g+0x1 (/tmp/cw/tmpl)", "\tx (/x.so)", "THIS_IS_NOT_A_FRAME", "sym+0x1"]
# (an all-blank column and one with a space inside are not addresses: such lines must be parsed as a
# whole, never named by the text after the column)
ADDRESSES = ["ffffffff815d6c20", "ffffffff815d6c28", "    7f1e2215d058", "          40a1b2", "              40",
             "   ab cd 7f1e2215", "5966605dd52f8e001", "    7f1e2215d05", " " * 16]


@st.composite
def fixed_width_text(draw: st.DrawFn) -> bytes:
    lines: list[str] = []
    for i in range(draw(st.integers(min_value=1, max_value=10))):
        comm = draw(st.sampled_from(["bash", "java", "FS Broker 5858"]))
        lines.append(f"{comm} {100 + i % 2}/{200 + i % 3} [000] {1000 + i}.000001: {draw(st.sampled_from(['1', '40']))} cycles: ")
        n = draw(st.integers(min_value=0, max_value=5))
        for _ in range(n):
            sep = draw(st.sampled_from([" ", " ", " ", "  "]))
            lines.append(f"\t{draw(st.sampled_from(ADDRESSES))}{sep}{draw(st.sampled_from(TAILS))}")
            if draw(st.integers(0, 11)) == 0:
                lines.append(draw(st.sampled_from(["  tmpl.cpp:124", "PERF_RECORD_EXIT(1:1):(0:0)", ""])))
        lines.append("")
    return "\n".join(lines).encode()


def _key(p: Profile) -> tuple:  # type: ignore[type-arg]
    return p.to_folded_bytes(), p.counts, p.event, p.unit, p.diagnostics.bad_lines, p.diagnostics.messages(), repr(p.timeline)


OPTIONS = st.builds(
    FoldOptions,
    pid=st.booleans(),
    tid=st.booleans(),
    kernel=st.booleans(),
    jit=st.booleans(),
    inline=st.booleans(),
    addrs=st.booleans(),
    weight=st.sampled_from(["period", "samples"]),
    skip_after=st.sampled_from([(), ("main",), ("f", "[unknown]"), ("cmp_int",)]),
    keep_time=st.booleans(),
    demangle=st.booleans(),
    jobs=st.integers(min_value=1, max_value=3),
    chunk_size=st.sampled_from([0, 1, 7, 64, 400, 4096]),
)


def _outcome(spec: bytes | Path, options: FoldOptions) -> tuple:  # type: ignore[type-arg]
    """What folding gives: the profile's key, or the usage error (several sampling events)."""
    try:
        return _key(read(spec, options))
    except UsageError as exc:
        return ("refused", str(exc))


def _both(spec: bytes | Path, options: FoldOptions) -> tuple[tuple, tuple]:  # type: ignore[type-arg]
    native = _outcome(spec, options)
    with twin():
        reference = _outcome(spec, options)
    return native, reference


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(perf_text(), fixed_width_text()), OPTIONS, st.booleans())
def test_native_equals_twin_on_generated_text(text: bytes, options: FoldOptions, as_file: bool) -> None:
    if not as_file:
        native, reference = _both(text, options)
    else:  # a plain file is read by the threads themselves, by range
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "capture.perf"
            path.write_bytes(text)
            native, reference = _both(path, options)
    assert native == reference


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fixed_width_text(), min_size=2, max_size=4), OPTIONS)
def test_native_equals_twin_when_chunks_mix_layouts(texts: list[bytes], options: FoldOptions) -> None:
    # a `-G` style chunk (space-indented header, no blank lines) goes to the line path, the others not
    odd = b"   bash 7/7 [000] 1.0: 1 cycles: \n\t1234 odd (/x)\n"
    text = b"\n".join(texts) + b"\n\n" + odd + b"\n" + b"\n".join(texts)
    native, reference = _both(text, options)
    assert native == reference


#: Lines that damage a capture: bad lines (no header, no frame), runs of blank lines, a header
#: whose chain holds a bad line, a non-UTF-8 bad line.
DAMAGE = [b"NOT A HEADER", b"", b"   ", b"\tnot a frame", b"   x 1 ", b"garbage \xc3\xa9 \xff here",
          b"bash 9 1.0: 1 cycles: \nTHIS_IS_NOT_A_FRAME", b"# a comment"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perf_text(), st.lists(st.tuples(st.integers(0, 200), st.sampled_from(DAMAGE)), min_size=1, max_size=4), OPTIONS,
       st.booleans())
def test_a_bad_line_costs_its_line_not_the_chunk(text: bytes, damage: list[tuple[int, bytes]], options: FoldOptions,
                                                  as_file: bool) -> None:
    # bad lines anywhere in block-layout samples: skipped and quoted natively as the twin does,
    # no chunk handed to the twin
    lines = text.split(b"\n")
    for at, line in sorted(damage, reverse=True):
        lines.insert(at % (len(lines) + 1), line)
    damaged = b"\n".join(lines)
    options = FoldOptions(**{**options.__dict__, "format": "perf"})
    calls: list[int] = []
    original = perf.FoldState.fold_chunk

    def spy(self: perf.FoldState, index: int, chunk: bytes, options: FoldOptions) -> None:
        calls.append(index)
        original(self, index, chunk, options)

    with tempfile.TemporaryDirectory() as tmp:
        spec: bytes | Path = damaged
        if as_file:
            spec = Path(tmp) / "capture.perf"
            spec.write_bytes(damaged)
        with mock.patch.object(perf.FoldState, "fold_chunk", spy):
            native = _outcome(spec, options)
        with twin():
            reference = _outcome(spec, options)
    assert native == reference
    assert calls == []


CAPTURES = sorted((DATA / "captures").glob("perf-*.zst"))


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name.removesuffix(".txt.zst"))
def test_native_equals_twin_on_every_capture(path: Path, tmp_path: Path) -> None:
    from tests.support.common import data_bytes

    plain = tmp_path / "capture.perf"
    plain.write_bytes(data_bytes(f"captures/{path.name}"))
    for options in [FoldOptions(), FoldOptions.with_all(tid=True, addrs=True, keep_time=True), FoldOptions(demangle=True, skip_after=("main",))]:
        with twin():
            reference = _outcome(path, options)
        for spec, jobs, chunk_size in [(path, 1, 0), (path, 2, 20_000), (plain, 2, 0), (plain, 2, 9_999)]:
            native = _outcome(spec, FoldOptions(**{**options.__dict__, "jobs": jobs, "chunk_size": chunk_size}))
            assert native == reference, (path.name, options, jobs, chunk_size)


def test_native_path_folds_the_usual_layouts_itself() -> None:
    # the line path is only for odd layouts: on captures in perf's default layout, no chunk reaches it
    calls: list[int] = []
    original = perf.FoldState.fold_chunk

    def spy(self: perf.FoldState, index: int, chunk: bytes, options: FoldOptions) -> None:
        calls.append(index)
        original(self, index, chunk, options)

    with mock.patch.object(perf.FoldState, "fold_chunk", spy):
        for name in ["perf-c-fp", "perf-system-mixed", "perf-java", "perf-c-dwarf", "perf-python-header", "perf-cpp-srcline",
                     "perf-cpp-nodemangle", "perf-node-jitdump"]:
            read(DATA / "captures" / f"{name}.txt.zst", FoldOptions(chunk_size=50_000))
            assert calls == [], name
        profile = read(b"bash 1 1.0: 1 cycles: \n\t1234 f (/x)\nNOT A FRAME\n\n")  # a bad line: skipped natively
        assert calls == [] and profile.diagnostics.bad_lines == 1
        with pytest.raises(InputError, match="add up to more than"):  # a period beyond 64 bits
            read(b"bash 1 1.0: 99999999999999999999 cycles: \n\t1234 f (/x)\n\n")
        assert calls, "a chunk with a period beyond 64 bits goes to the line path"


def test_twin_runs_without_native_core() -> None:
    with twin():
        assert native_core() is None
        profile = read(DATA / "captures" / "perf-c-fp.txt.zst")
    assert profile.weights


def test_plain_file_with_a_record_longer_than_max_record(tmp_path: Path) -> None:
    # the threads stop reading by range and the file is read as a stream, which skips such records
    sample = b"bash 1 1.0: 1 cycles: \n\t1234 f (/x)\n\n"
    path = tmp_path / "long.perf"
    path.write_bytes(sample * 3000 + b"bash 1 1.0: 1 cycles: \n" + b"\t1234 y (/x)\n" * 200_000 + b"\n" + sample * 3000)
    options = FoldOptions(chunk_size=65_536, max_record=1 << 20, jobs=2)
    native, reference = _both(path, options)
    assert native == reference
    assert b"bash;f 6000\n" in native[0]


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_compressed_files_fold_natively_and_keep_the_readers_errors(tmp_path: Path, compression: str) -> None:
    import gzip

    import zstandard

    from tests.support.common import data_bytes

    text = data_bytes("captures/perf-system-mixed.txt")
    packed = zstandard.ZstdCompressor().compress(text) if compression == "zstd" else gzip.compress(text)
    path = tmp_path / f"capture.perf.{compression[:2]}"
    path.write_bytes(packed)
    options = FoldOptions(chunk_size=30_000, jobs=2)
    native, reference = _both(path, options)
    assert native == reference == _key(read(text, options))
    # a truncated stream: the native reader gives way to the Python reader, which names the problem
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError, match=f"truncated or corrupt {compression} stream"):
        read(path, options)

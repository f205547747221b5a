"""The fast and line-by-line perf paths, any chunk size and any number of workers give the same
profile, byte for byte (property tests on generated perf script text and on real captures)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.ingest import FoldOptions, read
from foldkit.ingest.perf import Resolver, fold_chunk_fast, fold_chunk_lines
from tests.helpers import DATA

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


def _key(p) -> tuple:  # type: ignore[no-untyped-def]
    return p.to_folded_bytes(), p.counts, p.event, p.diagnostics.bad_lines, p.diagnostics.warnings


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perf_text(), st.sampled_from([FoldOptions(), FoldOptions(tid=True, addrs=True), FoldOptions.with_all(skip_after=("main",))]))
def test_fast_path_equals_line_path(text: bytes, options: FoldOptions) -> None:
    text = text.replace(b"\r\n", b"\n")
    fast = fold_chunk_fast(text, Resolver(options))
    slow = fold_chunk_lines(text, Resolver(options))
    if fast is not None:
        assert fast.events == slow.events
        assert list(fast.events) == list(slow.events)  # first-seen event order too
    timed = fold_chunk_fast(text, Resolver(options), keep_time=True)
    slow_timed = fold_chunk_lines(text, Resolver(options), keep_time=True)
    if timed is not None:
        assert timed.events == slow_timed.events
        assert repr(timed.timeline) == repr(slow_timed.timeline)  # same order; NaN for no time


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perf_text(), st.integers(min_value=1, max_value=400))
def test_any_chunk_size_gives_the_same_profile(text: bytes, chunk_size: int) -> None:
    whole = read(text, FoldOptions(jobs=1))
    chunked = read(text, FoldOptions(jobs=1, chunk_size=chunk_size))
    assert _key(chunked)[:4] == _key(whole)[:4]
    timed = read(text, FoldOptions(jobs=1, keep_time=True, chunk_size=chunk_size))
    assert timed.to_folded_bytes() == whole.to_folded_bytes()


def test_workers_and_chunks_on_real_captures() -> None:
    for name in ["perf-system-mixed.txt.zst", "perf-cpp-srcline.txt.zst", "perf-cpp-with-side-events.txt.zst",
                 "perf-cpp-hide-callgraph.txt.zst", "perf-sched-switch.txt.zst"]:
        path = DATA / "captures" / name
        serial = read(path, FoldOptions(jobs=1))
        parallel = read(path, FoldOptions(jobs=2, chunk_size=20_000))
        assert _key(parallel) == _key(serial), name
        tiny = read(path, FoldOptions(jobs=1, chunk_size=7))
        assert _key(tiny)[:4] == _key(serial)[:4], name


def test_fast_path_handles_default_layouts() -> None:
    from tests.helpers import data_bytes

    for name in ["perf-c-fp", "perf-system-mixed", "perf-java", "perf-c-dwarf", "perf-python-header"]:
        text = data_bytes(f"captures/{name}.txt")
        if text.startswith(b"#"):
            text = text[text.index(b"\n# ========\n#\n") + 14 :]
        assert fold_chunk_fast(text, Resolver(FoldOptions())) is not None, name


def test_workers_reading_file_ranges_match_serial(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import data_bytes

    cases = {
        "mixed": data_bytes("captures/perf-system-mixed.txt"),
        "hide-callgraph": data_bytes("captures/perf-cpp-hide-callgraph.txt"),  # no blank lines at all
        "blank-runs": data_bytes("captures/perf-c-fp.txt").replace(b"\n\n", b"\n\n\n\n"),
        "header": data_bytes("captures/perf-python-header.txt"),
    }
    for name, text in cases.items():
        path = tmp_path / f"{name}.perf"
        path.write_bytes(text)
        serial = read(path, FoldOptions(jobs=1))
        for chunk_size in (997, 65_537, len(text) // 3):
            parallel = read(path, FoldOptions(jobs=2, chunk_size=chunk_size))
            assert _key(parallel) == _key(serial), (name, chunk_size)


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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fixed_width_text(), min_size=1, max_size=3),
       st.sampled_from([FoldOptions(), FoldOptions.with_all(), FoldOptions(addrs=True), FoldOptions(skip_after=("main",))]))
def test_fast_path_equals_line_path_on_fixed_width_frames(texts: list[bytes], options: FoldOptions) -> None:
    from unittest import mock

    from foldkit.ingest import perf

    # each path keeps one resolver for several chunks, with tiny caches, as a worker that evicts entries
    with mock.patch.object(perf, "CHAIN_CACHE_LIMIT", 2), mock.patch.object(perf, "LINE_CACHE_LIMIT", 3):
        resolver, slow_resolver = Resolver(options), Resolver(options)
        for text in texts:
            fast = fold_chunk_fast(text, resolver)
            slow = fold_chunk_lines(text, slow_resolver)
            if fast is not None:
                assert fast.events == slow.events
                assert list(fast.events) == list(slow.events)


def test_fixed_width_lookup_runs_on_real_captures() -> None:
    from tests.helpers import data_bytes

    for name in ["perf-c-fp", "perf-system-mixed", "perf-java"]:
        resolver = Resolver(FoldOptions())
        assert fold_chunk_fast(data_bytes(f"captures/{name}.txt"), resolver) is not None, name
        assert resolver._fixed[False] or resolver._fixed[True], name  # callers' chains were looked up by tails

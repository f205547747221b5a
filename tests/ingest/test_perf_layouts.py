"""perf script layouts beyond perf's default one are folded by the native core too, line by line as
the Python twin reads them: `-G` (one space-indented header per sample, its frame on the header
line), recordings without call chains, side events (`--show-task-events`, `--show-mmap-events`),
samples without blank lines between them, comments between samples, `+srcline` after a sample's
only frame, samples without call chains whose frame is not ASCII, and bad lines (skipped and
reported by line number as the twin reports them)."""

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

from foldkit.errors import UsageError
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


@contextmanager
def chunks_to_twin() -> Iterator[list[int]]:
    """The sizes of the chunks the native folder hands to the line path while the block runs."""
    calls: list[int] = []
    original = perf.FoldState.fold_chunk

    def spy(self: perf.FoldState, index: int, chunk: bytes, options: FoldOptions) -> None:
        calls.append(len(chunk))
        original(self, index, chunk, options)

    with mock.patch.object(perf.FoldState, "fold_chunk", spy):
        yield calls


def _key(p: Profile) -> tuple:  # type: ignore[type-arg]
    return p.to_folded_bytes(), p.counts, p.event, p.unit, p.diagnostics.bad_lines, p.diagnostics.messages(), repr(p.timeline)


def _outcome(spec: bytes | Path, options: FoldOptions) -> tuple:  # type: ignore[type-arg]
    try:
        return _key(read(spec, options))
    except UsageError as exc:
        return ("refused", str(exc))


#: Every perf capture in tests/data, the ones made for these layouts included (see its README).
CAPTURES = sorted((DATA / "captures").glob("perf-*.zst"))
LAYOUTS = [
    "perf-system-hide-callgraph",  # perf script -G
    "perf-cpp-hide-callgraph",  # perf script -G
    "perf-system-no-callchain",  # perf record without -g
    "perf-system-no-callchain-fields",  # -F comm,pid,tid,time,event,ip,sym
    "perf-system-no-callchain-srcline",  # -F ...,ip,sym,dso,srcline
    "perf-system-task-events",  # --show-task-events --show-mmap-events
    "perf-cpp-with-side-events",
]


def test_the_layout_captures_are_here() -> None:
    names = {p.name.removesuffix(".txt.zst") for p in CAPTURES}
    assert set(LAYOUTS) <= names


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name.removesuffix(".txt.zst"))
def test_every_perf_capture_folds_natively(path: Path) -> None:
    for options in [FoldOptions(chunk_size=20_000, jobs=2), FoldOptions.with_all(tid=True, keep_time=True, chunk_size=7_000)]:
        with chunks_to_twin() as calls:
            native = _outcome(path, options)
        assert calls == [], (path.name, options)
        with twin():
            assert native == _outcome(path, options)


def test_hide_call_graph_folds_as_comm_and_function() -> None:
    # the same recording printed with its call chains (perf-system-task-events) and with -G
    hidden = read(DATA / "captures" / "perf-system-hide-callgraph.txt.zst", FoldOptions(tid=True, weight="samples"))
    chains = read(DATA / "captures" / "perf-system-task-events.txt.zst", FoldOptions(tid=True, weight="samples"))
    assert hidden.diagnostics.bad_lines == chains.diagnostics.bad_lines == 0
    assert hidden.weights["lto_cgu.0.rcgu.-?/906;llvm::InstCombinerImpl::prepareWorklist"] == 4
    # one frame per sample: the leaf of the call chain under the same comm-PID/TID root
    leaves: dict[str, int] = {}
    for stack, w in chains.weights.items():
        root, *frames = stack.split(";")
        key = f"{root};{frames[-1]}" if frames else root
        leaves[key] = leaves.get(key, 0) + w
    assert sum(hidden.weights.values()) == sum(chains.weights.values()) == 412
    # (a few differ: the call chain's leaf may be an inlined frame or resolved otherwise)
    same = sum(w for s, w in hidden.weights.items() if s in leaves)
    assert same >= 0.95 * 412


def test_srcline_after_the_frame_on_a_header_line_is_skipped() -> None:
    # `perf script -F comm,tid,time,ip,sym,dso,srcline` of a recording without call chains: the
    # source line follows the header that holds the frame (the twin called it a bad line before)
    text = (
        b"        bpftrace   351/351   [001] 30901.124893:    5025125 cpu-clock:ppp:      55b557b2ff0e f (/usr/bin/bpftrace)\n"
        b"  bpftrace[aef0e]\n"
        b"  kworker/u8:1-e   352/352   [001] 30901.124894:    5025125 cpu-clock:ppp:  ffffffff81608fe0 g ([kernel.kallsyms])\n"
        b"  [kernel.kallsyms][ffffffff81608fe0]\n"
        b"  kworker/u8:1-e   352/352   [001] 30901.124895:    5025125 cpu-clock:ppp:  ffffffff81608fe0 g ([kernel.kallsyms])\n"
    )
    for native in (True, False):
        with mock.patch.dict(os.environ, {} if native else {"FOLDKIT_NATIVE": "0"}):
            profile = read(text, FoldOptions(weight="samples"))
        assert profile.diagnostics.bad_lines == 0
        # a header indented by two spaces (a 14-character comm) is still a header
        assert profile.weights == {"bpftrace;f": 1, "kworker/u8:1-e;g": 2}


COMMS = ["bash", "java", "C2 CompilerThre", "kworker/u8:1-e", "FS Broker 5858", ":-1", "tmpl"]
RESTS = [
    "",
    "      7f39eb05a9b4 _dl_lookup_symbol_x+0x44 (/usr/lib/ld.so)",
    "  ffffffff81b9aa87 __list_del_entry_valid_or_report+0x47 ([kernel.kallsyms])",
    "      55749efa4a60 [unknown] (/usr/bin/dash)",
    "      7f8bce0cdf68 cfree@GLIBC_2.2.5",
    "      7f3a00001234 LCounter;::countTo->LFoo;::bar+0x50 (/tmp/perf-1234.map)",
    " prev_comm=a prev_pid=1 ==> next_comm=b",
    # not ASCII: a symbol, a dso that is no UTF-8, whitespace Python strips (NBSP, U+3000, \x1c),
    # a frame only after stripping that, text that is no frame
    "      7f39eb05a9b4 caf\u00e9+0x44 (/usr/lib/ld.so)",
    "      7f39eb05a9b4 f+0x1 (/x \udcff\udcfe.so)",
    "  \u00a0 7f8bce0cdf68 g+0x1 (/x)\u3000\x1c",
    " \u00a07f8bce0cdf68 (/x)\u0085",
    "      caf\u00e9 \udcc2",
]
OTHER_LINES = [
    "\t    7f1e2215d058 main+0xed (/x)",
    "\t          40a1b2 cmp_int+0x3bb (inlined)",
    "\t    7f00000000ff caf\xc3\xa9+0x1 (/x \xff\xfe.so)",
    "  tmpl.cpp:124",
    "  bpftrace[aef0e]",
    "",
    "# a comment",
    "sh   338/338   30826.906949: PERF_RECORD_COMM exec: sh:338/338",
    "         swapper     0 [000]     0.000000: PERF_RECORD_MMAP -1/0: [0xffffffff81000000(0x1258780) @ 0x0]: x [kernel.kallsyms]_text",
]


@st.composite
def line_layout_text(draw: st.DrawFn, bad: bool) -> bytes:
    """Samples in the layouts of `-G`, recordings without call chains and side events, with
    frame lines, source lines, comments and blank lines here and there; a bad line when `bad`."""
    lines: list[str] = []
    n = draw(st.integers(min_value=1, max_value=14))
    for i in range(n):
        comm = draw(st.sampled_from(COMMS))
        ids = draw(st.sampled_from(["{p}", "{p}/{t}"])).format(p=100 + i % 3, t=200 + i % 2)
        indent = draw(st.sampled_from(["", " ", "  ", " " * 8]))
        cpu = draw(st.sampled_from(["", " [000]"]))
        time = draw(st.sampled_from(["", f" {1000 + i}.{i:06d}:"]))
        period = draw(st.sampled_from(["", "    1001001", " 40"]))
        event = draw(st.sampled_from(["cpu-clock:ppp:", "cycles:", "sched:sched_switch:", "task-clock:"]))
        lines.append(f"{indent}{comm} {ids}{cpu}{time}{period} {event}{draw(st.sampled_from(RESTS))}")
        for _ in range(draw(st.integers(0, 2))):
            if draw(st.integers(0, 2)) == 0:
                lines.append(draw(st.sampled_from(OTHER_LINES)))
    if bad:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["NOT A HEADER", "   x 1 ", "\tnot a frame"])))
    newline = "\r\n" if draw(st.integers(0, 9)) == 0 else "\n"
    return newline.join(lines).encode("utf-8", "surrogateescape") + (b"\n" if draw(st.booleans()) else b"")


OPTIONS = st.builds(
    FoldOptions,
    pid=st.booleans(),
    tid=st.booleans(),
    kernel=st.booleans(),
    jit=st.booleans(),
    addrs=st.booleans(),
    weight=st.sampled_from(["period", "samples"]),
    skip_after=st.sampled_from([(), ("main",), ("_dl_lookup_symbol_x",)]),
    keep_time=st.booleans(),
    event=st.sampled_from([None, "cpu-clock"]),
    jobs=st.integers(min_value=1, max_value=3),
    chunk_size=st.sampled_from([0, 1, 64, 400, 4096]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans().flatmap(line_layout_text), OPTIONS, st.booleans())
def test_native_equals_twin_on_line_layouts(text: bytes, options: FoldOptions, as_file: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec: bytes | Path = text
        if as_file:  # a plain file is read by the threads themselves, by range
            spec = Path(tmp) / "capture.perf"
            spec.write_bytes(text)
        with twin():
            reference = _outcome(spec, options)
        with chunks_to_twin() as calls:
            native = _outcome(spec, options)
    assert native == reference
    assert calls == [], "no chunk goes to the twin, bad lines or not"

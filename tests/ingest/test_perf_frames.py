"""Frame-line parsing and symbol tidying (the rules in docs/differences.md, perf section)."""

from __future__ import annotations

import pytest

from foldkit.ingest import FoldOptions, read
from foldkit.ingest.perf_frames import FrameLine, cut_arguments, parse_frame_line


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("StealTask::do_it(GCTaskManager*, unsigned int)", "StealTask::do_it"),
        ("long Work.depthSum(Work$Node, int)", "long Work.depthSum"),
        ("StubRoutines (1)", "StubRoutines"),
        ("(anonymous namespace)::Circle::~Circle", "(anonymous namespace)::Circle::~Circle"),
        ("(anonymous namespace)::f(int)", "(anonymous namespace)::f"),
        ("regexp/syntax.(*parser).maybeConcat", "regexp/syntax.(*parser).maybeConcat"),
        ("std::_Function_handler<int (int, int), main::{lambda(int, int)#1}>::_M_invoke",
         "std::_Function_handler<int (int, int), main::{lambda(int, int)#1}>::_M_invoke"),
        ("work::functional_phase()::{lambda(double)#2}", "work::functional_phase()::{lambda(double)#2}"),
        ("Foo::operator()(int) const", "Foo::operator()"),
        ("v8::internal::ConcurrentBitmap<(v8::internal::AccessMode)0>::ClearRange",
         "v8::internal::ConcurrentBitmap<(v8::internal::AccessMode)0>::ClearRange"),
        ("Lorg/mozilla/javascript/ContextFactory;.call(Lorg/mozilla/javascript/ContextAction;)Ljava/lang/Object;",
         "Lorg/mozilla/javascript/ContextFactory;.call"),
        ("plain_c_function", "plain_c_function"),
    ],
)
def test_cut_arguments(name: str, expected: str) -> None:
    assert cut_arguments(name) == expected


@pytest.mark.parametrize(
    ("line", "frame"),
    [
        ("\tffffffff8103ce3b native_safe_halt ([kernel.kallsyms])", FrameLine("ffffffff8103ce3b", "native_safe_halt", "[kernel.kallsyms]")),
        ("\t    7f1e2215d058  (/lib/libc-2.15.so)", FrameLine("7f1e2215d058", "", "/lib/libc-2.15.so")),
        ("\t7f00 [unknown] (/memfd:sealed-1 (deleted))", FrameLine("7f00", "[unknown]", "/memfd:sealed-1 (deleted)")),
        ("\t    55d0 foo (inlined)", FrameLine("55d0", "foo", "inlined")),
        ("\t    55d0 tmpl_fn", FrameLine("55d0", "tmpl_fn", None)),  # -F without dso
        ("\tmain+0x12 (/usr/bin/x)", FrameLine("", "main+0x12", "/usr/bin/x")),  # -F without ip
        ("\tadd (/usr/bin/x)", FrameLine("", "add", "/usr/bin/x")),  # a hex-looking name, no ip
        ("\t1a2b JS:*regexPhase /tmp/cw/work.js:24:20+0x548 (/tmp/perf-1.map)",
         FrameLine("1a2b", "JS:*regexPhase /tmp/cw/work.js:24:20+0x548", "/tmp/perf-1.map")),
    ],
)
def test_parse_frame_line(line: str, frame: FrameLine) -> None:
    assert parse_frame_line(line) == frame


def test_weird_lines_are_not_frames() -> None:
    assert parse_frame_line("          THIS_IS_A_WEIRD_LINE") is None
    assert parse_frame_line("   ") is None


def _one(frame_line: bytes, **options: object) -> str:
    profile = read(b"p 1 1.0: 1 cycles: \n" + frame_line + b"\n", FoldOptions(**options))  # type: ignore[arg-type]
    [stack] = profile.weights
    return stack.split(";", 1)[1]


def test_annotations() -> None:
    assert _one(b"\tffff f+0x1 ([kernel.kallsyms])", kernel=True) == "f_[k]"
    assert _one(b"\tffff f+0x1 (/usr/lib/debug/boot/vmlinux-5.4.14)", kernel=True) == "f_[k]"
    assert _one(b"\tffff f+0x1 (/lib/modules/5.4/mlx5_core.ko)", kernel=True) == "f_[k]"
    assert _one(b"\tffff f+0x1 ([unknown])", kernel=True) == "f"
    assert _one(b"\tffff f+0x1 (/tmp/perf-12.map)", jit=True) == "f_[j]"
    assert _one(b"\tffff f+0x1 (/tmp/jd/jitted-12-34.so)", jit=True) == "f_[j]"
    assert _one(b"\tffff f+0x1 (inlined)", inline=True) == "f_[i]"
    assert _one(b"\tffff f+0x1 (inlined)") == "f"
    assert _one(b"\tffff a->b->c+0x1 (/tmp/perf-12.map)") == "a;b_[i];c_[i]"
    assert _one(b"\tffff [unknown] (/usr/lib/libkmod.so.2.3.6)") == "[libkmod.so.2.3.6]"
    assert _one(b"\t7f6d213c2750 [unknown] (/usr/lib/libkmod.so.2.3.6)", addrs=True) == "[libkmod.so.2.3.6 <7f6d213c2750>]"
    assert _one(b"\tffff [unknown] ([unknown])") == "[unknown]"
    assert _one(b'\tffff RegExp:[&<>\\"\\\'] (/tmp/perf-7539.map)') == "RegExp:[&<>\\\\]"
    assert _one(b"\tffff core::ptr::drop<[u8; 8]> (/x)") == "core::ptr::drop<[u8: 8]>"


def test_skip_after_cuts_rootward_frames() -> None:
    text = b"p 1 1.0: 1 cycles: \n\tffff leaf (/x)\n\tffff handler (/x)\n\tffff main (/x)\n\tffff _start (/x)\n"
    assert list(read(text, FoldOptions(skip_after=("main",))).weights) == ["p;main;handler;leaf"]
    assert list(read(text, FoldOptions(skip_after=("handler", "main"))).weights) == ["p;handler;leaf"]


def test_root_frames_for_pid_and_tid() -> None:
    text = b"C2 CompilerThre 32319/32320  1942.531171:    5025125 cpu-clock:ppp: \n\tffff f (/x)\n"
    assert list(read(text).weights) == ["C2_CompilerThre;f"]
    assert list(read(text, FoldOptions(pid=True)).weights) == ["C2_CompilerThre-32319;f"]
    assert list(read(text, FoldOptions(tid=True)).weights) == ["C2_CompilerThre-32319/32320;f"]
    only_tid = b"java 25607 4794564.109216: cycles:\n\tffff f (/x)\n"
    assert list(read(only_tid, FoldOptions(tid=True)).weights) == ["java-?/25607;f"]

"""The native bpftrace reader against its Python twin (`bpftrace.fold_python`): the same Profile
(stacks, weights, meta), the same diagnostics and the same errors, for generated map prints cut
into random chunks (odd names, kernel/user keys, comm/pid keys, cut entries, program output, bytes
that are not UTF-8) and for every bpftrace capture the tests ship."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.ingest import FoldOptions, bpftrace
from foldkit.inputs import open_source
from foldkit.native import native_core
from foldkit.profile import LazyProfile
from tests.support.bpf import BPFTRACE_CAPTURES, capture_path, capture_text, twin_outcomes

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")

FRAME = st.sampled_from(
    [
        "    do_nanosleep+1",
        "        entry_SYSCALL_64_after_hwframe+68",
        "    __x64_sys_read+23",
        "    main+3",
        "    std::vector<int>::push(int)+9",
        "    0x7f5949169904",
        "    0xffffffff81000010",
        "    [inlined] foo@/src/a.c:14",
        "    bar+12@/src/b.c:3",
        "    a;b+0x1f",
        "    f+1+2",
        "    é_ünïcode+5",
        "    名前+1",
        "    \u3000spaced\u00a0+1",
        "    x\udcff+2",
        "\t7f2724ec8c91 0x7f2724ec8c91 ([unknown])",
        "\t7faa1e35a1f3 malloc_consolidate+179 (/usr/lib/libc.so.6)",
        "\tffffffff81000010 do_idle+5",
        "\t55e79dd4264a lele+0 (/home/x;y/main)",
        "\t7f00 inl+3 (inlined)",
        "ffffffff81000010",
        "7f12ab",
        "    <unwind failure>",
        "    JS:foo+1",
        "    ",
    ]
)
STACK = st.lists(FRAME, max_size=4).map(lambda frames: "".join(f + "\n" for f in frames))
SCALAR = st.sampled_from(["sleep", "bash", "1234", "-7", "a;b", "", "x y", "\u0663\u0662", "ç", "]"])
VALUE = st.sampled_from(["1", "17", "0", "-3", "007", "123456789012345678901234", "\u0663", "[1, 2)", "", "x"])
ENTRY = st.one_of(
    st.tuples(st.sampled_from(["@", "@stacks", "@x"]), STACK, VALUE).map(lambda t: f"{t[0]}[\n{t[1]}]: {t[2]}\n"),
    st.tuples(STACK, STACK, SCALAR, VALUE).map(lambda t: f"@[\n{t[0]}, \n{t[1]}, {t[2]}]: {t[3]}\n"),
    st.tuples(STACK, SCALAR, VALUE).map(lambda t: f"@[, \n{t[0]}, {t[1]}]: {t[2]}\n"),
    st.tuples(SCALAR, STACK, VALUE).map(lambda t: f"@[{t[0]}, \n{t[1]}]: {t[2]}\n"),
    st.tuples(SCALAR, SCALAR, VALUE).map(lambda t: f"@[{t[0]}, {t[1]}]: {t[2]}\n"),
    st.tuples(SCALAR, VALUE).map(lambda t: f"@x[{t[0]}]: {t[1]}\n"),
    st.tuples(STACK).map(lambda t: f"@[\n{t[0]}"),  # cut short
    st.sampled_from(
        [
            "Attaching 2 probes...\n",
            "12:00:01\n",
            "\u0661\u0662:00:01\n",
            "ERROR: something\n",
            "a.bt:1:2-3: ERROR: bad\n",
            "x\udcfe:1:2: ERROR: bad\n",
            "hello world\n",
            "hé\n",
            "\n",
            "  \n",
            "\u2028\n",
            "@count: 5\n",
            "@count: \u0665\n",
            "@h:\n[0, 1)  3 |@@|\n(2, 3] 1\n\n",
            "@avg: 3.5\n",
            "@[\n]: 1\n",
            "]: 4\n",
            "    stray+1\n",
            "ffff\n",
            "@é[a]: 1\n",
            "@ \n",
            "@[, \n    f+1\n, comm]: [1, 2)\n",
        ]
    ),
)
OPTIONS = st.sampled_from(
    [
        FoldOptions(maps=("all",)),
        FoldOptions(),
        FoldOptions(maps=("all",), kernel=True, inline=True, addrs=True),
        FoldOptions(maps=("all",), kernel=True, skip_after=("do_syscall_64", "main", "do_nanosleep_[k]")),
        FoldOptions(maps=("@x",)),
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(ENTRY, max_size=12),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
    OPTIONS,
    st.sampled_from(["\n", "\r\n"]),
)
def test_native_reader_is_its_python_twin(entries: list[str], cuts: list[int], options: FoldOptions, newline: str) -> None:
    text = "".join(entries).replace("\n", newline).encode("utf-8", "surrogateescape")
    python, native = twin_outcomes(bpftrace, text, cuts, options)
    assert native == python


@pytest.mark.parametrize("name", BPFTRACE_CAPTURES)
@pytest.mark.parametrize(
    "options",
    [FoldOptions(maps=("all",)), FoldOptions(maps=("all",), kernel=True, inline=True, addrs=True)],
    ids=["plain", "kernel-inline-addrs"],
)
def test_captures_fold_alike(name: str, options: FoldOptions) -> None:
    text = capture_text(name).encode("utf-8", "surrogateescape")
    python, native = twin_outcomes(bpftrace, text, [len(text) // 3, len(text) // 2], options)
    assert native == python


def test_fold_reads_text_natively() -> None:
    """`fold` takes the native path for text output: its stacks stay in the native table."""
    source = open_source(str(capture_path("bpftrace-kstack")))
    try:
        profile = bpftrace.fold(source, FoldOptions())
    finally:
        source.close()
    assert isinstance(profile, LazyProfile) and profile.table is not None

"""The native BCC reader against its Python twin (`bcc.fold_python`): the same Profile (stacks,
weights, counts, meta), diagnostics and errors for generated multi-line output cut into random
chunks (task, waker and pid lines, `-`/`--` delimiters, addresses, BPF program frames, odd names,
blocks cut short) and for every BCC capture in the multi-line layout the tests ship."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.ingest import FoldOptions, bcc
from foldkit.inputs import open_source
from foldkit.native import native_core
from foldkit.profile import LazyProfile
from tests.support.bpf import BCC_CAPTURES, capture_path, capture_text, twin_outcomes

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")

FRAME = st.sampled_from(
    [
        "    do_idle",
        "    finish_task_switch.isra.0",
        "    entry_SYSCALL_64_after_hwframe+0x76",
        "    do_syscall_64",
        "    main",
        "    [unknown]",
        "    [unknown] [libc.so.6]",
        "    0x7f12ab34",
        "    ffffffff81000010 do_idle+0x5 [kernel]",
        "    7f2724ec8c91 malloc+0x1f [libc.so.6]",
        "    #3 0xffffffff81000010 schedule",
        "  #1  [kernel]",
        "    bpf_prog_0123456789abcdef_sched_switch",
        "    bpf_trace_run2",
        "    a;b+0x1f",
        "    std::vector<int>::push(int)",
        "    é_ünïcode+0x5",
        "    名前",
        "    \u3000wide",
        "    x\udcff",
        "    [Missed Kernel Stack]",
        "    [Missed User Stack] 7",
        "    --",
        "    -",
        "    --  --",
        "    ",
        "\tdo_tab",
    ]
)
TASK = st.sampled_from(
    [
        "    -                sshd (1234)",
        "    -                a;b (1)",
        "    -                ç (7)",
        "    b'python' [99]",
        "    waker:           kworker 12",
        "    target:          app",
        "    sort [5]",
        "",
    ]
)
VALUE = st.sampled_from(["        1", "        17", "\t3", "        -2", "        007", "        \u0663", "        123456789012345678901234"])
BLOCK = st.tuples(st.lists(FRAME, max_size=4), TASK, VALUE).map(
    lambda t: "".join(f + "\n" for f in [*t[0], *([t[1]] if t[1] else []), t[2]]) + "\n"
)
OTHER = st.sampled_from(
    [
        "Sampling at 49 Hertz of all threads by user + kernel stack for 5 secs.\n",
        "Tracing off-CPU time (us) of all threads by user + kernel stack... Hit Ctrl-C to end.\n",
        'Tracing 1 functions for "schedule"... Hit Ctrl-C to end.\n',
        "Detaching...\n",
        "WARNING: 3 stack traces could not be displayed.\n",
        "garbage here\n",
        "\n",
        "\x1c\n",
        "    cut_block_frame\n",
    ]
)
OPTIONS = st.sampled_from(
    [
        FoldOptions(),
        FoldOptions(kernel=True),
        FoldOptions(kernel=True, pid=True, addrs=True),
        FoldOptions(keep_bpf_frames=True, kernel=True),
        FoldOptions(kernel=True, skip_after=("do_syscall_64", "main", "do_idle_[k]")),
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(BLOCK, BLOCK, OTHER), max_size=10),
    st.lists(st.integers(min_value=0, max_value=1500), max_size=6),
    OPTIONS,
    st.sampled_from(["\n", "\r\n"]),
)
def test_native_reader_is_its_python_twin(parts: list[str], cuts: list[int], options: FoldOptions, newline: str) -> None:
    text = "".join(parts).replace("\n", newline).encode("utf-8", "surrogateescape")
    python, native = twin_outcomes(bcc, text, cuts, options)
    assert native == python


MULTI_LINE = [n for n in BCC_CAPTURES if bcc.sniff_layout(capture_text(n).encode()[:65536])]


@pytest.mark.parametrize("name", MULTI_LINE)
@pytest.mark.parametrize("options", [FoldOptions(), FoldOptions(kernel=True, pid=True)], ids=["plain", "kernel-pid"])
def test_captures_fold_alike(name: str, options: FoldOptions) -> None:
    text = capture_text(name).encode("utf-8", "surrogateescape")
    python, native = twin_outcomes(bcc, text, [len(text) // 3, len(text) // 2], options)
    assert native == python


def test_fold_reads_blocks_natively() -> None:
    """`fold` takes the native path for the multi-line layout: its stacks stay in the native
    table, and a `profile` capture's counts (its weights) are made only when read."""
    source = open_source(str(capture_path("bcc-profile")))
    try:
        profile = bcc.fold(source, FoldOptions())
    finally:
        source.close()
    assert isinstance(profile, LazyProfile) and profile.table is not None
    assert profile.samples == profile.total and profile.table is not None
    assert profile.counts == {s: int(w) for s, w in profile.weights.items()}


def test_counts_stay_those_read_when_the_weights_are_replaced() -> None:
    """A profile's counts are what the input said: replacing its weights (as a transform may, in
    place) leaves them as they were, as it does for a profile read by the Python reader."""
    source = open_source(str(capture_path("bcc-profile")))
    try:
        profile = bcc.fold(source, FoldOptions())
    finally:
        source.close()
    read = {s: int(w) for s, w in profile.weights.items()}
    profile.weights = {"only;stack": 1}
    assert profile.counts == read

"""BCC tool output: every corpus capture, the tools' layouts (profile, offcputime, offwaketime,
stackcount, wakeuptime, libbpf-tools), multi-line = folded (property test), bad input, fresh
captures when the tools run as root here."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit.cli import main
from foldkit.errors import StrictModeError
from foldkit.ingest import bcc, folded
from foldkit.ingest import bpf_frames as bf
from tests.support.bpf import (
    BCC_CAPTURES,
    bcc_printed_total,
    capture_path,
    capture_text,
    check_golden,
    fold,
)

FORMAT = {name: "folded" if name.endswith("-folded") else "bcc" for name in BCC_CAPTURES}


@pytest.mark.parametrize("name", BCC_CAPTURES)
def test_every_capture_folds_with_auto_and_keeps_its_total(name: str) -> None:
    profile = fold(capture_path(name))
    assert profile.format == FORMAT[name]
    assert profile.total == bcc_printed_total(capture_text(name))
    assert not profile.diagnostics.bad_lines
    forced = fold(capture_path(name), format="bcc")  # BCC's -f output is accepted as bcc too
    assert forced.weights == profile.weights


@pytest.mark.parametrize("name", BCC_CAPTURES)
def test_golden(name: str) -> None:
    check_golden(name, fold(capture_path(name)).to_folded_bytes())


@pytest.mark.parametrize("name", ["bcc-profile", "bcc-stackcount-sched-switch", "libbpf-tools-offcputime"])
def test_golden_kernel(name: str) -> None:
    check_golden(f"{name}--kernel", fold(capture_path(name), kernel=True).to_folded_bytes())


def test_corpus_totals_are_the_readme_numbers() -> None:
    """The independent sum must agree with how the captures were described."""
    assert bcc_printed_total(capture_text("bcc-profile")) == 989
    assert bcc_printed_total(capture_text("bcc-stackcount-sched-switch")) == 4926
    assert bcc_printed_total(capture_text("libbpf-tools-offcputime")) == 211_966_882


def test_units_and_counts() -> None:
    profile = fold(capture_path("bcc-profile"))
    assert profile.unit == "samples" and profile.samples == 989
    off = fold(capture_path("libbpf-tools-offcputime"))
    assert off.unit == "us" and off.counts is None
    assert fold(capture_path("bcc-stackcount-sched-switch")).unit == "events"


def test_profile_block_is_reversed_with_the_task_as_root() -> None:
    profile = fold(capture_path("bcc-profile"))
    stack = "xz;[unknown];asm_sysvec_apic_timer_interrupt;sysvec_apic_timer_interrupt;__irq_exit_rcu;handle_softirqs;rcu_core;_raw_spin_unlock_irqrestore;_raw_spin_unlock_irqrestore"
    assert profile.weights[stack] >= 1
    assert all(";" in s for s in profile.weights)


def test_duplicate_stacks_are_summed() -> None:
    text = capture_text("bcc-stackcount-sched-switch")
    blocks = text.count("\n\n") - 1
    profile = fold(capture_path("bcc-stackcount-sched-switch"))
    assert len(profile.weights) < blocks  # 939 printed stacks, 119 distinct
    # the same kernel stack printed once per (unresolved) user stack id
    stack = "[unknown];[unknown];asm_sysvec_apic_timer_interrupt;irqentry_exit_to_user_mode;schedule;__schedule"
    printed = text.count("\n  __schedule\n  schedule\n  irqentry_exit_to_user_mode\n  asm_sysvec_apic_timer_interrupt\n  [unknown]\n  [unknown]\n    ")
    assert printed > 10 and profile.weights[stack] >= printed


def test_delimiter_and_kernel_heuristic_agree() -> None:
    """`-d` output marks the kernel/user boundary exactly; without the `-`, the name heuristic must
    find the same boundary on every one of those stacks."""
    profile = fold(capture_path("bcc-profile-delimited"))
    checked = 0
    for stack in profile.weights:
        frames = stack.split(";")
        if "-" not in frames:
            continue
        exact = [f for f in bf.annotate_folded(frames) if f != "-"]
        assert bf.annotate_folded([f for f in frames if f != "-"]) == exact
        checked += 1
    assert checked > 50


def test_kernel_frames_are_leafward_and_annotated() -> None:
    profile = fold(capture_path("bcc-profile"), kernel=True)
    mixed = 0
    for stack in profile.weights:
        marks = [f.endswith("_[k]") for f in stack.split(";")[1:]]
        assert marks == sorted(marks), stack
        mixed += any(marks) and not all(marks)
    assert mixed > 20


# --- layouts of the other tools (text as the tools' print statements produce it) -----------------

OFFWAKETIME = """Tracing blocked time (us) by user + kernel off-CPU and waker stack for 5 secs.

    waker:           sshd 1234
    __libc_start_main
    main
    write
    -
    entry_SYSCALL_64_after_hwframe
    do_syscall_64
    try_to_wake_up
    --               --
    finish_task_switch.isra.0
    schedule
    do_syscall_64
    entry_SYSCALL_64_after_hwframe
    -
    read
    main
    target:          bash 5678
        4242

    waker:           swapper/0 0
    [Missed User Stack] -14
    --               --
    [Missed Kernel Stack]
    target:          sleep 99
        7

"""


def test_offwaketime() -> None:
    profile = fold(OFFWAKETIME.encode(), kernel=True)
    assert profile.format == "bcc" and profile.unit == "us"
    assert profile.weights == {
        "bash;main;read;-;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];schedule_[k];"
        "finish_task_switch.isra.0_[k];--;try_to_wake_up_[k];do_syscall_64_[k];"
        "entry_SYSCALL_64_after_hwframe_[k];-;write;main;__libc_start_main;sshd": 4242,
        "sleep;[Missed Kernel Stack]_[k];--;[Missed User Stack];swapper/0": 7,
    }
    with_pid = fold(OFFWAKETIME.encode(), pid=True)
    assert any(s.startswith("bash-5678;") and s.endswith(";sshd-1234") for s in with_pid.weights)


WAKEUPTIME_BCC = """Tracing blocked time (us) by kernel stack for 5 secs.

    target:          kworker/0:1
    ffffffff81000130 entry_SYSCALL_64_after_hwframe
    ffffffff821ef691 do_syscall_64
    ffffffff813aa887 try_to_wake_up
    waker:           python
        275955

Detaching...
"""
#: libbpf-tools wakeuptime: tab indentation, leaf first, right-aligned `waker:`.
WAKEUPTIME_LIBBPF = (
    "Tracing blocked time (us) by kernel stack\n\n"
    "\ttarget:          kworker/0:1\n"
    "\tffffffff813aa887 try_to_wake_up\n"
    "\tffffffff821ef691 do_syscall_64\n"
    "\tffffffff81000130 entry_SYSCALL_64_after_hwframe\n"
    "\t          waker: python\n"
    "\t275955\n\n"
)


def test_wakeuptime_both_flavours() -> None:
    bcc_tool = fold(WAKEUPTIME_BCC.encode(), kernel=True)
    # BCC's own -f output for this entry: waker;kernel frames leaf first;target
    assert bcc_tool.weights == {
        "python;try_to_wake_up_[k];do_syscall_64_[k];entry_SYSCALL_64_after_hwframe_[k];kworker/0:1": 275955
    }
    libbpf = fold(WAKEUPTIME_LIBBPF.encode(), kernel=True, addrs=True)
    assert libbpf.weights == {
        "python;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];try_to_wake_up_[k];kworker/0:1": 275955
    }


STACKCOUNT_VERBOSE = """Tracing 1 functions for "t:sched:sched_switch"... Hit Ctrl-C to end.

  ffffffff8105a7e1 __schedule+0x351 [kernel]
  ffffffff8105ac00 schedule+0x40
    --
  00007f12ab000010 [unknown] [libc.so.6]
  000055d0aa000020 main+0x1a [deeprec]
    b'deeprec' [4242]
    3

"""


def test_stackcount_verbose_offsets_modules_and_pid() -> None:
    profile = fold(STACKCOUNT_VERBOSE.encode(), kernel=True, addrs=True)
    assert profile.weights == {"deeprec;main;[libc.so.6 <00007f12ab000010>];-;schedule_[k];__schedule_[k]": 3}
    plain = fold(STACKCOUNT_VERBOSE.encode())
    assert plain.weights == {"deeprec;main;[libc.so.6];-;schedule;__schedule": 3}


def test_task_only_block_keeps_its_weight() -> None:
    text = "Sampling at 49 Hertz of all threads by user + kernel stack... Hit Ctrl-C to end.\n\n    -                idle thing (0)\n        5\n\n"
    assert fold(text.encode()).weights == {"idle thing;[no stack]": 5}


# --- multi-line and folded agree (property) -----------------------------------------------------

KERNEL = ["entry_SYSCALL_64_after_hwframe", "do_syscall_64", "ksys_read", "vfs_read", "schedule", "__schedule"]
USER = ["_start", "main", "work(int)", "[unknown]", "std::sort<int*>(int*, int*)"]
entry = st.tuples(
    st.lists(st.sampled_from(KERNEL), max_size=4),
    st.lists(st.sampled_from(USER), max_size=4),
    st.sampled_from(["java", "C2 CompilerThre", "xz"]),
    st.integers(1, 99999),
    st.integers(1, 10**9),
)


def _multi_line(entries: list[tuple[list[str], list[str], str, int, int]], delimiter: bool) -> str:
    out = ["Sampling at 99 Hertz of all threads by user + kernel stack for 5 secs.", ""]
    for kernel, user, comm, pid, value in entries:
        out += [f"    {f}" for f in kernel]
        if delimiter and kernel and user:
            out.append("    --")
        out += [f"    {f}" for f in user]
        out += [f"    {'-':<16} {comm} ({pid})", f"        {value}", ""]
    return "\n".join(out) + "\n"


def _folded(entries: list[tuple[list[str], list[str], str, int, int]], delimiter: bool) -> str:
    lines = []
    for kernel, user, comm, _, value in entries:
        frames = [comm, *reversed(user)]
        if delimiter and kernel and user:
            frames.append("-")
        frames += list(reversed(kernel))
        lines.append(f"{';'.join(frames)} {value}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(entry, min_size=1, max_size=8), delimiter=st.booleans(), kernel=st.booleans())
def test_multi_line_and_folded_outputs_fold_alike(
    entries: list[tuple[list[str], list[str], str, int, int]], delimiter: bool, kernel: bool
) -> None:
    multi = fold(_multi_line(entries, delimiter).encode(), kernel=kernel)
    folded = fold(_folded(entries, delimiter).encode(), kernel=kernel)
    assert multi.format == "bcc" and folded.format == "folded"
    # BCC's folded form gives an empty stack no placeholder; everything else is identical
    want = Counter({s if ";" in s else f"{s};[no stack]": w for s, w in folded.weights.items()})
    assert Counter(multi.weights) == want
    assert multi.total == sum(e[4] for e in entries)


# --- bad input ----------------------------------------------------------------------------------


def test_truncated_last_entry_warns_and_folds_the_rest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = capture_text("bcc-profile")
    cut = text[: text.rindex("    -                ")]
    path = tmp_path / "cut.txt"
    path.write_text(cut, encoding="utf-8", errors="surrogateescape")
    out = tmp_path / "cut.folded"
    assert main(["fold", str(path), "-o", str(out)]) == 0
    assert "the last stack has no value" in capsys.readouterr().err
    folded_total = sum(int(line.rsplit(" ", 1)[1]) for line in out.read_text().splitlines())
    assert folded_total == bcc_printed_total(cut)
    assert main(["fold", "--strict", str(path), "-o", str(out)]) == 2


def test_unrecognised_lines_are_numbered() -> None:
    text = "Sampling at 99 Hertz of all threads by user + kernel stack for 5 secs.\n\n    schedule\n    -                sh (1)\n        2\n\ngarbage here\n"
    profile = fold(text.encode())
    assert profile.weights == {"sh;schedule": 2}
    assert profile.diagnostics.bad_examples == [("<bytes>", 7, "garbage here")]
    with pytest.raises(StrictModeError):
        fold(text.encode(), strict=True)


def test_module_describes_itself() -> None:
    assert bcc.NAME == "bcc" and "\n" not in bcc.EXAMPLE


# --- fresh captures -----------------------------------------------------------------------------

#: (tool, arguments): each runs for CAPTURE_SECONDS and exits.
CAPTURE_SECONDS = "2"
FRESH_TOOLS = {
    "profile-bpfcc": ["-F", "99", CAPTURE_SECONDS],
    "profile-bpfcc -f": ["-f", "-F", "99", CAPTURE_SECONDS],
    "stackcount-bpfcc": ["-D", CAPTURE_SECONDS, "t:sched:sched_switch"],
    "stackcount-bpfcc -v -d -P": ["-v", "-d", "-P", "-D", CAPTURE_SECONDS, "t:sched:sched_switch"],
    "profile-bpfcc -d -a": ["-d", "-a", "-F", "99", CAPTURE_SECONDS],
    "offcputime (libbpf-tools)": [CAPTURE_SECONDS],
    "wakeuptime (libbpf-tools)": [CAPTURE_SECONDS],
}


@pytest.mark.root
@pytest.mark.parametrize("tool", sorted(FRESH_TOOLS))
def test_fresh_capture(tool: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run BCC tools")
    name = tool.split()[0]
    exe = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/share/bcc/tools")
    if exe is None:
        pytest.skip(f"{name} is not installed (apt-get install -y bpfcc-tools libbpf-tools)")
    try:
        done = subprocess.run([exe, *FRESH_TOOLS[tool]], capture_output=True, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip(f"{tool} did not finish within 180 s")
    head = done.stdout[:65536]
    if done.returncode != 0 or not (bcc.sniff(head) or folded.sniff(head)):
        # BCC tools that cannot compile print the exception and may still exit 0
        said = (done.stderr + done.stdout).decode(errors="replace").strip().splitlines()
        reason = said[-2:]
        pytest.skip(f"{tool} cannot run here: {' / '.join(reason) or 'no output'}")
    profile = fold(done.stdout)
    assert profile.format == ("folded" if "-f" in tool else "bcc")
    assert profile.total == bcc_printed_total(done.stdout.decode(errors="surrogateescape")) > 0
    assert not profile.diagnostics.bad_lines


def test_libbpf_tools_bpf_program_frames_are_dropped_by_default_and_kept_on_request() -> None:
    """libbpf-tools offcputime puts `bpf_prog_…_sched_switch;bpf_trace_run4` at the leaf of every
    kernel stack, 99.8 % of the capture's "self" weight; by default the leaf is `__schedule`."""
    default = fold(capture_path("libbpf-tools-offcputime"))
    kept = fold(capture_path("libbpf-tools-offcputime"), keep_bpf_frames=True)
    assert default.total == kept.total
    assert not any("bpf_prog_" in s or "bpf_trace_run" in s for s in default.weights)
    leaves = Counter(s.rsplit(";", 1)[-1] for s in kept.weights)
    assert leaves["bpf_prog_6896d07dd3e1383c_sched_switch"] > 400
    assert any("dropped from 407 stacks" in n and "--keep-bpf-frames" in n for n in default.diagnostics.notes)
    assert main(["fold", str(capture_path("libbpf-tools-offcputime")), "--keep-bpf-frames", "-q", "-o", "-"]) == 0

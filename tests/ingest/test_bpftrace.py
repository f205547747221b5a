"""bpftrace map prints: every corpus capture, the reference's output, frame naming, bad input,
interval dumps (property test) and fresh captures when bpftrace runs as root here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit.cli import main
from foldkit.errors import InputError, StrictModeError, UsageError
from foldkit.ingest import bpftrace
from tests.support.bpf import (
    BPFTRACE_CAPTURES,
    EXPECTED,
    STACK_MAPS,
    bpftrace_printed_totals,
    capture_path,
    capture_text,
    check_golden,
    fold,
)

ROOT = Path(__file__).resolve().parents[2]


def render(name: str, entries: list[tuple[tuple[object, ...], int]], indent: str = "    ") -> str:
    """Entries printed the way bpftrace prints a map: key parts joined by `, `, a stack part as a
    newline and one indented line per frame (leaf first)."""
    out = []
    for parts, value in entries:
        key = ", ".join(
            "\n" + "".join(f"{indent}{f}\n" for f in p) if isinstance(p, list) else str(p) for p in parts
        )
        out.append(f"@{name}[{key}]: {value}\n")
    return "".join(out)


# --- the corpus ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BPFTRACE_CAPTURES)
def test_every_capture_folds_with_auto_and_keeps_its_total(name: str) -> None:
    printed = bpftrace_printed_totals(capture_text(name))
    for chosen in [*([m] for m in STACK_MAPS[name]), ["all"]]:
        profile = fold(capture_path(name), maps=tuple(chosen))
        assert profile.format == "bpftrace"
        maps = STACK_MAPS[name] if chosen == ["all"] else chosen
        assert profile.total == sum(printed[m] for m in maps), chosen
        assert not profile.diagnostics.bad_lines


@pytest.mark.parametrize("name", BPFTRACE_CAPTURES)
def test_golden(name: str) -> None:
    check_golden(name, fold(capture_path(name), maps=("all",)).to_folded_bytes())


@pytest.mark.parametrize(
    ("name", "flags"),
    [
        ("bpftrace-kstack-ustack-comm", {"kernel": True}),
        ("bpftrace-kstack-ustack-perf-comm", {"kernel": True, "addrs": True}),
        ("bpftrace-ustack", {"addrs": True}),
    ],
)
def test_golden_with_flags(name: str, flags: dict[str, bool]) -> None:
    suffix = "-".join(sorted(flags))
    check_golden(f"{name}--{suffix}", fold(capture_path(name), **flags).to_folded_bytes())


def _reference(name: str) -> Counter[str]:
    """The reference's stacks for the entries it handles correctly, offsets stripped and raw
    addresses written the way `--addrs` writes them. Its faults (corpus README) are left out: the
    literal `, ` separator frame is removed, lines whose comm became `, comm` are skipped."""
    text = zstandard.ZstdDecompressor().decompress((EXPECTED / f"{name}.folded.zst").read_bytes())
    ref: Counter[str] = Counter()
    for line in text.decode("utf-8", "surrogateescape").splitlines():
        stack, _, weight = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f != ", "]
        if any(f.startswith(", ") for f in frames):
            continue
        out = []
        for f in frames:
            # perf mode: the reference keeps `ADDR SYM+OFF (MODULE)` whole
            m = re.fullmatch(r"([0-9a-f]+) (.*?)(?: \(([^()]*)\))?", f)
            if m:
                addr, f, module = m.groups()
            else:
                addr, module = f.removeprefix("0x"), None
            if re.fullmatch(r"0x[0-9a-f]+|\[unknown\]", f):
                base = module.rsplit("/", 1)[-1] if module and module != "[unknown]" else "unknown"
                out.append(f"[{base} <{addr}>]")
            else:
                out.append(re.sub(r"\+\d+$", "", f))
        ref[";".join(out)] += int(weight)
    return ref


@pytest.mark.parametrize("name", sorted(p.name.removesuffix(".folded.zst") for p in EXPECTED.glob("bpftrace-*.folded.zst")))
def test_same_stacks_as_the_reference_where_it_is_right(name: str) -> None:
    ref = _reference(name)
    profile = fold(capture_path(name), maps=("@",), addrs=True)
    for stack, weight in ref.items():
        assert profile.weights.get(stack) == weight, stack
    printed = bpftrace_printed_totals(capture_text(name))["@"]
    # and where it is wrong, foldkit keeps what it drops
    assert profile.total == printed >= sum(ref.values())


def test_reference_comparison_covers_real_entries() -> None:
    """The comparison above must not be vacuous: most captures have many comparable stacks."""
    sizes = {p.name: len(_reference(p.name.removesuffix(".folded.zst"))) for p in EXPECTED.glob("bpftrace-*")}
    assert len(sizes) == 10
    assert sizes["bpftrace-kstack.folded.zst"] == 56
    assert sizes["bpftrace-ustack-perf.folded.zst"] > 400
    assert sizes["bpftrace-kstack-ustack-comm.folded.zst"] == 43
    assert sizes["bpftrace-ustack.folded.zst"] == 522


def test_empty_stacks_keep_their_weight_under_a_placeholder() -> None:
    kstack = fold(capture_path("bpftrace-kstack"))
    assert kstack.weights["[no stack]"] == 904
    both = fold(capture_path("bpftrace-kstack-ustack-perf-comm"))
    assert both.weights["node;[no stack]"] >= 2
    comm_pid = fold(capture_path("bpftrace-comm-pid-kstack"))
    assert comm_pid.weights["bash;22985;[no stack]"] == 1


def test_scalar_keys_are_root_frames_in_key_order() -> None:
    profile = fold(capture_path("bpftrace-comm-pid-kstack"))
    assert any(s.startswith("find;22883;entry_SYSCALL_64_after_hwframe;") for s in profile.weights)


@pytest.mark.parametrize("name", ["bpftrace-kstack-ustack-comm", "bpftrace-kstack-ustack-perf-comm"])
def test_user_frames_below_kernel_frames_and_kernel_annotated(name: str) -> None:
    profile = fold(capture_path(name), kernel=True)
    both = 0
    for stack in profile.weights:
        frames = stack.split(";")[1:]  # below the comm
        kernel = [f.endswith("_[k]") for f in frames]
        # once a kernel frame appears, every frame above it is a kernel frame
        assert kernel == sorted(kernel), stack
        if any(kernel) and not all(kernel):
            both += 1
    assert both > 20


def test_kernel_annotation_for_kstack_maps() -> None:
    profile = fold(capture_path("bpftrace-kstack-perf"), kernel=True)
    frames = {f for s in profile.weights for f in s.split(";")}
    assert frames - {"[no stack]"} and all(f.endswith("_[k]") for f in frames - {"[no stack]"})
    user = fold(capture_path("bpftrace-ustack-perf"), kernel=True)
    assert not any("_[k]" in s for s in user.weights)


def test_perf_mode_frames_lose_address_offset_and_module() -> None:
    profile = fold(capture_path("bpftrace-ustack-perf"))
    frames = {f for s in profile.weights for f in s.split(";")}
    assert "main" in frames and "__libc_start_call_main" in frames
    assert not any(re.search(r"\+\d+$|\(/", f) for f in frames)


# --- several maps ---------------------------------------------------------------------------------


def test_several_stack_maps_need_map(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fold", str(capture_path("bpftrace-mixed-maps"))]) == 2
    err = capsys.readouterr().err
    assert "@ (keys: kstack; 98 entries, total 989)" in err
    assert "@user (keys: ustack, string; 829 entries, total 989)" in err
    assert "--map @user" in err and "--map all" in err
    assert "Traceback" not in err


def test_map_selection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "u.folded"
    assert main(["fold", "--map", "user", str(capture_path("bpftrace-mixed-maps")), "-o", str(out)]) == 0
    assert sum(int(line.rsplit(" ", 1)[1]) for line in out.read_text().splitlines()) == 989
    profile = fold(capture_path("bpftrace-mixed-maps"), maps=("@", "@user"))
    assert {s.split(";", 1)[0] for s in profile.weights} == {"@", "@user"}
    assert profile.total == 1978
    with pytest.raises(UsageError, match=r"map @count has no stack"):
        fold(capture_path("bpftrace-mixed-maps"), maps=("@count",))
    with pytest.raises(UsageError, match=r"no map @nope.*@count"):
        fold(capture_path("bpftrace-mixed-maps"), maps=("@nope",))
    notes = " ".join(fold(capture_path("bpftrace-mixed-maps"), maps=("@",)).diagnostics.notes)
    assert "skipped map @count" in notes and "skipped map @samples" in notes


# --- bad input ----------------------------------------------------------------------------------


def test_bpftrace_error_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "err.bt"
    path.write_text(
        "stdin:1:17-29: ERROR: Unknown identifier: 'raw'\n"
        "profile:hz:99 { @[kstack(raw)] = count(); }\n"
        "                ~~~~~~~~~~~~\n"
    )
    assert main(["fold", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bpftrace printed an error, not a map" in err and "Unknown identifier" in err
    assert "Traceback" not in err


def test_map_cut_mid_stack_warns_and_folds_the_rest() -> None:
    text = capture_text("bpftrace-kstack")
    cut = text[: text.index("__handle_mm_fault", 4000)]
    profile = fold(cut.encode())
    complete = bpftrace_printed_totals(cut)["@"]
    assert profile.total == complete
    assert any("incomplete" in w for w in profile.diagnostics.warnings)
    assert profile.diagnostics.bad_lines == 1
    with pytest.raises(StrictModeError):
        fold(cut.encode(), strict=True)


def test_histogram_only_map(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "hist.bt"
    path.write_text(
        "Attaching 1 probe...\n\n\n@usecs: \n[0]                    3 |@@@@      |\n"
        "[1]                    9 |@@@@@@@@@@|\n[2, 4)                 1 |@         |\n\n"
        "@by_stack[\n    do_nanosleep+1\n]: \n[4, 8)                 2 |@@@@@@@@@@|\n\n"
    )
    assert main(["fold", str(path)]) == 2
    err = capsys.readouterr().err
    assert "no map with a stack in its key to fold" in err
    assert "@usecs: a histogram" in err and "@by_stack: stack key, but histogram" in err


def test_binary_garbage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(bytes(range(256)) * 40)
    assert main(["fold", str(path)]) == 2
    assert "could not recognise the input format" in capsys.readouterr().err
    with pytest.raises(InputError, match="no bpftrace map found"):
        fold(path, format="bpftrace")


def test_json_output_without_a_map_is_explained() -> None:
    """`-f json` is read (tests/ingest/test_bpftrace_json.py); with no map printed it says so."""
    with pytest.raises(InputError, match="no bpftrace map found"):
        fold(b'{"type": "attached_probes", "data": {"probes": 2}}\n')


def test_program_output_is_a_note_not_an_error() -> None:
    text = "Attaching 2 probes...\nTracing CPU stacks... Hit Ctrl-C to end.\n^C\n" + render(
        "", [(([ "schedule+35", "__schedule+10"],), 4)]
    )
    profile = fold(text.encode())
    assert profile.weights == {"__schedule;schedule": 4}
    assert not profile.diagnostics.bad_lines
    assert any("program output" in n for n in profile.diagnostics.notes)


def test_stray_frame_lines_are_bad_lines() -> None:
    text = render("", [((["a+1"],), 2)]) + "    orphan+3\n]: 4\n"
    profile = fold(text.encode(), format="bpftrace")
    assert profile.total == 2 and profile.diagnostics.bad_lines == 2


# --- frame naming -------------------------------------------------------------------------------


def test_stack_modes_and_frame_forms() -> None:
    text = (
        "@[\n"
        "        [inlined] cmp_int+12@/src/deeprec.c:31\n"
        "        quicksort+231@/src/deeprec.c:40\n"
        "        main+9\n"
        "        0x7f12ab\n"
        "        <unwind failure>\n"
        "        a;b+0x1f\n"
        "]: 3\n"
        "@p[\n"
        "\t55d0aa quicksort+231 (/tmp/cw/deeprec)\n"
        "\t55d0ab cmp_int+3 (inlined)\n"
        "\t7f9a0726bdbd 0x7f9a0726bdbd ([unknown])\n"
        "\t7f9a0726bdbe [unknown] (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
        "]: 2\n"
        "@r[\n"
        "ffffffff816cd780\n"
        "7f9a0726bdbd\n"
        "]: 1\n"
    )
    plain = fold(text.encode(), maps=("@",))
    assert plain.weights == {"a:b;<unwind failure>;[unknown];main;quicksort;cmp_int": 3}
    inline = fold(text.encode(), maps=("@",), inline=True, addrs=True)
    assert inline.weights == {"a:b;<unwind failure>;[unknown <7f12ab>];main;quicksort;cmp_int_[i]": 3}
    perf = fold(text.encode(), maps=("@p",), addrs=True)
    assert perf.weights == {
        "[libc.so.6 <7f9a0726bdbe>];[unknown <7f9a0726bdbd>];cmp_int;quicksort": 2
    }
    raw = fold(text.encode(), maps=("@r",), kernel=True)
    assert raw.weights == {"0x7f9a0726bdbd;0xffffffff816cd780_[k]": 1}


def test_stacks_in_any_key_order_put_kernel_frames_on_top() -> None:
    kernel = ["schedule+35", "do_syscall_64+113", "entry_SYSCALL_64_after_hwframe+118"]
    user = ["read+20", "main+9", "__libc_start_call_main+122"]
    text = render("", [((user, 4242, "cat", kernel), 5), (([], 4242, "cat", []), 2)])
    profile = fold(text.encode(), kernel=True)
    assert profile.weights == {
        "4242;cat;__libc_start_call_main;main;read;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];schedule_[k]": 5,
        "4242;cat;[no stack]": 2,
    }


def test_indentation_of_any_width_and_crlf() -> None:
    text = render("", [((["f+1", "g+2"],), 1)], indent="\t\t  ").replace("\n", "\r\n")
    assert fold(text.encode()).weights == {"g;f": 1}


def test_skip_after_keeps_scalar_roots() -> None:
    text = render("", [((["leaf+1", "mid+2", "root+3"], "bash"), 1)])
    assert fold(text.encode(), skip_after=("mid",)).weights == {"bash;mid;leaf": 1}


# --- interval dumps (property) ------------------------------------------------------------------

FRAMES = ["schedule+35", "__schedule+10", "do_syscall_64+113", "read+20", "main+9", "0x7f00aa", "vfs_read+4"]
frame_lists = st.lists(st.sampled_from(FRAMES), max_size=4)
entries = st.lists(
    st.tuples(frame_lists, st.sampled_from(["bash", "VM Thread", "a;b"]), st.integers(0, 10**12)),
    max_size=6,
)


def _model(entry: tuple[list[str], str, int]) -> str:
    frames, comm, _ = entry
    names = [("[unknown]" if f.startswith("0x") else f.split("+")[0]) for f in reversed(frames)]
    return ";".join([comm.replace(";", ":"), *(names or ["[no stack]"])])


@settings(max_examples=60, deadline=None)
@given(dumps=st.lists(entries, min_size=1, max_size=4))
def test_interval_dumps_are_summed(dumps: list[list[tuple[list[str], str, int]]]) -> None:
    text = "Attaching 2 probes...\n\n\n"
    want: Counter[str] = Counter()
    for n, dump in enumerate(dumps):
        text += f"12:00:{n:02d}\n" + render("stk", [((frames, comm), value) for frames, comm, value in dump]) + "\n"
        for entry in dump:
            want[_model(entry)] += entry[2]
    if not any(dumps):
        return
    profile = fold(text.encode())
    assert profile.total == sum(want.values())
    assert profile.weights == {s: w for s, w in want.items()}
    assert not profile.diagnostics.bad_lines


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_stdin_and_verbose_detection() -> None:
    data = capture_path("bpftrace-offcpu-sched-switch").read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "foldkit", "fold", "-v", "-"],
        input=data,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"format bpftrace (zstd compression)" in done.stderr
    assert b"folded @ (keys: kstack, string; 110 entries, total 140493713090)" in done.stderr
    total = sum(int(line.rsplit(b" ", 1)[1]) for line in done.stdout.splitlines())
    assert total == 140_493_713_090


def test_module_describes_itself() -> None:
    assert bpftrace.NAME == "bpftrace" and "\n" not in bpftrace.EXAMPLE


# --- fresh captures -----------------------------------------------------------------------------

#: One program per stack mode; each ends by itself after CAPTURE_SECONDS.
CAPTURE_SECONDS = 2
FRESH_PROGRAMS = {
    "bpftrace": "profile:hz:99 { @[kstack, ustack, comm] = count(); }",
    "perf": "profile:hz:99 { @[kstack(perf), ustack(perf), comm, pid] = count(); }",
    "raw": "profile:hz:99 { @[kstack(raw), ustack(raw)] = count(); }",
    "interval": "profile:hz:99 { @[kstack] = count(); } interval:s:1 { print(@); }",
}


@pytest.mark.root
@pytest.mark.parametrize("mode", sorted(FRESH_PROGRAMS))
def test_fresh_capture(mode: str, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run bpftrace")
    exe = shutil.which("bpftrace")
    if exe is None:
        pytest.skip("bpftrace is not installed (apt-get install -y bpftrace)")
    program = FRESH_PROGRAMS[mode] + f" interval:s:{CAPTURE_SECONDS} {{ exit(); }}"
    try:
        done = subprocess.run(
            [exe, "-e", program],
            capture_output=True,
            timeout=120,
            env={**os.environ, "BPFTRACE_CACHE_USER_SYMBOLS": "1"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("bpftrace did not finish within 120 s")
    if done.returncode != 0 or b"Attaching" not in done.stdout:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        pytest.skip(f"bpftrace cannot run the {mode} program here: {' / '.join(reason)}")
    (tmp_path / f"{mode}.bt").write_bytes(done.stdout)
    printed = bpftrace_printed_totals(done.stdout.decode(errors="surrogateescape"))
    profile = fold(done.stdout)
    assert profile.format == "bpftrace"
    assert printed["@"] > 0
    assert profile.total == printed["@"]
    assert not profile.diagnostics.bad_lines
    if mode == "interval":
        assert done.stdout.count(b"\n@[") > len({s for s in profile.weights})  # printed several times

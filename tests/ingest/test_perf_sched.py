"""`fold --off-cpu` and `--wall`: off-CPU and wall-clock time from perf's scheduler events."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.api import fold_options, read
from foldkit.errors import InputError, UsageError
from foldkit.ingest.perf_sched import parse_ns, state_letters

DATA = Path(__file__).parents[1] / "data" / "time"
CAPTURE = DATA / "spinsleep.perf.zst"


def run_cli(argv: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "foldkit", *argv], input=stdin, capture_output=True, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def _measured() -> dict[str, float]:
    out: dict[str, float] = {}
    for word in DATA.joinpath("spinsleep.measured").read_text().split():
        key, _, value = word.partition("=")
        out[key] = float(value)
    return out


def _under(profile_weights: dict[str, int], frame: str, comm: str = "spinsleep", off: bool | None = None) -> int:
    """Weight of the stacks of `comm` that pass through `frame` (only off-CPU or on-CPU ones if asked)."""
    total = 0
    for stack, w in profile_weights.items():
        frames = stack.split(";")
        if frames[0] != comm or frame not in frames:
            continue
        is_off = any(f.startswith("[off-cpu:") for f in frames)
        if off is None or off == is_off:
            total += w
    return total


def _switch(comm: str, tid: int, cpu: int, t: str, prev_state: str, next_comm: str, next_tid: int, frames: list[str]) -> str:
    head = (
        f"{comm} {tid} [{cpu:03d}] {t}: sched:sched_switch: prev_comm={comm} prev_pid={tid} prev_prio=120 "
        f"prev_state={prev_state} ==> next_comm={next_comm} next_pid={next_tid} next_prio=120\n"
    )
    return head + "".join(f"\tffffffff81000{i:03x} {f}+0x1 ([kernel.kallsyms])\n" for i, f in enumerate(frames)) + "\n"


def _wakeup(comm: str, tid: int, t: str, target_comm: str, target: int, frames: list[str]) -> str:
    head = f"{comm} {tid} [000] {t}: sched:sched_wakeup: comm={target_comm} pid={target} prio=120 target_cpu=000\n"
    return head + "".join(f"\tffffffff81000{i:03x} {f}+0x1 ([kernel.kallsyms])\n" for i, f in enumerate(frames)) + "\n"


def _sample(comm: str, tid: int, t: str, period: int, frames: list[str]) -> str:
    head = f"{comm} {tid} [000] {t}: {period} cpu-clock:ppp: \n"
    return head + "".join(f"\t{0x400000 + i:x} {f}+0x1 (/bin/{comm})\n" for i, f in enumerate(frames)) + "\n"


def _fold(text: str, **options: object) -> dict[str, int]:
    profile = read(text.encode(), fold_options("perf", **options))
    assert profile.unit == "ns"
    return dict(profile.weights)  # type: ignore[arg-type]


def test_timestamps_are_exact_nanoseconds() -> None:
    assert parse_ns(b"1760.612827") == 1_760_612_827_000
    assert parse_ns(b"1.000000001") == 1_000_000_001


def test_an_interval_runs_from_switch_out_to_the_next_switch_in() -> None:
    text = (
        _switch("a", 10, 0, "1.000000", "S", "b", 20, ["__schedule", "schedule", "do_sleep"])
        + _switch("b", 20, 0, "1.250000", "S", "a", 10, ["__schedule", "schedule", "wait"])
        + _switch("a", 10, 0, "2.000000", "S", "swapper/0", 0, ["__schedule", "schedule", "do_sleep"])
        + _sample("c", 30, "2.500000", 1000, ["main"])
    )
    weights = _fold(text, clock="off-cpu")
    # a: off 1.00 -> 1.25; then off again from 2.00 to the capture's end (2.5, c's sample)
    assert weights == {
        "a;do_sleep;schedule;__schedule;[off-cpu:S]": 250_000_000 + 500_000_000,
        # b went off at 1.25 and never came back: cut at the end
        "b;wait;schedule;__schedule;[off-cpu:S]": 1_250_000_000,
    }


def test_events_are_paired_in_time_order_across_cpus() -> None:
    # perf script may print CPU 1's earlier switch-in after CPU 0's later events
    text = (
        _switch("a", 10, 0, "1.000000", "D", "b", 20, ["__schedule", "io_wait"])
        + _switch("c", 30, 1, "1.400000", "S", "a", 10, ["__schedule", "poll"])
        + _switch("c", 30, 0, "1.100000", "S", "swapper/0", 0, ["__schedule", "poll"])
    )
    # time order: a out 1.0, c out 1.1 (on CPU 0), a in 1.4 (c's second switch-out, on CPU 1, is
    # then an out without an in: c switched in again unseen; cut at 1.4)
    weights = _fold(text, clock="off-cpu")
    assert weights["a;io_wait;__schedule;[off-cpu:D]"] == 400_000_000


def test_preemption_is_left_out_of_off_cpu_by_default_and_counted_by_wall() -> None:
    text = (
        _switch("a", 10, 0, "1.000000", "R", "b", 20, ["__schedule", "irqentry_exit"])
        + _switch("b", 20, 0, "1.100000", "S", "a", 10, ["__schedule", "sleep"])
        + _sample("a", 10, "1.200000", 1_000_000, ["spin", "main"])
        + _switch("a", 10, 0, "1.300000", "S", "b", 20, ["__schedule", "sleep"])
    )
    blocked = _fold(text, clock="off-cpu")
    assert "a;irqentry_exit;__schedule;[off-cpu:R]" not in blocked
    assert blocked["b;sleep;__schedule;[off-cpu:S]"] == 200_000_000  # b: 1.1 -> 1.3
    every = _fold(text, clock="off-cpu", off_cpu_states="all")
    assert every["a;irqentry_exit;__schedule;[off-cpu:R]"] == 100_000_000
    only_r = _fold(text, clock="off-cpu", off_cpu_states="R")
    assert set(only_r) == {"a;irqentry_exit;__schedule;[off-cpu:R]"}
    wall = _fold(text, clock="wall")
    assert wall["a;irqentry_exit;__schedule;[off-cpu:R]"] == 100_000_000
    assert wall["a;main;spin"] == 1_000_000  # the cpu-clock sample's period, in ns


def test_a_thread_first_seen_switching_in_and_the_idle_task_are_not_charged() -> None:
    text = (
        _switch("swapper/0", 0, 0, "1.000000", "R", "a", 10, ["__schedule", "idle"])
        + _switch("a", 10, 0, "1.500000", "S", "swapper/0", 0, ["__schedule", "sleep"])
        + _switch("swapper/0", 0, 0, "2.000000", "R", "a", 10, ["__schedule", "idle"])
    )
    weights = _fold(text, clock="off-cpu", off_cpu_states="all")
    assert weights == {"a;sleep;__schedule;[off-cpu:S]": 500_000_000}


def test_a_thread_that_exits_is_not_charged_after_its_exit() -> None:
    text = (
        _switch("a", 10, 0, "1.000000", "Z", "b", 20, ["__schedule", "do_task_dead", "do_exit"])
        + _switch("b", 20, 0, "3.000000", "S", "swapper/0", 0, ["__schedule", "sleep"])
        + _sample("c", 30, "4.000000", 1000, ["main"])
    )
    assert _fold(text, clock="off-cpu", off_cpu_states="all") == {"b;sleep;__schedule;[off-cpu:S]": 1_000_000_000}


@pytest.mark.parametrize("native", ["1", "0"])
def test_an_interval_whose_switch_in_is_missing_is_left_out_and_counted(native: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLDKIT_NATIVE", native)  # the core and its twin alike
    text = (
        _switch("a", 10, 0, "1.000000", "S", "b", 20, ["__schedule", "sleep"])
        # a's switch-in is lost: a runs unseen, then leaves CPU 1 again at 1.4
        + _switch("a", 10, 1, "1.400000", "S", "swapper/1", 0, ["__schedule", "poll"])
        + _switch("swapper/1", 0, 1, "1.500000", "R", "a", 10, ["__schedule", "idle"])
        + _sample("c", 30, "2.000000", 1000, ["main"])
    )
    profile = read(text.encode(), fold_options("perf", clock="off-cpu"))
    # 1.0 -> ? is not in the capture: left out, not charged up to 1.4 (a ran in between)
    assert dict(profile.weights) == {"a;poll;__schedule;[off-cpu:S]": 100_000_000}
    assert any(m.startswith("1 off-CPU intervals left out") for m in profile.diagnostics.messages())
    # preemption is not charged by --off-cpu: its missing switch-in costs nothing and is not reported
    preempted = text.replace("prev_state=S ==> next_comm=b", "prev_state=R ==> next_comm=b")
    profile = read(preempted.encode(), fold_options("perf", clock="off-cpu"))
    assert not any("left out" in m for m in profile.diagnostics.messages())


@pytest.mark.parametrize("native", ["1", "0"])
def test_a_thread_id_used_again_is_not_charged_the_old_threads_time(native: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLDKIT_NATIVE", native)
    text = (
        _switch("a", 10, 0, "1.000000", "S", "b", 20, ["__schedule", "sleep"])
        # a's switch-in is lost; it exits at 1.2, and its TID is given to a new thread n at 1.3
        + _switch("a", 10, 1, "1.200000", "Z", "swapper/1", 0, ["__schedule", "do_exit"])
        + _switch("swapper/1", 0, 1, "1.300000", "R", "n", 10, ["__schedule", "idle"])
        + _switch("n", 10, 1, "1.600000", "S", "swapper/1", 0, ["__schedule", "wait"])
        + _switch("swapper/1", 0, 1, "1.700000", "R", "n", 10, ["__schedule", "idle"])
    )
    profile = read(text.encode(), fold_options("perf", clock="off-cpu"))
    assert dict(profile.weights) == {"n;wait;__schedule;[off-cpu:S]": 100_000_000}
    assert any(m.startswith("1 off-CPU intervals left out") for m in profile.diagnostics.messages())


def test_wakeups_append_the_wakers_stack_after_a_separator() -> None:
    text = (
        _switch("a", 10, 0, "1.000000", "S", "b", 20, ["__schedule", "futex_wait"])
        + _wakeup("b", 20, "1.200000", "a", 10, ["try_to_wake_up", "futex_wake", "unlock"])
        + _switch("b", 20, 0, "1.300000", "S", "a", 10, ["__schedule", "sleep"])
    )
    weights = _fold(text, clock="off-cpu", wakeups=True)
    assert weights["a;futex_wait;__schedule;[off-cpu:S];--;try_to_wake_up;futex_wake;unlock;b"] == 300_000_000
    assert "a;futex_wait;__schedule;[off-cpu:S]" in _fold(text, clock="off-cpu")


def test_the_real_capture_charges_the_times_the_program_measured() -> None:
    measured = _measured()
    off = read(CAPTURE, fold_options("perf", clock="off-cpu"))
    assert off.unit == "ns" and off.event == "off-cpu"
    slept = _under(off.weights, "sleep_phase")  # type: ignore[arg-type]
    assert slept == pytest.approx(measured["sleep_ns"], rel=0.10)
    wall = read(CAPTURE, fold_options("perf", clock="wall"))
    weights: dict[str, int] = wall.weights  # type: ignore[assignment]
    assert _under(weights, "sleep_phase") == pytest.approx(measured["sleep_ns"], rel=0.10)
    assert _under(weights, "spin_phase") == pytest.approx(measured["spin_wall_ns"], rel=0.10)
    # on-CPU part: cpu-clock samples at 999 Hz, so a sampling error of a few percent
    assert _under(weights, "spin_phase", off=False) == pytest.approx(measured["spin_cpu_ns"], rel=0.25)
    # every off-CPU interval of the thread, whatever its state, is perf sched timehist's wait time
    every = read(CAPTURE, fold_options("perf", clock="off-cpu", off_cpu_states="all"))
    waited = sum(w for s, w in every.weights.items() if s.split(";")[0] == "spinsleep")
    assert waited / 1e6 == pytest.approx(measured["timehist_wait_ms"], rel=0.02)


def test_states_are_checked() -> None:
    assert state_letters("default", "off-cpu") is not None and "R" not in state_letters("default", "off-cpu")  # type: ignore[operator]
    assert state_letters("default", "wall") is None
    assert state_letters("s,d", "off-cpu") == frozenset("SD")
    with pytest.raises(UsageError):
        state_letters("Q", "off-cpu")


def test_errors_name_what_to_record() -> None:
    plain = _sample("a", 10, "1.000000", 1000, ["main"])
    with pytest.raises(InputError, match="sched:sched_switch"):
        read(plain.encode(), fold_options("perf", clock="off-cpu"))
    no_clock = _switch("a", 10, 0, "1.000000", "S", "b", 20, ["__schedule"])
    with pytest.raises(InputError, match="cpu-clock"):
        read(no_clock.encode(), fold_options("perf", clock="wall"))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--off-cpu", "--wall"], "exclude each other"),
        (["--wakeups"], "need --off-cpu or --wall"),
        (["--off-cpu", "--off-cpu-states", "Q"], "--off-cpu-states"),
    ],
)
def test_cli_usage_errors(args: list[str], said: str) -> None:
    done = run_cli(["fold", *args, str(CAPTURE)])
    assert done.returncode == 2
    assert said in done.stderr and "Traceback" not in done.stderr


def test_cli_refuses_other_formats_and_reads_stdin(tmp_path: Path) -> None:
    folded = tmp_path / "x.folded"
    folded.write_text("a;b 1\n")
    done = run_cli(["fold", "--off-cpu", str(folded)])
    assert done.returncode == 2 and "perf captures" in done.stderr
    via_path = run_cli(["fold", "--wall", str(CAPTURE)])
    via_stdin = run_cli(["fold", "--wall", "-"], stdin=CAPTURE.read_bytes())
    assert via_path.returncode == via_stdin.returncode == 0
    assert via_path.stdout == via_stdin.stdout and "[off-cpu:S]" in via_path.stdout


_SWITCH_LINE = re.compile(rb"sched:sched_switch: prev_comm=.*? prev_pid=(-?\d+) prev_prio=-?\d+ prev_state=(\S+) ==> next_comm=.*? next_pid=(-?\d+) ")


def unseen_switch_ins(text: bytes, comm: str) -> int:
    """Times a thread of `comm` is switched out twice in `perf script` output (time order) with no
    switch-in between: the capture lacks that switch-in (perf lost events, or the task that ran
    before it is one whose events perf does not see, such as a sandbox's agent), so the off-CPU
    interval it ends cannot be measured from the capture."""
    threads = {int(t) for t in re.findall(rb"prev_comm=" + re.escape(comm.encode()) + rb" prev_pid=(\d+)", text)}
    off: dict[int, bool] = {}
    missing = 0
    for m in _SWITCH_LINE.finditer(text):
        prev, state, nxt = int(m.group(1)), m.group(2)[:1], int(m.group(3))
        if prev in threads:
            missing += off.get(prev, False)
            off[prev] = state not in (b"Z", b"X")
        if nxt in threads:
            off[nxt] = False
    return missing


def test_unseen_switch_ins_are_counted() -> None:
    seen = _switch("a", 10, 0, "1.0", "S", "b", 20, ["x"]) + _switch("b", 20, 0, "1.1", "R", "a", 10, ["y"])
    again = _switch("a", 10, 0, "1.2", "R", "c", 30, ["x"]) + _switch("a", 10, 1, "1.3", "S", "b", 20, ["x"])
    assert unseen_switch_ins(seen.encode(), "a") == 0
    assert unseen_switch_ins((seen + again).encode(), "a") == 1
    assert unseen_switch_ins((seen + again).encode(), "b") == 0


#: Fresh captures tried before giving up on getting one with every switch-in of the program.
CAPTURE_ATTEMPTS = 3


@pytest.mark.root
def test_fresh_capture_matches_the_measured_times(tmp_path: Path) -> None:
    """A capture made now, of a program that measures its own spin and sleep times: `--wall`
    charges what it measured. Its preemptions (more under load) are charged from the capture's
    switch-outs and switch-ins, so the comparison holds whatever the load, provided the capture
    has every switch-in of the program: a capture missing one (see `unseen_switch_ins`) is made
    again, and the test is skipped only if every attempt misses one."""
    if os.geteuid() != 0:
        pytest.skip("needs root for perf record -a")
    perf, gcc = shutil.which("perf"), shutil.which("gcc")
    if perf is None or gcc is None:
        pytest.skip("needs perf (apt-get install linux-perf) and gcc")
    exe = tmp_path / "spinsleep"
    subprocess.run([gcc, "-O1", "-g", "-fno-omit-frame-pointer", "-o", str(exe), str(DATA / "spinsleep.c")], check=True)
    data = tmp_path / "ss.data"
    record = [perf, "record", "-o", str(data), "-g", "-a", "-e", "sched:sched_switch", "-e", "sched:sched_wakeup",
              "-c", "1", "-e", "cpu-clock/freq=999/", "--", str(exe), "4", "30", "60"]  # fmt: skip
    incomplete = []
    for _ in range(CAPTURE_ATTEMPTS):
        done = subprocess.run(record, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            pytest.skip(f"perf record cannot run here: {done.stderr.strip()[-200:]}")
        script = subprocess.run([perf, "script", "-i", str(data)], capture_output=True, timeout=120, check=True)
        text = script.stdout
        lost = re.search(r"\blost \d+ \w+", done.stderr + script.stderr.decode(errors="replace"), re.I)
        missing = unseen_switch_ins(text, "spinsleep")
        if lost is None and missing == 0:
            break
        incomplete.append(lost.group(0) if lost else f"{missing} switch-ins of spinsleep not in the capture")
    else:
        pytest.skip(f"no complete capture in {CAPTURE_ATTEMPTS} attempts: {'; '.join(incomplete)}")
    measured = {k: float(v) for k, _, v in (w.partition("=") for w in done.stdout.split())}
    wall = read(text, fold_options("perf", clock="wall"))
    weights: dict[str, int] = wall.weights  # type: ignore[assignment]
    assert _under(weights, "sleep_phase") == pytest.approx(measured["sleep_ns"], rel=0.10)
    assert _under(weights, "spin_phase") == pytest.approx(measured["spin_wall_ns"], rel=0.10)


def test_off_cpu_frames_are_drawn_blue_in_the_default_palette() -> None:
    from foldkit.render.palette import frame_color

    assert frame_color("[off-cpu:S]", "default") == frame_color("[off-cpu:S]", "blue")
    assert frame_color("read", "default") != frame_color("read", "blue")


def _as_cycles(header: bool, freq: bool) -> bytes:
    """The real capture with its cpu-clock samples renamed cycles (what a host with hardware
    counters records with -e cycles -F 999), under a `perf script --header` head if asked."""
    import zstandard

    text = zstandard.ZstdDecompressor().decompress(CAPTURE.read_bytes()).replace(b" cpu-clock/freq=999/:", b" cycles:")
    head = b""
    if header:
        setting = b"{ sample_period, sample_freq } = 999, sample_type = IP|TID|TIME|CALLCHAIN|PERIOD, freq = 1" if freq else b"{ sample_period, sample_freq } = 2000000, sample_type = IP|TID|TIME|CALLCHAIN"
        head = (
            b"# ========\n# cmdline : /usr/bin/perf record -e cycles -a -g\n"
            b"# event : name = cycles, , id = { 7, 8 }, type = 0 (PERF_TYPE_HARDWARE), size = 136, config = 0 (PERF_COUNT_HW_CPU_CYCLES), " + setting + b", disabled = 1\n"
            b"# event : name = sched:sched_switch, , id = { 9 }, type = 2 (PERF_TYPE_TRACEPOINT), { sample_period, sample_freq } = 1, freq = 0\n"
            b"# ========\n#\n"
        )
    return head + text


def test_wall_of_cycles_sampled_by_frequency_counts_each_sample_as_one_period_of_the_frequency() -> None:
    """`cycles -F 999` with the header: each sample 1/999 s, so spin and sleep come out at the
    times the program measured, as with cpu-clock."""
    measured = _measured()
    assert b" cycles:" in _as_cycles(False, False)
    wall = read(_as_cycles(True, True), fold_options("perf", clock="wall"))
    weights: dict[str, int] = wall.weights  # type: ignore[assignment]
    assert any("cycles samples taken at 999 Hz" in n for n in wall.diagnostics.notes)
    on_cpu = {s: w for s, w in weights.items() if "[off-cpu:" not in s}
    assert set(on_cpu.values()) and all(w % round(1e9 / 999) == 0 for w in on_cpu.values())
    assert _under(weights, "sleep_phase") == pytest.approx(measured["sleep_ns"], rel=0.10)
    assert _under(weights, "spin_phase") == pytest.approx(measured["spin_wall_ns"], rel=0.10)
    assert _under(weights, "spin_phase", off=False) == pytest.approx(measured["spin_cpu_ns"], rel=0.25)


@pytest.mark.parametrize(("header", "freq"), [(False, False), (True, False)])
def test_wall_of_cycles_without_a_frequency_is_refused_naming_what_is_needed(header: bool, freq: bool) -> None:
    with pytest.raises(InputError, match=r"on-CPU events present: cycles \(their period counts events, not time, and no sampling frequency is in the header\).*perf script --header"):
        read(_as_cycles(header, freq), fold_options("perf", clock="wall"))

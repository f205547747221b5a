"""`fold --off-cpu` / `--wall` natively (the core reads and pairs scheduler samples) and by the
Python twin (`FOLDKIT_NATIVE=0`, the reference) give the same profile: property tests on
generated captures (out-of-order CPUs, missing switch-ins, pid reuse, bad lines, odd states,
untimed samples), any chunk size and 1-3 threads, and on the real capture."""

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
from foldkit.ingest import FoldOptions, perf_sched, read
from foldkit.native import native_core
from foldkit.profile import Profile

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")

DATA = Path(__file__).parents[1] / "data" / "time"
CAPTURE = DATA / "spinsleep.perf.zst"


@contextmanager
def twin() -> Iterator[None]:
    """Read and pair with the Python twin only."""
    with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
        yield


#: Threads (0 is the idle task) and their comms, some with spaces or the switch's own words.
COMMS = {0: "swapper/0", 10: "a", 11: "FS Broker 5858", 12: "kworker/0:1", 13: "x prev_pid=9 y", 14: "caf\xe9"}
STATES = ["S", "D", "R", "R+", "I", "t", "Z", "X", "S|D", "\xe9"]
FRAMES = ["__schedule", "schedule", "do_nanosleep", "futex_wait", "io_schedule", "caf\xe9", "main", "[unknown]"]
ON_CPU = ["cpu-clock:", "cpu-clock/freq=999/:", "task-clock:ppp:", "cycles:", "cycles:u:", "page-faults:"]
#: Lines that damage a capture: not a header, a frame where none belongs, a switch whose fields do not parse.
DAMAGE = [
    "NOT A HEADER",
    "\tnot a frame",
    "a 10 [000] 1.5: sched:sched_switch: prev_comm=a prev_pid=x ==> next_comm=b next_pid=1",
    "a 10 [000] 1.5: sched:sched_wakeup: nothing here",
    "# a comment",
]


#: Comment lines after a capture that make it longer than the head every input's reading starts
#: with (64 KiB, read whole): a plain file that long is read by range, in chunks of the size asked.
PADDING = "# padding\n" * 7000


def _time(t: int, ns: bool) -> str:
    return f"{t // 1_000_000_000}.{t % 1_000_000_000:09d}" if ns else f"{t // 1_000_000_000}.{t % 1_000_000_000 // 1000:06d}"


def _frames(draw: st.DrawFn) -> list[str]:
    names = draw(st.lists(st.sampled_from(FRAMES), max_size=4))
    return [f"\tffffffff8100{i:04x} {n}+0x1 ([kernel.kallsyms])" for i, n in enumerate(names)]


@st.composite
def sched_capture(draw: st.DrawFn) -> str:
    """A `perf script` text of switches, wakeups and on-CPU samples: times mostly rising, some
    records printed late (another CPU's buffer), threads switched in and out at random (so
    switch-ins go missing, threads exit and their ids come back), damage here and there."""
    lines: list[str] = []
    if draw(st.booleans()):
        lines += [
            "# ========",
            "# event : name = cycles, , id = { 7 }, type = 0, { sample_period, sample_freq } = 999, freq = 1",
            "# ========",
            "#",
        ]
    ns = draw(st.booleans())
    t = 1_000_000_000_000
    for _ in range(draw(st.integers(0, 30))):
        t += draw(st.sampled_from([0, 1000, 250_000, 3_000_000]))
        at = t - draw(st.sampled_from([0, 0, 0, 500_000]))  # printed after later records
        cpu = draw(st.sampled_from([0, 1, 3]))
        tid = draw(st.sampled_from(sorted(COMMS)))
        comm = COMMS[tid]
        kind = draw(st.sampled_from(["switch", "switch", "switch", "wakeup", "sample", "untimed", "damage"]))
        when = f" [{cpu:03d}] {_time(at, ns)}:"
        if kind == "switch":
            nxt = draw(st.sampled_from(sorted(COMMS)))
            state = draw(st.sampled_from(STATES))
            lines.append(
                f"{comm} {tid}{when} sched:sched_switch: prev_comm={comm} prev_pid={tid} prev_prio=120 "
                f"prev_state={state} ==> next_comm={COMMS[nxt]} next_pid={nxt} next_prio=120"
            )
        elif kind == "wakeup":
            target = draw(st.sampled_from(sorted(COMMS)))
            success = draw(st.sampled_from(["", " success=1"]))
            lines.append(f"{comm} {tid}{when} sched:sched_wakeup: comm={COMMS[target]} pid={target} prio=120{success} target_cpu=001")
        elif kind == "sample":
            period = draw(st.sampled_from(["", " 250000", " 1", " 0", " 99999999999999999999"]))
            lines.append(f"{comm} {tid}/{tid}{when}{period} {draw(st.sampled_from(ON_CPU))} ")
        elif kind == "untimed":
            lines.append(f"{comm} {tid} 1 cpu-clock: ")
        else:
            lines.append(draw(st.sampled_from(DAMAGE)))
        lines += _frames(draw)
        lines.append("")
    return "\n".join(lines) + "\n" + (PADDING if draw(st.booleans()) else "")


OPTIONS = st.builds(
    FoldOptions,
    format=st.just("perf"),
    clock=st.sampled_from(["off-cpu", "wall"]),
    off_cpu_states=st.sampled_from(["default", "all", "blocked", "S,D", "R"]),
    wakeups=st.booleans(),
    pid=st.booleans(),
    tid=st.booleans(),
    kernel=st.booleans(),
    jobs=st.integers(min_value=1, max_value=3),
    chunk_size=st.sampled_from([0, 1, 64, 400, 4096]),
)


def _key(p: Profile) -> tuple:  # type: ignore[type-arg]
    d = p.diagnostics
    notes = [n for n in d.notes if ": format perf (" not in n]  # which input: one file or another
    return p.to_folded_bytes(), list(p.weights.items()), p.counts, p.event, p.unit, d.bad_lines, d.messages(), notes


def _outcome(spec: bytes | Path, options: FoldOptions) -> tuple:  # type: ignore[type-arg]
    """What reading gives: the profile's key, or the error refusing the capture."""
    try:
        return _key(read(spec, options))
    except (InputError, UsageError) as exc:
        return ("refused", type(exc).__name__, str(exc).replace(str(spec), "<input>"))


def _both(spec: bytes | Path, options: FoldOptions) -> tuple[tuple, tuple]:  # type: ignore[type-arg]
    native = _outcome(spec, options)
    with twin():
        reference = _outcome(spec, options)
    return native, reference


@contextmanager
def _no_twin() -> Iterator[None]:
    """Fail if the twin's reader runs."""

    def refuse(*args: object) -> None:
        raise AssertionError("the twin read the capture")

    with mock.patch.object(perf_sched, "_read", refuse):
        yield


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sched_capture(), OPTIONS, st.booleans())
def test_native_equals_twin_on_generated_captures(text: str, options: FoldOptions, as_file: bool) -> None:
    data = text.encode("utf-8", "surrogateescape")
    with tempfile.TemporaryDirectory() as tmp:
        spec: bytes | Path = data
        if as_file:  # a plain file is read by the threads themselves, by range
            spec = Path(tmp) / "sched.perf"
            spec.write_bytes(data)
        with _no_twin():
            native = _outcome(spec, options)
        with twin():
            reference = _outcome(spec, options)
    assert native == reference


#: Real captures of scheduler events: the measuring program's (switches, wakeups, cpu-clock), and
#: two system-wide ones (each with a switch-in perf did not record).
REAL = [CAPTURE, *(DATA.parent / "captures" / f"{n}.txt.zst" for n in ("perf-system-cpuclock-sched-switch", "perf-sched-switch"))]


@pytest.mark.parametrize("capture", REAL, ids=lambda p: p.name.split(".")[0])
@pytest.mark.parametrize(("clock", "wakeups"), [("off-cpu", False), ("wall", False), ("off-cpu", True)])
def test_native_equals_twin_on_real_captures(capture: Path, clock: str, wakeups: bool, tmp_path: Path) -> None:
    import zstandard

    plain = tmp_path / "capture.perf"
    plain.write_bytes(zstandard.ZstdDecompressor().decompress(capture.read_bytes()))
    options = FoldOptions(format="perf", clock=clock, wakeups=wakeups, off_cpu_states="all" if wakeups else "default")
    with twin():
        reference = _outcome(capture, options)
    assert reference[0] == "refused" or reference[0].count(b"[off-cpu:") >= 5
    for spec, jobs, chunk_size in [(capture, 1, 0), (capture, 2, 20_000), (plain, 2, 0), (plain, 3, 9_999)]:
        with _no_twin():
            native = _outcome(spec, FoldOptions(**{**options.__dict__, "jobs": jobs, "chunk_size": chunk_size}))
        assert native == reference, (spec, jobs, chunk_size)


@pytest.mark.parametrize("as_file", [False, True])
def test_a_chunk_the_core_hands_back_is_read_by_the_twins_reader(as_file: bool, tmp_path: Path) -> None:
    # a period beyond 64 bits: the core hands that chunk back; the twin's reader reads it, and the
    # twin pairs its samples with the core's from the other chunks
    def switch(t: str, prev: int, nxt: int) -> str:
        return (
            f"a {prev} [000] {t}: sched:sched_switch: prev_comm=a prev_pid={prev} prev_prio=120 prev_state=S ==> "
            f"next_comm=b next_pid={nxt} next_prio=120\n\tffffffff81000000 schedule+0x1 ([kernel.kallsyms])\n\n"
        )

    huge = "c 30 [000] 1.200000: 99999999999999999999 cycles: \n\t4005 main+0x1 (/bin/c)\n\nBAD\n\n"
    text = switch("1.000000", 10, 20) + huge + switch("1.500000", 20, 10) + switch("2.000000", 10, 0) + "x\n\n" + PADDING
    spec: bytes | Path = text.encode()
    if as_file:
        spec = tmp_path / "sched.perf"
        spec.write_bytes(text.encode())
    options = FoldOptions(format="perf", clock="off-cpu", chunk_size=1, jobs=2)
    calls: list[bytes] = []
    original = perf_sched.fold_chunk_lines

    def spy(chunk: bytes, *args: object, **kwargs: object) -> object:
        calls.append(chunk)
        return original(chunk, *args, **kwargs)  # type: ignore[arg-type]

    with _no_twin(), mock.patch.object(perf_sched, "fold_chunk_lines", spy):
        native = _outcome(spec, options)
    # a plain file is cut into chunks of the size asked for; a stream's head (64 KiB) is one
    assert len(calls) == 1
    assert calls[0] == huge.encode().split(b"BAD")[0] if as_file else huge.encode() in calls[0]
    with twin():
        assert native == _outcome(spec, options)
    assert native[0] == b"a;schedule;[off-cpu:S] 1000000000\n"  # 10: 1.0 -> 1.5; 20: 1.5 -> the end, 2.0
    assert native[5] == 2 and ":7: 'BAD'" in native[6][-1] and ":15: 'x'" in native[6][-1]

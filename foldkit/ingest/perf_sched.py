"""Off-CPU and wall-clock time from a perf capture's scheduler events (`fold --off-cpu`, `--wall`).

A `perf record -e sched:sched_switch -g` capture holds one sample per context switch: the stack
is the stack of the thread leaving the CPU (`prev_pid`), and `next_pid` names the thread that
comes on. A thread's off-CPU interval runs from its switch-out to its next switch-in; its weight
is that time in nanoseconds, charged to the switch-out stack, with the state the thread left in
(`prev_state`) as the leaf frame: `[off-cpu:S]` (sleeping), `[off-cpu:D]` (uninterruptible, mostly
disk I/O), `[off-cpu:R]` (preempted while runnable: waiting for a CPU, not blocked). Events are
taken in timestamp order across CPUs; threads still off-CPU when the capture ends are cut there;
a thread first seen switching in (off-CPU since before the capture) is not charged, nor a thread
that exits (its last switch-out is in state `Z` or `X`).

`--off-cpu` counts blocked time only (every state but `R`), as an off-CPU flame graph usually
shows; `--wall` adds the on-CPU samples (cpu-clock or task-clock, whose period is in ns) and
counts every state, so a thread's graph adds up to its wall time. `--off-cpu-states` chooses.
Another on-CPU event (`cycles`, `instructions`: their period counts events, not time) is used
only when it was sampled by frequency (`-F HZ`) and the capture says so (`perf script --header`
writes each event's `freq = 1` and `sample_freq`): each sample then stands for 1/HZ s of CPU
time, as perf's frequency mode keeps about HZ samples per second the event counts (a CPU's
cycles stop when it idles). A fixed period (`-c N` cycles) has no time in it: refused.
With `sched:sched_wakeup` (or `sched_waking`) events, `--wakeups` appends the stack of the thread
that woke the sleeper, leaf first, after a `--` frame (the layout of BCC's offwaketime).

The idle task (TID 0) is no thread: its time is never charged. This path is pure Python (the
native perf folder adds up samples; it does not pair events).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from foldkit.errors import InputError, UsageError
from foldkit.ingest.options import FoldOptions, perf_root_frames
from foldkit.ingest.perf import Resolver, base_event, cut_records, fold_chunk_lines
from foldkit.inputs import DEFAULT_CHUNK_SIZE, Source
from foldkit.profile import ROOT_FRAMES, Diagnostics, Profile
from foldkit.text import OFF_CPU_PREFIX

#: The `--clock` values: on-CPU samples (the default fold), off-CPU intervals, or both.
CLOCKS = ("cpu", "off-cpu", "wall")
#: Off-CPU states counted by default: `--off-cpu` leaves out preemption (R), `--wall` counts all.
DEFAULT_STATES = {"off-cpu": "blocked", "wall": "all"}
#: States of a thread that has exited (zombie, dead): it never comes back, so it is not charged.
DEAD = frozenset("XZ")
#: The frame between an off-CPU stack and its waker's stack (`--wakeups`), as BCC's offwaketime.
WAKER_SEPARATOR = "--"
#: On-CPU events whose sample period is CPU time in nanoseconds (`--wall`).
NS_EVENTS = ("cpu-clock", "task-clock")

_SWITCH = re.compile(
    rb"\s*prev_comm=.*? prev_pid=(?P<prev>-?\d+) prev_prio=-?\d+ prev_state=(?P<state>\S+)"
    rb" ==> next_comm=.*? next_pid=(?P<next>-?\d+) next_prio=-?\d+\s*"
)
#: A `perf script --header` event line: its name, its period or frequency, the rest (`freq = 1`).
_HEADER_EVENT = re.compile(rb"^# event : name = ([^,\n]+),.*?\{ sample_period, sample_freq \} = (\d+)(.*)$", re.MULTILINE)
_WAKEUP = re.compile(rb"\s*comm=.*? pid=(?P<target>-?\d+) prio=-?\d+(?: success=\d+)?(?: target_cpu=\d+)?\s*")


def state_letters(spec: str, clock: str) -> frozenset[str] | None:
    """The `prev_state` letters to count (None: all). `spec` is `all`, `blocked` (every state but
    R) or letters such as `S,D` (`default`: the mode's default)."""
    text = DEFAULT_STATES[clock] if spec == "default" else spec.strip()
    if text == "all":
        return None
    if text == "blocked":
        return frozenset("SDITPNWK")  # every state letter the kernel prints but R (and the dead X, Z)
    letters = frozenset(ch for ch in text.replace(",", "").replace(" ", "").upper())
    if not letters or not letters <= frozenset("RSDITXZPNWK"):
        raise UsageError(f"--off-cpu-states: give 'all', 'blocked' or state letters such as S,D, not {spec!r}")
    return letters


def parse_ns(text: bytes) -> int:
    """A perf timestamp `1760.612827` (µs) or `1760.612827123` (`--ns`) in integer nanoseconds."""
    whole, _, frac = text.partition(b".")
    return int(whole) * 1_000_000_000 + int((frac + b"000000000")[:9])


def _thread(header: re.Match[bytes]) -> int:
    tid = header.group("tid") or header.group("pid")
    return int(tid)


@dataclass
class _Timeline:
    """Every event the pairing needs, in file order: (time, order, kind, ...)."""

    events: list[tuple[int, int, str, int, int, str, str]] = field(default_factory=list)
    on_cpu: dict[str, list[tuple[int, int, str, int]]] = field(default_factory=dict)
    last: int = 0
    samples: int = 0
    untimed: int = 0

    def add(self, header: re.Match[bytes], stack: str) -> None:
        self.samples += 1
        raw_time = header.group("time")
        if raw_time is None:
            self.untimed += 1
            return
        t = parse_ns(raw_time)
        self.last = max(self.last, t)
        event = base_event((header.group("event") or b"").decode("utf-8", "surrogateescape"))
        rest = header.group("rest") or b""
        order = len(self.events)
        if event == "sched:sched_switch":
            m = _SWITCH.fullmatch(rest)
            if m is None:
                return
            state = m.group("state").decode("ascii", "replace")[:1].upper() or "?"
            self.events.append((t, order, "switch", int(m.group("prev")), int(m.group("next")), stack, state))
        elif event in ("sched:sched_wakeup", "sched:sched_waking"):
            m = _WAKEUP.fullmatch(rest)
            if m is not None:
                self.events.append((t, order, "wakeup", _thread(header), int(m.group("target")), stack, ""))
        else:
            period = header.group("period")
            event = event.split("/", 1)[0]  # `cpu-clock/freq=999/` is cpu-clock
            self.on_cpu.setdefault(event, []).append((t, _thread(header), stack, int(period) if period else 0))


def sampling_frequencies(head: bytes) -> dict[str, int]:
    """Event -> sampling frequency (Hz) of the events a `perf script --header` head says were
    sampled by frequency (`freq = 1`); events of a fixed period are left out."""
    out: dict[str, int] = {}
    for m in _HEADER_EVENT.finditer(head):
        if re.search(rb"\bfreq = 1\b", m.group(3)) and int(m.group(2)) > 0:
            name = base_event(m.group(1).decode("utf-8", "surrogateescape").strip()).split("/", 1)[0]
            out[name] = int(m.group(2))
    return out


def _waker_frames(stack: str) -> str:
    """The waker's stack leaf first, its root frame (comm) last, as offwaketime draws it."""
    return ";".join(reversed(stack.split(";")))


def fold(source: Source, options: FoldOptions) -> Profile:
    """Off-CPU (`options.clock == "off-cpu"`) or wall-clock (`"wall"`) time of a perf capture."""
    clock = options.clock
    if clock not in ("off-cpu", "wall"):
        raise UsageError(f"--clock must be one of {', '.join(CLOCKS)}, not {clock!r}")
    states = state_letters(options.off_cpu_states, clock)
    resolver = Resolver(options)
    timeline = _Timeline()
    diag = Diagnostics()
    bad = 0
    line_base = 0
    size = options.chunk_size or DEFAULT_CHUNK_SIZE
    frequencies: dict[str, int] | None = None
    for chunk in source.chunks(cut=cut_records, size=size):
        if frequencies is None:  # the header, if any, starts the first chunk
            frequencies = sampling_frequencies(chunk[: 1 << 20])
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n")
        result = fold_chunk_lines(chunk, resolver, sink=timeline.add)
        for lineno, text in result.bad:
            diag.bad_line(source.name, line_base + lineno, text)
        bad += result.bad_count
        line_base += chunk.count(b"\n")
    diag.bad_lines = bad
    switches = sum(1 for e in timeline.events if e[2] == "switch")
    if not switches:
        raise InputError(
            f"{source.name}: --{clock} needs sched:sched_switch events with call graphs and timestamps "
            "(record with: perf record -e sched:sched_switch -a -g; for --wall also -e cpu-clock)"
        )
    if timeline.untimed:
        diag.warnings.append(f"{timeline.untimed} samples without a timestamp were left out")
    weights: dict[str, int] = {}
    counts: dict[str, int] = {}

    def charge(stack: str, ns: int) -> None:
        if ns > 0:
            weights[stack] = weights.get(stack, 0) + ns
            counts[stack] = counts.get(stack, 0) + 1

    off: dict[int, tuple[int, str, str]] = {}  # thread -> (switched out at, stack, state)
    woken_by: dict[int, str] = {}  # thread -> stack of the thread that woke it since it went off
    for t, _, kind, a, b, stack, state in sorted(timeline.events):
        if kind == "wakeup":
            if options.wakeups and b in off:
                woken_by[b] = stack
            continue
        prev, nxt = a, b
        if prev != 0 and state not in DEAD:
            off[prev] = (t, stack, state)
            woken_by.pop(prev, None)
        if nxt != 0 and nxt in off:
            since, out_stack, out_state = off.pop(nxt)
            if states is None or out_state in states:
                key = f"{out_stack};{OFF_CPU_PREFIX}{out_state}]"
                waker = woken_by.pop(nxt, None)
                if waker is not None:
                    key = f"{key};{WAKER_SEPARATOR};{_waker_frames(waker)}"
                charge(key, t - since)
    for since, out_stack, out_state in off.values():
        if states is None or out_state in states:
            charge(f"{out_stack};{OFF_CPU_PREFIX}{out_state}]", timeline.last - since)
    if off:
        diag.notes.append(f"{len(off)} threads were still off-CPU when the capture ended: cut there")
    if clock == "wall":
        ns_events = [e for e in NS_EVENTS if e in timeline.on_cpu]
        by_freq = [e for e in sorted(timeline.on_cpu) if e in (frequencies or {})]
        if ns_events:
            event = ns_events[0]
            for _, thread, stack, period in timeline.on_cpu[event]:
                if thread != 0:
                    charge(stack, period)
        elif by_freq:
            event = by_freq[0]
            hz = (frequencies or {})[event]
            each = round(1e9 / hz)
            for _, thread, stack, _ in timeline.on_cpu[event]:
                if thread != 0:
                    charge(stack, each)
            diag.notes.append(
                f"--wall: on-CPU time from {event} samples taken at {hz} Hz, each counted as 1/{hz} s "
                f"({each:,} ns): an estimate (cpu-clock measures it)"
            )
        else:
            present = ", ".join(sorted(timeline.on_cpu)) or "none"
            raise InputError(
                f"{source.name}: --wall needs on-CPU time: samples of cpu-clock or task-clock (their period "
                f"is CPU time in ns), or of an event sampled by frequency (-F HZ) with the capture's header "
                f"(perf script --header) saying so; on-CPU events present: {present}"
                + (" (their period counts events, not time, and no sampling frequency is in the header)" if timeline.on_cpu else "")
                + ". Record with: perf record -e cpu-clock -e sched:sched_switch -a -g, "
                "or keep perf record -F HZ and run perf script --header"
            )
        others = sorted(set(timeline.on_cpu) - {event})
        if others:
            diag.warnings.append(f"--wall: on-CPU time from {event}; left out {', '.join(others)}")
    return Profile(
        weights=weights,  # type: ignore[arg-type]
        counts=counts,
        unit="ns",
        event=clock,
        diagnostics=diag,
        meta={ROOT_FRAMES: perf_root_frames(options.pid, options.tid)},
    )

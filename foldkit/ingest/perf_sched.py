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

The idle task (TID 0) is no thread: its time is never charged. A thread switched out again (or
exiting) with no switch-in seen since its last switch-out lost that switch-in (perf lost events,
or the thread that ran before it is not recorded): when that interval ended is not in the
capture, so it is left out and counted in a warning.

The native core reads the samples on its threads (the on-CPU fold's reader, keeping each timed
sample's time, stack and scheduler fields) and pairs them (`foldkit._native.SchedEvents`); the
Python reader and pairing here are its twin and the reference: they run alone with
`FOLDKIT_NATIVE=0`; a chunk the core hands back is read by the twin's reader, and the twin then
pairs its samples with the core's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from foldkit.errors import InputError, UsageError
from foldkit.ingest.options import FoldOptions, perf_root_frames
from foldkit.ingest.perf import (
    FoldState,
    Resolver,
    _fold_native,
    base_event,
    cut_records,
    fold_chunk_lines,
    quote_bad_lines,
)
from foldkit.inputs import DEFAULT_CHUNK_SIZE, Source
from foldkit.native import NativeCore, native_core
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


def on_cpu_name(event: str) -> str:
    """The name `--wall` groups an on-CPU event's samples under: `cpu-clock/freq=999/` is `cpu-clock`."""
    return event.split("/", 1)[0]


#: One charge of the pairing: the folded stack (with its off-CPU leaf), ns, intervals or samples.
Charge = tuple[str, int, int]


@dataclass
class Paired:
    """What the pairing charged, in the order each stack was first charged; threads still
    off-CPU at the capture's end (cut there); off-CPU intervals left out for a missing switch-in."""

    charges: list[Charge]
    still_off: int
    missing: int


@dataclass
class _Timeline:
    """Every event the pairing needs, in file order: (time, order, kind, ...) (the twin)."""

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
            event = on_cpu_name(event)
            self.on_cpu.setdefault(event, []).append((t, _thread(header), stack, int(period) if period else 0))

    def extend(self, other: _Timeline) -> None:
        """Add the events of `other`, read after this timeline's."""
        for e in other.events:
            self.events.append((e[0], len(self.events), *e[2:]))
        for event, samples in other.on_cpu.items():
            self.on_cpu.setdefault(event, []).extend(samples)
        self.last = max(self.last, other.last)
        self.samples += other.samples
        self.untimed += other.untimed

    @property
    def switches(self) -> int:
        """`sched:sched_switch` events read."""
        return sum(1 for e in self.events if e[2] == "switch")

    def on_cpu_events(self) -> list[str]:
        """The on-CPU events' names (see `on_cpu_name`)."""
        return list(self.on_cpu)

    def pair(self, states: frozenset[str] | None, wakeups: bool, on_cpu: str | None = None, each: int | None = None) -> Paired:
        """Pair switch-outs with switch-ins in time order and charge each interval of a state in
        `states` (None: all) to the stack its thread left the CPU with, then the samples of the
        on-CPU event `on_cpu` (each for its period, or for `each` ns)."""
        weights: dict[str, int] = {}
        counts: dict[str, int] = {}

        def charge(stack: str, ns: int) -> None:
            if ns > 0:
                weights[stack] = weights.get(stack, 0) + ns
                counts[stack] = counts.get(stack, 0) + 1

        off: dict[int, tuple[int, int, str, str]] = {}  # thread -> (switched out at, order, stack, state)
        woken_by: dict[int, str] = {}  # thread -> stack of the thread that woke it since it went off
        missing = 0
        for t, order, kind, a, b, stack, state in sorted(self.events):
            if kind == "wakeup":
                if wakeups and b in off:
                    woken_by[b] = stack
                continue
            prev, nxt = a, b
            if prev != 0:
                stale = off.pop(prev, None)
                if stale is not None and (states is None or stale[3] in states):
                    missing += 1  # switched out again (or exiting) with no switch-in seen
                woken_by.pop(prev, None)
                if state not in DEAD:
                    off[prev] = (t, order, stack, state)
            if nxt != 0 and nxt in off:
                since, _, out_stack, out_state = off.pop(nxt)
                waker = woken_by.pop(nxt, None)
                if states is None or out_state in states:
                    charge(off_cpu_stack(out_stack, out_state, waker), t - since)
        for since, _, out_stack, out_state in sorted(off.values()):
            if states is None or out_state in states:
                charge(off_cpu_stack(out_stack, out_state, None), self.last - since)
        if on_cpu is not None:
            for _, thread, stack, period in self.on_cpu.get(on_cpu, []):
                if thread != 0:
                    charge(stack, period if each is None else each)
        return Paired([(s, w, counts[s]) for s, w in weights.items()], len(off), missing)


class _NativeTimeline:
    """The native core's samples kept for the pairing (`_native.SchedEvents`), paired there: the
    twin's `_Timeline` in its interface and results."""

    def __init__(self, events: Any, stacks: list[str]) -> None:
        self._events = events
        self._stacks = stacks
        self.switches: int = events.switches
        self.untimed: int = events.untimed

    def on_cpu_events(self) -> list[str]:
        """The on-CPU events' names (see `on_cpu_name`)."""
        names: list[str] = self._events.on_cpu_events()
        return names

    def pair(self, states: frozenset[str] | None, wakeups: bool, on_cpu: str | None = None, each: int | None = None) -> Paired:
        """As `_Timeline.pair`."""
        letters = None if states is None else "".join(sorted(states)).encode("ascii")
        wanted = None if on_cpu is None else on_cpu.encode("utf-8", "surrogateescape")
        charges, still_off, missing = self._events.pair(letters, wakeups, wanted, each)
        stacks = self._stacks
        out: list[Charge] = []
        for stack, state, waker, ns, count in charges:
            key = stacks[stack] if state is None else off_cpu_stack(stacks[stack], state, None if waker is None else stacks[waker])
            out.append((key, ns, count))
        return Paired(out, still_off, missing)


def off_cpu_stack(stack: str, state: str, waker: str | None) -> str:
    """The folded stack an off-CPU interval is charged to: the stack its thread left the CPU
    with, the state as leaf frame, and the waker's stack after a separator (`--wakeups`)."""
    key = f"{stack};{OFF_CPU_PREFIX}{state}]"
    return key if waker is None else f"{key};{WAKER_SEPARATOR};{_waker_frames(waker)}"


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


def _read(source: Source, options: FoldOptions, diag: Diagnostics) -> _Timeline:
    """The twin's reading: the line path's samples into a `_Timeline`, bad lines into `diag`."""
    resolver = Resolver(options)
    timeline = _Timeline()
    bad = 0
    line_base = 0
    size = options.chunk_size or DEFAULT_CHUNK_SIZE
    for chunk in source.chunks(cut=cut_records, size=size):
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n")
        result = fold_chunk_lines(chunk, resolver, sink=timeline.add)
        for lineno, text in result.bad:
            diag.bad_line(source.name, line_base + lineno, text)
        bad += result.bad_count
        line_base += chunk.count(b"\n")
    diag.bad_lines = bad
    return timeline


def _read_native(
    native: NativeCore, source: Source, options: FoldOptions, diag: Diagnostics
) -> _NativeTimeline | _Timeline:
    """The native core's reading (threads, as the on-CPU fold's), bad lines into `diag`. A chunk
    the core hands back (a number too long for it, a line it cannot name) is read by the twin's
    reader; the capture is then paired by the twin, the core's samples with it."""
    resolver = Resolver(options)

    def back_to_twin(state: FoldState, index: int, chunk: bytes) -> None:
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n")
        part = _Timeline()
        result = fold_chunk_lines(chunk, resolver, sink=part.add)
        state.handed_back[index] = part
        state.bad.extend((index, lineno, text) for lineno, text in result.bad)
        state.bad_count += result.bad_count

    size = options.chunk_size or DEFAULT_CHUNK_SIZE
    state = _fold_native(native, source, options, size, fallback=back_to_twin)
    quote_bad_lines(state, source.name, diag)
    if not state.handed_back:
        return _NativeTimeline(state.sched, state.stacks)
    timeline = _Timeline()
    kept = {index: (untimed, last, rows) for index, untimed, last, rows in state.sched.rows()}
    for index in sorted(kept.keys() | state.handed_back.keys()):
        part = state.handed_back.get(index)
        if part is None:
            part = _Timeline(untimed=kept[index][0], last=kept[index][1])
            for t, kind, a, b, stack, extra in kept[index][2]:
                if kind == "sample":
                    part.on_cpu.setdefault(extra, []).append((t, a, state.stacks[stack], b))
                else:
                    part.events.append((t, len(part.events), kind, a, b, state.stacks[stack], extra))
        timeline.extend(part)
    return timeline


def fold(source: Source, options: FoldOptions) -> Profile:
    """Off-CPU (`options.clock == "off-cpu"`) or wall-clock (`"wall"`) time of a perf capture."""
    clock = options.clock
    if clock not in ("off-cpu", "wall"):
        raise UsageError(f"--clock must be one of {', '.join(CLOCKS)}, not {clock!r}")
    states = state_letters(options.off_cpu_states, clock)
    # the header, if any, starts the capture; its event lines follow `# cmdline` near its top
    frequencies = sampling_frequencies(source.head())
    native = native_core()
    diag = Diagnostics()
    timeline = _read(source, options, diag) if native is None else _read_native(native, source, options, diag)
    if not timeline.switches:
        raise InputError(
            f"{source.name}: --{clock} needs sched:sched_switch events with call graphs and timestamps "
            "(record with: perf record -e sched:sched_switch -a -g; for --wall also -e cpu-clock)"
        )
    if timeline.untimed:
        diag.warnings.append(f"{timeline.untimed} samples without a timestamp were left out")
    event: str | None = None
    each: int | None = None
    present = timeline.on_cpu_events()
    if clock == "wall":
        ns_events = [e for e in NS_EVENTS if e in present]
        by_freq = [e for e in sorted(present) if e in frequencies]
        if ns_events:
            event = ns_events[0]
        elif by_freq:
            event = by_freq[0]
            each = round(1e9 / frequencies[event])
        else:
            listed = ", ".join(sorted(present)) or "none"
            raise InputError(
                f"{source.name}: --wall needs on-CPU time: samples of cpu-clock or task-clock (their period "
                f"is CPU time in ns), or of an event sampled by frequency (-F HZ) with the capture's header "
                f"(perf script --header) saying so; on-CPU events present: {listed}"
                + (" (their period counts events, not time, and no sampling frequency is in the header)" if present else "")
                + ". Record with: perf record -e cpu-clock -e sched:sched_switch -a -g, "
                "or keep perf record -F HZ and run perf script --header"
            )
    paired = timeline.pair(states, options.wakeups, event, each)
    weights: dict[str, int] = {}
    counts: dict[str, int] = {}
    for stack, ns, n in paired.charges:
        weights[stack] = weights.get(stack, 0) + ns
        counts[stack] = counts.get(stack, 0) + n
    if paired.missing:
        diag.warnings.append(
            f"{paired.missing} off-CPU intervals left out: their thread left the CPU again (or exited) with no "
            "switch-in in the capture since, so when they ended is unknown (perf lost events, or the switch-in "
            "was not recorded)"
        )
    if paired.still_off:
        diag.notes.append(f"{paired.still_off} threads were still off-CPU when the capture ended: cut there")
    if event is not None:
        if each is not None:
            hz = frequencies[event]
            diag.notes.append(
                f"--wall: on-CPU time from {event} samples taken at {hz} Hz, each counted as 1/{hz} s "
                f"({each:,} ns): an estimate (cpu-clock measures it)"
            )
        others = sorted(set(present) - {event})
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

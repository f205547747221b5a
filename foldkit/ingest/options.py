"""Options shared by every input format's folder; defaults are defined here once."""

from __future__ import annotations

from dataclasses import dataclass, replace

from foldkit.errors import UsageError
from foldkit.inputs import DEFAULT_MAX_RECORD


@dataclass(frozen=True)
class FoldOptions:
    """How to turn a capture into stacks. Each format uses the fields that apply to it."""

    format: str = "auto"  # a name from foldkit.ingest.FORMATS, or "auto"
    pid: bool = False  # root frame `comm-PID`
    tid: bool = False  # root frame `comm-PID/TID`
    kernel: bool = False  # annotate kernel frames `_[k]`
    jit: bool = False  # annotate JIT frames `_[j]`
    inline: bool = False  # annotate inlined frames `_[i]` (set by --all)
    addrs: bool = False  # keep addresses of unresolved frames: `[dso <addr>]`
    event: str | None = None  # perf: fold only this event (modifiers ignored)
    weight: str = "period"  # perf: "period" (reference behaviour) or "samples"
    skip_after: tuple[str, ...] = ()  # cut stacks below (root-side of) the first frame with this name
    skip_after_drops_root: bool = False  # a cut stack loses its root (process) frame too, as inferno's
    maps: tuple[str, ...] = ()  # bpftrace: which maps ("@", "@name", or "all")
    strict: bool = False  # unrecognised lines are an error instead of a warning
    jobs: int = 0  # threads; 0 = one per core
    keep_time: bool = False  # keep per-sample timestamps (flame charts, --time)
    keep_order: bool = False  # folded: every line in input order, as an untimed timeline (flame charts)
    chunk_size: int = 0  # bytes per parallel work unit; 0 = foldkit.inputs.DEFAULT_CHUNK_SIZE
    demangle: bool = False  # demangle C++ `_Z…` and Rust names (needs the native core)
    max_record: int = DEFAULT_MAX_RECORD  # longer lines/records are skipped as unrecognised (foldkit.inputs)
    unit: str | None = None  # what the weights count, overriding what the input says (or does not)
    keep_bpf_frames: bool = False  # BCC/libbpf-tools: keep the bpf_prog_*/bpf_trace_run* frames of the tracing program
    sample_type: str | None = None  # pprof: fold this sample type (default: the profile's default, else the last)
    clock: str = "cpu"  # perf: "cpu" (samples), "off-cpu" or "wall" (sched_switch pairing, foldkit.ingest.perf_sched)
    off_cpu_states: str = "default"  # perf_sched: prev_state letters counted ("all", "blocked", "S,D")
    wakeups: bool = False  # perf_sched: append the waker's stack (sched_wakeup events)

    @classmethod
    def with_all(cls, **kwargs: object) -> FoldOptions:
        """Options with `--all` applied: kernel, JIT and inline annotations."""
        return cls(**kwargs).annotated()  # type: ignore[arg-type]

    def annotated(self) -> FoldOptions:
        """These options with `--all` (`all=True`) applied: kernel _[k], JIT _[j] and inline _[i]
        annotations (the one place that says what `--all` turns on)."""
        return replace(self, kernel=True, jit=True, inline=True)


DEFAULT_OPTIONS = FoldOptions()


def clock_of_flags(off_cpu: bool, wall: bool, wakeups: bool, off_cpu_states: str) -> str:
    """`FoldOptions.clock` for the `--off-cpu` / `--wall` flags (with `--wakeups` and
    `--off-cpu-states`, which need one of them); a UsageError when they do not go together."""
    if off_cpu and wall:
        raise UsageError("--off-cpu and --wall exclude each other (--wall includes the off-CPU time)")
    clock = "off-cpu" if off_cpu else "wall" if wall else "cpu"
    if clock == "cpu" and (wakeups or off_cpu_states != "default"):
        raise UsageError("--wakeups and --off-cpu-states need --off-cpu or --wall")
    return clock


def perf_root_frames(pid: bool, tid: bool) -> tuple[str, ...]:
    """The root-frame layout the perf folder writes for its `--pid` / `--tid` options."""
    return ("comm-pid/tid",) if tid else ("comm-pid",) if pid else ("comm",)

"""Options shared by every input format's folder; defaults are defined here once."""

from __future__ import annotations

from dataclasses import dataclass


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
    maps: tuple[str, ...] = ()  # bpftrace: which maps ("@", "@name", or "all")
    strict: bool = False  # unrecognised lines are an error instead of a warning
    jobs: int = 0  # threads; 0 = one per core
    keep_time: bool = False  # keep per-sample timestamps (flame charts, --time)
    chunk_size: int = 0  # bytes per parallel work unit; 0 = foldkit.inputs.DEFAULT_CHUNK_SIZE
    demangle: bool = False  # demangle C++ `_Z…` and Rust names (needs the native core)
    max_record: int = 64 * 1024 * 1024  # longer lines/records are skipped as unrecognised (foldkit.inputs)
    unit: str | None = None  # what the weights count, overriding what the input says (or does not)
    clock: str = "cpu"  # perf: "cpu" (samples), "off-cpu" or "wall" (sched_switch pairing, foldkit.ingest.perf_sched)
    off_cpu_states: str = "default"  # perf_sched: prev_state letters counted ("all", "blocked", "S,D")
    wakeups: bool = False  # perf_sched: append the waker's stack (sched_wakeup events)

    @classmethod
    def with_all(cls, **kwargs: object) -> FoldOptions:
        """Options with `--all` applied: kernel, JIT and inline annotations."""
        kwargs.update(kernel=True, jit=True, inline=True)
        return cls(**kwargs)  # type: ignore[arg-type]


DEFAULT_OPTIONS = FoldOptions()

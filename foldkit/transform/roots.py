"""Who ran a stack: the root frames that hold the command name, PID or TID, the `--comm` and
`--only-pid` filters, and the per-process / per-thread split of `foldkit fold`.

A folder says what its leading frames hold in `Profile.meta["root_frames"]`: one name per frame,
`"comm"`, `"pid"`, `"tid"`, the combined perf forms `"comm-pid"` (`java-4242`) and `"comm-pid/tid"`
(`java-4242/4250`), or any other key name (a bpftrace scalar key such as `"cpu"`); `()` when the
stacks start with code. When a profile does not say (folded, bpftrace and BCC input today), the
first frame is read as `comm`, `comm-PID` or `comm-PID/TID` (what `stackcollapse-perf.pl` and BCC
write), and a numeric frame next to it as the PID (bpftrace's `@[comm, pid, kstack]` and
`@[pid, comm, ...]` keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from foldkit.errors import UsageError
from foldkit.ingest.options import perf_root_frames
from foldkit.lazy import regex
from foldkit.profile import ROOT_FRAMES, Profile, Weight, map_stacks
from foldkit.timeline import Timeline
from foldkit.transform.base import SEP, compile_regex

if TYPE_CHECKING:
    from foldkit.ingest.options import FoldOptions
    from foldkit.inputs import InputSpec

#: Combined layouts and the fields they hold.
_COMBINED = {"comm-pid": ("comm", "pid"), "comm-pid/tid": ("comm", "pid", "tid")}
_COMM_PID_TID = regex(globals(), "_COMM_PID_TID", r"(?P<comm>.*)-(?P<pid>-?\d+|\?)(?:/(?P<tid>-?\d+|\?))?", re.DOTALL)


@dataclass(frozen=True)
class Identity:
    """The command name, PID and TID a stack was sampled in, where its root frames say."""

    comm: str | None = None
    pid: str | None = None
    tid: str | None = None


def read_profile(inputs: InputSpec | Sequence[InputSpec], options: FoldOptions) -> Profile:
    """Read and fold captures (paths, `-` for stdin, or bytes; several are merged) with `options`,
    recording which root frames hold the comm/PID/TID."""
    from foldkit.ingest import read

    return with_root_frames_declared(read(inputs, options), options)


def with_root_frames_declared(profile: Profile, options: FoldOptions) -> Profile:
    """`profile` (read with `options`) with `meta["root_frames"]` filled in where the folder did not
    say but the format and options tell (perf: comm, comm-PID or comm-PID/TID)."""
    if profile.format == "perf" and ROOT_FRAMES not in profile.meta:
        profile.meta[ROOT_FRAMES] = perf_root_frames(options.pid, options.tid)
    return profile


def root_layout(profile: Profile) -> tuple[str, ...] | None:
    """What the leading frames hold, as the folder declared it; None when unknown."""
    layout = profile.meta.get(ROOT_FRAMES)
    return None if layout is None else tuple(layout)


def _split_combined(frame: str) -> dict[str, str]:
    m = _COMM_PID_TID.fullmatch(frame)
    if m is None:
        return {"comm": frame}
    return {k: v for k, v in m.groupdict().items() if v is not None}


def identify(stack: str, layout: tuple[str, ...] | None) -> Identity:
    """The comm/PID/TID held by the root frames of `stack` under `layout` (None: guess from frame 0)."""
    frames = stack.split(SEP, len(layout) if layout else 2)
    fields: dict[str, str] = {}
    if layout is None:
        fields = _split_combined(frames[0])
        second = frames[1] if len(frames) > 2 else None  # a frame with more frames above it
        if "pid" not in fields and second is not None:
            if second.isdigit() and not frames[0].isdigit():  # bpftrace @[comm, pid, stack]
                fields["pid"] = second
            elif frames[0].isdigit() and not second.isdigit():  # bpftrace @[pid, comm, stack]
                fields = {"pid": frames[0], "comm": second}
    else:
        for kind, frame in zip(layout, frames, strict=False):
            if kind in _COMBINED:
                got = _split_combined(frame)
                fields.update({k: v for k, v in got.items() if k in _COMBINED[kind]})
            elif kind in ("comm", "pid", "tid"):
                fields[kind] = frame
    return Identity(fields.get("comm"), fields.get("pid"), fields.get("tid"))


def _identities(layout: tuple[str, ...] | None) -> Callable[[str], Identity]:
    """`identify` under `layout`, remembered per root frames (stacks share a few roots)."""
    known: dict[tuple[str, ...], Identity] = {}
    n = len(layout) if layout else 2

    def who(stack: str) -> Identity:
        frames = stack.split(SEP, n)
        # without a layout a second frame counts only when more frames follow it
        key = tuple(frames[:n]) + (("",) if layout is None and len(frames) > 2 else ())
        got = known.get(key)
        if got is None:
            got = known[key] = identify(stack, layout)
        return got

    return who


def holds(layout: tuple[str, ...] | None, what: str) -> bool:
    """Whether root frames laid out as `layout` hold `what` ("comm", "pid", "tid"); unknown: maybe."""
    if layout is None:
        return True
    return any(kind == what or what in _COMBINED.get(kind, ()) for kind in layout)


def _describe(layout: tuple[str, ...]) -> str:
    return ";".join(layout) if layout else "code frames only"


@dataclass(frozen=True)
class Comm:
    """Keep stacks whose command name matches any of `patterns` (regexes)."""

    patterns: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.patterns, str):
            object.__setattr__(self, "patterns", (self.patterns,))
        for p in self.patterns:
            compile_regex(p, "--comm")


@dataclass(frozen=True)
class OnlyPid:
    """Keep stacks sampled in any of the processes `pids`."""

    #: ints after construction; given as ints or strings of comma-separated ids ("1234,5678")
    pids: tuple[int | str, ...] = field(default=())

    def __post_init__(self) -> None:
        if isinstance(self.pids, int | str):
            object.__setattr__(self, "pids", (self.pids,))
        pids: list[int] = []
        for p in self.pids:
            for part in str(p).split(","):
                part = part.strip()
                if not re.fullmatch(r"-?\d+", part):
                    raise UsageError(f"--only-pid takes process ids (e.g. 1234 or 1234,5678), not {p!r}")
                pids.append(int(part))
        object.__setattr__(self, "pids", tuple(pids))


def _require(profile: Profile, what: str, flag: str, hint: str) -> tuple[str, ...] | None:
    layout = root_layout(profile)
    if layout is not None and not holds(layout, what) and profile.weights:
        raise UsageError(
            f"{flag}: the stacks of this profile carry no {what} (root frames: {_describe(layout)}){hint}"
        )
    return layout


def comm(profile: Profile, options: Comm) -> Profile:
    """Only the stacks of matching command names (thread names for perf)."""
    layout = _require(profile, "comm", "--comm", "")
    searches = [compile_regex(p, "--comm").search for p in options.patterns]
    memo: dict[str | None, bool] = {}

    def keep(stack: str) -> str | None:
        name = identify(stack, layout).comm
        hit = memo.get(name)
        if hit is None:
            hit = memo[name] = name is not None and any(s(name) for s in searches)
        return stack if hit else None

    out = map_stacks(profile, keep)
    return with_note(out, f"--comm: {GUESSED}") if layout is None and profile.weights else out


def only_pid(profile: Profile, options: OnlyPid) -> Profile:
    """Only the stacks of the given processes. When the capture names threads only (perf script's
    default header prints the TID alone), the ids are matched against TIDs, with a warning."""
    hint = "; fold perf captures with --pid or --tid" if profile.format == "perf" else ""
    layout = _require(profile, "pid", "--only-pid", hint)
    wanted = {str(p) for p in options.pids}
    by_tid = False
    seen_id = False

    def keep(stack: str) -> str | None:
        nonlocal by_tid, seen_id
        ident = identify(stack, layout)
        if ident.pid not in (None, "?"):
            seen_id = True
            return stack if ident.pid in wanted else None
        if ident.tid not in (None, "?"):
            seen_id = by_tid = True
            return stack if ident.tid in wanted else None
        return None

    out = map_stacks(profile, keep)
    if profile.weights and not seen_id:
        raise UsageError(
            "--only-pid: no root frame of this profile holds a process id (expected comm-PID or "
            f"comm-PID/TID, as `foldkit fold --pid` and stackcollapse-perf.pl --pid write){hint}"
        )
    if layout is None:
        out = with_note(out, f"--only-pid: {GUESSED}")
    if by_tid:
        out = with_warning(
            out,
            "--only-pid: the capture names threads, not processes (perf script's default header), so "
            "the ids were matched against thread ids; add pid to `perf script -F` to match processes",
        )
    return out


GUESSED = (
    "the input does not say what its root frames hold; read the first as comm, comm-PID or "
    "comm-PID/TID, and a numeric frame next to it as the PID"
)


def with_note(profile: Profile, message: str) -> Profile:
    """A copy of `profile` whose diagnostics carry one more note (shown with -v)."""
    diag = replace(profile.diagnostics, notes=list(profile.diagnostics.notes))
    if message not in diag.notes:
        diag.notes.append(message)
    return replace(profile, diagnostics=diag)


def with_warning(profile: Profile, message: str) -> Profile:
    """A copy of `profile` whose diagnostics carry one more warning (the input is not touched)."""
    diag = replace(profile.diagnostics, warnings=list(profile.diagnostics.warnings))
    if message not in diag.warnings:
        diag.warnings.append(message)
    return replace(profile, diagnostics=diag)


def _format_root(ident: Identity, kind: str) -> str:
    comm = ident.comm if ident.comm is not None else "?"
    if kind == "comm":
        return comm
    pid = ident.pid if ident.pid is not None else "?"
    if kind == "comm-pid":
        return f"{comm}-{pid}"
    return f"{comm}-{pid}/{ident.tid if ident.tid is not None else '?'}"


def with_root_frames(profile: Profile, layout: tuple[str, ...]) -> Profile:
    """`profile` with its perf-style root frame rewritten to `layout` (`("comm",)`, `("comm-pid",)`
    or `("comm-pid/tid",)`): how foldkit drops ids it only read to filter or split by them."""
    current = root_layout(profile)
    if current == layout or current is None or len(current) != 1 or len(layout) != 1:
        return profile
    if current[0] not in ("comm", *_COMBINED) or layout[0] not in ("comm", *_COMBINED):
        return profile

    roots: dict[str, str] = {}

    def rewrite(stack: str) -> str:
        root, sep, rest = stack.partition(SEP)
        new = roots.get(root)
        if new is None:
            new = roots[root] = _format_root(identify(root, current), layout[0])
        return new + sep + rest

    out = map_stacks(profile, rewrite)
    return replace(out, meta={**profile.meta, ROOT_FRAMES: layout})


#: How `foldkit fold --per-process` / `--per-thread` group stacks.
SPLIT_KINDS = ("process", "thread")
_SAFE_NAME = regex(globals(), "_SAFE_NAME", r"[^A-Za-z0-9._+-]+")


def _file_stem(parts: Sequence[str | None]) -> str:
    text = "-".join(p for p in parts if p not in (None, "?"))
    return _SAFE_NAME.sub("_", text).strip("._") or "unknown"


def _group_key(ident: Identity, by: str, profile: Profile) -> tuple[str | None, ...]:
    if by == "thread":
        if ident.tid is None:
            hint = "; fold perf captures with --tid" if profile.format == "perf" else ""
            raise UsageError(f"--per-thread: the stacks carry no thread id{hint}")
        return (ident.pid, ident.tid)
    return (ident.pid,) if ident.pid not in (None, "?") else (None, ident.comm)


def split(profile: Profile, by: str) -> dict[str, Profile]:
    """One profile per process (`by="process"`: PID, else command name) or per thread (`"thread"`:
    PID and TID), keyed by a file-name-safe `comm-PID[-TID]` stem, heaviest first."""
    if by not in SPLIT_KINDS:
        raise UsageError(f"split by 'process' or 'thread', not {by!r}")
    layout = root_layout(profile)
    key_of: dict[str, tuple[str | None, ...]] = {}
    weights: dict[tuple[str | None, ...], dict[str, Weight]] = {}
    comms: dict[tuple[str | None, ...], dict[str, Weight]] = {}
    who = _identities(layout)
    for stack, w in profile.weights.items():
        ident = who(stack)
        key = key_of[stack] = _group_key(ident, by, profile)
        weights.setdefault(key, {})[stack] = w
        by_comm = comms.setdefault(key, {})
        by_comm[ident.comm or ""] = by_comm.get(ident.comm or "", 0) + w
    timelines: dict[tuple[str | None, ...], Timeline] = {}
    if profile.timeline is not None:  # split as arrays, in one pass (no tuple per sample)
        timeline = Timeline.of(profile.timeline)
        order = {key: n for n, key in enumerate(weights)}
        group_of = [order.get(key_of.get(s) or _group_key(who(s), by, profile), -1) for s in timeline.stacks]
        timelines = dict(zip(weights, timeline.split(group_of, len(order)), strict=True))
    if layout is None and profile.weights:
        profile = with_note(profile, f"--per-{by}: {GUESSED}")
    if by == "process" and any(k[0] is None for k in weights):
        profile = with_warning(
            profile,
            "--per-process: some stacks carry no process id (perf script's default header names "
            "threads only), so those were grouped by command name",
        )
    out: dict[str, Profile] = {}
    for key in sorted(weights, key=lambda k: (-sum(weights[k].values()), str(k))):
        main_comm = max(comms[key].items(), key=lambda kv: (kv[1], kv[0]))[0] or None
        stem = base = _file_stem([main_comm, *(p for p in key if p is not None and p != main_comm)])
        n = 2
        while stem in out:
            stem, n = f"{base}.{n}", n + 1
        group = weights[key]
        counts = None if profile.counts is None else {s: profile.counts.get(s, 0) for s in group}
        out[stem] = replace(
            profile,
            weights=group,
            counts=counts,
            timeline=None if profile.timeline is None else timelines[key],
            meta=dict(profile.meta),
        )
    return out

"""Stack transforms: pure functions `(profile, options) -> Profile`, one registry, applied in order.

Every transform takes a `Profile` and its own frozen options dataclass and returns a new `Profile`
(the input is never modified). Weights, counts and the timeline stay consistent (see
`foldkit.profile.map_stacks`). `TRANSFORMS` lists them in the order `--help` and the README show them; the
command line applies them in the order the user wrote them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass, replace
from typing import Any

from foldkit.ingest.options import FoldOptions
from foldkit.profile import Profile
from foldkit.transform.filters import (
    Base,
    Exclude,
    Focus,
    FocusRoot,
    Hide,
    base,
    exclude,
    focus,
    focus_root,
    hide,
)
from foldkit.transform.normalize import NormalizeOptions, normalize_symbols
from foldkit.transform.python import PythonView, python_view
from foldkit.transform.rename import Rename, rename
from foldkit.transform.roots import (
    ROOT_FRAMES,
    Comm,
    OnlyPid,
    comm,
    only_pid,
    perf_root_frames,
    read_profile,
    split,
    with_root_frames,
    with_root_frames_declared,
    with_warning,
)
from foldkit.transform.shape import (
    CollapseRecursion,
    MaxDepth,
    PruneBelow,
    collapse_recursion,
    max_depth,
    prune_below,
)
from foldkit.transform.window import TimeWindow, time_window


def _need_ids(options: FoldOptions) -> FoldOptions:
    """`options` with ids in the root frames (perf `comm-PID/TID`, BCC `comm-PID`), so stacks can
    be told apart by process."""
    return options if options.tid and options.pid else replace(options, pid=True, tid=True)


def _need_time(options: FoldOptions) -> FoldOptions:
    return replace(options, keep_time=True)


@dataclass(frozen=True)
class Transform:
    """One registered transform: its function, options type and how the command line spells it."""

    name: str  # the flag without `--` (underscores for dashes) and the Profile method's name
    func: Callable[[Profile, Any], Profile]
    options: type
    parse: Callable[[str], Any]  # one command-line value -> options
    metavar: str
    help: str
    example: str  # a command line on a fixture, shown in the README
    keeps_total: bool  # the total weight is unchanged (checked by the contract test)
    takes_value: bool = True
    union_repeats: bool = False  # repeated flags form one step that keeps stacks matching any
    fold_needs: Callable[[FoldOptions], FoldOptions] | None = None  # folding needed upstream

    @property
    def flag(self) -> str:
        """The command-line flag."""
        return "--" + self.name.replace("_", "-")


#: Every transform, in the order `--help` and the README list them.
TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform(
            "focus", focus, Focus, Focus, "REGEX",
            "Keep only stacks with a frame matching REGEX.",
            "foldkit fold fixtures/system-mixed.perf.zst --focus '^quicksort$'", keeps_total=False,
        ),
        Transform(
            "focus_root", focus_root, FocusRoot, FocusRoot, "REGEX",
            "Keep stacks with a frame matching REGEX, and drop the frames below the first match so it becomes the root.",
            "foldkit fold fixtures/system-mixed.perf.zst --focus-root '^phase_tree$'", keeps_total=False,
        ),
        Transform(
            "base", base, Base, lambda text: Base((text,)), "NAME",
            "Keep stacks with a frame named exactly NAME above the leaf, cut at the leaf-most one so it becomes the root (inferno's --base; repeatable: any). --focus-root cuts at the rootmost regex match.",
            "foldkit fold fixtures/system-mixed.perf.zst --base phase_tree", keeps_total=False, union_repeats=True,
        ),
        Transform(
            "exclude", exclude, Exclude, Exclude, "REGEX",
            "Drop stacks with a frame matching REGEX.",
            "foldkit fold fixtures/system-mixed.perf.zst --exclude '^entry_SYSCALL'", keeps_total=False,
        ),
        Transform(
            "hide", hide, Hide, Hide, "REGEX",
            "Remove frames matching REGEX, keeping the rest of the stack and its weight.",
            "foldkit fold fixtures/system-mixed.perf.zst --hide '^\\[unknown\\]$'", keeps_total=True,
        ),
        Transform(
            "collapse_recursion", collapse_recursion, CollapseRecursion, CollapseRecursion, "[=all]",
            "Merge direct recursion (a;r;r;b -> a;r;b); --collapse-recursion=all also indirect recursion (a;r;b;r;c -> a;r;c).",
            "foldkit fold fixtures/system-mixed.perf.zst --collapse-recursion=all", keeps_total=True,
        ),
        Transform(
            "max_depth", max_depth, MaxDepth, MaxDepth.parse, "N",
            "Cut stacks to their first N frames from the root.",
            "foldkit fold fixtures/system-mixed.perf.zst --max-depth 1", keeps_total=True,
        ),
        Transform(
            "prune_below", prune_below, PruneBelow, PruneBelow.parse, "PCT",
            "Replace call paths weighing under PCT % of the total by one [pruned] frame (total unchanged).",
            "foldkit fold fixtures/system-mixed.perf.zst --prune-below 2", keeps_total=True,
        ),
        Transform(
            "comm", comm, Comm, lambda text: Comm((text,)), "REGEX",
            "Keep stacks of processes/threads whose command name matches REGEX (repeatable: any).",
            "foldkit fold fixtures/system-mixed.perf.zst --comm '^(xz|sort)$'", keeps_total=False, union_repeats=True,
        ),
        Transform(
            "only_pid", only_pid, OnlyPid, lambda text: OnlyPid((text,)), "PID[,PID]",
            "Keep stacks of these process ids (repeatable: any). Not to be confused with --pid, which only adds the PID to root frames.",
            "foldkit fold fixtures/system-mixed.perf.zst --only-pid 13947", keeps_total=False,
            union_repeats=True, fold_needs=_need_ids,
        ),
        Transform(
            "time", time_window, TimeWindow, TimeWindow.parse, "START..END",
            "Keep samples taken between START and END seconds after the first sample (either may be omitted; @T for absolute capture times). perf captures only.",
            "foldkit fold fixtures/system-mixed.perf.zst --time 1..2", keeps_total=False, fold_needs=_need_time,
        ),
        Transform(
            "rename", rename, Rename, Rename.parse, "'REGEX=>REPL'",
            "Rewrite frame names: every match of REGEX becomes REPL (Python re.sub syntax, \\1 for groups; repeatable, applied in order).",
            "foldkit fold fixtures/system-mixed.perf.zst --rename '@@?GLIBC_[0-9.]+$=>'", keeps_total=True,
        ),
        Transform(
            "python", python_view, PythonView, lambda _text: PythonView(), "",
            "Python view of CPython 3.12+ -X perf captures: drop the interpreter's frames (_PyEval_EvalFrameDefault, vectorcall plumbing) leafward of the first py:: frame.",
            "foldkit fold fixtures/system-mixed.perf.zst --python", keeps_total=True, takes_value=False,
        ),
        Transform(
            "normalize_symbols", normalize_symbols, NormalizeOptions, lambda _text: NormalizeOptions(), "",
            "Normalise names that change between builds: Rust ::h<hash>, .isra/.constprop/.llvm clones, addresses and offsets, [unknown] forms, JIT tiers, positions and perf-PID.map names.",
            "foldkit fold fixtures/system-mixed.perf.zst --normalize-symbols", keeps_total=True, takes_value=False,
        ),
    )
}  # fmt: skip

_BY_OPTIONS: dict[type, Transform] = {t.options: t for t in TRANSFORMS.values()}


def transform_for(options: object) -> Transform:
    """The registered transform that takes `options`."""
    try:
        return _BY_OPTIONS[type(options)]
    except KeyError:
        raise TypeError(f"{options!r} is not the options of a registered transform") from None


def describe(step: object) -> str:
    """A step as the command line would spell it, for messages (`--focus '^main$'`)."""
    values = [v for v in astuple(step) if v not in ((), None, False)]  # type: ignore[call-overload]
    shown = " ".join(repr(v if not isinstance(v, tuple) else ",".join(map(str, v))) for v in values)
    return f"{transform_for(step).flag} {shown}".strip()


def apply(profile: Profile, steps: Iterable[object]) -> Profile:
    """`profile` put through each step (an options object of a registered transform) in order;
    a warning names the step that left no stacks, if one does."""
    for step in steps:
        before = len(profile.weights)
        profile = transform_for(step).func(profile, step)
        if before and not profile.weights:
            profile = with_warning(profile, f"no stacks left after {describe(step)}")
    return profile


@dataclass(frozen=True)
class Pipeline:
    """Transform steps in the order they run, plus what they need from folding."""

    steps: tuple[object, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.steps)

    def fold_options(self, options: FoldOptions) -> FoldOptions:
        """`options` with whatever the steps need (timestamps for --time, PIDs for --only-pid)."""
        for step in self.steps:
            need = transform_for(step).fold_needs
            if need is not None:
                options = need(options)
        return options

    def apply(self, profile: Profile) -> Profile:
        """Run every step in order."""
        return apply(profile, self.steps)

    def read(
        self, inputs: Any, options: FoldOptions, reader: Callable[[Any, FoldOptions], Profile] | None = None
    ) -> Profile:
        """Read captures (with `reader`, by default `foldkit.ingest.read`) with the folding the
        steps need, run the steps, and give the stacks the root frames `options` asked for (ids
        read only to filter by them are dropped again)."""
        needed = self.fold_options(options)
        profile = with_root_frames_declared((reader or read_profile)(inputs, needed), needed)
        profile = self.apply(profile)
        if profile.format == "perf":
            profile = with_root_frames(profile, perf_root_frames(options.pid, options.tid))
        return profile

    def read_split(
        self, inputs: Any, options: FoldOptions, by: str, reader: Callable[[Any, FoldOptions], Profile] | None = None
    ) -> dict[str, Profile]:
        """Read and transform like `read`, then split per process or thread (`split`); each part
        keeps the root frames `options` asked for."""
        wanted = perf_root_frames(options.pid, options.tid)
        parts = split(self.read(inputs, _need_ids(options), reader), by)
        return {name: with_root_frames(p, wanted) if p.format == "perf" else p for name, p in parts.items()}


def build_pipeline(order: Sequence[str], values: dict[str, list[str]]) -> Pipeline:
    """The pipeline for the transform flags' occurrences in `order` (names of `TRANSFORMS`, in
    command-line order), taking each flag's values in turn; repeats of a `union_repeats` flag
    (`--comm`, `--only-pid`) make one step where the first one stood. For both command lines
    (`foldkit.cli.transforms` and the fast path, `foldkit.cli.fast`)."""
    steps: list[object] = []
    taken: dict[str, int] = {}
    for name in order:
        t = TRANSFORMS[name]
        if not t.takes_value:
            if name not in taken:
                taken[name] = 1
                steps.append(t.parse(""))
            continue
        if t.union_repeats:
            if name not in taken:
                taken[name] = len(values[name])
                steps.append(t.options(tuple(values[name])))
            continue
        i = taken.get(name, 0)
        taken[name] = i + 1
        steps.append(t.parse(values[name][i]))
    return Pipeline(tuple(steps))


def pipeline(steps: Sequence[object] = ()) -> Pipeline:
    """A Pipeline of the given option objects (each checked against the registry)."""
    for step in steps:
        transform_for(step)
    return Pipeline(tuple(steps))


__all__ = [
    "ROOT_FRAMES",
    "TRANSFORMS",
    "Base",
    "CollapseRecursion",
    "Comm",
    "Exclude",
    "Focus",
    "FocusRoot",
    "Hide",
    "MaxDepth",
    "NormalizeOptions",
    "OnlyPid",
    "Pipeline",
    "PruneBelow",
    "PythonView",
    "Rename",
    "TimeWindow",
    "Transform",
    "apply",
    "describe",
    "perf_root_frames",
    "pipeline",
    "split",
    "transform_for",
    "with_root_frames",
]

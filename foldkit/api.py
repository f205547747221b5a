"""The Python API for scripts and notebooks; the command line is built on the same calls.

    import foldkit
    profile = foldkit.read("cpu.perf.zst", kernel=True)
    profile.exclude("^swapper$").focus("^main$").top(10)
    profile.to_svg("cpu.svg")

`read` folds captures into a `Profile`; every transform is a `Profile` method returning a new
profile (`focus`, `exclude`, `hide`, `time`, ...), and exports are methods too (`to_folded`,
`to_svg`, `export` by suffix). Importing this module is cheap: the library is imported on use.
The methods are added to `Profile` here (`foldkit` imports this module), so the core type's module
depends on nothing above it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import polars as pl

    from foldkit._profile_api import ProfileApi
    from foldkit.analysis.diff import StackDiff
    from foldkit.ingest.options import FoldOptions
    from foldkit.inputs import InputSpec
    from foldkit.regression.gate import CheckResult

from foldkit.profile import Profile


def fold_options(format: str = "auto", **options: Any) -> FoldOptions:
    """FoldOptions from keyword arguments named like its fields (`kernel=True`, `event="cpu-clock"`,
    `all=True` for kernel, JIT and inline annotations); unknown names are a UsageError."""
    from foldkit.errors import UsageError
    from foldkit.ingest.options import FoldOptions

    known = {f.name for f in fields(FoldOptions)}
    unknown = sorted(set(options) - known - {"all"})
    if unknown:
        raise UsageError(f"unknown folding option(s) {', '.join(unknown)}; known: {', '.join(sorted(known | {'all'}))}")
    annotate = options.pop("all", False)
    for name in ("skip_after", "maps"):
        if isinstance(options.get(name), str):
            options[name] = (options[name],)
        elif name in options:
            options[name] = tuple(options[name])
    folding = FoldOptions(format=format, **options)
    return folding.annotated() if annotate else folding


def read(
    source: InputSpec | Sequence[InputSpec],
    format: str | FoldOptions = "auto",
    **fold_options_: Any,
) -> Profile:
    """Fold a capture into a Profile.

    `source` is a path, `-` for stdin, the capture's bytes, or a list of them (merged). `format` is
    `auto` (detected) or a format name; keyword arguments are folding options (`kernel=True`,
    `pid=True`, `event="cpu-clock"`, `keep_time=True` to keep sample times for `Profile.time`).
    """
    from foldkit.ingest.options import FoldOptions
    from foldkit.transform.roots import read_profile

    if isinstance(format, FoldOptions):  # read(source, FoldOptions(...)), like foldkit.ingest.read
        options = format
    else:
        options = fold_options(format, **fold_options_)
    return read_profile(source, options)


def _profile(x: Profile | InputSpec) -> Profile:
    return x if isinstance(x, Profile) else read(x)


def _runs(x: Profile | InputSpec | Sequence[Profile | InputSpec]) -> list[Profile]:
    if isinstance(x, str | bytes | os.PathLike) or not isinstance(x, Sequence):
        return [_profile(x)]
    # bytes are a Sequence (of ints) to the type checker: excluded above
    return [_profile(item) for item in cast("Sequence[Profile | InputSpec]", x)]


def diff(before: Profile | InputSpec, after: Profile | InputSpec, *, normalize: bool = False) -> StackDiff:
    """Two profiles (or captures) aligned stack by stack, as `foldkit diff` compares them;
    `normalize` scales BEFORE to AFTER's total. `.delta()` is AFTER minus BEFORE per stack."""
    from foldkit.analysis.diff import diff_profiles

    return diff_profiles(_profile(before), _profile(after), normalize=normalize)


def check(
    baseline: Profile | InputSpec | Sequence[Profile | InputSpec],
    candidate: Profile | InputSpec | Sequence[Profile | InputSpec],
    *,
    max_increase: str | None = None,
    alpha: float | None = None,
    functions: Sequence[str] = (),
    budgets: Sequence[str] = (),
    only: bool = False,
    absolute: bool = False,
    run_noise: float | None = None,
) -> CheckResult:
    """The CI regression gate of `foldkit check` on profiles or captures (one per run, or a list of
    runs per side): `max_increase` like `"2pp"` or `"10%"`, budgets like `"json_.*<=5%"`;
    `absolute` compares sample counts too (see `foldkit check --absolute`); `run_noise` is
    `--run-noise`, in percent. The result's `.passed` says whether the candidate may ship."""
    from foldkit.regression import gate

    options = gate.CheckOptions(
        max_increase=gate.Threshold.parse(max_increase or gate.DEFAULT_MAX_INCREASE),
        alpha=gate.DEFAULT_ALPHA if alpha is None else alpha,
        functions=tuple(functions),
        budgets=tuple(gate.Budget.parse(b) for b in budgets),
        only=only,
        absolute=absolute,
        run_noise=gate.stats.RUN_NOISE_FLOOR if run_noise is None else run_noise / 100.0,
    )
    return gate.check_profiles(_runs(baseline), _runs(candidate), options)


def _as_profile(obj: object) -> Profile:
    return cast("Profile", obj)


class ProfileMethods:
    """`Profile` methods of the Python API: each transform, tables and exports. Every transform
    returns a new profile; the one it was called on is unchanged. `foldkit/_profile_api.pyi`
    declares them for type checkers (`_agrees` below has mypy check that the two agree)."""

    def transform(self, *steps: object) -> Profile:
        """This profile put through transform option objects in order (`foldkit.transform`)."""
        from foldkit.transform import apply

        return apply(_as_profile(self), steps)

    def focus(self, pattern: str) -> Profile:
        """Only the stacks with a frame matching `pattern` (a regex searched in each frame name)."""
        from foldkit.transform import Focus

        return self.transform(Focus(pattern))

    def focus_root(self, pattern: str) -> Profile:
        """Only the stacks with a matching frame, starting at their first (rootmost) match."""
        from foldkit.transform import FocusRoot

        return self.transform(FocusRoot(pattern))

    def base(self, *names: str) -> Profile:
        """Only the stacks with a frame named exactly one of `names` above the leaf, starting at
        the leaf-most such frame (inferno-flamegraph's `--base`)."""
        from foldkit.transform import Base

        return self.transform(Base(names))

    def exclude(self, pattern: str) -> Profile:
        """The stacks without a frame matching `pattern`."""
        from foldkit.transform import Exclude

        return self.transform(Exclude(pattern))

    def hide(self, pattern: str) -> Profile:
        """Every stack without its frames matching `pattern` (weights kept)."""
        from foldkit.transform import Hide

        return self.transform(Hide(pattern))

    def collapse_recursion(self, mode: str = "direct") -> Profile:
        """Recursion merged: `direct` (a frame calling itself) or `all` (any recursion)."""
        from foldkit.transform import CollapseRecursion

        return self.transform(CollapseRecursion(mode))

    def max_depth(self, depth: int) -> Profile:
        """Stacks cut to their first `depth` frames from the root."""
        from foldkit.transform import MaxDepth

        return self.transform(MaxDepth(depth))

    def prune_below(self, percent: float) -> Profile:
        """Call paths under `percent` % of the total replaced by one `[pruned]` frame."""
        from foldkit.transform import PruneBelow

        return self.transform(PruneBelow(percent))

    def comm(self, *patterns: str) -> Profile:
        """Only the stacks whose command name matches any of the regexes."""
        from foldkit.transform import Comm

        return self.transform(Comm(patterns))

    def only_pid(self, *pids: int) -> Profile:
        """Only the stacks of these process ids (the profile must be folded with `pid=True` or
        `tid=True` for perf captures)."""
        from foldkit.transform import OnlyPid

        return self.transform(OnlyPid(pids))

    def time(
        self, start: float | str | None = None, end: float | None = None, *, absolute: bool = False
    ) -> Profile:
        """Only the samples taken in `[start, end)` seconds after the first sample (`absolute`:
        in the capture's own clock); `start` may also be a `"START..END"` string. Needs a profile
        read with `keep_time=True`."""
        from foldkit.transform import TimeWindow

        window = TimeWindow.parse(start) if isinstance(start, str) else TimeWindow(start, end, absolute)
        return self.transform(window)

    def rename(self, pattern: str, replacement: str) -> Profile:
        """Every match of `pattern` in frame names replaced (`re.sub` syntax)."""
        from foldkit.transform import Rename

        return self.transform(Rename(pattern, replacement))

    def normalize_symbols(self, **rules: bool) -> Profile:
        """Names that change between builds normalised (Rust hashes, clone suffixes, addresses,
        `[unknown]` forms, JIT names); turn a family off by name, e.g. `rust_hash=False`."""
        from foldkit.transform import NormalizeOptions

        return self.transform(NormalizeOptions(**rules))

    def python(self) -> Profile:
        """The Python view of a CPython 3.12+ `-X perf` capture: the interpreter's frames leafward
        of the first `py::` frame dropped."""
        from foldkit.transform import PythonView

        return self.transform(PythonView())

    def split(self, by: str = "process") -> dict[str, Profile]:
        """One profile per process (or `by="thread"`), keyed `comm-PID[-TID]`, heaviest first."""
        from foldkit.transform.roots import split

        return split(_as_profile(self), by)

    def top(self, n: int = 20, by: str = "function", sort: str = "self") -> pl.DataFrame:
        """The heaviest functions (`by="dso"` or `"comm"` to group otherwise), as `foldkit top`:
        `name`, `self`, `self_pct`, `total`, `total_pct`; the first `n` rows (all when n <= 0)."""
        from foldkit.analysis.top import top_frame

        frame = top_frame(_as_profile(self), by, sort)
        return frame.head(n) if n > 0 else frame

    def to_svg(self, path: str | os.PathLike[str], **render_options: Any) -> None:
        """Write the flame graph as a self-contained SVG; keyword arguments are `RenderOptions`
        fields (`title`, `width`, `inverted`, `flamechart`, `palette`, `min_width`, ...)."""
        from foldkit.outputs import write_bytes
        from foldkit.render import RenderOptions, render_flamegraph

        write_bytes(path, render_flamegraph(_as_profile(self), RenderOptions(**render_options)))

    def to_dataframe(self) -> pl.DataFrame:
        """One row per stack: `stack`, `frames` (list), `weight`, `count`, `comm`, `pid`, `tid`,
        `event` (columns that are unknown for this profile are left out)."""
        from foldkit.export.table import stack_frame

        return stack_frame(_as_profile(self))

    def export(self, path: str | os.PathLike[str]) -> None:
        """Write the profile in the format its name asks for: `.folded`, `.speedscope.json`,
        `.parquet` (a `.gz`/`.zst` suffix compresses text formats)."""
        from foldkit.export import export

        export(_as_profile(self), path)


def _add_methods(cls: type, methods: type) -> None:
    """Give `cls` every public method `methods` defines."""
    for name, value in vars(methods).items():
        if callable(value) and not name.startswith("_"):
            setattr(cls, name, value)


_add_methods(Profile, ProfileMethods)

if TYPE_CHECKING:

    def _agrees(methods: ProfileMethods) -> ProfileApi:
        """Never called: mypy checks here that these methods are the ones `Profile` is typed with."""
        return methods

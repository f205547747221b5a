"""`foldkit check`: does CANDIDATE regress against BASELINE, beyond noise? And is it within budget?

For every function (and every `--function` pattern) the self share (samples where it is the leaf)
and the inclusive share (samples whose stack contains it) are compared. A regression is an increase
larger than the threshold (`--max-increase`, in percentage points or relative) that is also
significant at `alpha` after Holm's correction over every test made. Budgets are ceilings on a
pattern's share of the candidate.

The variance behind every test is the sampling variance plus a run-to-run variation proportional
to the function's time, its relative size estimated across all functions of both sides
(`stats.pooled_dispersion`) and never below `--run-noise` (`CheckOptions.run_noise`), each
function's own shrunk toward it; with one run a side there is nothing to estimate, a conservative
prior is used, and a check that finds nothing says it is underpowered rather than passing. Tests of
exactly the same numbers are one hypothesis in the Holm correction.

Self-time regressions are the culprits. A function whose inclusive rise is mostly (at least
EXPLAINED_FRACTION) the self-time rise of regressed functions under it is reported as explained by
that callee, not as a second regression. One order (`rank_key`) serves every output: self-time
regressions by effect, then inclusive regressions no callee explains, then the explained ones, then
the rest by evidence.

Shares answer "does this function take a larger part of the time?"; they cannot see a uniform
slowdown. With `absolute` (given, or found by `comparable_cpu_runs`: CPU profiles at the same
sampling period over the same duration, so that samples per run are samples per second) each
function's sample count is compared too, in points of the baseline's samples per run.

Root frames that hold the command name, PID or TID (`Profile.meta["root_frames"]`) are not
functions: they are left out, and the share of samples with no code frame under them (stacks perf
could not unwind) is reported on its own.

Folded files whose stacks are in the native table are summed there (`native_runs`): the core hands
over only the functions that could be tested or measure run-to-run noise, the only ones the code
below ever reads, and the patterns' sums (the names matched in the core when the pattern has the
same meaning in Rust's `regex` there, `analysis.regex_subset`, else in Python), so the result is the one
every function's dict would give (tests/analysis/test_check_native.py); other inputs count every
stack in Python (`_run`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from foldkit.analysis.functions import aggregate, pattern_totals, stack_table
from foldkit.analysis.regex_subset import rust_pattern
from foldkit.errors import UsageError
from foldkit.lazy import regex
from foldkit.native import native_core
from foldkit.profile import Profile, StackTable, Weight, format_weight, root_frame_count
from foldkit.regression import stats
from foldkit.regression.defaults import DEFAULT_ALPHA, DEFAULT_MAX_INCREASE
from foldkit.regression.samples import counted_table, sample_counts

#: With a relative threshold, functions below this share on both sides are not tested (their
#: changes are too small to gate a build on; name them with --function to test them anyway).
MIN_TESTED_SHARE = 0.001
#: The share at which the report states the smallest detectable increase (a typical hot function).
REFERENCE_SHARE = 0.10
#: Power at which "detectable" is stated (the usual 80%).
REFERENCE_POWER = 0.8
#: Fewer samples than this on a side draws a warning (FlameGraph #318).
LOW_SAMPLES = 1000
#: The weight of an inclusive test against a self test's 1 in the weighted Holm correction: self time
#: is the question a check answers (the culprit), an inclusive rise is mostly a callee's; a quarter
#: of the weight keeps the inclusive tests (which catch rises spread over many callees) from halving
#: the self tests' share of alpha.
INCLUSIVE_WEIGHT = 0.25
#: An inclusive rise is explained by regressed callees when their self-time rises under the function
#: add up to at least this fraction of it.
EXPLAINED_FRACTION = 0.5
#: A check that finds nothing is underpowered when it could miss (80% power) an increase this large
#: (fraction) in a function at REFERENCE_SHARE: half of that function's time.
UNDERPOWERED_INCREASE = 0.05
STATUSES = ("pass", "fail", "underpowered")

MEASURES = ("total", "self")
#: What a finding compares: shares of each run's samples, or sample counts (absolute mode).
SCALES = ("share", "absolute")
#: perf events that sample CPU time (modifiers such as `:u` or `:ppp` ignored).
CPU_EVENTS = ("cpu-clock", "task-clock", "cycles", "cpu-cycles", "instructions")
#: Runs whose durations differ by more than this fraction are not compared in absolute mode
#: without --absolute (a run 5% longer has about 5% more samples of every function).
DURATION_TOLERANCE = 0.02

_THRESHOLD = regex(globals(), "_THRESHOLD", r"^\s*([0-9]*\.?[0-9]+)\s*(pp|%)\s*$", re.IGNORECASE)
_BUDGET = regex(globals(), "_BUDGET", r"^(?:(?P<measure>self|total):)?(?P<regex>.+?)\s*<=\s*(?P<limit>[0-9]*\.?[0-9]+)\s*%\s*$")


@dataclass(frozen=True)
class Threshold:
    """How large an increase must be to count: `pp` (percentage points of the whole profile) or
    `relative` (percent of the baseline share)."""

    kind: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Threshold:
        """`2pp` or `10%`."""
        m = _THRESHOLD.match(text)
        if not m:
            raise UsageError(
                f"--max-increase {text!r}: give percentage points of the profile (e.g. 2pp) "
                "or a relative increase (e.g. 10%)"
            )
        return cls("pp" if m.group(2).lower() == "pp" else "relative", float(m.group(1)))

    def exceeded(self, base: float, cand: float) -> bool:
        """Whether going from share `base` to `cand` (fractions) is a larger increase than allowed."""
        delta = cand - base
        if delta <= 0:
            return False
        if self.kind == "pp":
            return delta > self.value / 100.0
        return base == 0.0 or delta > base * self.value / 100.0

    def floor(self) -> float:
        """Functions whose mean share over both sides is below this cannot exceed the threshold
        (pp) or are too small to test (relative); they are not tested."""
        if self.kind == "pp":
            return max(MIN_TESTED_SHARE, self.value / 100.0 / 2.0)
        return MIN_TESTED_SHARE

    def absolute(self) -> float:
        """The threshold in share units for power statements (0 for relative thresholds)."""
        return self.value / 100.0 if self.kind == "pp" else 0.0

    def __str__(self) -> str:
        return f"{self.value:g}pp" if self.kind == "pp" else f"{self.value:g}%"


@dataclass(frozen=True)
class Budget:
    """A ceiling on a pattern's share of the candidate: `REGEX<=5%` (inclusive), `self:REGEX<=5%`."""

    text: str
    pattern: re.Pattern[str]
    limit: float  # fraction
    measure: str = "total"

    @classmethod
    def parse(cls, text: str) -> Budget:
        """Parse `REGEX<=N%`, optionally prefixed `self:` or `total:`."""
        m = _BUDGET.match(text)
        if not m:
            raise UsageError(f"--budget {text!r}: expected REGEX<=N% (e.g. 'json_.*<=5%' or 'self:memcpy<=2%')")
        return cls(text, _compile(m.group("regex"), "--budget"), float(m.group("limit")) / 100.0, m.group("measure") or "total")


def _compile(regex: str, flag: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as exc:
        raise UsageError(f"{flag} {regex!r}: not a regular expression ({exc})") from None


@dataclass(frozen=True)
class CheckOptions:
    """Settings of a check; defaults are the CLI's."""

    max_increase: Threshold = field(default_factory=lambda: Threshold.parse(DEFAULT_MAX_INCREASE))
    alpha: float = DEFAULT_ALPHA
    functions: tuple[str, ...] = ()  # regexes checked as one pseudo-function each
    budgets: tuple[Budget, ...] = ()
    only: bool = False  # check only the --function patterns (and budgets), not every function
    absolute: bool = False  # also compare sample counts per function (uniform slowdowns)
    absolute_reason: str = ""  # why absolute mode was chosen (for the report)
    run_noise: float = stats.RUN_NOISE_FLOOR  # least relative run-to-run variation of a function's time

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise UsageError(f"--alpha must be between 0 and 1, not {self.alpha}")
        if not 0.0 <= self.run_noise < 1.0:
            raise UsageError(f"--run-noise must be at least 0% and below 100%, not {self.run_noise * 100:g}%")
        if self.only and not self.functions and not self.budgets:
            raise UsageError("--only needs at least one --function or --budget")


@dataclass
class Finding:
    """One tested (function or pattern, measure) pair."""

    name: str
    kind: str  # "function" or "pattern"
    measure: str  # "total" (inclusive) or "self"
    base: float  # shares as fractions (absolute: samples per run as a fraction of the baseline's)
    cand: float
    delta: float
    se: float
    df: float
    p: float
    p_adjusted: float = 1.0
    exceeds: bool = False
    significant: bool = False
    scale: str = "share"  # or "absolute"
    dispersion: float = 1.0  # the run-to-run dispersion the test assumed (times sampling variance)
    explained_by: str | None = None  # inclusive rise explained by this regressed callee's self time

    @property
    def flagged(self) -> bool:
        """Larger than the threshold and significant."""
        return self.exceeds and self.significant

    @property
    def regression(self) -> bool:
        """Flagged, and not an inclusive rise explained by a regressed callee."""
        return self.flagged and self.explained_by is None


def rank_key(f: Finding) -> tuple[int, float, float, str, str, str]:
    """The one order of findings in every output: self-time regressions first (largest increase,
    then smallest adjusted p), then inclusive regressions no callee explains, then inclusive rises
    explained by a callee, then the rest by adjusted p-value (strongest evidence of an increase first)."""
    if f.flagged:
        group = 0 if f.measure == "self" else 1 if f.explained_by is None else 2
        return (group, -f.delta, f.p_adjusted, f.name, f.measure, f.scale)
    return (3, f.p_adjusted, -f.delta, f.name, f.measure, f.scale)


@dataclass
class BudgetResult:
    """One budget and the candidate's (and, for context, the baseline's) share."""

    budget: Budget
    cand: float
    base: float

    @property
    def breached(self) -> bool:
        """The candidate's share is above the ceiling."""
        return self.cand > self.budget.limit


@dataclass
class SideInfo:
    """What one side of the check was made of."""

    sources: list[str]
    runs: int
    samples: int
    samples_per_run: list[int]
    no_code_samples: int = 0  # samples whose stacks hold only root (comm/PID/TID) frames


@dataclass
class CheckResult:
    """Everything a check found; `passed` decides the exit code."""

    options: CheckOptions
    baseline: SideInfo
    candidate: SideInfo
    findings: list[Finding]  # every test made, strongest evidence of increase first
    budgets: list[BudgetResult]
    method: str
    dispersion: float  # the dispersion of a self share at REFERENCE_SHARE (times its sampling variance)
    tests: int
    detectable_pp: float | None  # smallest increase detected with 80% power at REFERENCE_SHARE
    warnings: list[str] = field(default_factory=list)
    dispersion_df: float = math.inf  # its degrees of freedom
    measured: bool = True  # whether run-to-run variance was measured (some side has repeated runs)
    noise: float = stats.RUN_NOISE_FLOOR  # relative run-to-run standard deviation of a function's time a run

    def __repr__(self) -> str:
        names = self.culprit_names()
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        return (
            f"<CheckResult {self.status.upper()}: {len(names)} regressed{f' ({shown})' if names else ''}, "
            f"{len(self.breaches)} of {len(self.budgets)} budget(s) exceeded, {len(self.functions())} functions checked; "
            f"baseline {self.baseline.runs} run(s) {self.baseline.samples:,} samples, "
            f"candidate {self.candidate.runs} run(s) {self.candidate.samples:,} samples>"
        )

    def _repr_html_(self) -> str:
        """A notebook view: the verdict and the regressions (see `foldkit.regression.outputs`)."""
        from foldkit.regression.outputs import to_html

        return to_html(self)

    def no_code_shares(self) -> tuple[float, float]:
        """The share of samples without a code frame on each side (baseline, candidate)."""
        return tuple(  # type: ignore[return-value]
            s.no_code_samples / s.samples if s.samples else 0.0 for s in (self.baseline, self.candidate)
        )

    @property
    def regressions(self) -> list[Finding]:
        """The findings that are regressions, culprits first (`rank_key`)."""
        return [f for f in self.findings if f.regression]

    def culprits(self) -> list[Finding]:
        """The regressions, culprit first (the same order as every output)."""
        return self.regressions

    def culprit_names(self) -> list[str]:
        """The regressed functions and patterns, each once, culprit first."""
        return list(dict.fromkeys(f.name for f in self.regressions))

    @property
    def explained(self) -> list[Finding]:
        """Inclusive rises that are significant but explained by a regressed callee."""
        return [f for f in self.findings if f.flagged and f.explained_by is not None]

    @property
    def breaches(self) -> list[BudgetResult]:
        """The budgets that were exceeded."""
        return [b for b in self.budgets if b.breached]

    @property
    def passed(self) -> bool:
        """No regression and no budget breach (the exit code is 0; see `status`)."""
        return not self.regressions and not self.breaches

    @property
    def underpowered(self) -> bool:
        """Nothing failed, but the check could not have seen a moderate regression: no repeated runs
        to measure run-to-run variance, or it could miss half of a 10%-share function's time."""
        if not self.passed:
            return False
        return not self.measured or self.detectable_pp is None or self.detectable_pp > UNDERPOWERED_INCREASE * 100

    @property
    def status(self) -> str:
        """"fail", "underpowered" (nothing failed but little could have) or "pass"."""
        return "fail" if not self.passed else "underpowered" if self.underpowered else "pass"

    def functions(self) -> list[tuple[str, str, list[Finding]]]:
        """(name, kind, its findings) per tested function or pattern, in first-finding order."""
        seen: dict[tuple[str, str], list[Finding]] = {}
        for f in self.findings:
            seen.setdefault((f.name, f.kind), []).append(f)
        return [(n, k, fs) for (n, k), fs in seen.items()]


@dataclass
class _Run:
    """One run's samples: in all, per (name, kind) self and total (every function, or with the
    native columns every function the check can look at), without a code frame, and per stack."""

    samples: int
    values: dict[tuple[str, str], tuple[int, int]]  # (name, kind) -> (self, total) samples
    no_code: int = 0
    code: dict[str, int] = field(default_factory=dict)  # samples per stack of code frames
    table: StackTable | None = None  # the native table `code` is left in (then `code` is empty)
    roots: int = 0  # root frames of every stack in `table`

    def ending_in(self, leaves: set[str]) -> dict[str, int]:
        """Samples per stack of code frames, at least of every stack whose leaf is in `leaves`
        (in `code`'s order: the stacks of the table ending there, root frames dropped)."""
        native = native_core()
        if self.table is None or native is None:
            return self.code
        found = native.table_stacks_ending_in(self.table, self.roots, sorted(leaves))
        return code_stacks(dict(found), self.roots)[0]


def code_stacks(counts: dict[str, int], root_frames: int) -> tuple[dict[str, int], int]:
    """`counts` with the first `root_frames` frames of every stack dropped (merging stacks that
    become equal), and the samples of stacks that had no other frame."""
    if not root_frames:
        return counts, 0
    out: dict[str, int] = {}
    no_code = 0
    for stack, c in counts.items():
        parts = stack.split(";", root_frames)
        if len(parts) <= root_frames:
            no_code += c
        else:
            out[parts[-1]] = out.get(parts[-1], 0) + c
    return out, no_code


def _run(profile: Profile, patterns: Sequence[tuple[str, re.Pattern[str]]], warnings: list[str]) -> _Run:
    counts = sample_counts(profile, warnings)
    code, no_code = code_stacks(counts, root_frame_count(profile.meta))
    values: dict[tuple[str, str], tuple[int, int]] = {}
    if code:
        frame = aggregate(code, "function")
        for name, s, t in frame.iter_rows():
            values[(name, "function")] = (int(s), int(t))
    if patterns:
        table = stack_table(code)
        for text, pattern in patterns:
            s, t = pattern_totals(table, pattern)
            values[(text, "pattern")] = (int(s), int(t))
    return _Run(sum(counts.values()), values, no_code, code)


#: Most runs (both sides together) the native columns take (`_native.table_check_sums`).
NATIVE_MOST_RUNS = 8


def native_runs(
    baseline: Sequence[Profile],
    candidate: Sequence[Profile],
    floor: float,
    warnings: list[str],
    patterns: Sequence[tuple[str, re.Pattern[str]]] = (),
) -> tuple[list[_Run], list[_Run]] | None:
    """The runs as `_run` makes them, summed by the native core in the stack tables of folded
    files: every function that could be tested (mean share at least `floor`) or measure run-to-run
    noise, and only those (the others are no test and add nothing to the pooled dispersion), and
    each of `patterns` (every frame tested in the core when the pattern translates with the same
    meaning, `_matched_natively`, else every distinct name tested in Python, the sums made in the
    core); the stacks stay in the tables. None when a run is not such a table (the reference then
    counts every stack in Python): a table of decimal or non-UTF-8 stacks, weights that are times
    or share a sampling period, separate sample counts, runs with different root frames, more than
    NATIVE_MOST_RUNS runs."""
    native = native_core()
    profiles = [*baseline, *candidate]
    if native is None or not 2 <= len(profiles) <= NATIVE_MOST_RUNS:
        return None
    layouts = {root_frame_count(p.meta) for p in profiles}
    if len(layouts) != 1:
        return None
    roots = layouts.pop()
    said: list[str] = []
    counted = [counted_table(p, roots, said) for p in profiles]
    tables = [c for c in counted if c is not None]
    if len(tables) != len(profiles):
        return None
    found = native.table_check_sums([t for t, _, _ in tables], len(baseline), roots, floor, stats.MIN_EXPECTED)
    if found is None:
        return None
    names, sums = found
    stacks = [t for t, _, _ in tables]
    decided = {text: _matched_natively(stacks, roots, pattern) for text, pattern in patterns}
    left = [(text, pattern) for text, pattern in patterns if decided[text] is None]
    matched: dict[str, set[str]] = {text: set() for text, _ in left}

    def visit(batch: list[str]) -> None:
        for text, pattern in left:
            matched[text].update(n for n in batch if pattern.search(n))

    if left and not native.table_each_name(stacks, roots, visit):
        return None
    width = 2 * len(profiles)
    runs = []
    for r, (table, samples, no_code) in enumerate(tables):
        values = {}
        for i, name in enumerate(names):
            s, t = sums[i * width + 2 * r], sums[i * width + 2 * r + 1]
            if s or t:
                values[(name, "function")] = (s, t)
        for text, _ in patterns:
            known = decided[text]
            found_sums = known[r] if known is not None else native.table_pattern_sums(table, roots, sorted(matched[text]))
            if found_sums is None:
                return None
            values[(text, "pattern")] = found_sums
        runs.append(_Run(samples, values, no_code, table=table, roots=roots))
    warnings.extend(said)
    return runs[: len(baseline)], runs[len(baseline) :]


def _matched_natively(tables: list[StackTable], roots: int, pattern: re.Pattern[str]) -> list[tuple[int, int]] | None:
    """Per table `(self, total)` of the frames `pattern` matches, as `table_pattern_sums` gives
    them for the names `pattern.search` matches, decided by the core on every thread when the
    pattern translates into Rust's syntax with the same meaning on these tables
    (`regex_subset.rust_pattern`); None when Python's `re` must decide."""
    native = native_core()
    translated = rust_pattern(pattern)
    if native is None or translated is None:
        return None
    return native.table_pattern_match(
        tables, roots, translated.exact, translated.loose, translated.literal, translated.ascii_only
    )


def _side_info(profiles: Sequence[Profile], runs: Sequence[_Run]) -> SideInfo:
    sources = [s for p in profiles for s in (p.sources or ["<input>"])]
    per_run = [r.samples for r in runs]
    return SideInfo(sources, len(runs), sum(per_run), per_run, sum(r.no_code for r in runs))


def sampling_period(profile: Profile) -> Weight | None:
    """The one period every sample of `profile` was weighted by (perf's cpu-clock at 99 Hz:
    10101010 ns), or None when samples carry no counts or different periods."""
    if profile.counts is None or not profile.counts:
        return None
    periods = {profile.weights.get(s, 0) / c for s, c in profile.counts.items() if c}
    return periods.pop() if len(periods) == 1 else None


def comparable_cpu_runs(
    baseline: Sequence[Profile], candidate: Sequence[Profile], durations: Sequence[float | None]
) -> str | None:
    """Why sample counts of these runs can be compared directly (a sentence), or None: every run is
    a perf profile of the same CPU event at the same sampling period, and every run lasted as long
    (`durations`: seconds per run, baseline runs first; None where unknown)."""
    runs = [*baseline, *candidate]
    events = {(p.event or "").split(":")[0] for p in runs}
    if not runs or {p.format for p in runs} != {"perf"} or len(events) != 1 or not events <= set(CPU_EVENTS):
        return None
    periods = {sampling_period(p) for p in runs}
    period = periods.pop() if len(periods) == 1 else None
    if period is None:
        return None
    known = [d for d in durations if d is not None and d > 0]
    if len(known) != len(runs) or len(durations) != len(runs) or max(known) > min(known) * (1 + DURATION_TOLERANCE):
        return None
    return (
        f"every run is a {events.pop()} profile sampled every {format_weight(period)} {runs[0].unit} "
        f"over {min(known):.1f} s"
    )


def _dispersions(
    base_runs: Sequence[_Run], cand_runs: Sequence[_Run], keys: Sequence[tuple[str, str]], floor: float
) -> dict[tuple[str, str], tuple[stats.Dispersion, dict[tuple[str, str], stats.Noise]]]:
    """Per (scale, measure): the run-to-run noise pooled over every function of both sides, and each
    function's own evidence (Pearson statistic, degrees of freedom, size); `floor`: the least relative
    run-to-run noise assumed."""
    out = {}
    for scale in SCALES:
        for index, measure in ((0, "self"), (1, "total")):
            rows: dict[tuple[str, str], stats.Noise] = {}
            for key in keys:
                per_side = [[r.values.get(key, (0, 0))[index] for r in runs] for runs in (base_runs, cand_runs)]
                if scale == "share":
                    parts = [
                        stats.SideShares(counts, [r.samples for r in runs]).noise()
                        for counts, runs in zip(per_side, (base_runs, cand_runs), strict=True)
                    ]
                else:
                    parts = [stats.count_noise(counts) for counts in per_side]
                rows[key] = parts[0] + parts[1]
            pooled = stats.pooled_dispersion([rows[k] for k in keys if k[1] == "function"], floor)
            out[(scale, measure)] = (pooled, rows)
    return out


def _explain(findings: Sequence[Finding], base_runs: Sequence[_Run], cand_runs: Sequence[_Run], per_run: float) -> None:
    """Mark each flagged inclusive rise of a function that regressed callees' self-time rises under
    it explain (at least EXPLAINED_FRACTION of it) as `explained_by` the largest of them."""
    for scale in SCALES:
        culprits = {f.name for f in findings if f.flagged and f.kind == "function" and f.measure == "self" and f.scale == scale}
        callers = [f for f in findings if f.flagged and f.kind == "function" and f.measure == "total" and f.scale == scale]
        if not culprits or not callers:
            continue
        wanted = {f.name for f in callers}
        sides = []
        for runs in (base_runs, cand_runs):
            under: dict[tuple[str, str], float] = {}  # (caller, culprit) -> samples (or shares summed)
            for run in runs:
                for stack, c in run.ending_in(culprits).items():
                    frames = stack.split(";")
                    leaf = frames[-1]
                    if leaf not in culprits:
                        continue
                    weight = c / run.samples if scale == "share" else c / per_run
                    for g in wanted.intersection(frames):
                        under[(g, leaf)] = under.get((g, leaf), 0.0) + weight
            sides.append({k: v / len(runs) for k, v in under.items()})
        for f in callers:
            rises = {x: sides[1].get((f.name, x), 0.0) - sides[0].get((f.name, x), 0.0) for x in culprits}
            if f.delta > 0 and sum(max(0.0, r) for r in rises.values()) >= EXPLAINED_FRACTION * f.delta:
                f.explained_by = max(rises, key=lambda x: (rises[x], x))


def _adjusted(findings: Sequence[Finding], data: Sequence[tuple[object, ...]]) -> tuple[list[float], float]:
    """Each test's p-value adjusted by the weighted Holm correction, a self test weighing 1 and an
    inclusive one INCLUSIVE_WEIGHT. Tests of exactly the same numbers (`main` and
    `__libc_start_call_main`, callers with one callee: the same inclusive samples in every run) are
    one hypothesis: corrected once, with the largest weight among them. Also the weights' sum."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, key in enumerate(data):
        groups.setdefault(key, []).append(i)
    members = list(groups.values())
    weights = [max(1.0 if findings[i].measure == "self" else INCLUSIVE_WEIGHT for i in m) for m in members]
    out = [1.0] * len(findings)
    for m, adj in zip(members, stats.holm([findings[m[0]].p for m in members], weights), strict=True):
        for i in m:
            out[i] = adj
    return out, sum(weights)


def check_profiles(
    baseline: Sequence[Profile], candidate: Sequence[Profile], options: CheckOptions | None = None
) -> CheckResult:
    """Compare the candidate runs with the baseline runs (one profile per capture)."""
    opts = options or CheckOptions()
    if not baseline or not candidate:
        raise UsageError("a check needs at least one baseline and one candidate capture")
    warnings: list[str] = []
    patterns = [(p, _compile(p, "--function")) for p in opts.functions]
    budget_patterns = [(b.text, b.pattern) for b in opts.budgets]
    # every function is aggregated even with --only: they are what the run-to-run dispersion is measured on
    columns = native_runs(baseline, candidate, opts.max_increase.floor(), warnings, [*patterns, *budget_patterns])
    if columns is not None:
        base_runs, cand_runs = columns
    else:
        base_runs = [_run(p, [*patterns, *budget_patterns], warnings) for p in baseline]
        cand_runs = [_run(p, [*patterns, *budget_patterns], warnings) for p in candidate]
    for label, runs in (("baseline", base_runs), ("candidate", cand_runs)):
        n = sum(r.samples for r in runs)
        if n == 0:
            raise UsageError(f"the {label} has no samples")
        if n < LOW_SAMPLES:
            warnings.append(f"the {label} has only {n} samples: only large changes can be detected")

    def shares(runs: Sequence[_Run], key: tuple[str, str], index: int) -> stats.SideShares:
        return stats.SideShares(
            [r.values.get(key, (0, 0))[index] for r in runs], [r.samples for r in runs]
        )

    pattern_keys = {(p, "pattern") for p, _ in patterns}
    all_keys = sorted({k for r in (*base_runs, *cand_runs) for k in r.values if k[1] == "function"})
    keys = sorted(pattern_keys if opts.only else set(all_keys) | pattern_keys)
    floor = opts.max_increase.floor()
    candidates: list[tuple[tuple[str, str], str, stats.SideShares, stats.SideShares]] = []
    for key in keys:
        sb, sc = shares(base_runs, key, 0), shares(cand_runs, key, 0)
        tb, tc = shares(base_runs, key, 1), shares(cand_runs, key, 1)
        forced = key in pattern_keys
        if forced or (sb.mean() + sc.mean()) / 2.0 >= floor:
            candidates.append((key, "self", sb, sc))
        if (tb.counts, tc.counts) == (sb.counts, sc.counts):
            continue  # only ever a leaf: inclusive is self, one test is enough
        p0 = stats.pooled_share(tb, tc)
        callees = (tb.mean() - sb.mean() + tc.mean() - sc.mean()) / 2.0
        if forced or ((tb.mean() + tc.mean()) / 2.0 >= floor and p0 <= 1.0 - floor and callees >= floor):
            candidates.append((key, "total", tb, tc))  # a share near 100% cannot rise by the threshold

    dispersions = _dispersions(base_runs, cand_runs, [*all_keys, *sorted(pattern_keys)], opts.run_noise)
    per_run = sum(r.samples for r in base_runs) / len(base_runs)
    every_run = sum(r.samples for r in (*base_runs, *cand_runs)) / (len(base_runs) + len(cand_runs))
    findings: list[Finding] = []
    data: list[tuple[object, ...]] = []  # what each test saw: tests of the same numbers are one hypothesis
    for scale in SCALES if opts.absolute else SCALES[:1]:
        for (name, kind), measure, b, c in candidates:
            pooled, rows = dispersions[(scale, measure)]
            if scale == "share":
                size = stats.share_scale(stats.pooled_share(b, c), every_run)
            else:
                size = (sum(b.counts) + sum(c.counts)) / (b.runs + c.runs)
            phi, df = pooled.for_function(rows[(name, kind)], size)
            if scale == "share":
                r = stats.increase_test(b, c, phi, df)
            else:
                r = stats.count_increase_test(b.counts, c.counts, per_run, phi, df)
            findings.append(
                Finding(name, kind, measure, r.base, r.cand, r.delta, r.se, r.df, r.p,
                        exceeds=opts.max_increase.exceeded(r.base, r.cand), scale=scale, dispersion=phi)
            )  # fmt: skip
            data.append((scale, tuple(b.counts), tuple(c.counts), tuple(b.totals), tuple(c.totals)))
    adjusted, weight = _adjusted(findings, data)
    for f, adj in zip(findings, adjusted, strict=True):
        f.p_adjusted = adj
        f.significant = adj < opts.alpha
    _explain(findings, base_runs, cand_runs, per_run)
    findings.sort(key=rank_key)

    for text, _ in [*patterns, *budget_patterns]:
        if not any(r.values.get((text, "pattern"), (0, 0))[1] for r in (*base_runs, *cand_runs)):
            warnings.append(f"{text!r} matches no frame on either side")
    budgets = []
    for budget in opts.budgets:
        key = (budget.text, "pattern")
        index = 0 if budget.measure == "self" else 1
        budgets.append(BudgetResult(budget, shares(cand_runs, key, index).mean(), shares(base_runs, key, index).mean()))

    pooled = dispersions[("share", "self")][0]
    measured = pooled.data_df > 0
    if measured:
        source = (
            f"estimated over all functions of both sides ({pooled.data_df:g} degrees of freedom)"
            if not math.isinf(pooled.df)
            else f"the floor assumed (the runs' {pooled.data_df:g} degrees of freedom show no more)"
        )
        method = (
            "each function's share against sampling variance plus a run-to-run variation of each "
            f"function's time of {pooled.noise:.1%} a run, {source}; a function noisier than the rest "
            "is tested with its own noise shrunk toward that"
        )
    else:
        method = (
            "one run a side: run-to-run variance cannot be measured, so each function's share is tested "
            f"against a conservative prior, {pooled.base:g} times sampling variance plus {pooled.noise:.1%} "
            f"of its time a run (t, {pooled.df:g} degrees of freedom): only large changes can be shown"
        )
    n_base = sum(r.samples for r in base_runs)
    n_cand = sum(r.samples for r in cand_runs)
    reference = pooled.at(stats.share_scale(REFERENCE_SHARE, every_run))
    detectable = stats.smallest_detectable(  # Holm's first bar for a self test: alpha over the weights
        REFERENCE_SHARE, n_base, n_cand, opts.max_increase.absolute(), opts.alpha, max(1, round(weight)),
        REFERENCE_POWER, reference, pooled.df,
    )  # fmt: skip
    return CheckResult(
        options=opts,
        baseline=_side_info(baseline, base_runs),
        candidate=_side_info(candidate, cand_runs),
        findings=findings,
        budgets=budgets,
        method=method,
        dispersion=reference,
        tests=len(findings),
        detectable_pp=None if detectable is None else detectable * 100.0,
        warnings=list(dict.fromkeys(warnings)),
        dispersion_df=pooled.df,
        measured=measured,
        noise=pooled.noise,
    )

"""`Profile`: the one interchange type, folded stack -> weight, with its canonical sorted text form."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from urllib.parse import quote

from foldkit.constants import (
    UNKNOWN_UNIT as UNKNOWN_UNIT,  # defined there, for the plain flame graph
)
from foldkit.native import native_core
from foldkit.timeline import Timeline, concat, sorted_by_time

#: `typing.TYPE_CHECKING` without importing typing (a command's start-up loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:  # for type checkers only: at run time `foldkit.api` adds these methods
    from typing import Any, Protocol

    from foldkit._profile_api import ProfileApi as _Methods
else:
    _Methods = object

Weight = int | float

#: `Profile.meta` key naming what each leading frame holds: a tuple such as ("comm",),
#: ("comm-pid",), ("comm-pid/tid",) or bpftrace's ("comm", "pid"); () when stacks start with code.
ROOT_FRAMES = "root_frames"


def root_frame_count(meta: Mapping[str, Any]) -> int:
    """How many leading frames of every stack hold comm/PID/TID (`meta["root_frames"]`), not code:
    0 when the stacks start with code or when the input did not say."""
    return len(meta.get(ROOT_FRAMES) or ())

#: Largest magnitude of a weight, and of the sum of all magnitudes in a profile: what a signed
#: 64-bit integer holds, so every sum foldkit or another tool (polars, inferno) makes is exact.
MAX_WEIGHT = 2**63 - 1

#: How many unrecognised lines are quoted in a warning.
MAX_QUOTED_LINES = 5


@dataclass
class Diagnostics:
    """What happened while reading: warnings for the user, unrecognised lines and where they were."""

    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bad_lines: int = 0
    bad_examples: list[tuple[str, int, str]] = field(default_factory=list)

    def bad_line(self, source: str, lineno: int, text: str) -> None:
        """Count one unrecognised line, keeping the first few for the warning."""
        self.bad_lines += 1
        if len(self.bad_examples) < MAX_QUOTED_LINES:
            self.bad_examples.append((source, lineno, text[:200]))

    def merge(self, other: Diagnostics) -> None:
        """Add another reading's diagnostics to this one."""
        self.warnings.extend(w for w in other.warnings if w not in self.warnings)
        self.notes.extend(n for n in other.notes if n not in self.notes)
        self.bad_lines += other.bad_lines
        room = MAX_QUOTED_LINES - len(self.bad_examples)
        if room > 0:
            self.bad_examples.extend(other.bad_examples[:room])

    def messages(self) -> list[str]:
        """Every warning, including one summarising unrecognised lines."""
        out = list(self.warnings)
        if self.bad_lines:
            quoted = "; ".join(f"{src}:{n}: {text!r}" for src, n, text in self.bad_examples)
            out.append(f"{self.bad_lines} unrecognised line(s) skipped" + (f", e.g. {quoted}" if quoted else ""))
        return out


def weight_problem(w: Weight) -> str | None:
    """Why `w` cannot be a weight, or None when it can: a weight is a finite number (an integer
    or a decimal) of magnitude at most `MAX_WEIGHT`."""
    if isinstance(w, float) and not math.isfinite(w):
        return "is not a finite number"
    if abs(w) > MAX_WEIGHT:
        return "is larger than 2^63-1"
    return None


#: Decimal digits beyond which an integer is certainly larger than MAX_WEIGHT.
_MAX_DIGITS = 20


def parse_count(text: str | bytes) -> int:
    """A decimal integer from a capture, however many digits it has: one too long to be a weight is
    returned as a value beyond MAX_WEIGHT (which `weight_problem` and `magnitude_problem` report), not
    converted (Python refuses integers of more than 4,300 digits, and converting them is slow)."""
    sign = -1 if text[:1] in ("-", b"-") else 1
    significant: str | bytes
    if isinstance(text, str):
        significant = text.lstrip("+-").lstrip("0")
    else:
        significant = text.lstrip(b"+-").lstrip(b"0")
    if len(significant) > _MAX_DIGITS:
        return sign * (MAX_WEIGHT + 1) * 4
    return sign * int(significant or 0)


def magnitude_problem(magnitude: Weight) -> str | None:
    """Why a profile whose weights' magnitudes sum to `magnitude` cannot be summed exactly, or
    None when it can."""
    if magnitude > MAX_WEIGHT:
        return "the magnitudes of its weights add up to more than 2^63-1 (every partial sum a graph draws must fit)"
    return None


#: Stacks listed in a profile's notebook view, and the frames shown of each (leaf end).
REPR_STACKS = 10
REPR_FRAMES = 6


def _count(w: Weight) -> str:
    return f"{w:,}" if isinstance(w, int) else f"{w:,.2f}"


def _tail(stack: str) -> str:
    frames = stack.split(";")
    return ";".join(frames if len(frames) <= REPR_FRAMES else ["…", *frames[-REPR_FRAMES:]])


def format_weight(w: Weight) -> str:
    """A weight as folded text: integers plainly, fractions in the shortest decimal that reads
    back as the same float (`14.234398324872283`, `0.000000000001`), never in exponent form
    (`flamegraph.pl` reads only digits and a point)."""
    if isinstance(w, int):
        return str(w)
    if math.isfinite(w) and w == int(w) and abs(w) < 2**63:
        return str(int(w))
    text = repr(w)
    if "e" not in text:
        return text
    from decimal import Decimal  # (on use: only weights in exponent form need it)

    return format(Decimal(text), "f")



#: Starts the optional first line of foldkit's folded text that says what the weights count:
#: `# foldkit: unit=ns event=cpu-clock` (values %-quoted). Other tools skip it as a bad line.
FOLDED_HEADER = "# foldkit:"


#: The `roots=` value of a folded header whose stacks start with code (no comm/PID/TID frame).
NO_ROOT_FRAMES = "none"


def folded_header(unit: str, event: str | None, roots: Sequence[str] | None = None) -> str:
    """The `# foldkit: unit=... event=... roots=...` line (without newline) for a profile's unit,
    event and root frames (`roots=comm`, `roots=comm-pid`, `roots=none`; left out when unknown)."""
    layout = None if roots is None else ",".join(roots) or NO_ROOT_FRAMES
    fields = {"unit": unit, "event": event, "roots": layout}
    return " ".join([FOLDED_HEADER, *(f"{k}={quote(v, safe='')}" for k, v in fields.items() if v)])


def _sort_key(stack: str) -> bytes:
    return stack.encode("utf-8", "surrogateescape")


@dataclass
class Profile(_Methods):
    """Stacks (root-first frames joined by `;`) and their weights, plus what is known about them.

    `weights` is what graphs show (sample period for perf, values for BPF maps); `counts`, when
    known, is the number of samples behind each stack, which statistics need. Strings hold
    non-UTF-8 bytes as surrogate escapes so they round-trip exactly. Transforms, tables and exports
    are methods too (`focus`, `exclude`, `time`, `top`, `to_svg`, ...), added by `foldkit.api`.
    """

    weights: dict[str, Weight] = field(default_factory=dict)
    counts: dict[str, int] | None = None
    unit: str = "samples"
    event: str | None = None
    format: str | None = None
    sources: list[str] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    #: The samples in order, (time or NaN, stack, weight) each: a `foldkit.timeline.Timeline`
    #: (arrays) or a plain list of tuples; None when the input kept no per-sample record.
    timeline: Sequence[tuple[float, str, Weight]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: The BEFORE column of a two-column `stack before after` input (difffolded.pl's output);
    #: `weights` is then its AFTER column. None for every other input.
    before: dict[str, Weight] | None = None

    def __len__(self) -> int:
        return len(self.weights)

    def __repr__(self) -> str:
        what = " ".join(x for x in (self.format, self.event) if x)
        samples = "" if self.samples is None else f", {self.samples:,} samples"
        sources = f" from {', '.join(self.sources)}" if self.sources else ""
        return f"<Profile {what + ': ' if what else ''}{len(self):,} stacks, total {_count(self.total)} {self.unit}{samples}{sources}>"

    def _repr_html_(self) -> str:
        """A notebook view: what the profile is and its heaviest stacks."""
        from lxml import html
        from lxml.html import builder as E

        total = self.total or 1
        heaviest = sorted(self.weights.items(), key=lambda kv: -kv[1])[:REPR_STACKS]
        rows = [E.TR(E.TD(_count(w)), E.TD(f"{w / total * 100:.2f}%"), E.TD(E.CODE(_tail(s)))) for s, w in heaviest]
        table = E.TABLE(E.TR(E.TH(self.unit), E.TH("share"), E.TH("stack (leaf end)")), *rows)
        return html.tostring(E.DIV(E.P(repr(self)), table), encoding="unicode")

    @property
    def total(self) -> Weight:
        """Sum of all weights."""
        return sum(self.weights.values())

    def magnitude(self) -> Weight:
        """Sum of the weights' magnitudes."""
        return sum(map(abs, self.weights.values()))

    @property
    def samples(self) -> int | None:
        """Number of samples, when the input says."""
        return None if self.counts is None else sum(self.counts.values())

    @property
    def has_counts(self) -> bool:
        """True when the input says how many samples each stack has (`counts`)."""
        return self.counts is not None

    def items(self) -> Iterator[tuple[str, Weight]]:
        """(stack, weight) pairs in canonical (byte-wise sorted) order."""
        for stack in sorted(self.weights, key=_sort_key):
            yield stack, self.weights[stack]

    def folded_lines(self) -> Iterator[str]:
        """The canonical folded text, one `stack weight` line at a time (no newlines)."""
        for stack, w in self.items():
            yield f"{stack} {format_weight(w)}"

    def to_folded_bytes(self, header: bool = False) -> bytes:
        """The canonical folded text as bytes (non-UTF-8 input bytes restored); with `header`, a
        first line `# foldkit: unit=... event=... roots=...` that foldkit reads back (see FOLDED_HEADER)."""
        native = native_core()
        body = native.folded_text(self.weights) if native is not None else None
        if body is None:  # no native core, or weights that are not all ints
            body = "".join(line + "\n" for line in self.folded_lines()).encode("utf-8", "surrogateescape")
        return self._with_header(body, header)

    def _with_header(self, body: bytes, header: bool) -> bytes:
        """`body` (folded text), after the `# foldkit:` line when `header` asks for it."""
        if header:
            line = folded_header(self.unit, self.event, self.meta.get(ROOT_FRAMES))
            return (line + "\n").encode("utf-8", "surrogateescape") + body
        return body

    def to_folded(self, path: str | os.PathLike[str], header: bool = False) -> None:
        """Write the folded text to `path` atomically (`.gz`/`.zst` compress; `-` is stdout)."""
        from foldkit.outputs import write_bytes

        write_bytes(path, self.to_folded_bytes(header))

    def with_weights(
        self, weights: Mapping[str, Weight], counts: Mapping[str, int] | None = None
    ) -> Profile:
        """A copy of this profile with other stacks (metadata kept)."""
        return replace(
            self,
            weights=dict(weights),
            counts=None if counts is None else dict(counts),
            timeline=None,
            before=None,
        )


if TYPE_CHECKING:

    class StackTable(Protocol):
        """Stacks held outside Python (the native folded reader's), as `LazyProfile` uses them."""

        def __len__(self) -> int: ...

        def sums(self) -> tuple[int, int, int]:
            """(sum of the weights, of the positive ones, of their magnitudes)."""
            ...

        def to_dict(self) -> dict[str, int]:
            """The stacks as `Profile.weights` (a table holds integer weights)."""
            ...

        def layout(self, threshold: int, max_frames: int, sort_by_weight: bool) -> tuple[Any, ...] | None:
            """The native flame-graph layout of the stacks (see `render.layout.layout_table`)."""
            ...

else:
    #: A protocol for the type checker only (nothing checks it at run time): no typing at start-up.
    StackTable = object


class LazyProfile(Profile):
    """A `Profile` whose stacks stay in a `StackTable` until `weights` is first read or set, then
    become the ordinary dict (and the table is let go). Drawing a big folded file this way never
    makes a Python string of each stack: `table` gives the stacks to the native layout."""

    def __init__(self, *args: Any, table: StackTable | None = None, counts_are_weights: bool = False, **kwargs: Any) -> None:
        self._table: StackTable | None = None
        self._counts: dict[str, int] | None = None
        self._counts_are_weights = False
        super().__init__(*args, **kwargs)
        self._table = table
        #: the counts are the (integer) weights: made a dict only when `counts` is read
        self._counts_are_weights = counts_are_weights

    @property
    def counts(self) -> dict[str, int] | None:
        """Samples per stack; the weights themselves when made with `counts_are_weights`."""
        if self._counts_are_weights:
            self._counts = {s: int(w) for s, w in self.weights.items()}
            self._counts_are_weights = False
        return self._counts

    @counts.setter
    def counts(self, value: dict[str, int] | None) -> None:
        self._counts_are_weights = False
        self._counts = value

    @property
    def has_counts(self) -> bool:
        """True when the input says how many samples each stack has (without making `counts`)."""
        return self._counts_are_weights or self._counts is not None

    @property
    def samples(self) -> int | None:
        """Number of samples, when the input says (the table's sum when the counts are the weights)."""
        if self._counts_are_weights and self._table is not None:
            return int(self._table.sums()[0])
        return super().samples

    @property
    def weights(self) -> dict[str, Weight]:
        """The stacks, made a dict on first use."""
        if self._table is not None:
            weights: dict[str, Weight] = self._table.to_dict()  # type: ignore[assignment]  # (int weights are Weights)
            self._weights = weights
            self._table = None
        return self._weights

    @weights.setter
    def weights(self, value: dict[str, Weight]) -> None:
        if self._counts_are_weights:
            self.counts  # noqa: B018 - the counts are the weights being replaced: made now
        self._table = None
        self._weights = value

    @property
    def table(self) -> StackTable | None:
        """The stacks' table while `weights` was never used, else None."""
        return self._table

    def __len__(self) -> int:
        return len(self._table) if self._table is not None else len(self._weights)

    @property
    def total(self) -> Weight:
        """Sum of all weights."""
        return self._table.sums()[0] if self._table is not None else super().total

    def magnitude(self) -> Weight:
        """Sum of the weights' magnitudes."""
        return self._table.sums()[2] if self._table is not None else super().magnitude()

    def to_folded_bytes(self, header: bool = False) -> bytes:
        """The canonical folded text, written by the native core from the table while the stacks
        are still in it (see `Profile.to_folded_bytes`, the reference)."""
        native = native_core()
        if self._table is not None and native is not None:
            body = native.table_folded_text(self._table)
            if body is not None:
                return self._with_header(body, header)
        return super().to_folded_bytes(header)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(Profile))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return self._values() == tuple(getattr(other, f.name) for f in fields(Profile))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        """Copied or pickled as a plain `Profile` (the table stays in this process)."""
        return Profile, self._values()


def map_stacks(profile: Profile, fn: Callable[[str], str | None]) -> Profile:
    """A new profile where every stack is replaced by `fn(stack)` (None drops it).

    Stacks that map to the same result are summed; counts and the timeline follow the weights, so
    every transform keeps them consistent without thinking about it.
    """
    memo: dict[str, str | None] = {}
    weights: dict[str, Weight] = {}
    old_counts = profile.counts
    counts: dict[str, int] | None = None if old_counts is None else {}
    for stack, w in profile.weights.items():
        new = memo[stack] = fn(stack)
        if new is None:
            continue
        weights[new] = weights.get(new, 0) + w
        if counts is not None and old_counts is not None:
            counts[new] = counts.get(new, 0) + old_counts.get(stack, 0)
    timeline: Sequence[tuple[float, str, Weight]] | None = None
    if isinstance(profile.timeline, Timeline):  # each distinct stack once, the samples as arrays
        for stack in profile.timeline.stacks:
            if stack not in memo:  # a timeline should only hold known stacks; map strays anyway
                memo[stack] = fn(stack)
        timeline = profile.timeline.map_stacks([memo[s] for s in profile.timeline.stacks])
    elif profile.timeline is not None:
        for _, stack, _ in profile.timeline:
            if stack not in memo:
                memo[stack] = fn(stack)
        get = memo.__getitem__
        timeline = [(t, new, w) for t, s, w in profile.timeline if (new := get(s)) is not None]
    before: dict[str, Weight] | None = None
    if profile.before is not None:
        before = {}
        for stack, w in profile.before.items():
            new = memo[stack] if stack in memo else fn(stack)
            if new is not None:
                before[new] = before.get(new, 0) + w
    return replace(profile, weights=weights, counts=counts, timeline=timeline, before=before)


class ProfileMerger:
    """Sums profiles given one at a time, in order, into what `merge_profiles` of them all gives
    (each added profile can be dropped at once: memory holds the sum, not the parts)."""

    def __init__(self) -> None:
        self.only: Profile | None = None  # the first profile, while it is the only one
        self.added = 0
        self.weights: dict[str, Weight] = {}
        self.counts: dict[str, int] | None = {}
        self.diagnostics = Diagnostics()
        self.sources: list[str] = []
        self.units: set[str] = set()
        self.events: set[str | None] = set()
        self.formats: set[str | None] = set()
        self.timeline: list[Sequence[tuple[float, str, Weight]]] | None = []  # the parts
        self.meta: dict[str, Any] = {}
        self.before: dict[str, Weight] | None = {}  # kept while every input has a BEFORE column

    def add(self, p: Profile) -> None:
        """Add the next profile."""
        self.added += 1
        if self.added == 2 and self.only is not None:
            # the first profile's stacks are summed only now that a second one comes (one profile
            # alone is the result itself, its stacks never copied)
            self._sum(self.only)
        self.only = p if self.added == 1 else None
        if self.added == 1:
            self.meta = dict(p.meta)
        else:
            self._sum(p)
        if self.counts is not None and not p.has_counts:
            self.counts = None
        self.diagnostics.merge(p.diagnostics)
        self.sources.extend(p.sources)
        self.units.add(p.unit)
        self.events.add(p.event)
        self.formats.add(p.format)
        if self.timeline is not None and p.timeline is not None:
            self.timeline.append(p.timeline)
        else:
            self.timeline = None
        if self.before is not None and p.before is not None:
            for s, w in p.before.items():
                self.before[s] = self.before.get(s, 0) + w
        else:
            self.before = None
        self.meta = {k: v for k, v in self.meta.items() if p.meta.get(k) == v}

    def _sum(self, p: Profile) -> None:
        weights = self.weights
        for s, w in p.weights.items():
            weights[s] = weights.get(s, 0) + w
        if self.counts is not None and p.counts is not None:
            counts = self.counts
            for s, c in p.counts.items():
                counts[s] = counts.get(s, 0) + c

    def result(self) -> Profile:
        """The sum of the profiles added (the one itself when only one was)."""
        if self.only is not None:
            return self.only
        if not self.added:
            return Profile()
        diag = self.diagnostics
        units, events, formats = set(self.units), set(self.events), set(self.formats)
        if len(units) > 1:
            diag.warnings.append(f"merging inputs with different units: {', '.join(sorted(units))}")
        timeline = None if self.timeline is None else sorted_by_time(concat(self.timeline))
        return Profile(
            weights=self.weights,
            counts=self.counts,
            unit=units.pop() if len(units) == 1 else "mixed",
            event=events.pop() if len(events) == 1 else None,
            format=formats.pop() if len(formats) == 1 else "mixed",
            sources=self.sources,
            diagnostics=diag,
            timeline=timeline,
            meta=self.meta,
            before=self.before,
        )


def merge_profiles(profiles: Iterable[Profile]) -> Profile:
    """Sum several profiles into one (stacks added; counts and timelines kept only if every input
    has them; metadata that every input agrees on kept)."""
    merger = ProfileMerger()
    for p in profiles:
        merger.add(p)
    return merger.result()

"""Types of `foldkit._native`, the Python face of the Rust core (native/py/src/*.rs).

Kept by hand: a change to a `#[pyfunction]`, `#[pyclass]` or `#[pymethods]` item there changes
this file too. Callers reach the module through `foldkit.native.native_core()` (the one door), typed there
as `NativeCore`, the part of this module foldkit uses.
"""

import os
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol, final

__version__: str
#: Lines a folded file may hand to the reference reader before it is left to the stream reader
#: (the default of `read_folded_file`'s `max_deferred`).
MAX_DEFERRED: int

#: The layout's lists for `foldkit.render.layout`: (names, depths, starts, weights, parents, cut,
#: nonpositive). The weights are ints; typed as the layout's own `_Placed` (where they may be
#: floats) so that both paths give one type.
_Frames = tuple[list[str], list[int], list[int | float], list[int | float], list[int], int | float | None, int]

# --- pprof.rs ---

def fold_pprof(
    data: bytes, wanted: bytes | None = None, inline: bool = False
) -> tuple[list[tuple[str, str]], int | None, int, dict[str, int], dict[str, int] | None, dict[str, int]]:
    """(types, chosen, samples, weights, counts, before) of a decompressed pprof profile.proto:
    every sample type as (type, unit), the index of the one folded (`wanted`, else the default;
    None when there is none or `wanted` is missing), the number of samples, `{stack: weight}` in
    first-seen order, `{stack: samples}` when the profile counts samples in a type of its own,
    and `{stack: weight}` of the samples labelled pprof::base (negated back). ValueError: not a
    well-formed profile."""

def pprof_bytes(rows: list[tuple[bytes, int, int, bool]], types: list[tuple[bytes, bytes]], default: bytes, diff_base: bool) -> bytes:
    """The profile.proto message (uncompressed) of `rows` `(stack, value, count, base)`, byte for
    byte what `foldkit.export.pprof.encode_python` writes: sample types `types`, `default` the
    mapping of frames that name no object, the `pprof::base` label on base rows with `diff_base`.
    OverflowError: a value or count beyond int64."""

# --- folded_text.rs ---

def folded_text(weights: dict[str, Any]) -> bytes | None:
    """`{stack: weight}` as canonical folded text, or None when a weight is not an int within 128 bits."""
def folded_write(weights: dict[str, Any], path: str | None, new: bool) -> bool:
    """`folded_text`'s bytes written a piece at a time to the file `path` (made when `new`: it must not exist) or to standard output (None); False, nothing made, when `folded_text` gives None."""

# --- perf.rs ---

class RecordTooLong(Exception):
    """A plain file holds a record longer than max_record: read it as a stream instead."""

class StreamUnusable(Exception):
    """A compressed input the native reader does not take: read it with the Python reader instead."""

class FoldOptionsRead(Protocol):
    """What `PerfFolder` reads of a `foldkit.ingest.options.FoldOptions`, by name."""

    @property
    def kernel(self) -> bool: ...
    @property
    def jit(self) -> bool: ...
    @property
    def inline(self) -> bool: ...
    @property
    def addrs(self) -> bool: ...
    @property
    def demangle(self) -> bool: ...
    @property
    def pid(self) -> bool: ...
    @property
    def tid(self) -> bool: ...
    @property
    def weight(self) -> str: ...
    @property
    def skip_after(self) -> tuple[str, ...]: ...
    @property
    def keep_time(self) -> bool: ...
    @property
    def clock(self) -> str: ...

@final
class PerfFolder:
    """`perf script` text folded on `jobs` threads of the core."""

    def __new__(cls, options: FoldOptionsRead, *, jobs: int, namer: Callable[..., Any], fallback: Callable[..., Any]) -> PerfFolder:
        """A folder of `options` (a `FoldOptions`: the fields it honours are read by name)."""
    def push(self, index: int, data: bytes) -> bool:
        """Fold `data` (record-aligned chunk number `index`); False once the threads have stopped."""
    def push_file(self, path: str, chunk_size: int, first_index: int, max_record: int = ..., lines: bool = ...) -> int:
        """Fold a plain file read by the threads in ranges; the number of ranges."""
    def feed_file(self, path: str, chunk_size: int, first_index: int, max_record: int = ..., lines: bool = ...) -> None:
        """Fold a plain file as `push_file` does, its ranges queued by a native thread: returns at once."""
    def push_compressed(self, path: str, compression: str, chunk_size: int, max_record: int) -> int:
        """Fold a zstd or gzip file decompressed here; the number of chunks."""
    def cancel(self) -> None:
        """Stop the threads now."""
    def finish(self) -> dict[str, Any]:
        """Wait for the threads: `events`, `first_seen`, `lines`, `timelines` (chunk -> (times, stack ids, weights) arrays), `stacks` (what the ids index), `bad` ((chunk, line number, text) of bad lines to quote) and `bad_count`; with `options.clock` not `cpu`, `sched` (a `SchedEvents`)."""

# --- sched.rs ---

@final
class SchedEvents:
    """The timed samples a `PerfFolder` kept for `--off-cpu` / `--wall` (stack ids index its `stacks`)."""

    @property
    def switches(self) -> int:
        """`sched:sched_switch` events read."""
    @property
    def untimed(self) -> int:
        """Samples without a timestamp."""
    def on_cpu_events(self) -> list[str]:
        """The on-CPU events' names (before any `/`), each once."""
    def rows(self) -> list[tuple[int, int, int, list[tuple[int, str, int, int, int, str]]]]:
        """Per chunk `(index, untimed, latest time, rows)`: `(time, "switch"|"wakeup"|"sample", prev|0|thread, next|target|period, stack id, state|""|event)` in file order."""
    def pair(
        self, states: bytes | None, wakeups: bool, on_cpu: bytes | None = ..., each: int | None = ...
    ) -> tuple[list[tuple[int, str | None, int | None, int, int]], int, int]:
        """`(charges, still_off, missing)`: charges `(stack id, state or None for on-CPU, waker stack id or None, ns, count)` in first-charge order."""

def demangle(symbol: bytes) -> bytes:
    """A symbol demangled (C++, Rust legacy and v0), or Rust's partial demangling tidied."""

def tidy_rust(symbol: bytes) -> bytes:
    """Rust's partially demangled names tidied."""

# --- folded.rs ---

@final
class FoldedReader:
    """The folded-text reader fed chunk by chunk."""

    def __new__(cls) -> FoldedReader: ...
    def feed(self, chunk: bytes, pos: int) -> tuple[int, int, int, int] | None:
        """None when all lines were read, else `(start, end, next, lineno)` of a line for the reference reader."""
    def add(self, stack: bytes, weight: int) -> None:
        """Add `weight` to `stack`."""
    def add_float(self, stack: bytes, weight: float) -> None:
        """Add the decimal `weight` to `stack` (its sum is a float from then on)."""
    @property
    def lineno(self) -> int:
        """Lines counted so far."""
    def keep_order(self) -> None:
        """Keep every line's stack and weight in input order from now on (flame charts)."""
    def take_order(self) -> tuple[bytes, bytes, dict[int, float]] | None:
        """`(entries, weights, decimals)` of the lines in order: uint32 stack indexes (in `take_str`'s order), int64 weights, `{line: decimal weight}`."""
    def take_bytes(self) -> dict[bytes, int | float]:
        """`{stack bytes: weight}` in first-seen order; the reader is emptied."""
    def take_str(self) -> dict[str, int | float]:
        """`{stack: weight}` (surrogate escapes) in first-seen order; the reader is emptied."""

@final
class FoldedStacks:
    """The stacks of a plain folded file, held by the core."""

    def __len__(self) -> int: ...
    def deferred(self) -> list[tuple[int, bytes]]:
        """`[(line number, line bytes)]` of the lines the reference reader must read."""
    def sums(self) -> tuple[int, int, int]:
        """(sum of the weights, of the positive ones, of their magnitudes)."""
    def may_hold_offsets(self) -> bool:
        """True when a stack may hold a call-site offset."""
    def has_floats(self) -> bool:
        """True when a sum is a decimal."""
    def to_dict(self) -> dict[str, int]:
        """`{stack: weight}` in first-seen order."""
    def layout(self, threshold: int, max_frames: int, sort_by_weight: bool) -> _Frames | None:
        """`layout_frames` of these stacks as a flame graph, or None (lay out `to_dict()` instead)."""


def read_folded_file(
    path: str | os.PathLike[str],
    threads: int,
    max_record: int,
    max_deferred: int = ...,
    min_split: int = ...,
) -> FoldedStacks | None:
    """The stacks of the folded file at `path`, or None when it must be read as a stream."""

# --- layout.rs ---

def layout_frames(
    stacks: dict[str, int | float] | list[tuple[str, int | float]],
    chart: bool,
    threshold: int,
    max_frames: int,
    sort_by_weight: bool,
) -> _Frames | None:
    """Flame-graph (or, with `chart`, flame-chart) layout, or None when a weight is not an i64 int
    (a float among them, or an int beyond int64)."""

def svg_frames(
    names: list[str],
    depths: list[int],
    starts: list[int | float],
    weights: list[int | float],
    fills: dict[str, str],
    style: dict[str, object],
) -> bytes | None:
    """The `<rect>`/`<text>` markup of a layout's frames, as `foldkit.render.svg` writes it with
    lxml, or None when it cannot be exact (the caller writes them itself)."""

def table_svg(table: FoldedStacks, threshold: int, max_frames: int, page: dict[str, object]) -> bytes | None:
    """The whole SVG of the plain flame graph of `table` (`foldkit.cli.plain`), or None when it
    is not a plain one (the caller draws it as every other picture)."""

def table_svg_write(
    table: FoldedStacks, threshold: int, max_frames: int, page: dict[str, object], path: str | None, new: bool
) -> bool:
    """`table_svg`'s document written a piece at a time to the file `path` (made when `new`: it
    must not exist; else opened as `open(path, "wb")`) or to the process's standard output
    (None); False, having made and written nothing, when it is not a plain one; `OSError` (errno
    and text as Python's) when the file cannot be made or written."""

# --- read_ahead.rs ---

@final
class PendingStacks:
    """A read started by `read_folded_file_later`."""

    def result(self) -> FoldedStacks | None:
        """What `read_folded_file` gives; RuntimeError when called a second time."""

def read_folded_file_later(
    path: str | os.PathLike[str],
    threads: int,
    max_record: int,
    max_deferred: int = ...,
    min_split: int = ...,
    viewer_root: str | None = None,
) -> PendingStacks:
    """Start reading the folded file at `path` on threads of its own; with `viewer_root`, the
    viewer's tree of its stacks built too, for `viewer_tree` of the table `result()` gives."""

# --- viewer.rs ---

@final
class ViewerTree:
    """The viewer's merged tree, held by the core until it is packed."""

    def __len__(self) -> int: ...
    @property
    def name_count(self) -> int:
        """Distinct names."""
    @property
    def sides(self) -> int:
        """Sides (profiles) merged."""
    @property
    def nonpositive(self) -> int:
        """Stacks left out because their weight was zero or negative."""
    @property
    def built_ahead(self) -> bool:
        """True when the tree was built as its table was read ahead."""
    def names_for_twin(self, palette: str | None = None) -> list[tuple[int, str]]:
        """`[(name id, name)]` of the names the page does not colour with `palette`."""
    def header(self, palette: str | None, given: dict[int, tuple[str, bytes]]) -> tuple[int, int, tuple[str, str, str], int]:
        """`(names_bytes, raw_bytes, (selfs, name_ids, depths types), fills given)` of the payload."""
    def write(self, out: BinaryIO, palette: str | None, given: dict[int, tuple[str, bytes]], level: int) -> None:
        """Write the payload's base64 text to `out` in chunks as it is compressed (gzip at `level`)."""
    def arrays(self) -> tuple[list[str], bytes, bytes, list[bytes]]:
        """`(names, name_ids, depths, selfs)`: uint32, uint32 and float64 arrays as native bytes."""

def viewer_tree(
    sides: list[dict[str, int] | FoldedStacks],
    root: str,
    scales: list[float] | None = None,
    reverse: bool = False,
) -> ViewerTree | None:
    """The merged tree of `sides` (with `reverse`, every stack's frames in the opposite order), each side's
    weights shown times its `scales` entry (default 1); None when a weight is not an int within i64, a table's
    stack is not UTF-8 or a scale not finite and above zero; a ValueError when it is beyond the payload's
    limits (4 GiB of names, 2**32 nodes)."""

# --- table.rs ---

def table_folded_text(table: FoldedStacks) -> bytes | None:
    """The table's canonical folded text, or None when a sum is a decimal."""

def table_folded_write(table: FoldedStacks, path: str | None, new: bool) -> bool:
    """`table_folded_text`'s bytes written a piece at a time to the file `path` (made when `new`:
    it must not exist; else opened and truncated) or to standard output (None); False, having
    made and written nothing, when a sum is a decimal; OSError when it cannot be written."""

def table_top(
    table: FoldedStacks, by: str, roots: int, sort_self: bool, limit: int
) -> tuple[list[str], list[int], list[int], int] | None:
    """`(names, selfs, totals, rows in all)` of the heaviest functions (`by="function"`, the first
    `roots` frames left out) or root frames (`by="root"`), at most `limit` (all when <= 0); None
    when the table is not one the core takes."""

def table_difffolded_write(before: FoldedStacks, after: FoldedStacks, out: BinaryIO | None = None) -> bool:
    """Write the two-column folded text of two tables to `out` a piece at a time: False (nothing
    written) when a table is not one the core takes; without `out`, only whether it would be."""

def table_changes(
    before: FoldedStacks,
    after: FoldedStacks,
    roots: int,
    scale: float,
    before_pct: float,
    after_pct: float,
    sort_self: bool,
    limit: int,
) -> tuple[list[str], list[int], list[int], list[int], list[int], int] | None:
    """`(names, self before, total before, self after, total after, rows in all)` of the functions
    whose share changed most, at most `limit` (all when <= 0); None when a table is not one the
    core takes."""

# --- check.rs ---

def table_check_sums(
    tables: list[FoldedStacks], base: int, roots: int, floor: float, min_expected: float
) -> tuple[list[str], list[int]] | None:
    """`(names, sums)`: the functions of the runs `tables` (the baseline's `base` first; the first
    `roots` frames left out) a check can test (mean share over both sides at least `floor`) or
    measure noise on (`min_expected` samples a run on a side of two runs or more), `sums` holding
    per name, per run, its self then total samples. None when a table is not one the core takes, a
    sum leaves int64, or there are more than 8 runs."""

def table_check_totals(table: FoldedStacks, roots: int) -> tuple[int, int, int] | None:
    """`(samples, samples of stacks with no frame after the first roots, gcd of the weights)`, or
    None when the table is not one the core takes."""

def table_stacks_ending_in(table: FoldedStacks, roots: int, leaves: list[str]) -> list[tuple[str, int]]:
    """`[(stack, weight)]`, in table order, of the stacks with a non-zero weight and a frame after
    the first `roots` whose last frame is one of `leaves`."""

def table_each_name(tables: list[FoldedStacks], roots: int, visit: Callable[[list[str]], object]) -> bool:
    """Hand every function's name (the first `roots` frames left out), once per table holding
    it, to `visit` in lists; False when a table is not one the core takes (not every name given)."""

def table_pattern_sums(table: FoldedStacks, roots: int, names: list[str]) -> tuple[int, int] | None:
    """`(self, total)` of the frames named in `names` taken together: the weight of the stacks
    ending in one of them and of the stacks holding any (once each), the first `roots` frames left
    out; None when the table is not one the core takes."""

def table_pattern_match(
    tables: list[FoldedStacks], roots: int, exact: str, loose: str, literal: bool, ascii_only: bool
) -> list[tuple[int, int]] | None:
    """Per table `(self, total)` of the frames a pattern matches (as `table_pattern_sums` for the
    names `re.search` matches), the pattern translated by `foldkit.analysis.regex_subset`: the
    substring `exact` (`literal`) or the regular expression `exact` (`loose` for whole stacks),
    proven on ASCII names only when `ascii_only`. None when a table is not one the core takes,
    holds a newline (or non-ASCII with `ascii_only`), or the expression does not compile."""

def table_frame_sums(
    table: FoldedStacks,
    names: list[str],
    parents: list[int],
    absent_from: FoldedStacks | list[str] | None = ...,
    threads: int = ...,
) -> tuple[list[int], list[int], int, int] | None:
    """`(inclusive, own, hidden, total)`: per drawn frame (`names[i]` under frame `parents[i]`),
    the weight of the table's positive stacks through and ending at its path; the weight of the
    stacks `absent_from` lacks, and of all stacks. None when a table is not one the core takes."""

# --- bpf.rs ---

class BpftraceReader:
    """bpftrace text output read natively: `feed` chunks of whole lines (`-f json`: `feed_json`), `finish`, name the
    `odd_lines` (not printable ASCII) with the Python namer and hand the names to `name_lines`,
    then read `report` and `maps`, `classify` the maps and `fold` the chosen ones."""

    def __init__(self, addrs: bool, kernel: bool, inline: bool, skip_after: list[bytes]) -> None: ...
    def feed(self, chunk: bytes) -> None: ...
    def feed_json(self, chunk: bytes, pos: int) -> tuple[int, int, int, int] | None:
        """Read `-f json` lines from `pos`: None when all were read, else (start, end, next, line
        number) of a line for the Python twin (which hands in `text_lines`, `json_skip`, `bad_line`)."""
    def text_lines(self, lines: list[bytes]) -> None: ...
    def bad_line(self, lineno: int, text: bytes) -> None: ...
    def json_skip(self, name: bytes) -> None: ...
    def json_skipped(self) -> list[tuple[bytes, int]]: ...
    def finish(self) -> None: ...
    def odd_lines(self) -> list[bytes]: ...
    def name_lines(self, named: list[tuple[bytes, int, bool, str, bool]]) -> None: ...
    def report(
        self,
    ) -> tuple[
        int, list[tuple[int, bytes]], list[tuple[int, bytes, int | None]], int, bytes | None, int, list[tuple[int, bytes]], bytes | None, int
    ]:
        """(bad lines, quoted [(line, text)], cut entries [(entry line, text, cutting line or None)],
        error lines, first error, program-output lines, quoted [(line, text)], first text line, lines)."""
    def maps(self) -> list[tuple[bytes, int, int, int, bool, bool, int, int, list[int]]]:
        """Every map: (name, first line, printed, other values, other value with a stack key,
        scalar, total, distinct entries, stack positions)."""
    def classify(self, at: int) -> tuple[list[int], list[str], list[str], int, list[str]] | None:
        """(positions, kinds, modes, arity, scalar kinds by position) of map `at`, or None."""
    def fold(self, chosen: list[int], several: bool) -> FoldedStacks:
        """The classified maps `chosen` folded into a table."""

class BccReader:
    """BCC's multi-line output read natively: `feed` a chunk from `pos` until it returns None,
    acting on each event it returns; then `open_block`, `summary` and `table`."""

    def __init__(self, addrs: bool, kernel: bool, pid: bool, keep_bpf_frames: bool, skip_after: list[bytes]) -> None: ...
    def feed(self, chunk: bytes, pos: int) -> tuple[str, int, bytes, int, int] | None:
        """(kind, line number, bytes, number, next position): `outside` (a line not indented),
        `cut` (a block without a value: its first line and text, number = the cutting line),
        `bad` (a block line no pattern reads), `name` (name line id `number` with `set_name`)."""
    def set_name(self, id: int, line: tuple[bytes, bool, int] | None) -> None: ...
    def open_block(self) -> tuple[int, list[bytes]]: ...
    def summary(self) -> tuple[int, int, bytes | None, int, int, int, int]:
        """(blocks folded, distinct stacks, first leaf, trimmed stacks, their weight, distinct
        blocks with a task root, without)."""
    def table(self, lines: int) -> FoldedStacks: ...

# --- timeline.rs --- (arrays as native-order bytes: float64 times, uint32 ids, int64 weights)

def timeline_filter(
    times: bytes, ids: bytes, weights: bytes, mapping: bytes | None = None, window: tuple[float, float] | None = None
) -> tuple[bytes, bytes, bytes]:
    """`(times, ids, weights)` of the samples `mapping` (int64 new id per id, -1 drops) keeps, in `window`."""

def timeline_sums(ids: bytes, weights: bytes, stacks: int) -> tuple[list[int], list[int]]:
    """Per stack id: the sum of its samples' weights and their number."""

def timeline_first_time(times: bytes) -> float | None:
    """The earliest time that is not NaN."""

def timeline_span(times: bytes, weights: bytes) -> tuple[float, float] | None:
    """The earliest and latest finite time of a sample of positive weight."""

def timeline_runs(times: bytes, ids: bytes, weights: bytes) -> tuple[bytes, bytes, int, int] | None:
    """`(run ids, run weights, non-positive samples, total)` of the flame-chart runs, or None when a run is beyond int64."""

def timeline_chart_layout(stacks: list[str], run_ids: bytes, run_weights: bytes, threshold: int, max_frames: int) -> _Frames:
    """The flame-chart layout of the runs, as `layout_frames` gives it."""

def timeline_cells(
    times: bytes, ids: bytes, weights: bytes, nodes: bytes, start: float, rows: float
) -> tuple[bytes, list[int]]:
    """The Time view's cells: keys `node << 32 | bucket` (uint64 bytes, ascending) and their summed weights."""

def viewer_stack_nodes(tree: ViewerTree, stacks: list[str]) -> bytes:
    """The node each stack ends at (int64 bytes), -1 where no side's stacks end."""

def timeline_split(times: bytes, ids: bytes, weights: bytes, group: bytes, local: bytes, groups: int) -> list[tuple[bytes, bytes, bytes]]:
    """The samples in `groups` parts: per stack id its part (int64, -1 none) and its id there (uint32)."""

def timeline_sorted(times: bytes, ids: bytes, weights: bytes) -> tuple[bytes, bytes, bytes] | None:
    """The samples in time order (stable); None when a time is NaN."""

def timeline_speedscope(stacks: list[str], times: bytes, ids: bytes, weights: bytes) -> tuple[bytes, bytes, bytes, int] | None:
    """speedscope's sampled profile: the JSON text of its frames, samples and weights, and the
    weights' sum; None when a time is NaN or a stack is not valid UTF-8."""

"""Already-folded stacks: `root;child;leaf 42` (integer or decimal weights), also the two-column
`stack before after` form written by `difffolded.pl` and `foldkit diff -o x.folded`: its second
(after) column is the profile's weights, its first column `Profile.before` (a flame graph of such
input is the differential graph, as flamegraph.pl and inferno draw it).

Identical stacks are summed (BCC's `-f` output repeats them), offsets (`+123`, `+0x7b`) are stripped
from frames so call sites merge, and `--kernel` marks the kernel part of each stack (see
`bpf_frames.annotate_folded`). Those rewrites run once per distinct stack, after reading.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from urllib.parse import unquote

from foldkit import readahead
from foldkit.constants import SNIFFED_LINES
from foldkit.errors import InputError
from foldkit.ingest import bpf_frames as bf
from foldkit.ingest.options import FoldOptions
from foldkit.inputs import Source, cut_at_lines
from foldkit.jobs import default_jobs
from foldkit.lazy import regex
from foldkit.native import NativeCore, native_core
from foldkit.profile import (
    FOLDED_HEADER,
    NO_ROOT_FRAMES,
    ROOT_FRAMES,
    UNKNOWN_UNIT,
    Diagnostics,
    LazyProfile,
    Profile,
    Weight,
    parse_count,
    weight_problem,
)
from foldkit.timeline import Timeline

NAME = "folded"
DESCRIPTION = "already-folded stacks, one `frame;frame;frame WEIGHT` per line (FlameGraph/inferno)"
EXAMPLE = "bash;main;execute_command;fork 17"

_NUMBER = regex(globals(), "_NUMBER", rb"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _number(raw: bytes) -> Weight | None:
    if raw.isdigit() and len(raw) <= 18:
        return int(raw)
    if _NUMBER.fullmatch(raw) is None:
        return None
    if raw.lstrip(b"-").isdigit():
        return parse_count(raw)
    return float(raw)


_HEADER = FOLDED_HEADER.encode()


def parse_header(line: bytes) -> dict[str, str]:
    """The `key=value` fields of a `# foldkit: unit=ns event=cpu-clock` line ({} for any other)."""
    if not line.startswith(_HEADER):
        return {}
    text = line[len(_HEADER) :].decode("utf-8", "replace")
    return {k: unquote(v) for k, _, v in (f.partition("=") for f in text.split()) if k and v}


def with_header(profile: Profile, header: dict[str, str]) -> Profile:
    """`profile` with the unit, event and root frames (`meta["root_frames"]`) a `# foldkit:` header
    gave; without a unit, the weights are called `weight` (UNKNOWN_UNIT), never "samples"."""
    profile.unit = header.get("unit", UNKNOWN_UNIT)
    profile.event = header.get("event", profile.event)
    roots = header.get("roots")
    if roots is not None:
        profile.meta[ROOT_FRAMES] = () if roots == NO_ROOT_FRAMES else tuple(roots.split(","))
    return profile


def split_columns(line: bytes) -> tuple[bytes, Weight | None, Weight] | None:
    """`stack weight` -> (stack, None, weight); `stack before after` (difffolded.pl) -> (stack,
    before, after) (the reader strips whitespace at the start of a line first); None when the
    line does not end in a number."""
    parts = line.rsplit(None, 2)
    if len(parts) < 2:
        return None
    last = _number(parts[-1])
    if last is None:
        return None
    if len(parts) == 3 and (before := _number(parts[1])) is not None:
        return parts[0], before, last
    stack = line.rsplit(None, 1)[0]
    return stack, None, last


def split_line(line: bytes) -> tuple[bytes, Weight] | None:
    """`stack weight` -> (stack, weight); `stack before after` (difffolded.pl) -> (stack, after);
    None when the line does not end in a number."""
    parsed = split_columns(line)
    return None if parsed is None else (parsed[0], parsed[2])


def sniff(head: bytes, whole_lines: bool = False) -> bool | None:
    """True if (nearly) all of the first lines look like `stack weight`; None (folded unless
    another format is sure) when most of them do, as in a folded file with a few bad lines,
    which the folder then skips with a warning; False otherwise. `whole_lines`: `head` ends
    with a whole line (else a head of 64 KiB or more may end inside one)."""
    lines = [ln for ln in head.replace(b"\r\n", b"\n").split(b"\n")[:SNIFFED_LINES] if ln.strip() and ln[:1] != b"#"]
    if len(head) >= 65536 and not whole_lines:
        lines = lines[:-1]  # the last line may be cut
    if not lines:
        return None
    if bf.table_header(lines[0].decode("utf-8", "replace")) is not None:
        return False  # a BPF tool's table (tcplife rows end with a number, like folded lines)
    # indented lines are perf/BCC frames, `@` lines bpftrace map entries (`@[comm]: 3`)
    good = sum(1 for ln in lines if not ln[:1].isspace() and ln[:1] != b"@" and split_line(ln) is not None)
    if good == len(lines) or (good >= 3 and good >= 0.9 * len(lines)):
        return True
    # a bpftrace map entry is never a folded line; an indented line counts when it parses
    if any(ln[:1] == b"@" for ln in lines):
        return False
    parsed = sum(1 for ln in lines if split_line(ln) is not None)
    return None if parsed >= 2 and 2 * parsed > len(lines) else False


class _Reader:
    """The reference reader: every line through `split_line`, identical stacks summed in a dict
    (first-seen order)."""

    def __init__(self, name: str, raw: dict[bytes, Weight] | None = None, lineno: int = 0) -> None:
        self.name = name
        self.raw: dict[bytes, Weight] = {} if raw is None else raw
        self.before: dict[bytes, Weight] = {}  # the first column of two-column lines
        #: with --flamechart: every line's (stack, weight) in input order (None: not kept)
        self.order: list[tuple[bytes, Weight]] | None = None
        #: the same read natively: (stack indexes, int64 weights, {line: decimal weight}), see
        #: `_native.FoldedReader.take_order`
        self.order_arrays: tuple[bytes, bytes, dict[int, float]] | None = None
        self.diag = Diagnostics()
        self.lineno = lineno
        self.header: dict[str, str] = {}

    def line(self, line: bytes, lineno: int) -> tuple[bytes, Weight] | None:
        """The (stack, weight) of one line (no newline), or None for comments, blank and bad lines."""
        if not line or line[:1] == b"#" or not line.strip():
            if line[:1] == b"#":
                self.header.update(parse_header(line))
            return None
        parsed = split_columns(line.lstrip() if line[:1].isspace() else line)
        if parsed is None:
            self.diag.bad_line(self.name, lineno, line.decode("utf-8", "replace"))
            return None
        stack, before, after = parsed
        for w, column in ((after, -1), (before, -2)):
            problem = None if w is None else weight_problem(w)
            if problem is not None:
                weight = line.rsplit(None, 2)[column][:40].decode("utf-8", "replace")
                raise InputError(f"{self.name}:{lineno}: the weight {weight} {problem}; a weight is a finite number of magnitude at most 2^63-1")
        if before is not None:
            self.before[stack] = self.before.get(stack, 0) + before
        return stack, after

    def feed(self, chunk: bytes) -> None:
        """Read a chunk of whole lines (the last one may lack its newline)."""
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n")
        raw = self.raw
        lineno = self.lineno
        for line in chunk.split(b"\n"):
            lineno += 1
            parsed = self.line(line, lineno)
            if parsed is not None:
                stack, w = parsed
                raw[stack] = raw.get(stack, 0) + w
                if self.order is not None:
                    self.order.append(parsed)
        # the final split piece after a trailing newline is not a line
        self.lineno = lineno - 1 if chunk.endswith(b"\n") else lineno


def _read_python(name: str, chunks: Iterable[bytes]) -> _Reader:
    reader = _Reader(name)
    for chunk in chunks:
        reader.feed(chunk)
    return reader


def _read_native(
    core: NativeCore, name: str, chunks: Iterable[bytes], ordered: bool = False
) -> tuple[dict[str, Weight], _Reader]:
    """The lines the native reader takes natively (every form producers write, integer and
    decimal weights); every other line through the reference reader, in order, its stack and
    weight added to the native table (a line costs that line). Returns the decoded stacks; with
    `ordered`, the reader's `order_arrays` are every line's (stack index, weight) in input order."""
    native = core.FoldedReader()
    if ordered:
        native.keep_order()
    py = _Reader(name)
    try:
        for chunk in chunks:
            pos = 0
            while (stop := native.feed(chunk, pos)) is not None:
                start, end, pos, lineno = stop
                parsed = py.line(chunk[start:end], lineno)
                if parsed is None:
                    continue
                stack, w = parsed
                if type(w) is int:  # within int64: weight_problem refused the rest
                    native.add(stack, w)
                else:
                    native.add_float(stack, w)
        py.order_arrays = native.take_order()
        return native.take_str(), py
    except RuntimeError as exc:  # a panic in the native reader (a bug): say which input
        raise InputError(f"{name}: {exc}") from exc


def _profile(weights: dict[str, Weight] | None, reader: _Reader, options: FoldOptions) -> Profile:
    diag = reader.diag
    if weights is None:
        weights = {s.decode("utf-8", "surrogateescape"): w for s, w in reader.raw.items()}
    if not weights and diag.bad_lines:
        raise InputError(f"{reader.name}: no `stack weight` line found; " + "; ".join(diag.messages()))
    tidy = tidy_stacks(weights, options)
    profile = Profile(weights=tidy, diagnostics=diag)
    if reader.before:
        before = {s.decode("utf-8", "surrogateescape"): w for s, w in reader.before.items()}
        profile.before = tidy_stacks(before, options)
    if reader.order_arrays is not None:  # the same, from the native reader's arrays
        skip = frozenset(options.skip_after)
        stacks = list(weights)
        profile.timeline = _ordered(stacks, reader.order_arrays).map_stacks(
            stacks if tidy is weights else [_tidy_stack(s, options, skip) for s in stacks]
        )
    if reader.order is not None:
        # a flame chart of folded text: the lines in input order (there are no timestamps)
        skip = frozenset(options.skip_after)
        same = tidy is weights
        nan = float("nan")
        timeline = []
        for raw, w in reader.order:
            stack = raw.decode("utf-8", "surrogateescape")
            timeline.append((nan, stack if same else _tidy_stack(stack, options, skip), w))
        profile.timeline = timeline
    return with_header(profile, reader.header)


def _ordered(stacks: list[str], arrays: tuple[bytes, bytes, dict[int, float]]) -> Timeline:
    """The untimed timeline of the native reader's lines in order (`stacks` in entry order)."""
    entries, weights, decimals = arrays
    ids = array("I")
    ids.frombytes(entries)
    times = array("d", [math.nan]) * len(ids)
    ints = array("q")
    ints.frombytes(weights)
    if not decimals:
        return Timeline(stacks, times, ids, ints)
    mixed: list[Weight] = list(ints)
    for line, w in decimals.items():
        mixed[line] = w
    return Timeline(stacks, times, ids, mixed)


def fold(source: Source, options: FoldOptions) -> Profile:
    """Sum the weights of identical stacks."""
    core = native_core()
    if options.keep_order and core is not None:  # a flame chart: every line in input order
        weights, reader = _read_native(core, source.name, source.chunks(cut=cut_at_lines), ordered=True)
        return _profile(weights, reader, options)
    if options.keep_order:
        reader = _Reader(source.name)
        reader.order = []
        for chunk in source.chunks(cut=cut_at_lines):
            reader.feed(chunk)
        return _profile(None, reader, options)
    # a file smaller than the head goes to the table too: its start-up costs less than the dict's
    # (a 40 KB file: 0.2 ms against 1.3 ms), and `check` and `top` then take one path
    path = source.seekable_path() or source.whole_file_path()
    if path is not None and native_core() is not None:
        profile = fold_file(source.name, path, options, source.max_record)
        if profile is not None:
            return profile
    return fold_chunks(source.name, source.chunks(cut=cut_at_lines), options)


def fold_file(name: str, path: str, options: FoldOptions, max_record: int, **native: int) -> Profile | None:
    """`fold` of the plain file at `path` by the native reader's threads (`options.jobs`), its
    stacks left in the native table (a `LazyProfile`; a plain `Profile` when a sum is a decimal
    or the stacks need rewriting); None when the file needs the stream reader: a line the native
    reader hands back holds a stack (a form no producer writes), a line is longer than
    `max_record`, no stack at all. `native` goes to `_native.read_folded_file` (tests:
    `min_split`)."""
    core = native_core()
    if core is None:
        return None
    pending = None if native else readahead.take(path, max_record)
    try:
        if pending is not None:
            table = pending.result()
        else:
            threads = options.jobs or default_jobs()
            table = core.read_folded_file(path, threads, max_record, **native)
    except OSError:
        return None  # the stream reader says what is wrong with the file
    except RuntimeError as exc:  # a panic in the native reader (a bug): say which input
        raise InputError(f"{name}: {exc}") from exc
    if table is None or not len(table):
        return None
    reader = _Reader(name)
    for lineno, line in table.deferred():
        if reader.line(line, lineno) is not None:
            return None  # summed in input order by the stream reader
    if options.kernel or options.skip_after or table.may_hold_offsets() or table.has_floats():
        return _profile(table.to_dict(), reader, options)
    return with_header(LazyProfile(table=table, diagnostics=reader.diag), reader.header)


def fold_chunks(name: str, chunks: Iterable[bytes], options: FoldOptions, native: bool = True) -> Profile:
    """`fold` of input cut into chunks of whole lines; `native=False` reads with the Python
    reference reader alone (the twin the native reader is tested against)."""
    core = native_core() if native else None
    if core is not None:
        return _profile(*_read_native(core, name, chunks), options)
    return _profile(None, _read_python(name, chunks), options)


#: `bpf_frames.strip_offset` applied to every frame of a stack at once (offsets end a frame).
_STACK_OFFSETS = regex(globals(), "_STACK_OFFSETS", r"\+(?:0x[0-9a-fA-F]+|\d+)(?=;|$)")


def _tidy_stack(stack: str, options: FoldOptions, skip: frozenset[str]) -> str:
    if "+" in stack:
        stack = _STACK_OFFSETS.sub("", stack)
    if not (options.kernel or skip):
        return stack
    frames = stack.split(";")
    if options.kernel:
        frames = bf.annotate_folded(frames)
    if skip:
        frames = bf.cut_after(frames, skip, keep=1)
    return ";".join(frames)


def tidy_stacks(weights: dict[str, Weight], options: FoldOptions) -> dict[str, Weight]:
    """Strip offsets, annotate kernel frames (`--kernel`) and apply `--skip-after` to every
    distinct stack, summing stacks that become identical."""
    skip = frozenset(options.skip_after)
    if not (options.kernel or skip) and not any(_STACK_OFFSETS.search(s) for s in weights if "+" in s):
        return weights  # nothing to rewrite (the usual case: one scan for "+", no copy)
    out: dict[str, Weight] = {}
    for stack, w in weights.items():
        new = _tidy_stack(stack, options, skip)
        out[new] = out.get(new, 0) + w
    return out

"""`perf script` text: sample header lines followed by indented call-chain frames, blank-line separated.

Two implementations give identical results (property tests check it byte for byte):

* the native fast path (`foldkit._native.PerfFolder`, Rust): threads fold record-aligned chunks with
  the GIL released; identical (header fields, call chain) blocks are counted once and each distinct
  frame line is named once per thread (so are samples without blank lines between them); other
  layouts (`-G`, side events, source lines) are folded by a port of `fold_chunk_lines` in the core;
* the line path here, the reference: a plain state machine that also handles every odd layout
  (`-G`, side events, records without blank lines, space-indented headers, timestamps for flame
  charts). The native path reads bad lines as it does (skipped, counted, quoted by line number,
  the rest of the chunk folded natively); a chunk it cannot account for completely (a period beyond
  64 bits, a namer error) is given to it, and it alone runs when the native core is not in use
  (`FOLDKIT_NATIVE=0`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from foldkit import readahead
from foldkit.errors import InputError, UsageError
from foldkit.ingest.options import FoldOptions, perf_root_frames
from foldkit.ingest.perf_frames import FrameNamer, parse_frame_line
from foldkit.inputs import DEFAULT_CHUNK_SIZE, Source
from foldkit.jobs import default_jobs
from foldkit.native import NativeCore, native_core
from foldkit.profile import MAX_QUOTED_LINES as MAX_QUOTED
from foldkit.profile import ROOT_FRAMES, Diagnostics, Profile, parse_count
from foldkit.timeline import Timeline, concat

#: `typing.TYPE_CHECKING` without importing typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "perf"
DESCRIPTION = "`perf script` text (any -F field set, -g/--call-graph dwarf, -G, +srcline, --header)"
EXAMPLE = "python3 32368  1954.705191:    2004008 cpu-clock:ppp: \\n\\tffffffff815d6c20 mod_lruvec_state+0x20 ([kernel.kallsyms])"


def _header_pattern(capture_time: bool) -> str:
    cpu = r"(?P<cpu>\d+)" if capture_time else r"\d+"
    time = r"(?P<time>\d+\.\d+)" if capture_time else r"\d+\.\d+"
    return (
        r"(?![^\n]*: PERF_RECORD_)[ \t]*(?P<comm>[^ \t\n][^\n]*?)[ \t]+(?P<pid>-?\d+)(?:/(?P<tid>-?\d+))?"
        r"(?:[ \t]+\[" + cpu + r"\])?"
        r"(?:[ \t]+" + time + r":)?"
        r"(?:[ \t]+(?P<period>\d+))?"
        r"(?:[ \t]+(?![\d.]+:)(?P<event>[^ \t\n]+?):(?P<rest>[ \t][^\n]*)?)?[ \t]*"
    )


#: One header line (line path; with cpu and time).
HEADER = re.compile(_header_pattern(capture_time=True).encode())
#: A side-event line of `--show-task-events` / `--show-mmap-events` (`comm pid[/tid] [cpu] time:
#: PERF_RECORD_MMAP2 ...`): skipped when folding, evidence of perf script output when sniffing.
SIDE_EVENT = re.compile(
    rb"[ \t]*[^ \t\n][^\n]*?[ \t]+-?\d+(?:/-?\d+)?(?:[ \t]+\[\d+\])?[ \t]+\d+\.\d+: PERF_RECORD_[A-Z0-9_]+\b[^\n]*"
)
_EVENT_MODIFIERS = re.compile(r":[ukhIGHpPSDWeb]+$")


def base_event(event: str) -> str:
    """An event name without its modifiers: `cycles:uppp` -> `cycles`; tracepoints kept whole."""
    return _EVENT_MODIFIERS.sub("", event)


def _is_srcline(line: bytes) -> bool:
    """`  file.c:123` after a frame (`-F +srcline`): exactly two spaces of indentation."""
    return line[:2] == b"  " and line[2:3] not in (b"", b" ", b"\t")


def is_header(line: bytes) -> bool:
    """A sample header line (also a space-indented one: `-G` right-aligns the comm)."""
    m = HEADER.fullmatch(line)
    return m is not None and (line[:1] not in (b" ", b"\t") or m.group("event") is not None)


def _decode(raw: bytes | None) -> str:
    return raw.decode("utf-8", "surrogateescape") if raw else ""


#: Frame lines remembered per resolver; a full cache is emptied and refilled, so memory follows
#: the number of distinct frames, not the input size.
LINE_CACHE_LIMIT = 100_000

#: Marker returned by `Resolver.classify` for a source-line line (`-F +srcline`), which is skipped.
SRCLINE = "\0srcline"


class Resolver:
    """Builds folded stacks from header fields and call-chain lines, memoising per distinct frame
    line and per distinct root."""

    def __init__(self, options: FoldOptions) -> None:
        self.options = options
        self.namer = FrameNamer(options)
        self._skip = set(options.skip_after)
        # frame line -> its names joined root-first (None: no frame), per Java flag
        self._lines: tuple[dict[bytes, str | None], dict[bytes, str | None]] = ({}, {})
        self._roots: dict[tuple[bytes, bytes | None, bytes | None], tuple[str, bool]] = {}

    def root(self, comm: bytes, pid: bytes | None, tid: bytes | None) -> tuple[str, bool]:
        """The root frame (`comm`, `comm-PID` or `comm-PID/TID`) and whether Java names apply."""
        key = (comm, pid, tid)
        got = self._roots.get(key)
        if got is not None:
            return got
        opts = self.options
        c, p, t = _decode(comm), _decode(pid), _decode(tid)
        if not t:
            p, t = "?", p
        if opts.tid:
            name = f"{c}-{p}/{t}"
        elif opts.pid:
            name = f"{c}-{p}"
        else:
            name = c
        name = name.replace(" ", "_").replace(";", ":")
        got = self._roots[key] = (name, name == "java")
        return got

    def line_names(self, line: bytes, java: bool) -> str | None:
        """A frame line's names joined root-first, or None when the line is no frame."""
        known = self._lines[java]
        try:
            return known[line]
        except KeyError:
            pass
        names = self.namer.names(_decode(line), java)
        joined = None if names is None else ";".join(reversed(names))
        if len(known) >= LINE_CACHE_LIMIT:
            known.clear()
        known[line] = joined
        return joined

    def classify(self, line: bytes, prev_frame: bool, java: bool) -> str | None:
        """A call-chain line's names joined root-first, SRCLINE for a `+srcline` line after a frame,
        or None when the line is not part of a call chain (a header, a comment, garbage)."""
        first = line[:1]
        if first == b"\t":
            pass
        elif first == b" ":
            if prev_frame and _is_srcline(line):
                return SRCLINE
            if is_header(line):
                return None
        elif first == b"#" or b"PERF_RECORD_" in line or HEADER.fullmatch(line):
            return None
        return self.line_names(line, java)

    def stack(self, comm: bytes, pid: bytes | None, tid: bytes | None, rest: bytes | None, parts: list[str]) -> str:
        """The folded stack of one sample from the names of its frame lines (leaf first)."""
        root, java = self.root(comm, pid, tid)
        if not parts and rest and rest.strip():
            frame = parse_frame_line(_decode(rest))
            if frame is not None and frame.pc and frame.dso is not None:
                # single-line sample (-G, or no call chain): ip sym (dso)
                joined = self.line_names(b"\t" + rest.strip(), java)
                if joined is not None:
                    parts = [joined]
        if self._skip:
            for i, part in enumerate(parts):
                frames = part.split(";")
                hit = [j for j, n in enumerate(frames) if n in self._skip or n.rsplit("_[", 1)[0] in self._skip]
                if hit:
                    parts = [*parts[:i], ";".join(frames[hit[-1] :])]
                    break
        names = ";".join(reversed(parts))
        return f"{root};{names}" if names else root


@dataclass
class ChunkResult:
    """What one chunk contributed: per event (first-seen order) stack -> [weight, samples]."""

    events: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    event_order: list[str] = field(default_factory=list)
    lines: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    bad_count: int = 0
    timeline: list[tuple[float, str, int]] | None = None


class _Accumulator:
    def __init__(self, result: ChunkResult) -> None:
        self.result = result
        self._events: dict[bytes | None, str] = {}

    def add(self, event: bytes | None, stack: str, weight: int, count: int) -> None:
        name = self._events.get(event)
        if name is None:
            name = self._events[event] = base_event(_decode(event))
            if name not in self.result.event_order:
                self.result.event_order.append(name)
        stacks = self.result.events.get(name)
        if stacks is None:
            stacks = self.result.events[name] = {}
        cell = stacks.get(stack)
        if cell is None:
            stacks[stack] = [weight, count]
        else:
            cell[0] += weight
            cell[1] += count


#: Called with each sample's header match and folded stack instead of adding it up (`perf_sched`).
SampleSink = Callable[[re.Match[bytes], str], None]


def _ahead_namer(jobs: int) -> Callable[[bytes, bool], str | None]:
    """The namer of frame lines of a capture folded from start-up (`readahead.start_capture`)."""
    return Resolver(FoldOptions(jobs=jobs)).line_names


readahead.line_namers[:] = [_ahead_namer]


def fold_chunk_lines(
    chunk: bytes, resolver: Resolver, keep_time: bool = False, sink: SampleSink | None = None
) -> ChunkResult:
    """Fold a chunk line by line (any layout); bad lines are recorded with chunk-relative numbers.
    With `sink`, each sample (header match, stack) goes to it and nothing is added up."""
    result = ChunkResult(timeline=[] if keep_time else None)
    acc = _Accumulator(result)
    by_period = resolver.options.weight == "period"
    header: re.Match[bytes] | None = None
    java = False
    parts: list[str] = []  # names of the sample's frame lines, leaf first
    prev_frame = False
    after_rest = False  # just after a header with text after its event (`-G`, no call chain)

    def flush() -> None:
        nonlocal header, parts
        if header is None:
            return
        h = header
        if sink is not None:
            sink(h, resolver.stack(h.group("comm"), h.group("pid"), h.group("tid"), None, parts))
            header, parts = None, []
            return
        stack = resolver.stack(h.group("comm"), h.group("pid"), h.group("tid"), h.group("rest"), parts)
        period = h.group("period")
        weight = parse_count(period) if (by_period and period) else 1
        acc.add(h.group("event"), stack, weight, 1)
        if result.timeline is not None:
            t = h.group("time")
            result.timeline.append((float(t) if t else float("nan"), stack, weight))
        header, parts = None, []

    lines = chunk.split(b"\n")
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            flush()
            prev_frame = False
            continue
        if header is not None:
            if after_rest and _is_srcline(line) and not is_header(line):
                after_rest = False  # `+srcline` of the frame on the header line
                continue
            after_rest = False
            kind = resolver.classify(line, prev_frame, java)
            if kind is not None:
                prev_frame = kind is not SRCLINE
                if prev_frame:
                    parts.append(kind)
                continue
        flush()
        prev_frame = False
        if line[:1] == b"#" or b"PERF_RECORD_" in line:
            continue
        m = HEADER.fullmatch(line)
        if m is None or (line[:1] in (b" ", b"\t") and m.group("event") is None):
            result.bad_count += 1
            if len(result.bad) < 5:
                result.bad.append((lineno, _decode(line)))
            continue
        header = m
        rest = m.group("rest")
        after_rest = rest is not None and bool(rest.strip())
        java = resolver.root(m.group("comm"), m.group("pid"), m.group("tid"))[1]
    flush()
    result.lines = len(lines) - 1
    return result


_RESOLVERS: dict[FoldOptions, Resolver] = {}


def fold_chunk(chunk: bytes, options: FoldOptions) -> ChunkResult:
    """Fold one record-aligned chunk with the line path (caches live per process)."""
    resolver = _RESOLVERS.get(options)
    if resolver is None:
        resolver = _RESOLVERS[options] = Resolver(options)
    if b"\r" in chunk:
        chunk = chunk.replace(b"\r\n", b"\n")
    result = fold_chunk_lines(chunk, resolver, keep_time=options.keep_time)
    result.lines = chunk.count(b"\n")
    return result


def starts_record(line: bytes) -> bool:
    """Whether a chunk may start with `line` (without its newline): the line path starts afresh at
    it whatever came before it, so the chunks fold as the whole would. A blank line, and, at a
    line's start, a comment or a side event; a sample header that is not tab-indented and not
    indented as a `+srcline` line (which it would be after a frame). An unindented line that is
    none of these may be a frame line of the sample before it. The native reader's
    `RecordStarts` cuts by the same rule."""
    line = line.removesuffix(b"\r")
    if not line.strip():
        return True
    first = line[:1]
    if first == b"\t" or _is_srcline(line):
        return False
    if first != b" " and (first == b"#" or b"PERF_RECORD_" in line):
        return True
    return is_header(line)


def cut_records(buf: bytes) -> int:
    """End of the last complete record: after the last blank line, or, in files without blank
    lines (`-G`, samples one after another), before the last complete line a chunk may start
    with (`starts_record`); -1 when there is none."""
    i = buf.rfind(b"\n\n")
    if i >= 0:
        return i + 2
    end = buf.rfind(b"\n")  # the last complete line ends here
    while end > 0:
        start = buf.rfind(b"\n", 0, end) + 1
        if start > 0 and starts_record(buf[start:end]):
            return start
        end = start - 1
    return -1


def sniff(head: bytes) -> bool | None:
    """True if the input starts like perf script output: a sample header, then frames or more headers."""
    if head.startswith(b"# ========\n") or head.startswith(b"# ========\r\n"):
        return True  # the `perf script --header` block
    lines = [ln.rstrip(b"\r") for ln in head[:16384].split(b"\n")]
    lines = [ln for ln in lines if ln.strip() and not ln.startswith(b"#")]
    if lines and all(SIDE_EVENT.fullmatch(ln) for ln in lines[:20]):
        return True  # `--show-task-events` / `--show-mmap-events`: side events before the samples
    lines = lines[:20]
    for i, line in enumerate(lines):
        m = HEADER.fullmatch(line)
        if m is None:
            continue
        if m.group("event") is not None:
            return True
        nxt = lines[i + 1] if i + 1 < len(lines) else b""
        frame = parse_frame_line(_decode(nxt)) if nxt[:1] == b"\t" else None
        if frame is not None and frame.pc:
            return True  # `-F comm,tid,ip,sym`: no event column, but an address-led frame follows
    return False


def _unit(event: str, by_period: bool, saw_period: bool) -> str:
    if not by_period or not saw_period:
        return "samples"
    if event.split("/", 1)[0].endswith("-clock"):  # `cpu-clock/freq=999/` too
        return "ns"
    return event or "events"


@dataclass
class FoldState:
    """What the chunks of a capture gave so far: folded stacks per event, and what the result needs
    to be independent of the order chunks were folded in (all keyed by chunk index)."""

    events: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    first_seen: dict[str, tuple[int, int]] = field(default_factory=dict)
    lines: dict[int, int] = field(default_factory=dict)
    bad: list[tuple[int, int, str]] = field(default_factory=list)
    bad_count: int = 0
    #: per chunk: the line path's (time, stack, weight) samples, or the native core's arrays
    #: (times, stack ids into `stacks`, weights; see `_native.PerfFolder.finish`)
    timeline: dict[int, list[tuple[float, str, int]] | tuple[bytes, bytes, bytes | list[int]]] = field(default_factory=dict)
    stacks: list[str] = field(default_factory=list)
    #: the samples kept for `--off-cpu` / `--wall` (a `_native.SchedEvents`; `perf_sched`)
    sched: Any = None
    #: what a caller's own line path made of the chunks the core handed back (`_fold_native`'s
    #: `fallback`), by chunk index
    handed_back: dict[int, Any] = field(default_factory=dict)

    def add_events(self, events: dict[str, dict[str, list[int]]], first_seen: dict[str, tuple[int, int]]) -> None:
        """Add stacks per event and the (chunk, order) where each event was first seen."""
        _merge_stacks(self.events, events)
        for event, seen in first_seen.items():
            self.first_seen[event] = min(seen, self.first_seen.get(event, seen))

    def fold_chunk(self, index: int, chunk: bytes, options: FoldOptions) -> None:
        """Fold chunk number `index` with the line path into this state."""
        result = fold_chunk(chunk, options)
        self.add_events(result.events, {event: (index, order) for order, event in enumerate(result.event_order)})
        self.lines[index] = result.lines
        self.bad.extend((index, lineno, text) for lineno, text in result.bad)
        self.bad_count += result.bad_count
        if result.timeline:
            self.timeline[index] = result.timeline


def _merge_stacks(target: dict[str, dict[str, list[int]]], source: dict[str, dict[str, list[int]]]) -> None:
    for event, stacks in source.items():
        into = target.get(event)
        if into is None:
            target[event] = stacks
            continue
        for stack, (w, c) in stacks.items():
            cell = into.get(stack)
            if cell is None:
                into[stack] = [w, c]
            else:
                cell[0] += w
                cell[1] += c


#: Decompressed bytes per chunk when the native core reads a zstd or gzip file itself (unless
#: `FoldOptions.chunk_size` is set): small, so the chunks in flight stay in the CPU's cache between
#: the decompressing thread and the folding ones, and the threads start and finish together.
NATIVE_STREAM_CHUNK_SIZE = 512 * 1024


#: Bytes per range when the native core's threads read a plain file themselves (unless
#: `FoldOptions.chunk_size` is set): small, so each range read stays in the CPU's cache while it
#: is folded and the buffers it is read into are few pages.
NATIVE_RANGE_SIZE = readahead.RANGE_SIZE


#: Called with the fold's state, chunk index and chunk for a chunk the native core cannot account
#: for (it may keep what it makes of it in `state.handed_back`).
ChunkFallback = Callable[["FoldState", int, bytes], None]


def _fold_native(
    native: NativeCore, source: Source, options: FoldOptions, size: int, fallback: ChunkFallback | None = None
) -> FoldState:
    """Fold with the native core's threads. A plain file is read by the threads themselves, by
    range; a zstd or gzip file is decompressed natively while they fold, cut into chunks where
    `cut_records` would cut them (blank lines or not). Either falls back to the
    Python reader (`Source.chunks`), which skips records longer than `options.max_record` and
    reports corrupt streams, when the native reader meets such a record or stream. A chunk
    the core cannot account for goes to `fallback` if given, else to the line path."""
    path = source.seekable_path()
    # records end at blank lines; in a plain file whose head has none (samples without blank
    # lines between them, CRLF line ends, `-G`, no call chains, side events first) they also
    # start at sample headers, unless the head lies within its first record (a call chain deeper
    # than the head)
    head = source.head()
    lines = b"\n\n" not in head and not within_first_record(head)
    if path:
        ahead = None if lines or fallback is not None else readahead.take_capture(path, options)
        if ahead is not None:
            try:
                return _finish_ahead(ahead, options, source.name)
            except native.RecordTooLong:
                pass
        # a range starting inside a record scans to its end: small ranges only where records end
        # at blank lines (records found at sample headers are searched for line by line)
        ranges = options.chunk_size or (size if lines else NATIVE_RANGE_SIZE)
        try:
            return _run_native(
                native, options, source.name, lambda folder: folder.push_file(path, ranges, 0, options.max_record, lines), fallback
            )
        except native.RecordTooLong:
            pass
    elif source.compression in ("zstd", "gzip") and source.path:
        compressed = source.path
        try:
            return _run_native(
                native, options, source.name,
                lambda folder: folder.push_compressed(
                    compressed, source.compression, options.chunk_size or NATIVE_STREAM_CHUNK_SIZE, options.max_record
                ),
                fallback,
            )
        except native.StreamUnusable:
            pass

    def push_stream(folder: Any) -> None:
        for index, chunk in enumerate(source.chunks(cut=cut_records, size=size)):
            if not folder.push(index, chunk):
                break  # the threads stopped on an error, which finish() raises

    return _run_native(native, options, source.name, push_stream, fallback)


def within_first_record(head: bytes) -> bool:
    """Whether `head` (of a file without a blank line in it) is the start of one record whose call
    chain goes on past it: one sample header line, then tab-indented frame lines only (a record
    100,000 frames deep). Such a file is read by the native threads by range (its records end at
    blank lines further on) rather than as a stream of Python chunks, which cost a report worker
    24 MB more on a 16 MB capture of three such records."""
    lines = head.split(b"\n")[:-1]  # the last line may be cut short
    others = [line for line in lines if line and line[:1] != b"\t" and line[:1] != b"#"]
    return len(others) == 1 and is_header(others[0]) and b"\n\t" in head


def _run_native(
    native: NativeCore, options: FoldOptions, name: str, push: Callable[[Any], object], to_twin: ChunkFallback | None = None
) -> FoldState:
    """Run one native fold: `push` feeds the folder; chunks it cannot account for come back to
    `to_twin` if given, else to the line path (`FoldState.fold_chunk`), frame lines it leaves to
    Python to `Resolver.line_names`."""
    state = FoldState()
    lock = threading.Lock()  # the callbacks run on the native threads (holding the GIL in turn)
    resolver = Resolver(options)

    def fallback(index: int, chunk: bytes) -> None:
        with lock:
            if to_twin is not None:
                to_twin(state, index, chunk)
            else:
                state.fold_chunk(index, chunk, options)

    def namer(line: bytes, java: bool) -> bytes | None:
        with lock:
            joined = resolver.line_names(line, java)
        return None if joined is None else joined.encode("utf-8", "surrogateescape")

    folder = native.PerfFolder(options, jobs=options.jobs or default_jobs(), namer=namer, fallback=fallback)
    try:
        push(folder)
    except BaseException:
        folder.cancel()
        raise
    return _added(state, _finished(folder, name))


def _finish_ahead(ahead: readahead.CaptureFold, options: FoldOptions, name: str) -> FoldState:
    """The state of a fold started at start-up (`readahead.start_capture`), the chunks its threads
    handed back folded by the line path as `_run_native`'s fallback folds them. Raises
    `RecordTooLong` as `_run_native` does."""
    folded = _finished(ahead.folder, name)
    state = FoldState()
    for index, chunk in ahead.chunks:
        state.fold_chunk(index, chunk, options)
    return _added(state, folded)


def _finished(folder: Any, name: str) -> dict[str, Any]:
    """What the native `folder` (fed) folded (`_native.PerfFolder.finish`)."""
    try:
        try:
            return folder.finish()
        except (RuntimeError, OSError) as exc:
            raise InputError(f"{name}: {exc}") from exc
    finally:
        folder.cancel()


def _added(state: FoldState, folded: dict[str, Any]) -> FoldState:
    """`state` with what a native fold gave (`_finished`) added."""
    state.add_events(folded["events"], folded["first_seen"])
    state.lines.update(folded["lines"])
    state.timeline.update(folded["timelines"])
    state.stacks = folded["stacks"]
    state.bad.extend(folded["bad"])
    state.bad_count += folded["bad_count"]
    state.sched = folded.get("sched")
    return state


def quote_bad_lines(state: FoldState, name: str, diag: Diagnostics) -> None:
    """Count the bad lines of `state` in `diag` and quote the first ones, numbered in the whole
    input (`name`)."""
    starts: dict[int, int] = {}
    total = 0
    for index in sorted(state.lines):
        starts[index] = total
        total += state.lines[index]
    for index, lineno, text in sorted(state.bad)[:MAX_QUOTED]:
        diag.bad_line(name, starts[index] + lineno, text)
    diag.bad_lines = state.bad_count


def _timeline(state: FoldState, keep: set[str] | None) -> Timeline:
    """The samples of every chunk in chunk order, as one `Timeline` (the native chunks' arrays
    joined as they are), only those of stacks in `keep` when given."""
    parts = [
        Timeline.from_arrays(state.stacks, *part) if isinstance(part, tuple) else part
        for _, part in sorted(state.timeline.items())
    ]
    timeline = concat(parts)
    return timeline if keep is None else timeline.keep_stacks(keep.__contains__)


def fold(source: Source, options: FoldOptions) -> Profile:
    """Fold a whole perf script stream (in threads when the native core is in use), keeping one event."""
    size = options.chunk_size or DEFAULT_CHUNK_SIZE
    native = native_core()
    if native is not None:
        state = _fold_native(native, source, options, size)
    else:
        state = FoldState()
        for index, chunk in enumerate(source.chunks(cut=cut_records, size=size)):
            state.fold_chunk(index, chunk, options)
    merged = {event: state.events[event] for event in sorted(state.events, key=lambda e: state.first_seen[e])}

    diag = Diagnostics()
    quote_bad_lines(state, source.name, diag)
    if not merged:
        return Profile(diagnostics=diag)
    event = _choose_event(merged, options, diag)
    cells = merged[event]
    weights = {s: c[0] for s, c in cells.items()}
    counts = {s: c[1] for s, c in cells.items()}
    saw_period = any(c[0] != c[1] for c in cells.values())
    timeline: Timeline | None = None
    if options.keep_time:
        timeline = _timeline(state, set(cells) if len(merged) > 1 else None)
    return Profile(
        weights=weights,  # type: ignore[arg-type]
        counts=counts,
        unit=_unit(event, options.weight == "period", saw_period),
        event=event or None,
        diagnostics=diag,
        timeline=timeline,
        meta={ROOT_FRAMES: perf_root_frames(options.pid, options.tid)},
    )


def is_tracepoint(event: str) -> bool:
    """Whether `event` (modifiers removed) is a tracepoint or probe (`sched:sched_switch`,
    `probe_libc:malloc`, `syscalls:sys_enter_read`): a `subsystem:name`, which counts occurrences of
    something rather than sampling the CPU at a rate. Hardware and software events (`cpu-clock`,
    `task-clock`, `cycles`, `instructions`, `page-faults`, `cpu/…/`, raw `r003c`) sample."""
    return ":" in event


def _short_name(event: str, events: Iterable[str]) -> str:
    """What `--event` needs to name `event`: `cpu-clock` for `cpu-clock/freq=499/` when no other
    event starts so, else the whole name."""
    short = event.split("/", 1)[0]
    if short and short != event and [e.split("/", 1)[0] for e in events].count(short) == 1:
        return short
    return event or "''"


def _choose_event(merged: dict[str, dict[str, list[int]]], options: FoldOptions, diag: Diagnostics) -> str:
    """The event to fold: `--event`'s; else the only one; else the only sampling (non-tracepoint)
    event, the others dropped with a warning; several sampling events (or several tracepoints and
    no sampling event) are an error naming them, whatever their order in the capture."""

    def samples(ev: str) -> int:
        return sum(c[1] for c in merged[ev].values())

    def label(ev: str) -> str:
        return ev or "(no event name)"

    def listing(events: Iterable[str]) -> str:
        return ", ".join(f"{label(e)} ({samples(e)} samples)" for e in events)

    if options.event is not None:
        wanted = base_event(options.event)
        # `cpu-clock` also names `cpu-clock/freq=499/` (the same event with config terms)
        matches = [e for e in merged if e == wanted] or [e for e in merged if e.split("/", 1)[0] == wanted]
        if len(matches) != 1:
            problem = "not in the input" if not matches else "is ambiguous"
            raise UsageError(f"event {options.event!r} {problem}; events present: {listing(merged)}")
        chosen = matches[0]
    elif len(merged) == 1:
        chosen = next(iter(merged))
    else:
        sampling = [e for e in merged if not is_tracepoint(e)]
        candidates = sampling or list(merged)
        if len(candidates) > 1:
            kind = "sampling events" if sampling else "tracepoint events"
            names = " or ".join(f"--event {_short_name(e, merged)}" for e in candidates)
            raise UsageError(
                f"the capture holds {len(candidates)} {kind}: {listing(candidates)}; their weights "
                f"count different things, so choose one with {names}"
            )
        chosen = candidates[0]
    dropped = [e for e in merged if e != chosen]
    if dropped and options.event is None:
        diag.warnings.append(
            f"several events in the input; folded the sampling event {label(chosen)} ({samples(chosen)} samples), "
            f"dropped the tracepoint(s) {listing(dropped)}; use --event NAME to choose"
        )
    elif dropped:
        diag.notes.append("dropped events: " + listing(dropped))
    return chosen

"""`perf script` text: sample header lines followed by indented call-chain frames, blank-line separated.

Two paths give identical results (a property test checks it):

* the fast path matches a whole chunk with one regular expression and counts identical
  (header fields, call chain) pairs with `collections.Counter`, both in C; Python work is done
  once per *distinct* call chain and once per distinct frame line; in perf's usual layout
  (`\t%16lx sym (dso)` on every line) a chain is looked up as its leaf line plus its callers'
  lines, and lines by the text after the address column, so samples that differ only in the
  leaf's address (or a library's load address) cost a few dict lookups each;
* the line path is a plain state machine that also handles every odd layout (`-G`, side events,
  records without blank lines, space-indented headers, timestamps for flame charts).

A chunk the fast path cannot account for completely is given to the line path.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter

from foldkit.engine import ChunkFolder, fold_chunks, fold_file
from foldkit.errors import UsageError
from foldkit.ingest.options import FoldOptions
from foldkit.ingest.perf_frames import FrameNamer, parse_frame_line
from foldkit.inputs import DEFAULT_CHUNK_SIZE, Source
from foldkit.profile import MAX_QUOTED_LINES as MAX_QUOTED
from foldkit.profile import ROOT_FRAMES, Diagnostics, Profile

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
#: Every header line of a chunk at once (fast path; cpu and time not captured so samples collapse).
HEADER_LINES = re.compile(("^" + _header_pattern(capture_time=False) + "$").encode(), re.MULTILINE)
#: The same with cpu and time captured, for a timeline (flame charts, --time).
HEADER_LINES_TIMED = re.compile(("^" + _header_pattern(capture_time=True) + "$").encode(), re.MULTILINE)
_COMMENT_PREFIX = re.compile(rb"(?:#[^\n]*\n)+")
_EVENT_MODIFIERS = re.compile(r":[ukhIGHpPSDWeb]+$")


def base_event(event: str) -> str:
    """An event name without its modifiers: `cycles:uppp` -> `cycles`; tracepoints kept whole."""
    return _EVENT_MODIFIERS.sub("", event)


def _is_srcline(line: bytes) -> bool:
    """`  file.c:123` after a frame (`-F +srcline`): exactly two spaces of indentation."""
    return line[:2] == b"  " and line[2:3] not in (b"", b" ", b"\t")


def _is_header(line: bytes) -> bool:
    """A sample header line (also a space-indented one: `-G` right-aligns the comm)."""
    m = HEADER.fullmatch(line)
    return m is not None and (line[:1] not in (b" ", b"\t") or m.group("event") is not None)


def _decode(raw: bytes | None) -> str:
    return raw.decode("utf-8", "surrogateescape") if raw else ""


_HEXDIGITS = b"0123456789abcdefABCDEF"


def _is_address_column(field: bytes) -> bool:
    """True for perf's 16-column address field: spaces, then hex digits only (at least one)."""
    address = field.lstrip(b" ")
    return bool(address) and not address.strip(_HEXDIGITS)


def _has_address_column(line: bytes) -> bool:
    """True for a line in perf's usual `\t%16lx sym (dso)` layout: the address column, a space, then
    a symbol; its name then depends only on the text after the column (`line[18:]`)."""
    return line[17:18] == b" " and line[18:19] not in (b"(", b" ", b"") and _is_address_column(line[1:17])


def _evict_half(cache: dict[bytes, str] | dict[bytes, str | None]) -> None:
    """Forget the least recently used half of a cache kept in use order (most recent last)."""
    for stale in list(islice(cache, len(cache) // 2)):
        del cache[stale]


_TAIL = itemgetter(slice(18, None))  # a fixed-width frame line's text after the address column
#: perf's address column: a hex address right-aligned in 16 columns (spaces, then hex digits only).
_ADDRESS_COLUMN = b"(?:" + b"|".join(b" " * k + b"[0-9a-fA-F]{%d}" % (16 - k) for k in range(16)) + b")"
#: A call chain whose every line is in perf's usual `\t%16lx sym (dso)` layout.
FIXED_WIDTH_CHAIN = re.compile(
    rb"(?:\t" + _ADDRESS_COLUMN + rb" [^( \n][^\n]*\n)*\t" + _ADDRESS_COLUMN + rb" [^( \n][^\n]*"
)


def _frame_key(line: bytes) -> bytes:
    """A frame line without indentation, address column and `+0x` offset: lines that differ only
    there get the same name, so the name is computed once per (symbol, dso). Ambiguous shapes
    (a hex-looking token right before ` (dso)`) keep the whole line."""
    # the key starts with b"@" when an address was removed, b"=" when the line had none: a symbol
    # after an address always names a frame, the same text alone may not (no dso, no address)
    if _has_address_column(line):
        key = b"@" + line[18:]  # perf's usual `\t%16lx sym (dso)`
    else:
        key = line.lstrip(b"\t ")
        sp = key.find(b" ")
        if sp > 0 and not key[:sp].strip(_HEXDIGITS) and key[sp + 1 : sp + 2] not in (b"(", b" ", b""):
            key = b"@" + key[sp + 1 :]
        else:
            key = b"=" + key
    j = key.rfind(b" (")
    end = j if j >= 0 else len(key)
    o = key.rfind(b"+0x", 0, end)
    if o > 0 and o + 3 < end and not key[o + 3 : end].strip(_HEXDIGITS):
        key = key[:o] + key[end:]
    return key


#: Cache sizes per worker; bounded so memory follows the number of distinct stacks, not the input
#: size (a cache that is full is emptied and refilled).
LINE_CACHE_LIMIT = 100_000
CHAIN_CACHE_LIMIT = 10_000

#: Marker returned by `Resolver.classify` for a source-line line (`-F +srcline`), which is skipped.
SRCLINE = "\0srcline"


class Resolver:
    """Builds folded stacks from header fields and call-chain lines, memoising per distinct chain,
    per distinct frame line and per distinct root."""

    def __init__(self, options: FoldOptions) -> None:
        self.options = options
        self.namer = FrameNamer(options)
        self._skip = set(options.skip_after)
        # frame line -> its names joined root-first, for lines whose meaning does not depend on context
        self._lines: tuple[dict[bytes, str], dict[bytes, str]] = ({}, {})
        self._by_key: tuple[dict[object, str], dict[object, str]] = ({}, {})
        # the text after a fixed-width address column -> its names (see `_learn_tail`)
        self._tails: tuple[dict[bytes, str], dict[bytes, str]] = ({}, {})
        # fixed-width call chains (see `_fixed_width_chain`) -> their names; LRU order
        self._fixed: tuple[dict[bytes, str], dict[bytes, str]] = ({}, {})
        # whether frame names depend on the text after a fixed-width address column only
        self._by_tail = not options.addrs and not options.skip_after
        self._chains: tuple[dict[bytes, str | None], dict[bytes, str | None]] = ({}, {})
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

    def classify(self, line: bytes, prev_frame: bool, java: bool) -> str | None:
        """A call-chain line's names joined root-first, SRCLINE for a `+srcline` line after a frame,
        or None when the line is not part of a call chain (a header, a comment, garbage)."""
        first = line[:1]
        if first == b"\t":
            pass
        elif first == b" ":
            if prev_frame and _is_srcline(line):
                return SRCLINE
            if _is_header(line):
                return None
        elif first == b"#" or b"PERF_RECORD_" in line or HEADER.fullmatch(line):
            return None
        joined = self._named(line if self.options.addrs else _frame_key(line), line, java)
        if joined is None:
            return None
        if not _is_srcline(line):
            known = self._lines[java]
            if len(known) >= LINE_CACHE_LIMIT:
                known.clear()
            known[line] = joined
        return joined

    def _learn(self, line: bytes, java: bool) -> None:
        """Name a tab-indented frame line whose meaning does not depend on the lines around it."""
        if self.options.addrs:
            key = line
        elif _has_address_column(line):
            joined = self._learn_tail(line, java)
            if joined is not None:
                self._lines[java][line] = joined
            return
        else:
            key = _frame_key(line)
        joined = self._named(key, line, java)
        if joined is not None:
            self._lines[java][line] = joined

    def _learn_tail(self, line: bytes, java: bool) -> str | None:
        """Name a frame line in perf's usual `\\t%16lx sym (dso)` layout by the text after its address
        column (its `_frame_key` depends on that text only); None if it is no frame."""
        tails = self._tails[java]
        tail = line[18:]
        joined = tails.get(tail)
        if joined is None:
            joined = self._named(_frame_key(line), line, java)
            if joined is not None:
                if len(tails) >= LINE_CACHE_LIMIT:
                    tails.clear()
                tails[tail] = joined
        return joined

    def _named(self, key: object, line: bytes, java: bool) -> str | None:
        """The names of frame `line` (memoised by its `key`) joined root-first; None if no frame."""
        by_key = self._by_key[java]
        joined = by_key.get(key)
        if joined is None:
            names = self.namer.names(_decode(line), java)
            if names is None:
                return None
            joined = by_key[key] = ";".join(reversed(names))
        return joined

    def chain(self, body: bytes, java: bool) -> str | None:
        """The call chain's frames joined root-first ("" for none), or None if a line is no frame."""
        if self._by_tail:
            # perf's usual layout: samples in one function differ in the leaf's address, so the leaf
            # is named on its own and the callers' lines are looked up as one
            leaf, sep, rest = body.partition(b"\n")
            if leaf[:1] == b"\t" and _has_address_column(leaf):
                name = self._tails[java].get(leaf[18:]) or self._learn_tail(leaf, java)
                if name is not None:
                    if not sep:
                        return name
                    callers = self._fixed_width_chain(rest, java)
                    if callers is not None:
                        return f"{callers};{name}"
        chains = self._chains[java]
        try:
            result = chains.pop(body)
        except KeyError:
            pass
        else:
            chains[body] = result  # most recently used last
            return result
        if len(chains) >= CHAIN_CACHE_LIMIT:
            _evict_half(chains)
        lines = body.split(b"\n")
        known = self._lines[java]
        if not self._skip:
            try:
                result = ";".join(reversed([known[line] for line in lines]))
            except KeyError:
                if len(known) >= LINE_CACHE_LIMIT:
                    known.clear()
                for line in set(lines).difference(known):
                    if line[:1] == b"\t":
                        self._learn(line, java)
                try:
                    result = ";".join(reversed([known[line] for line in lines]))
                except KeyError:
                    result = self._chain_lines(lines, java)
        else:
            result = self._chain_lines(lines, java)
        chains[body] = result
        return result

    def _fixed_width_chain(self, body: bytes, java: bool) -> str | None:
        """Names of a call chain whose every line is in perf's usual `\\t%16lx sym (dso)` layout and
        names a frame, joined root-first; None for any other chain. Each line is looked up by the
        text after its address column, so each (symbol, dso) is named once whatever its addresses."""
        cache = self._fixed[java]
        try:
            names = cache.pop(body)
        except KeyError:
            if not FIXED_WIDTH_CHAIN.fullmatch(body):
                return None
            lines = body.split(b"\n")
            tails = self._tails[java]
            try:
                names = ";".join(map(tails.__getitem__, map(_TAIL, reversed(lines))))
            except KeyError:
                for line in lines:
                    if line[18:] not in tails and self._learn_tail(line, java) is None:
                        return None
                try:
                    names = ";".join(map(tails.__getitem__, map(_TAIL, reversed(lines))))
                except KeyError:  # the tail cache filled up and was emptied meanwhile
                    return None
            if len(cache) >= CHAIN_CACHE_LIMIT:
                _evict_half(cache)
        cache[body] = names  # most recently used last
        return names

    def _chain_lines(self, lines: list[bytes], java: bool) -> str | None:
        parts: list[str] = []
        prev_frame = False
        known = self._lines[java]
        for line in lines:
            if not line:
                continue
            kind = known.get(line)
            if kind is None:
                kind = self.classify(line, prev_frame, java)
            if kind is None:
                return None
            prev_frame = kind is not SRCLINE
            if prev_frame:
                parts.append(kind)
        if self._skip:
            for i, part in enumerate(parts):
                names = part.split(";")
                hit = [j for j, n in enumerate(names) if n in self._skip or n.rsplit("_[", 1)[0] in self._skip]
                if hit:
                    parts = [*parts[:i], ";".join(names[hit[-1] :])]
                    break
        return ";".join(reversed(parts))

    def stack(self, comm: bytes, pid: bytes | None, tid: bytes | None, rest: bytes | None, body: bytes) -> str | None:
        """The folded stack of one sample, or None when its call chain holds a line that is no frame."""
        root, java = self.root(comm, pid, tid)
        if not body and rest and rest.strip():
            frame = parse_frame_line(_decode(rest))
            if frame is not None and frame.pc and frame.dso is not None:
                body = b"\t" + rest.strip()  # single-line sample (-G, or no call chain): ip sym (dso)
        names = self.chain(body, java) if body else ""
        if names is None:
            return None
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


def fold_chunk_fast(chunk: bytes, resolver: Resolver, keep_time: bool = False) -> ChunkResult | None:
    """Fold a chunk of blank-line separated samples; None when some part of it needs the line path.

    Blocks are split and headers matched in C (one `findall` over the joined header lines), identical
    (header fields, call chain) pairs counted by `Counter`; Python runs once per distinct pair."""
    if chunk[:1] in (b"\n", b" ", b"\t"):
        return None
    # (two or more blank lines in a row leave an empty header line, which fails the header match)
    blocks = chunk.split(b"\n\n")
    if not blocks[-1]:
        blocks.pop()
    result = ChunkResult()
    if not blocks:
        if keep_time:
            result.timeline = []
        return result
    heads, _, bodies = zip(*[block.partition(b"\n") for block in blocks], strict=True)
    headers = (HEADER_LINES_TIMED if keep_time else HEADER_LINES).findall(b"\n".join(heads))
    if len(headers) != len(bodies):
        return None
    acc = _Accumulator(result)
    by_period = resolver.options.weight == "period"
    if keep_time:  # one entry per sample, in order: nothing to collapse, but every lookup is cached
        timeline: list[tuple[float, str, int]] = []
        for (comm, pid, tid, _cpu, time, period, event, rest), body in zip(headers, bodies, strict=True):
            stack = resolver.stack(comm, pid, tid, rest, body)
            if stack is None:
                return None
            weight = int(period) if (by_period and period) else 1
            acc.add(event, stack, weight, 1)
            timeline.append((float(time) if time else float("nan"), stack, weight))
        result.timeline = timeline
        return result
    samples = Counter(zip(headers, bodies, strict=True))
    # once per distinct sample: stacks are keyed by (root, call chain), two strings whose hashes are
    # cached, and each distinct stack string is built once at the end
    root_of, chain = resolver.root, resolver.chain
    cells: dict[bytes | None, dict[tuple[str, str], list[int]]] = {}
    for ((comm, pid, tid, period, event, rest), body), n in samples.items():
        if body:
            root, java = root_of(comm, pid, tid)
            names = chain(body, java)
            if names is None:
                return None
            key = (root, names)
        else:
            stack = resolver.stack(comm, pid, tid, rest, body)
            if stack is None:
                return None
            key = (stack, "")
        weight = int(period) * n if (by_period and period) else n
        stacks = cells.get(event)
        if stacks is None:
            stacks = cells[event] = {}
        cell = stacks.get(key)
        if cell is None:
            stacks[key] = [weight, n]
        else:
            cell[0] += weight
            cell[1] += n
    for event, stacks in cells.items():
        for (root, names), (weight, n) in stacks.items():
            acc.add(event, f"{root};{names}" if names else root, weight, n)
    return result


def fold_chunk_lines(chunk: bytes, resolver: Resolver, keep_time: bool = False) -> ChunkResult:
    """Fold a chunk line by line (any layout); bad lines are recorded with chunk-relative numbers."""
    result = ChunkResult(timeline=[] if keep_time else None)
    acc = _Accumulator(result)
    by_period = resolver.options.weight == "period"
    header: re.Match[bytes] | None = None
    java = False
    body: list[bytes] = []
    prev_frame = False

    def flush() -> None:
        nonlocal header, body
        if header is None:
            return
        h = header
        stack = resolver.stack(h.group("comm"), h.group("pid"), h.group("tid"), h.group("rest"), b"\n".join(body))
        assert stack is not None  # body holds only lines classify() accepted
        period = h.group("period")
        weight = int(period) if (by_period and period) else 1
        acc.add(h.group("event"), stack, weight, 1)
        if result.timeline is not None:
            t = h.group("time")
            result.timeline.append((float(t) if t else float("nan"), stack, weight))
        header, body = None, []

    lines = chunk.split(b"\n")
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            flush()
            prev_frame = False
            continue
        if header is not None:
            kind = resolver.classify(line, prev_frame, java)
            if kind is not None:
                body.append(line)
                prev_frame = kind is not SRCLINE
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
        java = resolver.root(m.group("comm"), m.group("pid"), m.group("tid"))[1]
    flush()
    result.lines = len(lines) - 1
    return result


_RESOLVERS: dict[FoldOptions, Resolver] = {}


def fold_chunk(chunk: bytes, options: FoldOptions) -> ChunkResult:
    """Fold one record-aligned chunk (runs in worker processes; caches live per process)."""
    resolver = _RESOLVERS.get(options)
    if resolver is None:
        resolver = _RESOLVERS[options] = Resolver(options)
    if b"\r" in chunk:
        chunk = chunk.replace(b"\r\n", b"\n")
    lines = chunk.count(b"\n")
    body = chunk
    if chunk[:1] == b"#":  # the `perf script --header` block: comments, then the first sample
        m = _COMMENT_PREFIX.match(chunk)
        body = chunk[m.end() :] if m else chunk
    result = fold_chunk_fast(body, resolver, keep_time=options.keep_time)
    if result is None:
        result = fold_chunk_lines(chunk, resolver, keep_time=options.keep_time)
    result.lines = lines
    return result


def cut_records(buf: bytes) -> int:
    """End of the last complete record: after the last blank line, or, in files without blank
    lines (`-G`), before the last line that is not indented like a frame."""
    i = buf.rfind(b"\n\n")
    if i >= 0:
        return i + 2
    j = len(buf)
    while True:
        j = buf.rfind(b"\n", 0, j)
        if j < 0:
            return -1
        nxt = buf[j + 1 : j + 2]
        if nxt and nxt not in (b"\t", b" ", b"\n"):
            return j + 1
        if nxt == b" " and _is_header(buf[j + 1 : buf.find(b"\n", j + 1)]):
            return j + 1


def sniff(head: bytes) -> bool | None:
    """True if the input starts like perf script output: a sample header, then frames or more headers."""
    if head.startswith(b"# ========\n") or head.startswith(b"# ========\r\n"):
        return True  # the `perf script --header` block
    lines = [ln.rstrip(b"\r") for ln in head[:16384].split(b"\n")]
    lines = [ln for ln in lines if ln.strip() and not ln.startswith(b"#")][:20]
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
    if event.endswith("-clock"):
        return "ns"
    return event or "events"


@dataclass
class FoldState:
    """One worker's share of a capture: folded stacks per event, and what the merge needs to be
    independent of which worker got which chunk (all keyed by chunk index)."""

    events: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    first_seen: dict[str, tuple[int, int]] = field(default_factory=dict)
    lines: dict[int, int] = field(default_factory=dict)
    bad: list[tuple[int, int, str]] = field(default_factory=list)
    bad_count: int = 0
    timeline: dict[int, list[tuple[float, str, int]]] = field(default_factory=dict)


class PerfFolder(ChunkFolder[FoldState]):
    """Folds perf script chunks into a FoldState (runs in worker processes)."""

    def __init__(self, options: FoldOptions) -> None:
        self.options = options

    def new_state(self) -> FoldState:
        return FoldState()

    def next_boundary(self, data: bytes, pos: int) -> int:
        """After the first blank line ending at or after `pos` (only blank-line separated files
        are split by offset; others end up in one range, which is still correct)."""
        i = data.find(b"\n\n", max(0, pos - 2))
        return -1 if i < 0 else i + 2

    def fold(self, state: FoldState, index: int, chunk: bytes) -> None:
        result = fold_chunk(chunk, self.options)
        _merge_stacks(state.events, result.events)
        for order, event in enumerate(result.event_order):
            state.first_seen.setdefault(event, (index, order))
        state.lines[index] = result.lines
        state.bad.extend((index, lineno, text) for lineno, text in result.bad)
        state.bad_count += result.bad_count
        if result.timeline:
            state.timeline[index] = result.timeline


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


def fold(source: Source, options: FoldOptions) -> Profile:
    """Fold a whole perf script stream, in parallel chunks, keeping one event."""
    size = options.chunk_size or DEFAULT_CHUNK_SIZE
    folder = PerfFolder(options)
    path = source.seekable_path()
    states = fold_file(folder, path, size, options.jobs) if path else None
    if states is None:
        states = fold_chunks(folder, source.chunks(cut=cut_records, size=size), jobs=options.jobs)
    merged: dict[str, dict[str, list[int]]] = {}
    first_seen: dict[str, tuple[int, int]] = {}
    lines: dict[int, int] = {}
    bad: list[tuple[int, int, str]] = []
    bad_count = 0
    timelines: dict[int, list[tuple[float, str, int]]] = {}
    for state in sorted(states, key=lambda st: min(st.lines, default=0)):
        _merge_stacks(merged, state.events)
        for event, seen in state.first_seen.items():
            first_seen[event] = min(seen, first_seen.get(event, seen))
        lines.update(state.lines)
        bad.extend(state.bad)
        bad_count += state.bad_count
        timelines.update(state.timeline)

    diag = Diagnostics()
    starts: dict[int, int] = {}
    total = 0
    for index in sorted(lines):
        starts[index] = total
        total += lines[index]
    for index, lineno, text in sorted(bad)[:MAX_QUOTED]:
        diag.bad_line(source.name, starts[index] + lineno, text)
    diag.bad_lines = bad_count
    if not merged:
        return Profile(diagnostics=diag)
    merged = {event: merged[event] for event in sorted(merged, key=lambda e: first_seen[e])}
    event = _choose_event(merged, options, diag)
    cells = merged[event]
    weights = {s: c[0] for s, c in cells.items()}
    counts = {s: c[1] for s, c in cells.items()}
    saw_period = any(c[0] != c[1] for c in cells.values())
    timeline: list[tuple[float, str, int]] | None = None
    if options.keep_time:
        keep = set(cells) if len(merged) > 1 else None
        timeline = [t for index in sorted(timelines) for t in timelines[index] if keep is None or t[1] in keep]
    return Profile(
        weights=weights,  # type: ignore[arg-type]
        counts=counts,
        unit=_unit(event, options.weight == "period", saw_period),
        event=event or None,
        diagnostics=diag,
        timeline=timeline,  # type: ignore[arg-type]
        meta={ROOT_FRAMES: ("comm-pid/tid",) if options.tid else ("comm-pid",) if options.pid else ("comm",)},
    )


def _choose_event(merged: dict[str, dict[str, list[int]]], options: FoldOptions, diag: Diagnostics) -> str:
    def samples(ev: str) -> int:
        return sum(c[1] for c in merged[ev].values())

    def label(ev: str) -> str:
        return ev or "(no event name)"

    if options.event is not None:
        wanted = base_event(options.event)
        # `cpu-clock` also names `cpu-clock/freq=499/` (the same event with config terms)
        matches = [e for e in merged if e == wanted] or [e for e in merged if e.split("/", 1)[0] == wanted]
        if len(matches) != 1:
            listing = ", ".join(f"{label(e)} ({samples(e)} samples)" for e in merged)
            problem = "not in the input" if not matches else "is ambiguous"
            raise UsageError(f"event {options.event!r} {problem}; events present: {listing}")
        chosen = matches[0]
    else:
        chosen = next(iter(merged))
    dropped = [e for e in merged if e != chosen]
    if dropped and options.event is None:
        diag.warnings.append(
            f"several events in the input; kept {label(chosen)} ({samples(chosen)} samples), dropped "
            + ", ".join(f"{label(e)} ({samples(e)} samples)" for e in dropped)
            + "; use --event NAME to choose"
        )
    elif dropped:
        diag.notes.append("dropped events: " + ", ".join(f"{label(e)} ({samples(e)} samples)" for e in dropped))
    return chosen

"""`perf script` text: sample header lines followed by indented call-chain frames, blank-line separated.

Two paths give identical results (a property test checks it):

* the fast path matches a whole chunk with one regular expression and counts identical
  (header fields, call chain) pairs with `collections.Counter`, both in C; Python work is done
  once per *distinct* call chain and once per distinct frame line;
* the line path is a plain state machine that also handles every odd layout (`-G`, side events,
  records without blank lines, space-indented headers, timestamps for flame charts).

A chunk the fast path cannot account for completely is given to the line path.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from foldkit.engine import map_chunks
from foldkit.errors import UsageError
from foldkit.ingest.options import FoldOptions
from foldkit.ingest.perf_frames import FrameNamer, parse_frame_line
from foldkit.inputs import Source
from foldkit.profile import Diagnostics, Profile

NAME = "perf"
DESCRIPTION = "`perf script` text (any -F field set, -g/--call-graph dwarf, -G, +srcline, --header)"
EXAMPLE = "python3 32368  1954.705191:    2004008 cpu-clock:ppp: \\n\\tffffffff815d6c20 mod_lruvec_state+0x20 ([kernel.kallsyms])"


def _header_pattern(capture_time: bool) -> str:
    cpu = r"(?P<cpu>\d+)" if capture_time else r"\d+"
    time = r"(?P<time>\d+\.\d+)" if capture_time else r"\d+\.\d+"
    return (
        r"[ \t]*(?P<comm>[^ \t\n][^\n]*?)[ \t]+(?P<pid>-?\d+)(?:/(?P<tid>-?\d+))?"
        r"(?:[ \t]+\[" + cpu + r"\])?"
        r"(?:[ \t]+" + time + r":)?"
        r"(?:[ \t]+(?P<period>\d+))?"
        r"(?:[ \t]+(?P<event>[^ \t\n]+?):(?P<rest>[ \t][^\n]*)?)?[ \t]*"
    )


#: One header line (line path; with cpu and time).
HEADER = re.compile(_header_pattern(capture_time=True), re.ASCII)
#: A whole sample block in a chunk (fast path; cpu and time not captured so identical samples collapse).
FAST_SAMPLE = re.compile(
    (
        r"(?:\A|(?<=\n\n))(?:#[^\n]*\n)*"
        + _header_pattern(capture_time=False)
        + r"(?P<body>(?:\n[\t ][^\n]*)*)(?=\n\n|\n*\Z)"
    ).encode(),
)
_BLOCK_START = re.compile(rb"(?:\A|\n\n)[^\n]")
_EVENT_MODIFIERS = re.compile(r":[ukhIGHpPSDWeb]+$")


def base_event(event: str) -> str:
    """An event name without its modifiers: `cycles:uppp` -> `cycles`; tracepoints kept whole."""
    return _EVENT_MODIFIERS.sub("", event)


def _is_srcline(line: str) -> bool:
    return line.startswith("  ") and not line.startswith("   ") and line[2:3] not in ("", " ", "\t")


def _is_indented_header(line: str) -> bool:
    """A space-indented sample header (`-G` right-aligns the comm), as opposed to a frame line."""
    if line[:1] != " " or _is_srcline(line):
        return False
    m = HEADER.fullmatch(line)
    return m is not None and m.group("event") is not None


class Resolver:
    """Builds folded stacks from header fields and call-chain lines, memoising per distinct chain."""

    def __init__(self, options: FoldOptions) -> None:
        self.options = options
        self.namer = FrameNamer(options)
        self._chains: dict[tuple[str, bool], list[str] | None] = {}
        self._skip = set(options.skip_after)

    def root(self, comm: str, pid: str | None, tid: str | None) -> str:
        """The root frame for a sample: `comm`, `comm-PID` or `comm-PID/TID`."""
        opts = self.options
        if tid is None:
            pid, tid = "?", pid
        if opts.tid:
            name = f"{comm}-{pid}/{tid}"
        elif opts.pid:
            name = f"{comm}-{pid}"
        else:
            name = comm
        return name.replace(" ", "_").replace(";", ":")

    def chain(self, body: str, java: bool) -> list[str] | None:
        """Frame names root-first for the indented lines of one sample; None if a line is not a frame."""
        key = (body, java)
        try:
            return self._chains[key]
        except KeyError:
            pass
        names: list[str] = []
        ok = True
        prev_frame = False
        for line in body.split("\n"):
            if not line:
                continue
            got = None if _is_indented_header(line) else self.namer.names(line, java)
            if got is not None:
                names.extend(got)
                prev_frame = True
            elif prev_frame and _is_srcline(line):
                prev_frame = False
            else:
                ok = False
                break
        result: list[str] | None = None
        if ok:
            if self._skip:
                for i, name in enumerate(names):
                    if name in self._skip or name.rsplit("_[", 1)[0] in self._skip:
                        names = names[: i + 1]
                        break
            names.reverse()
            result = names
        self._chains[key] = result
        return result

    def stack(self, comm: str, pid: str | None, tid: str | None, rest: str, body: str) -> str | None:
        """The folded stack of one sample, or None when its call chain holds a line that is no frame."""
        root = self.root(comm, pid, tid)
        java = root == "java"
        if not body and rest:
            frame = parse_frame_line(rest)
            if frame is not None and frame.pc and frame.dso is not None:
                body = rest  # single-line sample (-G or no call chain): ip sym (dso) on the header
        names = self.chain(body, java) if body else []
        if names is None:
            return None
        return ";".join([root, *names]) if names else root


@dataclass
class ChunkResult:
    """What one chunk contributed: per event (first-seen order) stack -> [weight, samples]."""

    events: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    lines: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    bad_count: int = 0
    timeline: list[tuple[float, str, int]] | None = None
    slow: bool = False


def _add(result: ChunkResult, event: str, stack: str, weight: int, count: int) -> None:
    stacks = result.events.get(event)
    if stacks is None:
        stacks = result.events[event] = {}
    cell = stacks.get(stack)
    if cell is None:
        stacks[stack] = [weight, count]
    else:
        cell[0] += weight
        cell[1] += count


def _decode(raw: bytes | None) -> str:
    return raw.decode("utf-8", "surrogateescape") if raw else ""


def fold_chunk_fast(chunk: bytes, resolver: Resolver) -> ChunkResult | None:
    """Fold a chunk with the whole-chunk regex; None when some part of it needs the line path."""
    matches = FAST_SAMPLE.findall(chunk)
    if len(matches) != len(_BLOCK_START.findall(chunk)):
        return None
    result = ChunkResult()
    by_period = resolver.options.weight == "period"
    for (comm, pid, tid, period, event, rest, body), n in Counter(matches).items():
        stack = resolver.stack(_decode(comm), _decode(pid), _decode(tid) or None, _decode(rest).strip(), _decode(body))
        if stack is None:
            return None
        weight = int(period) if (by_period and period) else 1
        _add(result, base_event(_decode(event)), stack, weight * n, n)
    return result


def fold_chunk_lines(chunk: bytes, resolver: Resolver, keep_time: bool = False) -> ChunkResult:
    """Fold a chunk line by line (any layout); bad lines are recorded with chunk-relative numbers."""
    result = ChunkResult(slow=True, timeline=[] if keep_time else None)
    text = chunk.decode("utf-8", "surrogateescape")
    by_period = resolver.options.weight == "period"
    header: re.Match[str] | None = None
    body: list[str] = []
    prev_frame = False

    def flush() -> None:
        nonlocal header, body
        if header is None:
            return
        h = header
        rest = (h.group("rest") or "").strip()
        stack = resolver.stack(h.group("comm"), h.group("pid"), h.group("tid"), rest, "\n".join(body))
        assert stack is not None  # body holds only frame and srcline lines
        period = h.group("period")
        weight = int(period) if (by_period and period) else 1
        _add(result, base_event(h.group("event") or ""), stack, weight, 1)
        if result.timeline is not None:
            t = h.group("time")
            result.timeline.append((float(t) if t else float("nan"), stack, weight))
        header, body = None, []

    lineno = 0
    for lineno, line in enumerate(text.split("\n"), start=1):  # noqa: B007 - used after the loop
        if not line.strip():
            flush()
            prev_frame = False
            continue
        first = line[0]
        if header is not None and first in " \t":
            if not _is_indented_header(line):
                if resolver.namer.names(line, False) is not None:
                    body.append(line)
                    prev_frame = True
                    continue
                if prev_frame and _is_srcline(line):
                    body.append(line)
                    prev_frame = False
                    continue
        if first == "#" or line.startswith("PERF_RECORD_"):
            flush()
            continue
        m = HEADER.fullmatch(line)
        flush()
        prev_frame = False
        if m is None or (first in " \t" and m.group("event") is None):
            result.bad_count += 1
            if len(result.bad) < 5:
                result.bad.append((lineno, line))
            continue
        header = m
    flush()
    result.lines = text.count("\n")
    return result


_RESOLVERS: dict[FoldOptions, Resolver] = {}


def fold_chunk(chunk: bytes, options: FoldOptions) -> ChunkResult:
    """Fold one record-aligned chunk (runs in worker processes; caches live per process)."""
    resolver = _RESOLVERS.get(options)
    if resolver is None:
        resolver = _RESOLVERS[options] = Resolver(options)
    if b"\r" in chunk:
        chunk = chunk.replace(b"\r\n", b"\n")
    result = None if options.keep_time else fold_chunk_fast(chunk, resolver)
    if result is None:
        result = fold_chunk_lines(chunk, resolver, keep_time=options.keep_time)
    else:
        result.lines = chunk.count(b"\n")
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
        if nxt == b" " and HEADER.fullmatch(buf[j + 1 : buf.find(b"\n", j + 1)].decode("latin-1")):
            return j + 1


def sniff(head: bytes) -> bool | None:
    """True if the first record looks like a perf script sample (header line, then frames)."""
    text = head[:16384].decode("utf-8", "replace").replace("\r\n", "\n")
    lines = [ln for ln in text.split("\n") if ln.strip() and not ln.startswith("#")]
    for i, line in enumerate(lines[:20]):
        m = HEADER.fullmatch(line)
        if m is None or m.group("event") is None and i + 1 < len(lines) and not lines[i + 1].startswith("\t"):
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if m.group("event") is not None or (nxt[:1] == "\t" and parse_frame_line(nxt) is not None):
            return True
    return False


def _unit(event: str, by_period: bool, saw_period: bool) -> str:
    if not by_period or not saw_period:
        return "samples"
    if event.endswith("-clock"):
        return "ns"
    return event or "events"


def fold(source: Source, options: FoldOptions) -> Profile:
    """Fold a whole perf script stream, in parallel chunks, keeping one event."""
    merged: dict[str, dict[str, list[int]]] = {}
    diag = Diagnostics()
    timeline: list[tuple[float, str, int]] | None = [] if options.keep_time else None
    line_base = 0
    for result in map_chunks(fold_chunk, source.chunks(cut=cut_records), options, jobs=options.jobs):
        for event, stacks in result.events.items():
            target = merged.setdefault(event, {})
            for stack, (w, c) in stacks.items():
                cell = target.get(stack)
                if cell is None:
                    target[stack] = [w, c]
                else:
                    cell[0] += w
                    cell[1] += c
        for lineno, text in result.bad:
            diag.bad_line(source.name, line_base + lineno, text)
        diag.bad_lines += result.bad_count - len(result.bad)
        if timeline is not None and result.timeline:
            timeline.extend(result.timeline)
        line_base += result.lines

    if not merged:
        return Profile(diagnostics=diag)
    event = _choose_event(merged, options, diag)
    cells = merged[event]
    weights = {s: c[0] for s, c in cells.items()}
    counts = {s: c[1] for s, c in cells.items()}
    saw_period = any(c[0] != c[1] for c in cells.values())
    if timeline is not None and len(merged) > 1:
        keep = set(cells)
        timeline = [t for t in timeline if t[1] in keep]
    return Profile(
        weights=weights,  # type: ignore[arg-type]
        counts=counts,
        unit=_unit(event, options.weight == "period", saw_period),
        event=event or None,
        diagnostics=diag,
        timeline=timeline,  # type: ignore[arg-type]
    )


def _choose_event(merged: dict[str, dict[str, list[int]]], options: FoldOptions, diag: Diagnostics) -> str:
    def samples(ev: str) -> int:
        return sum(c[1] for c in merged[ev].values())

    def label(ev: str) -> str:
        return ev or "(no event name)"

    if options.event is not None:
        wanted = base_event(options.event)
        if wanted not in merged:
            listing = ", ".join(f"{label(e)} ({samples(e)} samples)" for e in merged)
            raise UsageError(f"event {options.event!r} not in the input; events present: {listing}")
        chosen = wanted
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

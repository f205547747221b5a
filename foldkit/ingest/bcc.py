"""BCC tool output (`profile`, `offcputime`, `offwaketime`, `stackcount`, `wakeuptime`) and
libbpf-tools `offcputime`, in the default multi-line layout; their `-f` folded output is read as
folded stacks.

Every entry is a block of indented lines ending with the value on a line of its own. The tools print
the stack leaf first and the task name last, and their folded form is exactly that block reversed
(offwaketime and wakeuptime included), so a block folds to its lines, named, in reverse order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from foldkit.errors import InputError
from foldkit.ingest import bpf_frames as bf
from foldkit.ingest import folded
from foldkit.ingest.base import end_blocks
from foldkit.ingest.options import FoldOptions
from foldkit.inputs import Source, cut_at_lines
from foldkit.native import native_core
from foldkit.profile import ROOT_FRAMES, Diagnostics, LazyProfile, Profile, Weight, parse_count

NAME = "bcc"
DESCRIPTION = "BCC profile/offcputime/offwaketime/stackcount/wakeuptime output (multi-line or -f folded), libbpf-tools offcputime"
EXAMPLE = "    finish_task_switch.isra.0\\n    schedule\\n    -                sshd (1234)\\n        17"

#: Header lines of the tools, and the unit of their values.
_HEADERS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"Sampling at .* stacks?\b.*"), "profile", "samples"),
    (re.compile(r"Tracing off-CPU time \((?P<unit>\w+)\).*"), "offcputime", "us"),
    (re.compile(r"Tracing blocked time \((?P<unit>\w+)\) by .*off-CPU and waker stack.*"), "offwaketime", "us"),
    (re.compile(r"Tracing blocked time \((?P<unit>\w+)\) by .*"), "wakeuptime", "us"),
    (re.compile(r'Tracing \d+ functions for ".*'), "stackcount", "events"),
]
#: Other non-indented lines the tools print.
_CHATTER = re.compile(r"Detaching\.\.\.|\d\d:\d\d:\d\d|WARNING: .*|\[\d\d:\d\d:\d\d\]|Hit Ctrl-C to end\.|")
_VALUE = re.compile(r"[ \t]+(-?\d+)")
_TASK = re.compile(r"[ \t]+-[ \t]{2,}(?P<comm>.*?) \((?P<pid>-?\d+)\)")  # profile, offcputime
_TASK_PID = re.compile(r"[ \t]+(?P<comm>\S.*?) \[(?P<pid>-?\d+)\]")  # stackcount
_WAKE_TASK = re.compile(r"[ \t]+(?:waker|target):[ \t]+(?P<comm>.*?)(?: (?P<pid>-?\d+))?")
_BYTES_REPR = re.compile(r"b(['\"])(.*)\1")
_MISSED = re.compile(r"[ \t]+(?P<name>\[Missed (?:Kernel|User) Stack\])(?: -?\d+)?")
_WAKER_DELIMITER = re.compile(r"[ \t]+--[ \t]+--")
_DELIMITER = re.compile(r"[ \t]+--?")
#: A frame: optional `#N`, optional address (stackcount -v, wakeuptime), symbol, optional
#: `+0xoff` (-s) and ` [module]` (newer BCC).
_FRAME = re.compile(
    r"[ \t]++(?:#\d+[ \t]+)?(?:(?:0x)?(?P<addr>[0-9a-fA-F]{8,})[ \t]+)?(?P<sym>.*?)(?: \[(?P<module>[^\[\]\s]+)\])?"
)
#: Leaf frames of an off-CPU stack: a headerless libbpf-tools capture with them is offcputime (µs).
#: Frames of the BPF program that took the stack (libbpf-tools offcputime/wakeuptime put them at the
#: leaf of every stack, where they would be nearly all the "self" weight): dropped unless
#: `--keep-bpf-frames`.
BPF_TRAMPOLINE = re.compile(r"bpf_prog_[0-9a-f]{16}_\w*|bpf_trace_run\d+")
_OFFCPU_LEAF = re.compile(r"bpf_prog_\w+_sched_switch|finish_task_switch\S*|__schedule|schedule")


@dataclass(frozen=True, slots=True)
class Line:
    """One block line named: its folded name, whether it is a frame and what its address says
    (+1 kernel, -1 user, 0 none)."""

    name: str
    frame: bool
    address_kind: int


class Namer:
    """Block lines -> `Line`, memoised per distinct line."""

    def __init__(self, options: FoldOptions) -> None:
        self.options = options
        self._cache: dict[str, Line | None] = {}

    def __call__(self, text: str) -> Line | None:
        try:
            return self._cache[text]
        except KeyError:
            line = self._cache[text] = self._name(text)
            return line

    def _task(self, comm: str, pid: str | None) -> Line:
        m = _BYTES_REPR.fullmatch(comm)
        if m is not None:  # stackcount -P on Python 3 prints the comm as b'python'
            comm = m.group(2)
        comm = comm.replace(";", ":")
        if self.options.pid and pid is not None:
            comm = f"{comm}-{pid}"
        return Line(comm, False, 0)

    def _name(self, text: str) -> Line | None:
        for pattern in (_TASK, _WAKE_TASK, _TASK_PID):
            m = pattern.fullmatch(text)
            if m is not None:
                return self._task(m.group("comm"), m.group("pid"))
        m = _MISSED.fullmatch(text)
        if m is not None:
            return Line(m.group("name"), True, 0)
        if _WAKER_DELIMITER.fullmatch(text):
            return Line(bf.WAKER_DELIMITER, False, 0)
        if _DELIMITER.fullmatch(text):
            return Line(bf.KERNEL_USER_DELIMITER, False, 0)
        m = _FRAME.fullmatch(text)
        if m is None or (not m.group("sym") and not m.group("addr")):
            return None
        addr, sym, module = m.group("addr"), m.group("sym"), m.group("module")
        kind = 0
        if addr:
            kind = 1 if bf.is_kernel_address(int(addr, 16)) else -1
        if not sym or sym == bf.UNKNOWN or re.fullmatch(r"0x[0-9a-fA-F]+", sym):
            name = bf.unresolved((addr or sym).lower(), self.options.addrs, module)
        else:
            name = bf.tidy(sym) or bf.UNKNOWN
        return Line(name, True, kind)


@dataclass
class Layout:
    """What the header (or its absence) says: the tool and its value unit."""

    tool: str
    unit: str
    header: str | None


def _header(line: str) -> Layout | None:
    for pattern, tool, unit in _HEADERS:
        m = pattern.fullmatch(line)
        if m is not None:
            named = m.groupdict().get("unit")
            return Layout(tool, named or unit, line)
    return None


class Folder:
    """Turns blocks into folded stacks."""

    def __init__(self, options: FoldOptions) -> None:
        self.options = options
        self.namer = Namer(options)
        self._skip = frozenset(options.skip_after)
        self.first_leaf: str | None = None
        self.trimmed: set[str] = set()  # stacks whose BPF program frames were dropped
        self._stacks: dict[tuple[str, ...], str | None] = {}
        #: Distinct stacks that start (root end) with the task line, and that do not.
        self.with_task = 0
        self.without_task = 0

    def stack(self, block: list[str]) -> str | None:
        """The folded stack of one block (its lines without the value), or None if a line is not
        a frame, task or delimiter line (memoised: big captures repeat their blocks)."""
        key = tuple(block)
        try:
            return self._stacks[key]
        except KeyError:
            stack = self._stacks[key] = self._stack(block)
            return stack

    def _stack(self, block: list[str]) -> str | None:
        named: list[Line] = []
        for text in block:
            line = self.namer(text)
            if line is None:
                return None
            named.append(line)
        if self.first_leaf is None:
            self.first_leaf = next((ln.name for ln in named if ln.frame), "")
        trimmed = False
        if not self.options.keep_bpf_frames:
            kept = [ln for ln in named if not (ln.frame and BPF_TRAMPOLINE.fullmatch(ln.name))]
            trimmed = len(kept) != len(named)
            named = kept
        named.reverse()
        if named and not named[0].frame and named[0].name not in (bf.WAKER_DELIMITER, bf.KERNEL_USER_DELIMITER):
            self.with_task += 1
        else:
            self.without_task += 1
        names = [ln.name for ln in named]
        frames = [ln for ln in named if ln.frame]
        if not frames:
            # only the task line(s): keep the weight under a placeholder
            names.insert(1 if named and not named[0].frame else 0, bf.NO_STACK)
        elif self.options.kernel:
            if any(ln.address_kind for ln in frames):
                names = [
                    bf.annotate_kernel(ln.name) if ln.frame and ln.address_kind > 0 else ln.name
                    for ln in named
                ]
            else:
                names = bf.annotate_folded(names)
        if self._skip:
            keep = 1 if named and not named[0].frame else 0
            names = bf.cut_after(names, self._skip, keep)
        stack = ";".join(names)
        if trimmed:
            self.trimmed.add(stack)
        return stack


def fold(source: Source, options: FoldOptions) -> Profile:
    """Sum the value of every block under its folded stack (read natively when the native core
    is built; `fold_python` is the reference it is tested against)."""
    if _looks_folded(source.head()):
        profile = folded.fold(source, options)
        profile.diagnostics.notes.append(f"{source.name}: BCC folded (-f) output, read as folded stacks")
        return profile
    if native_core() is not None:
        return fold_native(source.name, source.chunks(cut=cut_at_lines), options)
    return fold_python(source, options)


def _outside(line: str, lineno: int, layout: Layout | None, diag: Diagnostics, name: str) -> Layout | None:
    """A line that is not indented: a header (the layout it gives, kept if one was found
    before), the tools' chatter, or an unrecognised line. Returns the layout."""
    if not line.strip():
        return layout
    found = _header(line)
    if found is not None:
        return layout or found
    if _CHATTER.fullmatch(line):
        if line.startswith("WARNING"):
            diag.warnings.append(f"{name}:{lineno}: the tool said: {line}")
        return layout
    diag.bad_line(name, lineno, line)
    return layout


def _cut_block(diag: Diagnostics, name: str, start: int, first: str, lineno: int) -> None:
    diag.warnings.append(f"{name}:{start}: stack without a value (cut off before line {lineno}); dropped")
    diag.bad_line(name, start, first)


def fold_python(source: Source, options: FoldOptions) -> Profile:
    """`fold` of the multi-line layout by the Python reader alone."""
    diag = Diagnostics()
    folder = Folder(options)
    weights: dict[str, Weight] = {}
    layout: Layout | None = None
    block: list[str] = []
    block_start = 0
    blocks = 0
    lineno = 0
    for lineno, line in enumerate(source.text_lines(), start=1):
        first = line[:1]
        if first in (" ", "\t"):
            m = _VALUE.fullmatch(line) if line[-1:].isdigit() else None
            if m is None:
                if not block:
                    block_start = lineno
                block.append(line)
                continue
            stack = folder.stack(block)
            if stack is None:
                _bad_block(diag, source.name, block, block_start, folder)
            else:
                weights[stack] = weights.get(stack, 0) + parse_count(m.group(1))
                blocks += 1
            block = []
            continue
        if block:
            _cut_block(diag, source.name, block_start, block[0], lineno)
            block = []
        layout = _outside(line, lineno, layout, diag, source.name)
    end_blocks(diag, source.name, block, block_start, bool(weights), "BCC")
    share = sum(weights.get(st, 0) for st in folder.trimmed)
    summary = _Summary(blocks, len(weights), folder.first_leaf, len(folder.trimmed), share, folder.with_task, folder.without_task)

    def build(counts: bool, unit: str, meta: dict[str, object]) -> Profile:
        plain = {s: int(w) for s, w in weights.items()} if counts else None
        return Profile(weights=weights, counts=plain, unit=unit, diagnostics=diag, meta=meta)

    return _profile(source.name, options, diag, layout, summary, build)


def fold_native(name: str, chunks: Iterable[bytes], options: FoldOptions) -> Profile:
    """`fold` of the multi-line layout cut into chunks of whole lines by the native reader: its
    stacks stay in a native table (a `LazyProfile`)."""
    core = native_core()
    assert core is not None, "fold_native needs the native core"
    skip = [n.encode("utf-8", "surrogateescape") for n in options.skip_after]
    reader = core.BccReader(options.addrs, options.kernel, options.pid, options.keep_bpf_frames, skip)
    diag = Diagnostics()
    namer = Namer(options)
    layout: Layout | None = None
    try:
        for chunk in chunks:
            pos = 0
            while (event := reader.feed(chunk, pos)) is not None:
                kind, lineno, raw, number, pos = event
                text = raw.decode("utf-8", "surrogateescape")
                if kind == "name":
                    line = namer(text)
                    named = None if line is None else (line.name.encode("utf-8", "surrogateescape"), line.frame, line.address_kind)
                    reader.set_name(number, named)
                elif kind == "cut":
                    _cut_block(diag, name, lineno, text, number)
                elif kind == "bad":
                    diag.bad_line(name, lineno, text)
                else:
                    layout = _outside(text, lineno, layout, diag, name)
        start, left = reader.open_block()
        blocks, stacks, first_leaf, trimmed, share, with_task, without_task = reader.summary()
    except RuntimeError as exc:  # a panic in the native reader (a bug): say which input
        raise InputError(f"{name}: {exc}") from exc
    end_blocks(diag, name, [t.decode("utf-8", "surrogateescape") for t in left], start, bool(stacks), "BCC")
    leaf = None if first_leaf is None else first_leaf.decode("utf-8", "surrogateescape")
    summary = _Summary(blocks, stacks, leaf, trimmed, share, with_task, without_task)

    def build(counts: bool, unit: str, meta: dict[str, object]) -> Profile:
        table = reader.table(0)
        return LazyProfile(table=table, counts_are_weights=counts, unit=unit, diagnostics=diag, meta=meta)

    return _profile(name, options, diag, layout, summary, build)


@dataclass
class _Summary:
    """What folding found: blocks folded, distinct stacks, the first block's leaf frame, stacks
    whose BPF program frames were dropped and their weight, distinct blocks rooted at their task
    line and not."""

    blocks: int
    stacks: int
    first_leaf: str | None
    trimmed: int
    share: Weight
    with_task: int
    without_task: int


def _profile(
    name: str,
    options: FoldOptions,
    diag: Diagnostics,
    layout: Layout | None,
    summary: _Summary,
    build: Callable[[bool, str, dict[str, object]], Profile],
) -> Profile:
    """The profile `build` makes (counts kept for `profile`), with the notes on the layout."""
    if layout is None:
        offcpu = bool(summary.first_leaf and _OFFCPU_LEAF.fullmatch(summary.first_leaf))
        layout = Layout("offcputime" if offcpu else "unknown", "us" if offcpu else "samples", None)
        guess = "offcputime (libbpf-tools; leaf frames are the scheduler's)" if offcpu else "unknown (no header line)"
        diag.notes.append(f"{name}: BCC layout without a header; tool: {guess}; unit {layout.unit}")
    else:
        diag.notes.append(f"{name}: BCC {layout.tool} output ({layout.header!r}); unit {layout.unit}")
    diag.notes.append(f"{name}: {summary.blocks} stacks folded into {summary.stacks}")
    if summary.trimmed:
        diag.notes.append(
            f"{name}: the BPF program's own frames (bpf_prog_*, bpf_trace_run*) dropped from "
            f"{summary.trimmed:,} stacks ({summary.share:,} {layout.unit}); --keep-bpf-frames keeps them"
        )
    meta: dict[str, object] = {"tool": layout.tool}
    if not summary.without_task:  # every stack's root frame is its task: `comm`, or `comm-PID` with --pid
        meta[ROOT_FRAMES] = ("comm-pid",) if options.pid else ("comm",)
    elif not summary.with_task:
        meta[ROOT_FRAMES] = ()
    return build(layout.tool == "profile", layout.unit, meta)


def _bad_block(diag: Diagnostics, name: str, block: list[str], start: int, folder: Folder) -> None:
    for offset, text in enumerate(block):
        if folder.namer(text) is None:
            diag.bad_line(name, start + offset, text)
            return


def _looks_folded(head: bytes) -> bool:
    """True when the input is BCC's `-f` output (folded lines), not its multi-line layout."""
    return bool(folded.sniff(head)) and not sniff_layout(head)


def sniff_layout(head: bytes) -> bool:
    """True if the first lines are BCC's multi-line layout: a header, or indented blocks that each
    end with an indented value line (perf samples start with a header line that is not indented,
    bpftrace entries with `@`)."""
    text = head[:32768].decode("utf-8", "replace").replace("\r\n", "\n")
    lines = text.split("\n")
    if len(head) >= 32768:
        lines = lines[:-1]
    in_block = False
    blocks = 0
    for line in lines[:2000]:
        if not line.strip():
            if in_block:
                return False  # a block ended without its value line
            continue
        if line[:1] in (" ", "\t"):
            if _VALUE.fullmatch(line):
                if not in_block:
                    return False
                blocks += 1
                in_block = False
                if blocks >= 2:
                    return True
            else:
                in_block = True
            continue
        if in_block:
            return False
        if _header(line) is not None:
            return True
        if not _CHATTER.fullmatch(line):
            return False
    return blocks >= 1 and not in_block


def sniff(head: bytes) -> bool | None:
    """True for BCC's multi-line output (BCC `-f` output is claimed by the folded format)."""
    return sniff_layout(head)

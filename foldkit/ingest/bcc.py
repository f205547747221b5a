"""BCC tool output (`profile`, `offcputime`, `offwaketime`, `stackcount`, `wakeuptime`) and
libbpf-tools `offcputime`, in the default multi-line layout; their `-f` folded output is read as
folded stacks.

Every entry is a block of indented lines ending with the value on a line of its own. The tools print
the stack leaf first and the task name last, and their folded form is exactly that block reversed
(offwaketime and wakeuptime included), so a block folds to its lines, named, in reverse order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from foldkit.ingest import bpf_frames as bf
from foldkit.ingest import folded
from foldkit.ingest.base import end_blocks
from foldkit.ingest.options import FoldOptions
from foldkit.inputs import Source
from foldkit.profile import ROOT_FRAMES, Diagnostics, Profile, Weight, parse_count

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
        return ";".join(names)


def fold(source: Source, options: FoldOptions) -> Profile:
    """Sum the value of every block under its folded stack."""
    if _looks_folded(source.head()):
        profile = folded.fold(source, options)
        profile.diagnostics.notes.append(f"{source.name}: BCC folded (-f) output, read as folded stacks")
        return profile
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
            diag.warnings.append(
                f"{source.name}:{block_start}: stack without a value (cut off before line {lineno}); dropped"
            )
            diag.bad_line(source.name, block_start, block[0])
            block = []
        if not line.strip():
            continue
        found = _header(line)
        if found is not None:
            layout = layout or found
            continue
        if _CHATTER.fullmatch(line):
            if line.startswith("WARNING"):
                diag.warnings.append(f"{source.name}:{lineno}: the tool said: {line}")
            continue
        diag.bad_line(source.name, lineno, line)
    end_blocks(diag, source.name, block, block_start, bool(weights), "BCC")
    if layout is None:
        offcpu = bool(folder.first_leaf and _OFFCPU_LEAF.fullmatch(folder.first_leaf))
        layout = Layout("offcputime" if offcpu else "unknown", "us" if offcpu else "samples", None)
        guess = "offcputime (libbpf-tools; leaf frames are the scheduler's)" if offcpu else "unknown (no header line)"
        diag.notes.append(f"{source.name}: BCC layout without a header; tool: {guess}; unit {layout.unit}")
    else:
        diag.notes.append(f"{source.name}: BCC {layout.tool} output ({layout.header!r}); unit {layout.unit}")
    diag.notes.append(f"{source.name}: {blocks} stacks folded into {len(weights)}")
    counts = {s: int(w) for s, w in weights.items()} if layout.tool == "profile" else None
    meta: dict[str, object] = {"tool": layout.tool}
    if not folder.without_task:  # every stack's root frame is its task: `comm`, or `comm-PID` with --pid
        meta[ROOT_FRAMES] = ("comm-pid",) if options.pid else ("comm",)
    elif not folder.with_task:
        meta[ROOT_FRAMES] = ()
    return Profile(weights=weights, counts=counts, unit=layout.unit, diagnostics=diag, meta=meta)


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

"""bpftrace map prints (`-f text`, the default): `@name[key, …]: value` entries whose keys hold
`kstack`/`ustack` in any stack mode, mixed with scalar keys (`comm`, `pid`, …).

A printed key is its parts joined by `, `; a stack part is a newline, one line per frame (leaf
first) and a newline, so a stack always starts and ends a line. The parser walks lines with a small
state machine, keeps every distinct key with its summed value, and folds at the end, when each stack position of each map can be
told kernel or user from all its frames (bpftrace does not print which is which).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from foldkit.errors import InputError, UsageError
from foldkit.ingest import bpf_frames as bf
from foldkit.ingest import histogram
from foldkit.ingest.options import FoldOptions
from foldkit.ingest.perf_frames import parse_frame_line
from foldkit.inputs import Source, cut_at_lines
from foldkit.native import native_core
from foldkit.profile import ROOT_FRAMES, Diagnostics, LazyProfile, Profile, Weight, parse_count

if TYPE_CHECKING:
    from foldkit import _native

NAME = "bpftrace"
DESCRIPTION = "bpftrace map prints: `@name[kstack, ustack, comm]: N` (stack modes bpftrace/perf/raw, several maps, interval dumps; text or -f json)"
EXAMPLE = "@[\\n    do_nanosleep+1\\n    entry_SYSCALL_64_after_hwframe+68\\n, sleep]: 17"

#: A printed key part: a stack (its frame lines, leaf first, as printed) or a scalar's text.
Part = tuple[str, ...] | str

_ENTRY_START = re.compile(r"@(\w*)\[(.*)")
_MAP_VALUE = re.compile(r"@(\w*):(?: (.*))?")
_END_INT = re.compile(r"(.*)\]: (-?\d+)")
_END_OTHER = re.compile(r"(.*)\]:(?: (.*))?")
_ATTACHING = re.compile(r"Attaching \d+ probes?\.\.\.")
_TIME = re.compile(r"\d\d:\d\d:\d\d")
_ERROR = re.compile(r"(?:\S+:\d+:\d+(?:-\d+)?: )?ERROR: ")
_RAW_FRAME = re.compile(r"[0-9a-fA-F]+")
_PERF_FRAME = re.compile(r"\t[0-9a-fA-F]+ ")
_UNRESOLVED = re.compile(r"0x[0-9a-fA-F]+")
#: `[inlined] ` prefix and `@file:line` suffix of bpftrace-mode frames with debug info.
_BPFTRACE_FRAME = re.compile(
    r"(?P<inlined>\[inlined\] )?(?P<sym>.*?)(?P<off>\+(?:0x[0-9a-fA-F]+|\d+))?(?:@[^@\s]*:\d+)?"
)
#: Names only user space has (matched at the start): JIT prefixes, C++/Rust scopes and signatures,
#: spaces (JIT maps), PLT stubs, program and thread entry points.
_USER_NAME = re.compile(
    r"(?:JS:|Builtins_)|.*(?:::|\(|\s|@plt|\.so\b|\[clone)|(?:_start|main|__libc_start\w*|start_thread|clone3?|_dl_\w+)$"
)
#: How many lines of program output (printf text outside maps) a note quotes.
_MAX_EXAMPLE_LINES = 3


@dataclass(frozen=True, slots=True)
class Frame:
    """One printed frame line, named: folded name, kernel evidence (+1/-1/0), inlined, stack mode,
    and whether the evidence is exact (it came from the frame's address)."""

    name: str
    evidence: int
    inlined: bool
    mode: str
    exact: bool = False


class FrameNamer:
    """Frame lines -> `Frame`, memoised per distinct line."""

    def __init__(self, options: FoldOptions) -> None:
        self.addrs = options.addrs
        self._cache: dict[str, Frame] = {}

    def __call__(self, line: str) -> Frame:
        try:
            return self._cache[line]
        except KeyError:
            frame = self._cache[line] = self._name(line)
            return frame

    def _address_frame(self, text: str, mode: str, module: str | None = None) -> Frame:
        value = bf.parse_address(text)
        evidence = 0 if value is None else (1 if bf.is_kernel_address(value) else -1)
        return Frame(bf.unresolved(text.lower(), self.addrs, module), evidence, False, mode, value is not None)

    def _name(self, line: str) -> Frame:
        if line[:1] == "\t" and _PERF_FRAME.match(line):
            frame = self._perf_mode(line)
            if frame is not None:
                return frame
        if line[:1] not in (" ", "") and _RAW_FRAME.fullmatch(line):
            # raw mode: nothing but the address, which is then the only name there is
            value = int(line, 16)
            evidence = 1 if bf.is_kernel_address(value) else -1
            return Frame(f"0x{line.lower()}", evidence, False, "raw", True)
        text = line.strip()
        if _UNRESOLVED.fullmatch(text):
            return self._address_frame(text, "bpftrace")
        m = _BPFTRACE_FRAME.fullmatch(text)
        assert m is not None  # every part is optional
        name = bf.tidy(m.group("sym")) or bf.UNKNOWN
        if bf.is_kernel_name(name):
            evidence = 1
        elif _USER_NAME.match(name):
            evidence = -1
        else:
            evidence = 0
        return Frame(name, evidence, m.group("inlined") is not None, "bpftrace")

    def _perf_mode(self, line: str) -> Frame | None:
        parsed = parse_frame_line(line)
        if parsed is None:
            return None
        pc, sym, module = parsed.pc, parsed.sym, parsed.dso
        inlined = module == "inlined"
        value = bf.parse_address(pc) if pc else None
        if value is not None:
            evidence = 1 if bf.is_kernel_address(value) else -1
        else:
            evidence = 1 if module is None else -1  # kstack(perf) frames have no (module)
        exact = value is not None
        if not sym or sym == "[unknown]" or _UNRESOLVED.fullmatch(sym):
            frame = self._address_frame(pc or sym, "perf", None if inlined else module)
            return Frame(frame.name, evidence, False, "perf", exact)
        return Frame(bf.tidy(sym) or bf.UNKNOWN, evidence, inlined, "perf", exact)


@dataclass
class MapDump:
    """Everything printed for one map name (several dumps of it are concatenated)."""

    name: str
    first_line: int
    #: Printed key -> sum of its printed values (a key printed in several dumps is summed here,
    #: which keeps memory bounded by the distinct keys, not by the number of dumps).
    entries: dict[tuple[Part, ...], int] = field(default_factory=dict)
    printed: int = 0  # entries printed with an integer value

    def add(self, parts: tuple[Part, ...], value: int) -> None:
        """Record one printed entry."""
        self.entries[parts] = self.entries.get(parts, 0) + value
        self.printed += 1
    other_values: int = 0  # entries whose value is a histogram, stats or another non-integer
    other_stack: bool = False  # one of those entries has a stack in its key
    scalar: bool = False  # printed as `@name: value` (no key)

    @property
    def stack_positions(self) -> list[int]:
        """Key positions holding a stack in at least one entry."""
        seen: set[int] = set()
        for parts in self.entries:
            for i, part in enumerate(parts):
                if isinstance(part, tuple):
                    seen.add(i)
        return sorted(seen)

    @property
    def total(self) -> int:
        """Sum of the printed values."""
        return sum(self.entries.values())

    def scalar_kind(self, i: int) -> str:
        """What the first entries hold at key position `i`: `integer`, `string` or `value`."""
        return _scalar_kind(self, i)


@dataclass
class NativeDump:
    """A map as the native reader summarises it: what `MapDump` tells the folding, without its
    entries (they stay in the native reader)."""

    name: str
    first_line: int
    printed: int
    other_values: int
    other_stack: bool
    scalar: bool
    total: int
    stack_positions: list[int]
    #: `scalar_kind` by key position, known once the map is classified
    scalar_kinds: list[str] = field(default_factory=list)

    def scalar_kind(self, i: int) -> str:
        """What the first entries hold at key position `i` (see `MapDump.scalar_kind`)."""
        return self.scalar_kinds[i] if i < len(self.scalar_kinds) else "value"


@dataclass
class ParseResult:
    """Maps in first-printed order plus what else the input held."""

    maps: dict[str, MapDump] = field(default_factory=dict)
    errors: int = 0  # bpftrace error lines
    first_error: str = ""
    other_lines: int = 0
    other_examples: list[str] = field(default_factory=list)
    lines: int = 0
    first_text: str = ""


class _Parser:
    """The line state machine: outside entries, in a key's scalars, or in a stack part."""

    def __init__(self, name: str, diag: Diagnostics) -> None:
        self.source = name
        self.diag = diag
        self.result = ParseResult()
        self.map: MapDump | None = None
        self.parts: list[Part] = []
        self.frames: list[str] | None = None  # the stack being read, or None
        self.entry_line = 0
        self.entry_text = ""
        self.in_histogram = False

    # --- entries -------------------------------------------------------------------------------

    def _map(self, name: str, lineno: int) -> MapDump:
        key = "@" + name
        dump = self.result.maps.get(key)
        if dump is None:
            dump = self.result.maps[key] = MapDump(key, lineno)
        return dump

    def _start_entry(self, name: str, rest: str, lineno: int, line: str) -> None:
        self.map = self._map(name, lineno)
        self.parts = []
        self.entry_line = lineno
        self.entry_text = line
        self._key_text(rest, lineno)

    def _key_text(self, rest: str, lineno: int) -> None:
        """Handle what follows `[` or a `, ` separator: scalars, then an end or a stack."""
        if rest == "":
            self.frames = []
            return
        m = _END_INT.fullmatch(rest)
        if m is not None:
            self.parts.extend(m.group(1).split(", "))
            self._finish(parse_count(m.group(2)))
            return
        m = _END_OTHER.fullmatch(rest)
        if m is not None:
            self.parts.extend(m.group(1).split(", "))
            self._finish_other(m.group(2))
            return
        if rest.endswith(", "):
            self.parts.extend(rest[:-2].split(", "))
            self.frames = []
            return
        self._abandon(lineno, rest)

    def _finish(self, value: int) -> None:
        assert self.map is not None
        self.map.add(tuple(self.parts), value)
        self.map, self.parts, self.frames = None, [], None

    def _finish_other(self, value: str | None) -> None:
        assert self.map is not None
        self.map.other_values += 1
        if any(isinstance(p, tuple) for p in self.parts):
            self.map.other_stack = True
        self.in_histogram = not value
        self.map, self.parts, self.frames = None, [], None

    def _abandon(self, lineno: int, text: str) -> None:
        """A key line that cannot be parsed: count it as unrecognised and drop the entry."""
        self.diag.bad_line(self.source, lineno, text)
        self.map, self.parts, self.frames = None, [], None

    def _cut_entry(self, lineno: int, why: str) -> None:
        """The entry that started at `entry_line` never ended."""
        self.diag.warnings.append(
            f"{self.source}:{self.entry_line}: map entry {self.entry_text.strip()!r} is incomplete "
            f"({why}); its frames were dropped"
        )
        self.diag.bad_line(self.source, self.entry_line, self.entry_text)
        self.map, self.parts, self.frames = None, [], None

    # --- lines ---------------------------------------------------------------------------------

    def feed(self, lineno: int, line: str) -> None:
        """Consume one line."""
        if self.frames is not None:
            first = line[:1]
            if first == "]":
                m = _END_INT.fullmatch(line)
                self.parts.append(tuple(self.frames))
                if m is not None and m.group(1) == "":
                    self._finish(parse_count(m.group(2)))
                    return
                m = _END_OTHER.fullmatch(line)
                if m is not None and m.group(1) == "":
                    self._finish_other(m.group(2))
                    return
                self._abandon(lineno, line)
                return
            if line.startswith(", "):
                self.parts.append(tuple(self.frames))
                self.frames = None
                self._key_text(line[2:], lineno)
                return
            if first == "@" or not line.strip():
                self._cut_entry(lineno, f"line {lineno} starts something else")
                if line.strip():
                    self.feed(lineno, line)
                return
            self.frames.append(line)
            return
        self._outside(lineno, line)

    def _outside(self, lineno: int, line: str) -> None:
        result = self.result
        if not line.strip():
            self.in_histogram = False
            return
        first = line[:1]
        if first == "@":
            self.in_histogram = False
            m = _ENTRY_START.match(line)
            if m is not None:
                self._start_entry(m.group(1), m.group(2), lineno, line)
                return
            m = _MAP_VALUE.fullmatch(line)
            if m is not None:
                dump = self._map(m.group(1), lineno)
                dump.scalar = True
                value = m.group(2)
                if value is not None and re.fullmatch(r"-?\d+", value.strip()):
                    dump.add((), parse_count(value.strip()))
                else:
                    dump.other_values += 1
                    self.in_histogram = not (value or "").strip()
                return
            self.diag.bad_line(self.source, lineno, line)
            return
        if self.in_histogram and first in "[(":
            return
        if first in " \t]," or _RAW_FRAME.fullmatch(line):
            # a frame or key fragment outside any entry: part of a map was lost
            self.diag.bad_line(self.source, lineno, line)
            return
        if not result.first_text:
            result.first_text = line
        if _ATTACHING.fullmatch(line) or _TIME.fullmatch(line):
            return
        if _ERROR.match(line):
            result.errors += 1
            result.first_error = result.first_error or line
            return
        result.other_lines += 1
        if len(result.other_examples) < _MAX_EXAMPLE_LINES:
            result.other_examples.append(f"{lineno}: {line[:120]!r}")

    def close(self, lineno: int) -> ParseResult:
        """End of input: report an entry left open."""
        if self.map is not None:
            self._cut_entry(lineno, "the input ends inside it; truncated copy?")
        self.result.lines = lineno
        return self.result


def parse(source: Source, diag: Diagnostics) -> ParseResult:
    """Read every map entry of a bpftrace output (text, or `-f json` read as the text it stands for)."""
    parser = _Parser(source.name, diag)
    lineno = 0
    lines: Iterable[str] = source.text_lines()
    if source.head(64).lstrip().startswith(b'{"type":'):
        lines = json_as_text(lines, source.name, diag)
    for lineno, line in enumerate(lines, start=1):
        parser.feed(lineno, line)
    return parser.close(lineno)


def json_key_parts(key: str) -> list[str]:
    """The parts of a `-f json` map key, which joins them with `,`: a stack is `\n` and its
    indented frame lines, each ending in `\n` (so `\n,` ends it: no frame line starts with `,`);
    anything else runs to the next `,` (as in the text form, where parts are joined by `, `)."""
    parts: list[str] = []
    pos = 0
    while True:
        if key.startswith("\n", pos):
            end = key.find("\n,", pos + 1)
            end = len(key) - 1 if end < 0 else end
            parts.append(key[pos : end + 1])
            pos = end + 1
        else:
            end = key.find(",", pos)
            end = len(key) if end < 0 else end
            parts.append(key[pos:end])
            pos = end
        if pos >= len(key):
            return parts
        pos += 1  # the `,` between parts


def json_as_text(lines: Iterable[str], name: str, diag: Diagnostics) -> Iterator[str]:
    """bpftrace `-f json` output as the lines its default text output would have: a map entry's
    key is the text key with `,` between its parts where the text has `, ` (`",\n    f+1\n,sort"`
    is `@[, ` / `    f+1` / `, sort]: N`; see `json_key_parts`), so both fold through one parser
    and agree exactly.
    Histograms and statistics (not foldable) are counted in a note."""
    skipped: dict[str, int] = {}

    def skip(map_name: str) -> None:
        skipped[map_name] = skipped.get(map_name, 0) + 1

    for kind, data in bf.json_events(lines, name, diag):
        yield from json_event_lines(kind, data, skip)
    for map_name, count in skipped.items():
        diag.notes.append(json_skip_note(name, map_name, count))


def json_skip_note(name: str, map_name: str, count: int) -> str:
    """The note on a `-f json` map printed `count` times as something other than stacks."""
    return f"{name}: JSON map {map_name}: {count} histogram/statistics print(s), not stacks; skipped"


def json_event_lines(kind: str, data: object, skip: Callable[[str], None]) -> Iterator[str]:
    """The text lines one `-f json` event stands for (see `json_as_text`); `skip(map)` is called
    for each print of a map that is not stacks."""
    if kind == "attached_probes" and isinstance(data, dict):
        yield f"Attaching {data.get('probes', 0)} probes..."
    elif kind == "map" and isinstance(data, dict):
        for map_name, entries in data.items():
            if isinstance(entries, int) and not isinstance(entries, bool):
                yield from f"{map_name}: {entries}".split("\n")
                continue
            if not isinstance(entries, dict):
                skip(map_name)
                continue
            for key, value in entries.items():
                if not isinstance(value, int) or isinstance(value, bool):
                    skip(map_name)
                    continue
                yield from f"{map_name}[{', '.join(json_key_parts(key))}]: {value}".split("\n")
    elif kind in ("hist", "stats", "lhist") and isinstance(data, dict):
        for map_name in data:
            skip(map_name)


# --- folding -----------------------------------------------------------------------------------


@dataclass
class StackMap:
    """A map with a stack in its key, its key positions classified."""

    dump: MapDump | NativeDump
    positions: list[int]
    kinds: dict[int, str]  # stack position -> "kstack" | "ustack" | "stack" (undecided)
    modes: set[str]
    arity: int

    def describe(self) -> str:
        """`@user (keys: ustack, string; 829 entries, total 989)` (entries as printed)."""
        keys = []
        for i in range(self.arity):
            if i in self.kinds:
                keys.append(self.kinds[i])
            else:
                keys.append(self.dump.scalar_kind(i))
        return (
            f"{self.dump.name} (keys: {', '.join(keys)}; {self.dump.printed} entries, "
            f"total {self.dump.total})"
        )


def _scalar_kind(dump: MapDump, i: int) -> str:
    for parts in itertools.islice(dump.entries, 50):
        if i < len(parts) and isinstance(parts[i], str) and parts[i]:
            return "integer" if re.fullmatch(r"-?\d+", parts[i]) else "string"  # type: ignore[arg-type]
    return "value"


def classify(dump: MapDump, namer: FrameNamer) -> StackMap | None:
    """The map's stack positions, each told kernel or user by the evidence of all its frames."""
    positions = dump.stack_positions
    if not positions or not dump.entries:
        return None
    score = dict.fromkeys(positions, 0)
    modes: set[str] = set()
    arity = 0
    for parts in dump.entries:
        arity = max(arity, len(parts))
        for i in positions:
            if i < len(parts):
                part = parts[i]
                if isinstance(part, tuple):
                    for line in part:
                        frame = namer(line)
                        score[i] += frame.evidence
                        modes.add(frame.mode)
    kinds = {i: "kstack" if s > 0 else "ustack" if s < 0 else "stack" for i, s in score.items()}
    return StackMap(dump, positions, kinds, modes, arity)


class Folder:
    """Builds folded stacks from entries of one classified map."""

    def __init__(self, stack_map: StackMap, namer: FrameNamer, options: FoldOptions) -> None:
        self.namer = namer
        self.options = options
        self.kinds = stack_map.kinds
        # user (and undecided) stacks first, kernel stacks last: kernel frames sit on top
        self.order = [i for i in stack_map.positions if self.kinds[i] != "kstack"] + [
            i for i in stack_map.positions if self.kinds[i] == "kstack"
        ]
        self._skip = frozenset(options.skip_after)

    def stack(self, parts: tuple[Part, ...], root: list[str]) -> str:
        """The folded stack of one entry, below the given root frames (e.g. the map name)."""
        frames = list(root)
        for i, part in enumerate(parts):
            if i not in self.kinds and isinstance(part, str) and part:
                frames.append(part.replace(";", ":"))
        keep = len(frames)
        kernel = self.options.kernel
        inline = self.options.inline
        for i in self.order:
            part = parts[i] if i < len(parts) else ()
            if isinstance(part, str):
                if part:  # a scalar where other entries have a stack: keep it as a frame
                    frames.append(part.replace(";", ":"))
                continue
            in_kstack = self.kinds[i] == "kstack"
            undecided = self.kinds[i] == "stack"  # then a frame's own address decides
            for line in reversed(part):
                frame = self.namer(line)
                name = frame.name
                if frame.inlined and inline:
                    name += bf.INLINE_SUFFIX
                elif kernel and (in_kstack or (undecided and frame.exact and frame.evidence > 0)):
                    name = bf.annotate_kernel(name)
                frames.append(name)
        if len(frames) == keep:
            frames.append(bf.NO_STACK)
        if self._skip:
            frames = bf.cut_after(frames, self._skip, keep)
        return ";".join(frames)


def _normalise_map_name(name: str) -> str:
    name = name.strip()
    return name if name.startswith("@") else "@" + name


def _choose(stack_maps: list[StackMap], result: ParseResult, options: FoldOptions, source: str) -> list[StackMap]:
    by_name = {m.dump.name: m for m in stack_maps}
    listing = "; ".join(m.describe() for m in stack_maps)
    if options.maps:
        if any(n.strip().lower() == "all" for n in options.maps):
            return stack_maps
        chosen: list[StackMap] = []
        for raw in options.maps:
            name = _normalise_map_name(raw)
            if name in by_name:
                if by_name[name] not in chosen:
                    chosen.append(by_name[name])
                continue
            if name in result.maps:
                raise UsageError(
                    f"{source}: map {name} has no stack in its key (or its values are not count()/sum()), "
                    f"so it cannot be folded; stack maps: {listing or 'none'}"
                )
            printed = ", ".join(result.maps) or "none"
            raise UsageError(f"{source}: no map {name} in the input; maps printed: {printed}")
        return chosen
    if len(stack_maps) > 1:
        raise SeveralMaps(source, stack_maps)
    return stack_maps


class SeveralMaps(UsageError):
    """The input has several stack maps and no `--map` chose: the message lists them and how to
    choose (`choice` builds it again with another way of choosing, e.g. `report`'s PATTERN=MAP)."""

    def __init__(self, source: str, stack_maps: list[StackMap]) -> None:
        self.source = source
        self.maps = [m.dump.name for m in stack_maps]
        self.rows = "\n".join(f"  {m.describe()}" for m in stack_maps)
        names = " or ".join(f"--map {name}" for name in self.maps)
        super().__init__(self.choice(f"{names} (repeatable), or --map all (each map's name becomes its root frame)"))

    def choice(self, how: str) -> str:
        """The message, saying `how` to choose."""
        return f"{self.source}: {len(self.maps)} stack maps in the input, which one should be folded?\n{self.rows}\nChoose with {how}"


def _no_stack_map_error(result: ParseResult, skipped: list[str], source: str) -> InputError:
    if result.errors and not result.maps:
        return InputError(f"{source}: bpftrace printed an error, not a map: {result.first_error!r}")
    if skipped:
        return InputError(
            f"{source}: no map with a stack in its key to fold ({'; '.join(skipped)}); foldkit folds "
            "maps keyed by kstack/ustack whose values come from count() or sum()"
        )
    start = f" (it starts with {result.first_text[:80]!r})" if result.first_text else ""
    return InputError(f"{source}: no bpftrace map found in {result.lines} lines{start}")


def _skipped_reason(dump: MapDump | NativeDump) -> str:
    if dump.scalar:
        kind = "a histogram or statistics" if dump.other_values else "a single value"
        return f"{dump.name}: {kind}, no key"
    if dump.other_stack or (dump.other_values and dump.stack_positions):
        return f"{dump.name}: stack key, but histogram/statistics values ({dump.other_values} entries)"
    return f"{dump.name}: no stack in its key ({dump.printed + dump.other_values} entries)"


def fold(source: Source, options: FoldOptions) -> Profile:
    """Fold the chosen stack map(s); the other maps are skipped with a note. The output (text or
    `-f json`) is read by the native reader when it is built (`fold_python` is the reference it
    is tested against)."""
    if native_core() is not None:
        return fold_native(source.name, source.chunks(cut=cut_at_lines), options, json=_is_json(source))
    return fold_python(source, options)


def _is_json(source: Source) -> bool:
    return source.head(64).lstrip().startswith(b'{"type":')


def fold_python(source: Source, options: FoldOptions) -> Profile:
    """`fold` by the Python reader alone."""
    diag = Diagnostics()
    result = parse(source, diag)
    namer = FrameNamer(options)
    stack_maps: list[StackMap] = []
    skipped: list[str] = []
    for dump in result.maps.values():
        classified = classify(dump, namer) if not dump.other_values and not dump.scalar else None
        if classified is None:
            skipped.append(_skipped_reason(dump))
        else:
            stack_maps.append(classified)

    def weights_of(chosen: list[StackMap], several: bool) -> dict[str, Weight]:
        weights: dict[str, Weight] = {}
        for stack_map in chosen:
            folder = Folder(stack_map, namer, options)
            root = [stack_map.dump.name] if several else []
            for parts, value in stack_map.dump.entries.items():  # type: ignore[union-attr]
                stack = folder.stack(parts, root)
                weights[stack] = weights.get(stack, 0) + value
        return weights

    def build(chosen: list[StackMap], several: bool, meta: dict[str, object]) -> Profile:
        return Profile(weights=weights_of(chosen, several), unit="samples", diagnostics=diag, meta=meta)

    return _folded(source.name, options, diag, result, stack_maps, skipped, build)


def fold_native(name: str, chunks: Iterable[bytes], options: FoldOptions, json: bool = False) -> Profile:
    """`fold` of text output (`-f json` output with `json`) cut into chunks of whole lines by the
    native reader: the entries stay there, the stacks go to a native table (a `LazyProfile`)."""
    core = native_core()
    assert core is not None, "fold_native needs the native core"
    reader = core.BpftraceReader(
        options.addrs, options.kernel, options.inline, [n.encode("utf-8", "surrogateescape") for n in options.skip_after]
    )
    try:
        _feed(reader, chunks, json)
        reader.finish()
        namer = FrameNamer(options)
        named = []
        for raw in reader.odd_lines():
            frame = namer(raw.decode("utf-8", "surrogateescape"))
            named.append((frame.name.encode("utf-8", "surrogateescape"), frame.evidence, frame.inlined, frame.mode, frame.exact))
        reader.name_lines(named)
    except RuntimeError as exc:  # a panic in the native reader (a bug): say which input
        raise InputError(f"{name}: {exc}") from exc
    diag = Diagnostics()
    result = _native_report(reader, name, diag)
    stack_maps: list[StackMap] = []
    skipped: list[str] = []
    index: dict[str, int] = {}
    for at, row in enumerate(reader.maps()):
        map_name, first_line, printed, other_values, other_stack, scalar, total, size, positions = row
        dump = NativeDump(_text(map_name), first_line, printed, other_values, other_stack, scalar, total, positions)
        result.maps[dump.name] = dump  # type: ignore[assignment]
        index[dump.name] = at
        found = reader.classify(at) if size and not other_values and not scalar else None
        if found is None:
            skipped.append(_skipped_reason(dump))
            continue
        positions, kinds, modes, arity, dump.scalar_kinds = found
        stack_maps.append(StackMap(dump, positions, dict(zip(positions, kinds, strict=True)), set(modes), arity))

    def build(chosen: list[StackMap], several: bool, meta: dict[str, object]) -> Profile:
        try:
            table = reader.fold([index[m.dump.name] for m in chosen], several)
        except RuntimeError as exc:
            raise InputError(f"{name}: {exc}") from exc
        return LazyProfile(table=table, unit="samples", diagnostics=diag, meta=meta)

    return _folded(name, options, diag, result, stack_maps, skipped, build)


def _feed(reader: _native.BpftraceReader, chunks: Iterable[bytes], json: bool) -> None:
    """Read every chunk (none is kept once read: a `-f json` map is one line, tens of MB)."""
    for chunk in chunks:
        if json:
            _feed_json(reader, chunk)
        else:
            reader.feed(chunk)


def _feed_json(reader: _native.BpftraceReader, chunk: bytes) -> None:
    """Read the `-f json` lines of `chunk` natively; a line the native reader leaves to Python
    (see `foldkit_core::bpf::json`) is read by `json_event_lines` and its text lines handed in."""
    pos = 0
    while (declined := reader.feed_json(chunk, pos)) is not None:
        start, end, pos, lineno = declined
        line = chunk[start:end]
        event = bf.json_event(_text(line))
        if event is None:
            reader.bad_line(lineno, line)
            continue
        kind, data = event
        lines = json_event_lines(kind, data, lambda map_name: reader.json_skip(map_name.encode("utf-8", "surrogateescape")))
        reader.text_lines([text.encode("utf-8", "surrogateescape") for text in lines])


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _native_report(reader: _native.BpftraceReader, name: str, diag: Diagnostics) -> ParseResult:
    """What the native reader found beside the maps, as the Python reader reports it."""
    bad, quoted, cuts, errors, first_error, other, examples, first_text, lines = reader.report()
    for entry_line, entry_text, at in cuts:
        why = "the input ends inside it; truncated copy?" if at is None else f"line {at} starts something else"
        diag.warnings.append(
            f"{name}:{entry_line}: map entry {_text(entry_text).strip()!r} is incomplete ({why}); its frames were dropped"
        )
    for lineno, text in quoted:
        diag.bad_line(name, lineno, _text(text))
    diag.bad_lines = bad
    for map_name, count in reader.json_skipped():
        diag.notes.append(json_skip_note(name, _text(map_name), count))
    return ParseResult(
        errors=errors,
        first_error=_text(first_error or b""),
        other_lines=other,
        other_examples=[f"{lineno}: {_text(text)[:120]!r}" for lineno, text in examples],
        lines=lines,
        first_text=_text(first_text or b""),
    )


def _folded(
    name: str,
    options: FoldOptions,
    diag: Diagnostics,
    result: ParseResult,
    stack_maps: list[StackMap],
    skipped: list[str],
    build: Callable[[list[StackMap], bool, dict[str, object]], Profile],
) -> Profile:
    """The profile of the chosen maps (`build` folds them), with the notes on what was and was
    not folded."""
    if not stack_maps:
        error = _no_stack_map_error(result, skipped, name)
        json_skips = [n.removeprefix(f"{name}: ") for n in diag.notes if n.startswith(f"{name}: JSON map ")]
        if json_skips:  # `-f json` of histograms only: say what was there
            raise InputError(f"{name}: no stack map to fold; {'; '.join(json_skips)}")
        raise error
    chosen = _choose(stack_maps, result, options, name)
    several = len(chosen) > 1
    for stack_map in chosen:
        diag.notes.append(
            f"{name}: folded {stack_map.describe()}, stack mode {'/'.join(sorted(stack_map.modes)) or 'none'}"
        )
    if several:
        diag.notes.append(f"{name}: several maps folded; each map's name is its stacks' root frame")
    for stack_map in stack_maps:
        if stack_map not in chosen:
            diag.notes.append(f"{name}: not folded (not chosen): {stack_map.describe()}")
    for reason in skipped:
        diag.notes.append(f"{name}: skipped map {reason}")
    if result.errors:
        diag.warnings.append(
            f"{name}: {result.errors} bpftrace error line(s) in the input, e.g. {result.first_error!r}"
        )
    if result.other_lines:
        diag.notes.append(
            f"{name}: {result.other_lines} line(s) of program output outside maps ignored, e.g. "
            + "; ".join(result.other_examples)
        )
    meta: dict[str, object] = {"maps": [m.dump.name for m in chosen]}
    layouts = {root_frames(m) for m in chosen}
    if len(layouts) == 1:
        meta[ROOT_FRAMES] = (("map",) if several else ()) + layouts.pop()
    return build(chosen, several, meta)


def root_frames(stack_map: StackMap) -> tuple[str, ...]:
    """What the root frames of a map's stacks hold: one per scalar key, in key order, `comm` for a
    string key and `pid` for an integer one (bpftrace prints `comm`, `pid`, `tid`, `cpu` alike, so
    an integer key is taken for a process id, as `--only-pid` reads it)."""
    names = {"string": "comm", "integer": "pid"}
    return tuple(
        names.get(stack_map.dump.scalar_kind(i), "key") for i in range(stack_map.arity) if i not in stack_map.kinds
    )


def sniff(head: bytes) -> bool | None:
    """True for bpftrace output (`Attaching N probes...` or map lines); None for a bpftrace error.
    Output whose maps are all histograms is the `histogram` format's."""
    if histogram.sniff(head):
        return False
    text = head[:32768].decode("utf-8", "replace")
    lines = text.replace("\r\n", "\n").split("\n")
    if len(head) >= 32768:
        lines = lines[:-1]
    first = next((ln for ln in lines if ln.strip()), "")
    if _ATTACHING.fullmatch(first) or first.startswith('{"type": "attached_probes"'):
        return True
    error = False
    for line in lines[:2000]:
        if line[:1] == "@" and (_ENTRY_START.match(line) or _MAP_VALUE.fullmatch(line)):
            return True
        if _ERROR.match(line):
            error = True
    return None if error else False

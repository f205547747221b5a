"""BCC and libbpf-tools event tables (`opensnoop`, `execsnoop`, `tcplife`, `tcpconnect`,
`biosnoop`): one row per event under a header line of column names.

The tool is recognised by its header's columns, which change with flags and versions (`-T`, `-U`,
`-e`, `-x`, `-w`, BCC or libbpf-tools), so a row is read by a pattern made from the header: one
sub-pattern per column, the command name (which may hold spaces) matched lazily and the last
column (a path, the arguments) taking the rest of the line. Each row becomes one folded stack:

| tool | stack | weight (unit) |
| --- | --- | --- |
| opensnoop | `comm;ok|ERRNO;/;dir/;…;file` | 1 per open (`opens`) |
| execsnoop | `parent comm;comm;argv[0]` (`;ERRNO` when the exec failed) | 1 per exec (`execs`) |
| tcplife | `comm;remote address;remote port` | bytes sent + received (`bytes`) |
| tcpconnect | `comm;destination address;destination port` | 1 per connect (`connects`) |
| biosnoop | `comm;disk;R|W…` | the I/O's latency (`us`) |

A path's frames keep its slashes (`/`, `etc/`, `passwd`) so joining them gives the path back
(`path_of`). execsnoop prints the parent's pid only: its name is the command of the last exec of
that pid seen earlier in the capture, else `[unknown parent]`.

Any other table of a BPF tool (an all-caps header with PID or COMM) is recognised too, and refused
with a message naming the tools that are supported.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from foldkit.errors import InputError
from foldkit.ingest import bpf_frames as bf
from foldkit.ingest.options import FoldOptions
from foldkit.inputs import Source
from foldkit.profile import Diagnostics, Profile, Weight

NAME = "events"
DESCRIPTION = "BCC/libbpf-tools event tables: opensnoop, execsnoop, tcplife, tcpconnect, biosnoop"
EXAMPLE = "PID    COMM              FD ERR PATH\\n17864  irisdb              3   0 /etc/ld.so.cache"

#: `Profile.meta` key naming the tool of an event table (the report shows its tables).
TOOL_KEY = "event_table"
#: Frame of an opensnoop row whose open succeeded.
OK = "ok"
#: Parent frame of an execsnoop row whose parent never exec'd in the capture.
UNKNOWN_PARENT = "[unknown parent]"

#: Column name -> pattern of its value (columns not listed take one word).
_COLUMN = {
    "TIME": r"\d\d:\d\d:\d\d",
    "TIME(s)": r"\d+(?:\.\d+)?|\d\d:\d\d:\d\d",  # libbpf-tools tcplife -T prints a clock time
    "UID": r"\d+",
    "PID": r"\d+",
    "TID": r"\d+",
    "PPID": r"\d+|\?",
    "FD": r"-?\d+",
    "ERR": r"-?\d+",
    "RET": r"-?\d+",
    "FLAGS": r"[0-7]+",
    "IP": r"[46]",
    "LPORT": r"\d+",
    "RPORT": r"\d+",
    "DPORT": r"\d+",
    "TX_KB": r"\d+(?:\.\d+)?",
    "RX_KB": r"\d+(?:\.\d+)?",
    "MS": r"\d+(?:\.\d+)?",
    "SECTOR": r"\d+",
    "BYTES": r"\d+",
    "LAT(ms)": r"\d+(?:\.\d+)?",
    "QUE(ms)": r"\d+(?:\.\d+)?",
}
#: Columns whose values may hold spaces (a command name: matched lazily).
_NAME_COLUMNS = {"COMM", "PCOMM"}
#: Columns that take the rest of the line (only as the last column).
_REST_COLUMNS = {"PATH", "ARGS", "QUERY"}


@dataclass(frozen=True)
class Tool:
    """A supported tool: the columns its header always has, its unit and how a row folds."""

    name: str
    required: frozenset[str]
    unit: str


TOOLS: tuple[Tool, ...] = (
    Tool("opensnoop", frozenset({"COMM", "FD", "ERR", "PATH"}), "opens"),
    Tool("execsnoop", frozenset({"PCOMM", "PID", "PPID", "RET", "ARGS"}), "execs"),
    Tool("tcplife", frozenset({"COMM", "RADDR", "RPORT", "TX_KB", "RX_KB"}), "bytes"),
    Tool("tcpconnect", frozenset({"COMM", "DADDR", "DPORT"}), "connects"),
    Tool("biosnoop", frozenset({"COMM", "DISK", "T", "BYTES", "LAT(ms)"}), "us"),
)
SUPPORTED = ", ".join(t.name for t in TOOLS)

#: Lines the tools print around their table (libbpf and BCC chatter, Ctrl-C).
_CHATTER = re.compile(r"libbpf: .*|Tracing .*|Hit Ctrl-C.*|\^C|WARNING: .*|Possibly lost \d+ samples.*|Detaching.*")


def tool_for(columns: Sequence[str]) -> Tool | None:
    """The supported tool whose table has these columns."""
    have = set(columns)
    return next((t for t in TOOLS if t.required <= have), None)


def row_pattern(columns: Sequence[str]) -> re.Pattern[str]:
    """The pattern of one row of a table with these columns (named groups c0, c1, …)."""
    parts = []
    for i, col in enumerate(columns):
        last = i == len(columns) - 1
        if col in _REST_COLUMNS and last:
            value = r".*?"
        elif col in _NAME_COLUMNS:
            value = r"\S.*?" if not last else r".*?"
        else:
            value = _COLUMN.get(col, r"\S+")
        parts.append(f"(?P<c{i}>{value})")
    # the last column may be empty (opensnoop of an empty path, execsnoop without arguments)
    return re.compile(r"[ \t]*" + r"[ \t]+".join(parts[:-1]) + r"(?:[ \t]+" + parts[-1] + r")?[ \t]*")


def path_frames(path: str) -> list[str]:
    """A path as frames that keep their slashes: `/etc/passwd` -> `/`, `etc/`, `passwd`."""
    if not path:
        return ["[empty path]"]
    frames = ["/"] if path.startswith("/") else []
    parts = path.strip("/").split("/") if path.strip("/") else []
    for i, part in enumerate(parts):
        frames.append(part + "/" if i < len(parts) - 1 or path.endswith("/") else part)
    return [f.replace(";", ":") for f in frames] or ["/"]


def path_of(frames: Sequence[str]) -> str:
    """The path that `path_frames` split (`;` read back as `:`)."""
    return "".join(frames)


def errno_name(number: int) -> str:
    """`2` -> `ENOENT` (the number itself, `E<n>`, when unknown)."""
    return errno.errorcode.get(abs(number), f"E{abs(number)}")


def _comm(text: str) -> str:
    return text.strip().replace(";", ":") or "[no comm]"


Row = dict[str, str]


class _Folder:
    """Rows of one tool's table -> (stack, weight)."""

    def __init__(self, tool: Tool, options: FoldOptions) -> None:
        self.tool = tool
        self.options = options
        self.parents: dict[str, str] = {}  # execsnoop: pid -> its command
        self.fold: Callable[[Row], tuple[list[str], Weight]] = getattr(self, "_" + tool.name)

    def _task(self, row: Row, column: str = "COMM") -> str:
        comm = _comm(row[column])
        pid = row.get("PID") or row.get("TID")
        return f"{comm}-{pid}" if self.options.pid and pid else comm

    def _opensnoop(self, row: Row) -> tuple[list[str], Weight]:
        err = int(row["ERR"])
        fd = int(row["FD"])
        status = OK if err == 0 and fd >= 0 else errno_name(err or fd)
        return [self._task(row), status, *path_frames(row["PATH"])], 1

    def _execsnoop(self, row: Row) -> tuple[list[str], Weight]:
        comm = self._task(row, "PCOMM")
        ppid = row["PPID"]
        parent = self.parents.get(ppid)
        if parent is None:
            parent = f"[pid {ppid}]" if self.options.pid else UNKNOWN_PARENT
        args = row["ARGS"].split()
        argv0 = bf.tidy(args[0].strip('"')) if args else "[no arguments]"
        ret = int(row["RET"])
        self.parents[row["PID"]] = comm
        stack = [parent, comm, argv0]
        if ret != 0:
            stack.append(errno_name(ret))
        return stack, 1

    def _tcplife(self, row: Row) -> tuple[list[str], Weight]:
        kb = float(row["TX_KB"]) + float(row["RX_KB"])
        return [self._task(row), row["RADDR"], row["RPORT"]], round(kb * 1024)

    def _tcpconnect(self, row: Row) -> tuple[list[str], Weight]:
        return [self._task(row), row["DADDR"], row["DPORT"]], 1

    def _biosnoop(self, row: Row) -> tuple[list[str], Weight]:
        return [self._task(row), _comm(row["DISK"]), row["T"]], round(float(row["LAT(ms)"]) * 1000)


def _first_header(lines: Sequence[str]) -> list[str] | None:
    for line in lines:
        if not line.strip() or _CHATTER.fullmatch(line):
            continue
        return bf.table_header(line)
    return None


def sniff(head: bytes) -> bool | None:
    """True when the first line that is not the tools' chatter is a BPF tool's table header."""
    text = head[:16384].decode("utf-8", "replace").replace("\r\n", "\n")
    return _first_header(text.split("\n")[:50]) is not None


def fold(source: Source, options: FoldOptions) -> Profile:
    """One stack per row, summed; InputError for a table of a tool that is not supported."""
    diag = Diagnostics()
    weights: dict[str, Weight] = {}
    counts: dict[str, int] = {}
    columns: list[str] | None = None
    folder: _Folder | None = None
    pattern: re.Pattern[str] | None = None
    rows = 0
    for lineno, line in enumerate(source.text_lines(), start=1):
        if not line.strip() or _CHATTER.fullmatch(line):
            continue
        found = bf.table_header(line)
        if found is not None:
            if columns is None:
                columns = found
                tool = tool_for(columns)
                if tool is None:
                    raise InputError(
                        f"{source.name}: a BPF tool's table with columns {' '.join(columns)} is not supported; "
                        f"supported tables: {SUPPORTED} (BCC or libbpf-tools)"
                    )
                folder = _Folder(tool, options)
                pattern = row_pattern(columns)
            elif found != columns:
                diag.warnings.append(f"{source.name}:{lineno}: another table header ({line.strip()}); its rows skipped")
                pattern = None
            continue
        if folder is None or pattern is None:
            diag.bad_line(source.name, lineno, line)
            continue
        m = pattern.fullmatch(line)
        if m is None:
            diag.bad_line(source.name, lineno, line)
            continue
        assert columns is not None
        row = {col: m.group(f"c{i}") or "" for i, col in enumerate(columns)}
        try:
            frames, w = folder.fold(row)
        except (ValueError, KeyError):
            diag.bad_line(source.name, lineno, line)
            continue
        stack = ";".join(frames)
        weights[stack] = weights.get(stack, 0) + w
        counts[stack] = counts.get(stack, 0) + 1
        rows += 1
    if folder is None:
        raise InputError(f"{source.name}: no table header found; supported tables: {SUPPORTED}")
    profile = Profile(weights=weights, counts=counts, unit=folder.tool.unit, diagnostics=diag)
    profile.meta["tool"] = folder.tool.name
    profile.meta[TOOL_KEY] = folder.tool.name
    diag.notes.append(f"{source.name}: {folder.tool.name} table, {rows:,} rows ({' '.join(columns or [])})")
    return profile

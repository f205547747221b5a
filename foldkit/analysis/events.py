"""Tables of an event-table capture (opensnoop, execsnoop, tcplife, tcpconnect, biosnoop): what a
person asks of such a capture (top paths, failures by errno and command, top talkers) computed
from the folded rows (`foldkit.ingest.events` says how each row folds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from foldkit.ingest.events import OK, TOOL_KEY, path_of
from foldkit.profile import Profile

if TYPE_CHECKING:
    import polars as pl

#: Rows kept in each table.
TABLE_ROWS = 50


@dataclass(frozen=True)
class EventTable:
    """One table: an id for the page, a title and the rows (heaviest first)."""

    id: str
    title: str
    frame: pl.DataFrame


def _rows(profile: Profile) -> list[tuple[list[str], float, int]]:
    counts = profile.counts or {}
    return [(stack.split(";"), float(w), counts.get(stack, 1)) for stack, w in profile.weights.items()]


def _table(id: str, title: str, records: list[dict[str, object]], by: list[str], sort: str) -> EventTable:
    import polars as pl

    if not records:
        return EventTable(id, title, pl.DataFrame())
    frame = pl.DataFrame(records)
    value_columns = [c for c in frame.columns if c not in by]
    frame = frame.group_by(by).agg(pl.col(c).sum() for c in value_columns)
    frame = frame.sort([sort, *by], descending=[True] + [False] * len(by)).head(TABLE_ROWS)
    return EventTable(id, title, frame)


def _opensnoop(rows: list[tuple[list[str], float, int]]) -> list[EventTable]:
    paths = [
        {"path": path_of(frames[2:]), "opens": n, "failed": 0 if frames[1] == OK else n}
        for frames, _, n in rows
    ]
    failures = [
        {"errno": frames[1], "command": frames[0], "opens": n, "example path": path_of(frames[2:])}
        for frames, _, n in rows
        if frames[1] != OK
    ]
    out = [_table("top-paths", "Top paths", paths, ["path"], "opens")]
    fail = _table("failures", "Failures by errno and command", [{k: v for k, v in f.items() if k != "example path"} for f in failures], ["errno", "command"], "opens")
    if failures:
        import polars as pl

        examples = pl.DataFrame(failures).group_by(["errno", "command"]).agg(pl.col("example path").sort().first())
        fail = EventTable(fail.id, fail.title, fail.frame.join(examples, on=["errno", "command"], how="left"))
    out.append(fail)
    return out


def _execsnoop(rows: list[tuple[list[str], float, int]]) -> list[EventTable]:
    records = [
        {"parent": f[0], "command": f[1], "argv[0]": f[2], "execs": n, "failed": n if len(f) > 3 else 0}
        for f, _, n in rows
    ]
    return [_table("top-execs", "Top programs executed", records, ["parent", "command", "argv[0]"], "execs")]


def _tcplife(rows: list[tuple[list[str], float, int]]) -> list[EventTable]:
    records = [{"command": f[0], "remote": f[1], "port": f[2], "bytes": int(w), "sessions": n} for f, w, n in rows]
    return [
        _table("top-talkers", "Top talkers (bytes sent and received)", records, ["command", "remote", "port"], "bytes"),
        _table("top-remotes", "Top remote addresses", [{k: v for k, v in r.items() if k not in ("command", "port")} for r in records], ["remote"], "bytes"),
    ]


def _tcpconnect(rows: list[tuple[list[str], float, int]]) -> list[EventTable]:
    records = [{"command": f[0], "destination": f[1], "port": f[2], "connects": n} for f, _, n in rows]
    return [_table("top-destinations", "Top destinations", records, ["command", "destination", "port"], "connects")]


def _biosnoop(rows: list[tuple[list[str], float, int]]) -> list[EventTable]:
    records = [{"command": f[0], "disk": f[1], "type": f[2], "I/Os": n, "latency (us)": int(w)} for f, w, n in rows]
    return [_table("top-io", "I/O by command, disk and type", records, ["command", "disk", "type"], "latency (us)")]


_TABLES = {
    "opensnoop": _opensnoop,
    "execsnoop": _execsnoop,
    "tcplife": _tcplife,
    "tcpconnect": _tcpconnect,
    "biosnoop": _biosnoop,
}


def event_tables(profile: Profile) -> list[EventTable]:
    """The tables of an event-table capture; [] for any other profile."""
    tool = profile.meta.get(TOOL_KEY)
    make = _TABLES.get(str(tool)) if tool else None
    if make is None:
        return []
    try:
        return make(_rows(profile))
    except IndexError:  # stacks reshaped by a transform: no longer one row's frames
        return []

"""Writing analysis tables: a rich table on a terminal, plain text, CSV, JSON or Parquet.

The format comes from an explicit choice (`--csv`, `--json`, `--parquet`) or from the output name's
suffix (`top.csv`, `top.json.gz`); a table written to a pipe is plain aligned text.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from foldkit.errors import UsageError
from foldkit.outputs import COMPRESSION_SUFFIXES, TABLE_SUFFIXES, is_stdout, write_bytes

#: Width of plain-text tables written to files and pipes (wide enough that names are not cut).
PLAIN_WIDTH = 400


@dataclass
class Column:
    """How one column of a table is shown as text."""

    name: str
    header: str
    kind: str = "text"  # text | weight | percent | delta | pp | pvalue
    justify: str = "right"


@dataclass
class Table:
    """A table of results (a polars frame) with a title, text column layout and JSON metadata."""

    frame: pl.DataFrame
    columns: list[Column]
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def format_number(value: Any, kind: str) -> str:
    """A cell as text: weights with thousands separators, percentages with two decimals."""
    if value is None:
        return "-"
    if kind == "text":
        return str(value)
    x = float(value)
    if math.isnan(x):
        return "-"
    if kind == "weight":
        return f"{x:,.0f}" if x == int(x) or abs(x) >= 100 else f"{x:,.2f}"
    if kind == "delta":
        return f"{x:+,.0f}" if x == int(x) or abs(x) >= 100 else f"{x:+,.2f}"
    if kind == "percent":
        return f"{x:.2f}%"
    if kind == "pp":
        return f"{x:+.2f} pp"
    if kind == "pvalue":
        return f"{x:.2g}" if x >= 1e-4 else f"{x:.1e}"
    return str(value)


def _rich(table: Table, styled: bool) -> RichTable:
    rt = RichTable(
        box=box.SIMPLE_HEAD if styled else box.ASCII2,
        show_edge=styled,
    )
    for col in table.columns:
        rt.add_column(col.header, justify=col.justify, overflow="fold")  # type: ignore[arg-type]
    kinds = [c.kind for c in table.columns]
    for row in table.frame.select([c.name for c in table.columns]).iter_rows():
        cells = []
        for value, kind in zip(row, kinds, strict=True):
            text = format_number(value, kind)
            if styled and kind in ("delta", "pp") and value:
                colour = "red" if float(value) > 0 else "blue"
                text = f"[{colour}]{text}[/{colour}]"
            cells.append(text)
        rt.add_row(*cells)
    return rt


def _print(console: Console, table: Table, styled: bool) -> None:
    if table.title:
        console.print(f"[bold]{table.title}[/bold]" if styled else table.title, soft_wrap=True)
    console.print(_rich(table, styled))
    for note in table.notes:
        console.print(note, markup=False, soft_wrap=True)


def render_text(table: Table, styled: bool = False, width: int = PLAIN_WIDTH) -> str:
    """The table as aligned text (with colour markup only when `styled`)."""
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        color_system="standard" if styled else None,
        markup=styled,
        highlight=False,
        emoji=False,
    )
    _print(console, _escaped(table) if styled else table, styled)
    text = buf.getvalue()
    if not styled:
        text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    return text


def _escaped(table: Table) -> Table:
    """`table` with its text cells and title escaped for rich markup (`[libc.so.6]` is a name)."""
    text_cols = [c.name for c in table.columns if c.kind == "text"]
    frame = table.frame
    if text_cols and frame.height:
        frame = frame.with_columns(
            [pl.col(c).cast(pl.String).map_elements(escape, return_dtype=pl.String) for c in text_cols]
        )
    return Table(frame, table.columns, escape(table.title), table.meta, table.notes)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def to_json(table: Table) -> bytes:
    """The table as a JSON object: its metadata and `rows` (one object per row)."""
    rows = [{k: _json_value(v) for k, v in row.items()} for row in table.frame.to_dicts()]
    doc = {**table.meta, "rows": rows}
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")


def to_csv(table: Table) -> bytes:
    """The table as CSV with a header row."""
    return table.frame.write_csv().encode("utf-8")


def to_parquet(table: Table) -> bytes:
    """The table as a Parquet file."""
    buf = io.BytesIO()
    table.frame.write_parquet(buf)
    return buf.getvalue()


def to_text(table: Table) -> bytes:
    """The table as plain aligned text."""
    return render_text(table).encode("utf-8", "surrogateescape")


#: Table writers by format name; the format is also the output suffix that selects it.
WRITERS: dict[str, Callable[[Table], bytes]] = {
    "text": to_text,
    "csv": to_csv,
    "json": to_json,
    "parquet": to_parquet,
}


def suffix_format(path: str | os.PathLike[str] | None) -> str | None:
    """The table format an output name asks for (`x.csv`, `x.json.zst`), or None."""
    if is_stdout(path):
        return None
    name = os.fspath(path).lower()  # type: ignore[arg-type]
    for comp in COMPRESSION_SUFFIXES:
        name = name.removesuffix(comp)
    return TABLE_SUFFIXES.get(os.path.splitext(name)[1])


def choose_format(path: str | os.PathLike[str] | None, *flags: tuple[bool, str]) -> str:
    """The format from at most one `(flag given, format)` pair, else from the suffix, else text."""
    chosen = [fmt for given, fmt in flags if given]
    if len(chosen) > 1:
        raise UsageError("choose one of " + ", ".join(f"--{f}" for f in chosen))
    if chosen:
        return chosen[0]
    return suffix_format(path) or "text"


def write_table(table: Table, path: str | os.PathLike[str] | None, fmt: str) -> None:
    """Write `table` in `fmt` to `path` (stdout for None or `-`; a terminal gets a rich table)."""
    if is_stdout(path):
        if fmt == "parquet" and sys.stdout.isatty():
            raise UsageError("refusing to write Parquet to a terminal; use -o FILE.parquet")
        if fmt == "text" and sys.stdout.isatty():
            _print(Console(highlight=False, emoji=False), _escaped(table), styled=True)
            return
    write_bytes(path, WRITERS[fmt](table))

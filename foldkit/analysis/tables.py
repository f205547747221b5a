"""Writing analysis tables: a rich table on a terminal, plain text, CSV, JSON or Parquet.

The format comes from an explicit choice (`--csv`, `--json`, `--parquet`) or from the output name's
suffix (`top.csv`, `top.json.gz`); a table written to a pipe is plain aligned text.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from foldkit.errors import UsageError
from foldkit.outputs import (
    COMPRESSION_SUFFIXES,
    TABLE_SUFFIXES,
    is_stdout,
    stdout_binary,
    write_bytes,
)
from foldkit.text import utf8_json, visible, visible_lines

#: `typing.TYPE_CHECKING` without importing typing (a command's start-up loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import polars as pl


@dataclass
class Column:
    """How one column of a table is shown as text."""

    name: str
    header: str
    kind: str = "text"  # text | weight | percent | delta | pp | pvalue
    justify: str = "right"


class Rows:
    """A table's few rows as Python lists, column by column (what `top` shows of a native stack
    table), written as text or JSON without loading polars; `to_polars` makes the frame (CSV,
    Parquet, `Table.frame`). `schema` gives each column's type: `text`, `int` or `float`."""

    def __init__(self, columns: dict[str, list[Any]], schema: dict[str, str]) -> None:
        self.columns = columns
        self.schema = schema

    @property
    def height(self) -> int:
        """Number of rows."""
        return len(next(iter(self.columns.values()), []))

    def to_polars(self) -> pl.DataFrame:
        """The rows as the polars frame of the same columns and types."""
        import polars as pl

        dtypes = {"text": pl.String, "int": pl.Int64, "float": pl.Float64}
        return pl.DataFrame(self.columns, schema={name: dtypes[kind] for name, kind in self.schema.items()})


@dataclass
class Table:
    """A table of results (a polars frame, or `Rows` until a frame is asked for) with a title,
    text column layout and JSON metadata."""

    data: pl.DataFrame | Rows
    columns: list[Column]
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def frame(self) -> pl.DataFrame:
        """The rows as a polars frame (made from `Rows` once)."""
        if isinstance(self.data, Rows):
            self.data = self.data.to_polars()
        return self.data

    @property
    def height(self) -> int:
        """Number of rows."""
        return self.data.height

    def lists(self, names: list[str]) -> list[list[Any]]:
        """The columns `names`, each as a list of Python values."""
        if isinstance(self.data, Rows):
            return [self.data.columns[n] for n in names]
        return [series.to_list() for series in self.data.select(names).iter_columns()]


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


#: Narrowest a text column is cut to when a table must fit a terminal.
MIN_TEXT_WIDTH = 12
_ELLIPSIS = "…"
_BOLD, _RED, _BLUE, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[34m", "\x1b[0m"


def _cells(table: Table) -> list[list[str]]:
    """Every row's cells as text; text cells made safe for a terminal (`visible`)."""
    columns = []
    for col, values in zip(table.columns, table.lists([c.name for c in table.columns]), strict=True):
        if col.kind == "text":
            columns.append(["-" if v is None else visible(str(v)) for v in values])
        else:
            columns.append([format_number(v, col.kind) for v in values])
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def _fit(widths: list[int], table: Table, width: int | None) -> list[int]:
    """Column widths, the widest text column narrowed (not below MIN_TEXT_WIDTH) so that a row
    fits in `width` characters."""
    if width is None:
        return widths
    row = sum(widths) + 3 * len(widths) - 1
    text = [i for i, c in enumerate(table.columns) if c.kind == "text"]
    while row > width and text:
        i = max(text, key=widths.__getitem__)
        cut = min(row - width, widths[i] - MIN_TEXT_WIDTH)
        if cut <= 0:
            break
        widths[i] -= cut
        row -= cut
    return widths


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + _ELLIPSIS


def table_lines(table: Table, styled: bool = False, width: int | None = None) -> list[str]:
    """The table as aligned text lines, in time linear in its rows: a title, a header, a rule and
    a row each. `width` cuts text cells with an ellipsis to fit a terminal; `styled` adds bold
    headers and red/blue changes (ANSI colours)."""
    cells = _cells(table)
    headers = [c.header for c in table.columns]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, text in enumerate(row):
            if len(text) > widths[i]:
                widths[i] = len(text)
    widths = _fit(widths, table, width)
    left = [c.justify == "left" for c in table.columns]

    def line(texts: list[str], colours: list[str] | None = None) -> str:
        out = []
        for i, text in enumerate(texts):
            text = _clip(text, widths[i])
            padded = text.ljust(widths[i]) if left[i] else text.rjust(widths[i])
            if colours and colours[i]:
                padded = colours[i] + padded + _RESET
            out.append(" " + padded + " ")
        return "|".join(out).rstrip()

    lines = [(_BOLD + visible_lines(table.title) + _RESET) if styled else visible_lines(table.title)] if table.title else []
    head = line(headers)
    lines.append(_BOLD + head + _RESET if styled else head)
    lines.append("+".join("-" * (w + 2) for w in widths))
    coloured = [c.kind in ("delta", "pp") for c in table.columns] if styled else None
    raw_rows = zip(*table.lists([c.name for c in table.columns]), strict=True) if coloured and any(coloured) else None
    for row in cells:
        colours = None
        if raw_rows is not None and coloured is not None:
            values = next(raw_rows)
            colours = [(_RED if float(v) > 0 else _BLUE) if want and v else "" for v, want in zip(values, coloured, strict=True)]
        lines.append(line(row, colours))
    lines.extend(visible_lines(note) for note in table.notes)
    return lines


def render_text(table: Table, styled: bool = False, width: int | None = None) -> str:
    """The table as aligned text (with ANSI bold and colours only when `styled`)."""
    return "\n".join(table_lines(table, styled, width)) + "\n"


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def to_json(table: Table) -> bytes:
    """The table as a JSON object: its metadata and `rows` (one object per row)."""
    if isinstance(table.data, Rows):
        names = list(table.data.columns)
        dicts = [dict(zip(names, row, strict=True)) for row in zip(*table.lists(names), strict=True)]
    else:
        dicts = table.data.to_dicts()
    rows = [{k: _json_value(v) for k, v in row.items()} for row in dicts]
    doc = {**table.meta, "rows": rows}
    import json  # (on use: text tables need none of it)

    return utf8_json(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


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
    by_name = suffix_format(path)
    if chosen:
        if by_name is not None and by_name != chosen[0]:
            raise UsageError(f"--{chosen[0]} contradicts the output name {path} ({by_name}); give one or the other")
        return chosen[0]
    return by_name or "text"


def write_table(table: Table, path: str | os.PathLike[str] | None, fmt: str) -> None:
    """Write `table` in `fmt` to `path` (stdout for None or `-`; a terminal gets an aligned table
    cut to its width)."""
    if is_stdout(path):
        terminal = stdout_binary().isatty()
        if fmt == "parquet" and terminal:
            raise UsageError("refusing to write Parquet to a terminal; use -o FILE.parquet")
        if fmt == "text" and terminal:
            colour = "NO_COLOR" not in os.environ
            import shutil  # (on use: for a terminal only)

            width = shutil.get_terminal_size().columns
            write_bytes(path, render_text(table, colour, width).encode("utf-8", "backslashreplace"))
            return
    write_bytes(path, WRITERS[fmt](table))

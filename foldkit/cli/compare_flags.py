"""Flags shared by the comparison commands (`top`, `diff`, `check`): table formats, sides, names."""

from __future__ import annotations

from typing import Annotated

import typer

AsCsv = Annotated[bool, typer.Option("--csv", help="Write the table as CSV (also chosen by -o x.csv).")]
AsJson = Annotated[bool, typer.Option("--json", help="Write the table as JSON (also chosen by -o x.json).")]
AsParquet = Annotated[bool, typer.Option("--parquet", help="Write the table as Parquet (also chosen by -o x.parquet).")]
Limit = Annotated[int, typer.Option("--limit", "-n", min=0, help="Rows to show (0 = all).")]
#: `foldkit diff`'s row limit: there `-n` is difffolded.pl's `--normalize`.
DiffLimit = Annotated[int, typer.Option("--limit", min=0, help="Rows to show (0 = all).")]
Sort = Annotated[str, typer.Option("--sort", help="Order by self or total (inclusive) weight.")]
Sides = Annotated[list[str] | None, typer.Argument(metavar="BEFORE AFTER", help="BEFORE and AFTER captures (any format foldkit reads), or use --before/--after.", show_default=False)]
StripHex = Annotated[bool, typer.Option("--strip-hex", "-s", help="Write every hex number 0x... in frame names as 0x... (difffolded.pl -s).")]

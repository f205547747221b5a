"""The `--store` and `--label` options: write every capture's stacks into a Parquet profile store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Store = Annotated[
    Path | None,
    typer.Option("--store", metavar="DIR", help="Also write every capture's stacks into this Parquet profile store (a folder; one file per capture, hive-partitioned).", show_default=False),
]
Label = Annotated[
    list[str] | None,
    typer.Option("--label", metavar="KEY=VALUE", help="With --store: a key=value partition for this run's captures, e.g. host=web-3 or host=web-3/date=2026-11-26 (repeatable).", show_default=False),
]

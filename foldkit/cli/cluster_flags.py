"""The `--cluster` option (and its environment variable), shared by the commands that read captures."""

from __future__ import annotations

from typing import Annotated

import typer

from foldkit.cli.running import cluster_reader as cluster_reader
from foldkit.cluster import ENV

ClusterAddress = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        metavar="ADDRESS",
        envvar=ENV,
        show_envvar=True,
        help="Run on a Dask cluster: the scheduler's address (tcp://host:8786), or local:N for N local "
        "worker processes. Workers must see the input paths (or read them as URLs). Needs foldkit-profiles[cluster].",
    ),
]

"""The `--cluster` option (and its environment variable), shared by the commands that read captures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from foldkit.cluster import ENV
from foldkit.errors import UsageError

if TYPE_CHECKING:
    from foldkit.cluster.reading import Reader

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


@contextlib.contextmanager
def cluster_reader(address: str | None, local_only: str | None = None) -> Iterator[Reader | None]:
    """A reader that folds each input on the cluster at `address` (None without one); `local_only`
    names an option that needs the inputs read here, which `--cluster` then contradicts."""
    if address is None:
        yield None
        return
    if local_only is not None:
        raise UsageError(f"{local_only} reads its inputs on this machine; drop --cluster")
    from foldkit.cluster import connect
    from foldkit.cluster.reading import reader

    with connect(address) as cluster:
        yield reader(cluster)

"""Running foldkit's work on a Dask distributed cluster (`--cluster`, the `foldkit-profiles[cluster]` extra).

Each capture is one task; what comes back (a compact profile, or a report page's files) is merged
in input order, so the output is the local run's. Dask is imported only when a cluster is asked
for: the library and the plain command line never load it.
"""

from __future__ import annotations

from foldkit.errors import INSTALL_CLUSTER

#: The environment variable that `--cluster` reads.
ENV = "FOLDKIT_CLUSTER"
#: How to install what a cluster run needs.
INSTALL = INSTALL_CLUSTER

#: `typing.TYPE_CHECKING` without importing typing (every flame graph loads this module).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from foldkit.cluster.session import Cluster, Outcome, Starting, connect, parse_address


def __getattr__(name: str) -> Any:
    """The session's names, imported on first use: `--cluster`'s option needs only `ENV`."""
    if name in {"Cluster", "Outcome", "Starting", "connect", "parse_address"}:
        from foldkit.cluster import session

        return getattr(session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ENV", "INSTALL", "Cluster", "Outcome", "Starting", "connect", "parse_address"]

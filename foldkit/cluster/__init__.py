"""Running foldkit's work on a Dask distributed cluster (`--cluster`, the `foldkit[cluster]` extra).

Each capture is one task; what comes back (a compact profile, or a report page's files) is merged
in input order, so the output is the local run's. Dask is imported only when a cluster is asked
for: the library and the plain command line never load it.
"""

from __future__ import annotations

from foldkit.cluster.session import ENV, INSTALL, Cluster, Outcome, Starting, connect, parse_address

__all__ = ["ENV", "INSTALL", "Cluster", "Outcome", "Starting", "connect", "parse_address"]

"""Typed errors raised by the library; the CLI maps each to an exit code in one place."""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2

#: The name foldkit is published under on the package index (`foldkit` there is another project).
DISTRIBUTION = "foldkit-profiles"
#: How to install what `--cluster` and URL inputs need (Dask distributed, fsspec).
INSTALL_CLUSTER = f"pip install '{DISTRIBUTION}[cluster]'"


class FoldkitError(Exception):
    """Base class of every error foldkit reports to a user; carries the exit code."""

    exit_code: int = EXIT_USAGE


class UsageError(FoldkitError):
    """The command line or API call asked for something impossible or contradictory."""


class InputError(FoldkitError):
    """An input could not be read, decompressed or recognised."""


class OutputError(FoldkitError):
    """An output could not be written (a directory, a full or read-only disk, a closed stdout)."""


class StrictModeError(InputError):
    """Unrecognised input lines were found and strict mode was requested."""


class CheckFailed(FoldkitError):
    """A regression check or budget failed (exit code 1)."""

    exit_code = EXIT_CHECK_FAILED

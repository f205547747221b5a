"""`python -m foldkit`."""

from foldkit.cli import entry

entry()

"""`python -m foldkit`."""

from foldkit.launch import entry

entry()

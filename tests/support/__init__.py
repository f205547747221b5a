"""Helpers the test folders share (see tests/README.md for what each module gives)."""

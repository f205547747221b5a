"""Analyses of folded profiles: per-function tables (`top`), stack-aligned differences (`diff`)."""

"""Defaults of `foldkit check`, defined once and importable without polars."""

from __future__ import annotations

#: Default `--max-increase`: one percentage point of the whole profile, about the smallest change
#: worth a person's look in a whole-program profile; the significance test, not this threshold,
#: is what keeps noise out, so it can be small.
DEFAULT_MAX_INCREASE = "1pp"
#: Default `--alpha`: at most a 1% chance per CI run of failing on noise alone (family-wise).
DEFAULT_ALPHA = 0.01

"""Defaults of `foldkit check`, defined once and importable without polars."""

from __future__ import annotations

#: Default `--max-increase`: one percentage point of the whole profile, about the smallest change
#: worth a person's look in a whole-program profile; the significance test, not this threshold,
#: is what keeps noise out, so it can be small.
DEFAULT_MAX_INCREASE = "1pp"
#: Default `--alpha`: at most a 1% chance per CI run of failing on noise alone (family-wise).
DEFAULT_ALPHA = 0.01
#: Default `--run-noise`, percent: the least run-to-run variation of a function's time assumed, as a
#: relative standard deviation per run. Measured on real captures of benchmarks/check_power.py's
#: workload on an otherwise quiet machine (20 baseline runs of 5 s): the functions at 2-30% of the
#: samples varied by 1-10% a run beyond sampling (mix_word 7%, hash_records 8%), and 4 of the 20
#: runs, recorded within two minutes, had hash_records at 33-37% instead of 28-29%: runs that agree
#: with each other can all be off together, which two runs a side cannot show. Of the floors tried
#: (5, 6, 6.5, 7%), 6.5% is the smallest that kept 2-vs-2 false alarms below 1% on those captures
#: (0.5% of 1,000 checks; 1.1% at 6%, 1.8% at 5%, 3.7% without a floor; 0.1% at 7%, which catches
#: +37% of a 10% function's time in 56% of 2-vs-2 checks instead of 61%).
DEFAULT_RUN_NOISE = 6.5

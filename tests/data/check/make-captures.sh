#!/usr/bin/env bash
# Re-create the captures in this directory (needs root for perf, gcc and zstd).
# Baseline: 8 runs of `workload 100`; slow: 4 runs of `workload 150` (checksum_records does 50% more work).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -g -fno-omit-frame-pointer -fno-inline -o "$tmp/workload" workload.c
record() {  # record NAME PERCENT
    perf record -q -F 1999 -g --call-graph dwarf,16384 -o "$tmp/perf.data" "$tmp/workload" "$2" >/dev/null
    perf script -i "$tmp/perf.data" 2>/dev/null | sed "s#$tmp/##" | zstd -19 -q -f -o "$1.perf.zst"
}
for i in 1 2 3 4 5 6 7 8; do record "base-$i" 100; done
for i in 1 2 3 4; do record "slow-$i" 150; done

"""Constants of reading, defined once for the readers (`foldkit.inputs`, `foldkit.ingest`,
`foldkit.profile`) and for the modules that load before them (`foldkit.readahead`, the plain
flame graph `foldkit.cli.plain`): a module without imports, so those stay light."""

from __future__ import annotations

#: Bytes of decompressed input kept for format sniffing.
HEAD_SIZE = 64 * 1024
#: How many of the head's first lines the folded sniffer looks at (`ingest.folded.sniff`).
SNIFFED_LINES = 50
#: Longest record (line, or perf sample) read whole; a longer one is skipped and counted, so a
#: file without newlines cannot grow memory without bound (`--max-record`).
DEFAULT_MAX_RECORD = 64 * 1024 * 1024
#: How much of a file named `.folded` whose first line is longer than the head is read to see
#: that whole line (one stack tens of thousands of frames deep).
LONG_LINE_HEAD = 4 * 1024 * 1024
#: The unit of weights whose input does not say what they count (folded text without a
#: `# foldkit: unit=...` header): a folded copy of a perf capture holds ns, of a BPF map counts or
#: sums, so foldkit never calls them "samples".
UNKNOWN_UNIT = "weight"

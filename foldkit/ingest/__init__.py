"""Input formats: one module each, one registry, detection by sniffing the first bytes."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType

from foldkit.constants import HEAD_SIZE, LONG_LINE_HEAD
from foldkit.errors import InputError, StrictModeError, UsageError
from foldkit.ingest.options import DEFAULT_OPTIONS, FoldOptions
from foldkit.inputs import InputSpec, Source, open_source
from foldkit.outputs import COMPRESSION_SUFFIXES
from foldkit.profile import Profile, magnitude_problem, map_stacks, merge_profiles


class _Formats(Mapping[str, ModuleType]):
    """Format name -> its module (`foldkit.ingest.<name>`), imported when first asked for, so a
    perf capture never loads the BPF readers."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = tuple(names)

    def __getitem__(self, name: str) -> ModuleType:
        if name not in self._names:
            raise KeyError(name)
        return importlib.import_module(f"foldkit.ingest.{name}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


#: Every input format (each module implements `foldkit.ingest.base.InputFormat`, and its `NAME` is
#: its module's name), in the order detection tries them (most specific first). No two sniffers
#: claim the same capture (tests/ingest/test_formats_detect.py checks every capture of the corpus), so
#: the order only matters for inputs no sniffer is sure about.
FORMATS: Mapping[str, ModuleType] = _Formats(["perf", "pprof", "histogram", "bpftrace", "dtrace", "bcc", "events", "folded"])


def format_names() -> list[str]:
    """Names accepted by `--format`."""
    return ["auto", *FORMATS]


#: File-name suffixes (before any compression suffix) that suggest a format: that format's sniffer
#: runs first, so a sure verdict needs no other reader loaded. The content still decides.
SUGGESTED = {".folded": "folded", ".perf": "perf", ".pb": "pprof", ".pprof": "pprof"}


def _suggested(name: str) -> str | None:
    for comp in COMPRESSION_SUFFIXES:
        name = name.removesuffix(comp)
    return next((fmt for suffix, fmt in SUGGESTED.items() if name.endswith(suffix)), None)




def _first_line(source: Source, head: bytes, suggested: str | None) -> bytes | None:
    """For a file named `.folded` whose head is text cut inside its first line (one very deep
    stack): that whole line, read up to `LONG_LINE_HEAD` bytes, for the folded sniffer to judge
    whole instead of leaving it undecided (which loaded every other reader to sniff it too). No
    line-based format another sniffer knows starts with a line that long, nor does a binary one
    with text. None otherwise. Only a True verdict on it counts (`detect`)."""
    if suggested != "folded" or len(head) < HEAD_SIZE or b"\n" in head or b"\0" in head:
        return None
    longer = source.head(LONG_LINE_HEAD)
    end = longer.find(b"\n")
    if end >= 0:
        return longer[: end + 1]
    return longer if len(longer) < LONG_LINE_HEAD else None  # the whole input, or no line end


def detect(source: Source) -> ModuleType:
    """The format of `source`, from its first bytes; InputError when none matches."""
    head = source.head()
    order = list(FORMATS)
    suggested = _suggested(source.name)
    names = order if suggested is None else [suggested, *(n for n in order if n != suggested)]
    first_line = _first_line(source, head, suggested)
    maybe: list[str] = []
    for name in names:
        module = FORMATS[name]
        # a whole first line that is a folded stack decides; else the head, as for every file
        verdict = (name == "folded" and first_line is not None and module.sniff(first_line, whole_lines=True)) or module.sniff(head)
        if verdict:
            return module
        if verdict is None:
            maybe.append(name)
    if maybe:
        return FORMATS[min(maybe, key=order.index)]
    if not head.strip():
        return FORMATS["folded"]  # empty input: an empty profile, with a warning from the folder
    snippet = head[:60].decode("utf-8", "replace").splitlines()[0] if head else ""
    raise InputError(
        f"{source.name}: could not recognise the input format (starts with {snippet!r}); "
        f"supported: {', '.join(FORMATS)}. If this is perf.data, run `perf script` on it first; "
        "use --format to force one"
    )


def fold_source(source: Source, options: FoldOptions = DEFAULT_OPTIONS) -> Profile:
    """Fold one opened source with the format `options.format` names (or the detected one)."""
    source.max_record = options.max_record
    if options.format == "auto":
        module = detect(source)
    else:
        try:
            module = FORMATS[options.format]
        except KeyError:
            raise UsageError(
                f"unknown format {options.format!r}; supported: {', '.join(format_names())}"
            ) from None
    try:
        if options.clock != "cpu":
            if module.NAME != "perf":
                raise UsageError(
                    f"{source.name}: --{options.clock} reads perf captures with sched:sched_switch events, "
                    f"not {module.NAME} input (BCC's offcputime and bpftrace off-CPU maps are already off-CPU time)"
                )
            from foldkit.ingest import perf_sched

            profile = perf_sched.fold(source, options)
        else:
            profile = module.fold(source, options)
    except OSError as exc:  # the native core's reads of the file (Python's: `inputs.read_input`)
        raise InputError(f"{source.name}: read error: {exc.strerror or exc}") from exc
    if options.skip_after and options.skip_after_drops_root:
        profile = _drop_cut_roots(profile, frozenset(options.skip_after))
    if module.NAME == "perf":
        from foldkit.ingest.perf_frames import unresolved_jit_warning

        jit = unresolved_jit_warning(profile.weights, source.name)
        if jit is not None:
            profile.diagnostics.warnings.append(jit)
    if options.demangle and module.NAME != "perf":  # perf names are demangled as they are folded
        from foldkit.ingest.demangle import demangle_profile  # (and its perf frame rules) on use

        profile = demangle_profile(profile)
    _check_weights(profile, source.name)
    if source.oversize:
        profile.diagnostics.bad_lines += source.oversize
        profile.diagnostics.warnings.append(
            f"{source.name}: {source.oversize} record(s) longer than {options.max_record:,} bytes skipped (--max-record)"
        )
    profile.format = module.NAME
    profile.sources = [source.name]
    if options.unit:
        profile.unit = options.unit
    compression = "not compressed" if source.compression == "none" else f"{source.compression} compression"
    profile.diagnostics.notes.insert(0, f"{source.name}: format {module.NAME} ({compression})")
    if not len(profile) and not profile.diagnostics.bad_lines:
        profile.diagnostics.warnings.append(f"{source.name}: no samples found (empty input?)")
    if options.strict and profile.diagnostics.bad_lines:
        raise StrictModeError("; ".join(profile.diagnostics.messages()) + " (--strict)")
    if options.strict and not len(profile):
        raise StrictModeError(f"{source.name}: no samples found (empty input, or `perf script` failed?) (--strict)")
    return profile


def _drop_cut_roots(profile: Profile, names: frozenset[str]) -> Profile:
    """`--skip-after-drop-root`: stacks that `--skip-after` cut (their second frame is a named
    one; folders keep the root frame) without their root frame, as inferno-collapse-perf writes them."""

    def drop(stack: str) -> str:
        _, sep, rest = stack.partition(";")
        second = rest.split(";", 1)[0]
        if sep and (second in names or second.rsplit("_[", 1)[0] in names):
            return rest
        return stack

    return map_stacks(profile, drop)


def _check_weights(profile: Profile, name: str) -> None:
    problem = magnitude_problem(profile.magnitude())
    if problem is not None:
        raise InputError(f"{name}: {problem}; foldkit sums weights exactly only up to that")


def read(inputs: InputSpec | Sequence[InputSpec], options: FoldOptions = DEFAULT_OPTIONS) -> Profile:
    """Read and fold one or more inputs (paths, `-` for stdin, or bytes) into one profile."""
    specs: Sequence[InputSpec] = [inputs] if isinstance(inputs, str | bytes) or hasattr(inputs, "__fspath__") else inputs
    profiles = []
    for spec in specs:
        source = open_source(spec)
        try:
            profiles.append(fold_source(source, options))
        finally:
            source.close()
    merged = merge_profiles(profiles)
    if len(profiles) > 1:
        _check_weights(merged, ", ".join(merged.sources))
    return merged


__all__ = ["FORMATS", "FoldOptions", "detect", "fold_source", "format_names", "read"]

"""The two sides of a comparison: which inputs are BEFORE and which AFTER, read and prepared alike."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from foldkit.errors import InputError, UsageError
from foldkit.ingest import FoldOptions, read
from foldkit.profile import Profile

_GLOB_CHARS = set("*?[")


def expand(specs: Sequence[str]) -> list[str]:
    """Input names with glob patterns (`'runs/base-*.perf.zst'`, quoted so foldkit expands them)
    replaced by the files they match, sorted; a pattern that matches nothing is an error."""
    out: list[str] = []
    for spec in specs:
        if spec != "-" and _GLOB_CHARS & set(spec) and not os.path.exists(spec):
            import glob  # (on use: a pattern to expand)

            matches = sorted(glob.glob(spec))
            if not matches:
                raise InputError(f"{spec}: no file matches this pattern")
            out.extend(matches)
        else:
            out.append(spec)
    return out


def split_sides(
    positional: Sequence[str] | None,
    before: Sequence[str] | None,
    after: Sequence[str] | None,
    names: tuple[str, str] = ("before", "after"),
) -> tuple[list[str], list[str]]:
    """(BEFORE inputs, AFTER inputs) from `A B` positionals or repeated `--before/--after` options
    (each may be a quoted glob); exactly one way must be used, and each side needs an input."""
    positional = list(positional or [])
    before = list(before or [])
    after = list(after or [])
    first, second = names
    if before or after:
        if positional:
            raise UsageError(
                f"give the inputs either as two arguments {first.upper()} {second.upper()} or with "
                f"--{first}/--{second}, not both" + _glob_hint(positional, before, after, names)
            )
        if not before or not after:
            raise UsageError(f"--{first} and --{second} must both be given")
    else:
        if len(positional) != 2:
            raise UsageError(
                f"expected two inputs, {first.upper()} and {second.upper()} (got {len(positional)}); "
                f"for several captures per side use --{first} FILE... --{second} FILE... "
                "(repeat the option, or quote a glob such as 'runs/base-*.perf.zst')"
            )
        before, after = [positional[0]], [positional[1]]
    before, after = expand(before), expand(after)
    if before.count("-") + after.count("-") > 1:
        raise UsageError("standard input (-) can be only one of the inputs")
    return before, after


def _kind(path: str) -> tuple[str, str]:
    """(directory, suffixes) of a path: what the files a shell glob expanded to share."""
    name = os.path.basename(path)
    return os.path.dirname(path), name[name.find(".") :] if "." in name else ""


def _glob_hint(positional: Sequence[str], before: Sequence[str], after: Sequence[str], names: tuple[str, str]) -> str:
    """A hint when the extra positional inputs look like the rest of an unquoted glob the shell
    expanded after `--baseline`/`--candidate` (files in the same folder with the same suffixes)."""
    for option, values in zip(names, (before, after), strict=True):
        kinds = {_kind(v) for v in values}
        if any(_kind(p) in kinds for p in positional):
            example = values[0]
            pattern = os.path.join(os.path.dirname(example), "*" + _kind(example)[1])
            return (
                f". {', '.join(positional)} {'looks' if len(positional) == 1 else 'look'} like the rest of "
                "an unquoted glob that the shell expanded "
                f"after --{option}: quote it so foldkit expands it (--{option} '{pattern}')"
            )
    return ""


def prepare(profile: Profile, symbols: bool = False, hex_numbers: bool = False) -> Profile:
    """`profile` with the comparison's name normalisations applied (`--normalize-symbols`,
    `--strip-hex`; the transforms are loaded only for them)."""
    if symbols:
        from foldkit.transform.normalize import normalize_symbols

        profile = normalize_symbols(profile)
    if hex_numbers:
        from foldkit.transform.normalize import strip_hex

        profile = strip_hex(profile)
    return profile


def read_runs(
    specs: Sequence[str],
    options: FoldOptions,
    symbols: bool = False,
    hex_numbers: bool = False,
    reader: Callable[[str, FoldOptions], Profile] = read,
) -> list[Profile]:
    """Each input read on its own with `reader` (one profile per capture, i.e. per run), prepared."""
    return [prepare(reader(spec, options), symbols, hex_numbers) for spec in specs]


def same_event(first: Sequence[Profile], second: Sequence[Profile], names: tuple[str, str] = ("baseline", "candidate")) -> None:
    """A UsageError unless every profile of both sides counts the same event (profiles that name
    no event, such as folded text without a header, are not checked): weights of different events
    (cpu-clock and sched:sched_switch, or cycles and instructions) cannot be compared."""
    events = [{p.event for p in side if p.event} for side in (first, second)]
    # `cpu-clock/freq=499/` is cpu-clock at another rate: shares compare
    if len({e.split("/", 1)[0] or e for e in events[0] | events[1]}) <= 1:
        return
    said = "; ".join(f"{name}: {', '.join(sorted(e)) or 'none named'}" for name, e in zip(names, events, strict=True))
    raise UsageError(
        f"the captures count different events ({said}); a comparison needs one event on both "
        "sides: fold them with --event NAME"
    )


def require_samples(runs: Sequence[Profile], specs: Sequence[str]) -> None:
    """An InputError naming the first run with no sample (an empty capture, or a `perf script`
    that failed and wrote nothing): a comparison with it would pass on no evidence."""
    for run, spec in zip(runs, specs, strict=True):
        if not len(run):  # (a table's length: its stacks stay where they are)
            raise InputError(f"{spec}: no samples in this capture (empty input, or `perf script` failed?); nothing to compare")

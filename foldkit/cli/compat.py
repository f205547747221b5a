"""FlameGraph/inferno flags foldkit takes only so that existing scripts keep running: each is
removed from the command line before parsing, with a warning saying what foldkit does instead
(or silently, when foldkit already does what the flag asks). docs/migrating.md lists them.

Also the one spelling whose meaning changed: `foldkit diff -n` was `--limit`, it is now
difffolded.pl's `-n` (`--normalize`); `-n 20` gets a message naming `--limit`.
"""

from __future__ import annotations

import os
import sys

from foldkit.errors import UsageError

#: `typing.TYPE_CHECKING` without importing typing (the drop-in fast path loads this module).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


class CompatFlag:
    """A peer's flag foldkit accepts and drops: whether it takes a value, and the warning (None:
    silent). A plain class: this module loads with every drawing (`foldkit.cli.fast`), and
    `typing.NamedTuple` would load typing with it."""

    __slots__ = ("message", "takes_value")

    def __init__(self, takes_value: bool, message: str | None) -> None:
        self.takes_value = takes_value
        self.message = message


_PERF_SCRIPT = "foldkit reads the frames perf script printed"
#: Commands that read captures (the collapse flags) and that draw flame graphs (the picture flags).
_READERS = ("fold", "flamegraph", "top", "diff", "check", "report")
_DRAWERS = ("flamegraph", "diff", "check")

_COLLAPSE: dict[str, CompatFlag] = {
    "--inline": CompatFlag(False, f"--inline (stackcollapse-perf.pl's addr2line pass) is not needed: {_PERF_SCRIPT}; run `perf script --inline` for inlined frames (--all marks them _[i])"),
    "--context": CompatFlag(False, f"--context (source context from addr2line) is not supported: {_PERF_SCRIPT}; ignored"),
    "--srcline": CompatFlag(False, f"--srcline is not supported: {_PERF_SCRIPT} and skips perf's source lines; ignored"),
}
_PICTURE: dict[str, CompatFlag] = {
    # foldkit sorts (merges) its input itself; inferno's --no-sort only promises sorted input
    "--no-sort": CompatFlag(False, None),
    "--encoding": CompatFlag(True, "foldkit always writes UTF-8 SVG; --encoding ignored"),
}

#: Per command: the compatibility flags it accepts.
COMPAT: dict[str, dict[str, CompatFlag]] = {
    name: {**(_COLLAPSE if name in _READERS else {}), **(_PICTURE if name in _DRAWERS else {})} for name in _READERS
}


def _value_of(arg: str, flag: str) -> str | None:
    return arg[len(flag) + 1 :] if arg.startswith(flag + "=") else None


def _check_diff_limit(args: Sequence[str]) -> None:
    for i, arg in enumerate(args[:-1]):
        if arg == "--":
            return
        following = args[i + 1]
        if arg == "-n" and following.isdigit() and not os.path.exists(following):
            raise UsageError(
                f"foldkit diff -n now means --normalize (difffolded.pl's -n); for at most {following} rows write --limit {following}"
            )


def translate(args: list[str]) -> list[str]:
    """`args` without the compatibility flags of its command, warning (to stderr, unless -q) about
    each one that foldkit ignores; a UsageError for `foldkit diff -n N`."""
    out, messages = without_compat_flags(args)
    warn(out, messages)
    return out


def warn(args: list[str], messages: list[str]) -> None:
    """Print `without_compat_flags`' warnings (to stderr), unless `args` hold -q."""
    if messages and not {"-q", "--quiet"} & set(args):
        for message in messages:
            print(f"foldkit: warning: {message}", file=sys.stderr)


def without_compat_flags(args: list[str]) -> tuple[list[str], list[str]]:
    """`args` without the compatibility flags of its command, and the warnings about the ones
    foldkit ignores (`translate` prints them); a UsageError for `foldkit diff -n N`."""
    if not args or args[0] not in COMPAT:
        return args, []
    if args[0] == "diff":
        _check_diff_limit(args)
    flags = COMPAT[args[0]]
    out = [args[0]]
    messages: list[str] = []
    i = 1
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        flag = flags.get(name)
        if flag is None:
            out.append(arg)
            i += 1
            continue
        value = _value_of(arg, name)
        if flag.takes_value and value is None:
            if i + 1 >= len(args):
                raise UsageError(f"{name} needs a value")
            value = args[i + 1]
            i += 1
        i += 1
        if name == "--encoding" and value is not None and value.lower().replace("-", "") == "utf8":
            continue
        if flag.message is not None:
            messages.append(flag.message)
    return out, messages

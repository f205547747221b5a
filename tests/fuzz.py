"""A seeded mutation fuzzer: the real captures in tests/data, mutated as an attacker or a broken
pipeline would (hostile bytes, extreme numbers, cut, spliced and repeated lines), through every
command. A run passes when every command ends with exit 0, 1 or 2 and no traceback, within the
time limit, and every SVG it writes is well-formed XML.

    python -m tests.fuzz --count 10000 --seed 1      # `make fuzz`
    python -m tests.fuzz --count 50 --keep /tmp/f    # keep the failing inputs for reproduction

Every command runs in this process (a fresh temp folder per input, an alarm for hangs); report
runs on batches of the same inputs with `--jobs 1` (captures read in this process), and once per
run as a subprocess with worker processes, as a user runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard
from lxml import etree

from foldkit import cli as foldkit_cli
from foldkit.cli import main

DATA = Path(__file__).parent / "data"
#: Decompressed bytes of each capture used as a seed input (whole records, from the start).
SEED_BYTES = 12 * 1024
#: A command running longer than this is a hang.
HANG_SECONDS = 30
#: Mutated inputs per `report` run.
REPORT_BATCH = 100

HOSTILE = [
    b"\x1b[31m", b"\x1b]0;pwned\x07", b"\x00", b"\xff", b"\xfe\xfe", b"\xe2\x80\xae", b"\xc3", b"\x7f",
    b"1e400", b"-1e400", b"1e308", b"nan", b"inf", b"-0", b"0", b"-5", b".5", b"1180591620717411303424",
    b"9223372036854775807", b"-9223372036854775808", b";", b";;", b" ", b"\t", b"\r", b"\r\n", b"\n",
    b"\n\n", b"@[", b"]: ", b"@x[", b"#", b"<script>alert(1)</script>", b"&amp;", b"]]>", b"0x",
    b"+0x7b", b"[unknown]", b"_[k]", b"(", b")", b":", b"-", b"--", b"/", b"%", b"{", b"}", b"'", b'"',
    b"\tffffffff81000000 foo+0x1 ([kernel.kallsyms])\n", b"perf 123 [000] 1.000: 1 cpu-clock: \n",
]
_NUMBER = re.compile(rb"\d+")


def seed_inputs() -> list[tuple[str, bytes]]:
    """(name, bytes) of every capture and expected folded file under tests/data and FlameGraph's
    DTrace example, cut short."""
    out = []
    dctx = zstandard.ZstdDecompressor()
    paths = [p for folder in ("captures", "expected") for p in sorted((DATA / folder).glob("*.zst"))]
    paths.append(DATA / "flamegraph-tests" / "example-dtrace-stacks.txt.zst")
    for path in paths:
        with dctx.stream_reader(path.open("rb")) as reader:
            data = reader.read(SEED_BYTES)
        cut = data.rfind(b"\n\n")
        data = data[: cut + 1] if cut > 0 else data[: data.rfind(b"\n") + 1]
        out.append((path.name.removesuffix(".zst"), data))
    return out


def mutate(data: bytes, others: list[bytes], rng: random.Random) -> bytes:
    """`data` with one to eight random mutations."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(len(buf) + 1)
        op = rng.randrange(10)
        if op == 0 and buf:  # flip a bit
            i = min(pos, len(buf) - 1)
            buf[i] ^= 1 << rng.randrange(8)
        elif op in (1, 2):  # insert a hostile token
            buf[pos:pos] = rng.choice(HOSTILE)
        elif op == 3:  # delete a range
            del buf[pos : pos + rng.randint(1, 200)]
        elif op == 4:  # duplicate a range
            buf[pos:pos] = buf[pos : pos + rng.randint(1, 400)]
        elif op == 5:  # truncate
            del buf[pos:]
        elif op == 6:  # replace a number by an extreme one
            matches = list(_NUMBER.finditer(buf))
            if matches:
                m = rng.choice(matches)
                buf[m.start() : m.end()] = rng.choice(HOSTILE[8:20])
        elif op == 7:  # splice in a piece of another input
            other = rng.choice(others)
            start = rng.randrange(len(other) + 1)
            buf[pos:pos] = other[start : start + rng.randint(1, 2000)]
        elif op == 8:  # repeat a line many times, or make it long
            start = buf.rfind(b"\n", 0, pos) + 1
            end = buf.find(b"\n", pos)
            line = bytes(buf[start : end if end >= 0 else len(buf)])
            if rng.random() < 0.5:
                buf[start:start] = (line + b"\n") * rng.randint(2, 300)
            else:
                buf[pos:pos] = bytes([rng.randrange(33, 127)]) * rng.randint(1000, 100_000)
        else:  # deep stack: many frames in one line
            buf[pos:pos] = b";".join(b"f%d" % rng.randrange(50) for _ in range(rng.randint(100, 3000)))
    return bytes(buf)


FOLD_FLAGS = [[], ["--kernel"], ["--all"], ["--pid"], ["--tid"], ["--addrs"], ["--format", "folded"], ["--format", "perf"], ["--format", "bpftrace"], ["--format", "bcc"], ["--map", "all"], ["--weight", "samples"]]


def commands(x: str, base: str, out: Path, rng: random.Random) -> Iterator[list[str]]:
    """The in-process commands run on one mutated input `x` (`base`: the unmutated seed)."""
    flags = rng.choice(FOLD_FLAGS)
    yield ["fold", x, "-o", str(out / "o.folded"), "--jobs", "1", *flags]
    yield ["flamegraph", x, "-o", str(out / "o.svg"), "--jobs", "1", *flags, *rng.choice([[], ["--inverted"], ["--flamechart"], ["--minwidth", "0"]])]
    yield ["top", x, "-o", str(out / "o.txt"), "-n", "0", *rng.choice([[], ["--by", "dso"], ["--by", "comm"], ["--sort", "total"]])]
    yield ["diff", base, x, "-o", str(out / rng.choice(["d.svg", "d.folded", "d.txt", "d.json"])), *rng.choice([[], ["--basis", "union"], ["--basis", "before"]])]
    yield ["check", base, x, "--json", str(out / "c.json"), "--junit", str(out / "c.xml"), "--markdown", str(out / "c.md"), "--svg", str(out / "c.svg"), "-o", str(out / "c.txt")]


class Hang(Exception):
    """A command ran past HANG_SECONDS."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


@dataclass
class Outcome:
    """What a fuzz run found."""

    runs: int = 0
    inputs: int = 0
    failures: list[str] = field(default_factory=list)
    hangs: int = 0
    tracebacks: int = 0
    exits: dict[int, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # CPU time per command


def _svgs_well_formed(folder: Path) -> str | None:
    for path in folder.glob("*.svg"):
        try:
            etree.parse(str(path))
        except etree.XMLSyntaxError as exc:
            return f"{path.name} is not well-formed: {exc}"
    return None


def run_in_process(argv: list[str], outcome: Outcome, note: Callable[[str], None], limit: int = HANG_SECONDS) -> None:
    """Run one command; count its exit code, a traceback or a hang (over `limit` seconds)."""
    outcome.runs += 1
    err = io.StringIO()
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    started = time.process_time()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(argv)
    except Hang:
        outcome.hangs += 1
        note(f"hang: {argv}")
        return
    except KeyboardInterrupt:  # the fuzzer itself is being stopped
        raise
    except BaseException:
        outcome.tracebacks += 1
        note(f"traceback: {argv}\n{traceback.format_exc()}")
        return
    finally:
        signal.alarm(0)
        outcome.seconds[argv[0]] = outcome.seconds.get(argv[0], 0.0) + time.process_time() - started
    if code == 130:  # Ctrl-C or SIGTERM reached the command: stop fuzzing
        raise KeyboardInterrupt
    outcome.exits[code] = outcome.exits.get(code, 0) + 1
    if code not in (0, 1, 2) or "Traceback" in err.getvalue():
        outcome.tracebacks += 1
        note(f"exit {code}: {argv}\n{err.getvalue()[-2000:]}")


def _slow_captures(site: Path, outcome: Outcome) -> list[str]:
    """Captures of a report that took longer than HANG_SECONDS each (counted as hangs)."""
    try:
        captures = json.loads((site / "summary.json").read_text())["captures"]
    except (OSError, ValueError, KeyError):
        return []
    slow = [f"hang: report spent {c['seconds']} s on {c['name']}" for c in captures if (c.get("seconds") or 0) > HANG_SECONDS]
    outcome.hangs += len(slow)
    return slow


def run_report(folder: Path, inputs: list[Path], outcome: Outcome, note: Callable[[str], None]) -> None:
    """`foldkit report` on a batch of mutated inputs, as a subprocess with worker processes."""
    outcome.runs += 1
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "foldkit", "report", *map(str, inputs), "-o", str(folder / "site"), "-q", "--jobs", "2"],
            capture_output=True, timeout=HANG_SECONDS * 4, check=False,
        )
    except subprocess.TimeoutExpired:
        outcome.hangs += 1
        note(f"hang: report of {len(inputs)} inputs after {time.monotonic() - started:.0f} s")
        return
    outcome.exits[proc.returncode] = outcome.exits.get(proc.returncode, 0) + 1
    if proc.returncode not in (0, 1, 2) or b"Traceback" in proc.stderr:
        outcome.tracebacks += 1
        note(f"report exit {proc.returncode}:\n{proc.stderr[-3000:].decode('utf-8', 'replace')}")


def fuzz(count: int, seed: int, keep: Path | None = None, report: bool = True, log: Callable[[str], None] = print) -> Outcome:
    """Run `count` mutated inputs through every command; return what happened."""
    # building the click command costs more than most runs: one serves them all (running a
    # command changes only how its help looks, which is restored with the builder afterwards)
    build = foldkit_cli._command
    built: dict[str | None, Any] = {}

    def cached(args: list[str] | None = None) -> Any:
        key = args[0] if args and args[0] in foldkit_cli.COMMAND_MODULES else None
        if key not in built:
            built[key] = build(args)
        return built[key]

    foldkit_cli._command = cached  # type: ignore[method-assign]
    try:
        return _fuzz(count, seed, keep, report, log)
    finally:
        foldkit_cli._command = build  # type: ignore[method-assign]


def _fuzz(count: int, seed: int, keep: Path | None, report: bool, log: Callable[[str], None]) -> Outcome:
    rng = random.Random(seed)
    seeds = seed_inputs()
    others = [data for _, data in seeds]
    outcome = Outcome()
    batch: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="foldkit-fuzz-") as tmp:
        root = Path(tmp)
        base_dir = root / "base"
        base_dir.mkdir()
        bases = []
        for name, data in seeds:
            (base_dir / name).write_bytes(data)
            bases.append(base_dir / name)
        batch_dir = root / "batch"
        batch_dir.mkdir()
        for i in range(count):
            k = rng.randrange(len(seeds))
            data = mutate(seeds[k][1], others, rng)
            work = root / "work"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            x = work / f"input-{i}"
            x.write_bytes(data)
            found: list[str] = []
            for argv in commands(str(x), str(bases[k]), work, rng):
                run_in_process(argv, outcome, found.append)
            problem = _svgs_well_formed(work)
            if problem:
                found.append(problem)
            outcome.inputs += 1
            if found:
                outcome.failures.extend(f"input {i} (seed {seed}, from {seeds[k][0]}): {f}" for f in found)
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"input-{i}").write_bytes(data)
            if report:
                copy = batch_dir / f"{i:06d}-{seeds[k][0]}"
                copy.write_bytes(data)
                batch.append(copy)
                if len(batch) == REPORT_BATCH or i == count - 1:
                    found = []
                    site = str(root / "site")
                    if i == count - 1:
                        run_report(root, batch, outcome, found.append)
                    else:
                        argv = ["report", *map(str, batch), "-o", site, "-q", "--jobs", "1", "--force"]
                        run_in_process(argv, outcome, found.append, limit=HANG_SECONDS * len(batch))
                        found.extend(_slow_captures(Path(site), outcome))
                    outcome.failures.extend(f"report batch ending at input {i} (seed {seed}): {f}" for f in found)
                    for path in batch:
                        path.unlink()
                    batch = []
            if (i + 1) % 250 == 0:
                log(f"{i + 1} inputs, {outcome.runs} runs, {outcome.tracebacks} tracebacks, {outcome.hangs} hangs")
    return outcome


def cli(argv: list[str] | None = None) -> int:
    """`python -m tests.fuzz`: run the fuzzer, print a summary, exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="mutated inputs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="folder to keep failing inputs in")
    parser.add_argument("--no-report", action="store_true", help="skip the report batches")
    args = parser.parse_args(argv)
    started = time.monotonic()
    outcome = fuzz(args.count, args.seed, args.keep, report=not args.no_report)
    for failure in outcome.failures[:20]:
        print(failure, file=sys.stderr)
    exits = ", ".join(f"exit {k}: {v}" for k, v in sorted(outcome.exits.items()))
    cpu = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(outcome.seconds.items(), key=lambda kv: -kv[1]))
    print(f"fuzz: CPU time by command: {cpu}")
    print(
        f"fuzz: {outcome.inputs} mutated inputs, {outcome.runs} command runs ({exits}) in "
        f"{time.monotonic() - started:.0f} s: {outcome.tracebacks} tracebacks, {outcome.hangs} hangs "
        f"over {HANG_SECONDS} s, {len(outcome.failures)} failures (seed {args.seed})"
    )
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(cli())

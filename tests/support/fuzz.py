"""A seeded mutation fuzzer: the real captures in tests/data, mutated as an attacker or a broken
pipeline would (hostile bytes, bytes that are not UTF-8 at the start of any field, integers out
of every type's range, cut, spliced and repeated lines), through every command and output format,
some read from special files (a FIFO, a directory, a link loop, /proc/self/mem, /dev/null) and
some written where writing fails (a file too big for RLIMIT_FSIZE, a folder under a file, a name
too long). A run passes when every command ends with exit 0, 1 or 2, no traceback and no Rust
panic, within the time limit, every SVG it writes is well-formed XML, and a failed write leaves
no temp file behind.

    python -m tests.support.fuzz --count 10000 --seed 1      # `make fuzz`
    python -m tests.support.fuzz --count 50 --keep /tmp/f    # keep the failing inputs for reproduction

Every command runs in this process (a fresh temp folder per input, an alarm for hangs); report
runs on batches of the same inputs with `--jobs 1` (captures read in this process), and once per
run as a subprocess with worker processes, as a user runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard
from lxml import etree

from foldkit.cli import main
from foldkit.cli import typer_app as foldkit_cli

DATA = Path(__file__).parents[1] / "data"
#: Decompressed bytes of each capture used as a seed input (whole records, from the start).
SEED_BYTES = 12 * 1024
#: A command using more CPU time than this is a hang (CPU time, so a loaded machine does not make
#: a slow command look stuck).
HANG_SECONDS = 30
#: A command still running after this many times HANG_SECONDS of wall-clock time is stuck (blocked,
#: using no CPU: an open() of a FIFO without a writer, a lock).
STUCK_FACTOR = 10
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
#: Integers beyond every field's type: 2**64, 2**64 + 1, 2**63, -(2**63) - 1, 10**30, as a time.
EXTREME = [b"18446744073709551616", b"18446744073709551617", b"9223372036854775808", b"-9223372036854775809", b"1000000000000000000000000000000", b"18446744073709551616.5"]
#: Byte sequences that are not UTF-8: a lone byte above 0x7f, a cut sequence, an encoded surrogate,
#: an overlong form, a 5-byte form, a stray continuation byte.
NOT_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80", b"\xe2\x82"]
#: What starts a field in the formats foldkit reads (comm, PID/TID, event, symbol, dso, frame, map).
_FIELD_START = re.compile(rb"(?:^|[ \t;/()\[\]:@,=+])")
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
        op = rng.randrange(11)
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
                buf[m.start() : m.end()] = rng.choice(HOSTILE[8:20] + EXTREME)
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
        elif op == 9:  # deep stack: many frames in one line
            buf[pos:pos] = b";".join(b"f%d" % rng.randrange(50) for _ in range(rng.randint(100, 3000)))
        else:  # bytes that are not UTF-8 at the start of a field (near `pos`)
            starts = [m.end() for m in _FIELD_START.finditer(buf, max(0, pos - 200), pos + 200)]
            at = rng.choice(starts) if starts else pos
            buf[at:at] = rng.choice(NOT_UTF8)
    return bytes(buf)


#: `fold`'s other output formats (the folded text is the most frequent choice).
FOLD_OUTPUTS = ["o.parquet", "o.speedscope.json", "o.pb.gz", "o.folded.zst"]
FOLD_FLAGS = [[], ["--kernel"], ["--all"], ["--pid"], ["--tid"], ["--addrs"], ["--format", "folded"], ["--format", "perf"], ["--format", "bpftrace"], ["--format", "bcc"], ["--map", "all"], ["--weight", "samples"]]


def commands(x: str, base: str, out: Path, rng: random.Random) -> Iterator[list[str]]:
    """The in-process commands run on one mutated input `x` (`base`: the unmutated seed)."""
    flags = rng.choice(FOLD_FLAGS)
    fold_out = rng.choice([["-o", str(out / "o.folded")]] * 4 + [["-o", str(out / name)] for name in FOLD_OUTPUTS] + [["--per-thread", "-o", str(out / "pt")], ["--per-process", "-o", str(out / "pp")]])
    yield ["fold", x, *fold_out, "--jobs", "1", *flags]
    yield ["flamegraph", x, "-o", str(out / rng.choice(["o.svg", "o.svg", "o.html"])), "--jobs", "1", *flags, *rng.choice([[], ["--inverted"], ["--flamechart"], ["--minwidth", "0"]])]
    yield ["top", x, "-o", str(out / rng.choice(["o.txt", "o.txt", "o.json", "o.csv", "o.parquet"])), "-n", "0", *rng.choice([[], ["--by", "dso"], ["--by", "comm"], ["--sort", "total"]])]
    yield ["diff", base, x, "-o", str(out / rng.choice(["d.svg", "d.folded", "d.txt", "d.json"])), *rng.choice([[], ["--basis", "union"], ["--basis", "before"]])]
    yield ["check", base, x, "--json", str(out / "c.json"), "--junit", str(out / "c.xml"), "--markdown", str(out / "c.md"), "--svg", str(out / "c.svg"), "-o", str(out / "c.txt")]


#: Special files given as the input instead of the mutated file (one input in SPECIAL_EVERY).
SPECIAL_INPUTS = ["fifo", "directory", "link-loop", "proc-mem", "dev-null", "proc-status", "empty"]
SPECIAL_EVERY = 20
#: Ways an output fails (one command in OUTPUT_FAULT_EVERY): a file larger than RLIMIT_FSIZE
#: allows (EFBIG part-way, as a full disk), a folder under a regular file, a name too long.
OUTPUT_FAULTS = ["file-size", "not-a-folder", "name-too-long"]
OUTPUT_FAULT_EVERY = 8
#: What a failed write must not leave behind in the output folder.
LEFTOVER = re.compile(r"^\.(?:.*\.tmp|foldkit-staging-.*|foldkit-build-.*)$")


@contextlib.contextmanager
def special_input(kind: str, data: bytes, work: Path) -> Iterator[str]:
    """A special file standing for the input `data` (fed through a FIFO by a thread, for "fifo")."""
    if kind == "fifo":
        path = work / "input.fifo"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.mkfifo(path)

        def feed() -> None:
            with contextlib.suppress(OSError), open(path, "wb") as fh:  # waits for a reader
                fh.write(data)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:
            yield str(path)
        finally:
            while writer.is_alive():  # the command never opened it, or stopped reading: unblock
                with contextlib.suppress(OSError):
                    os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
                writer.join(0.05)
        return
    if kind == "directory":
        path = work / "input.dir"
        path.mkdir(exist_ok=True)
        (path / "x.folded").write_bytes(data)
        yield str(path)
    elif kind == "link-loop":
        path = work / "input.loop"
        if not path.is_symlink():
            path.symlink_to(path.name)
        yield str(path)
    elif kind == "empty":
        path = work / "input.empty"
        path.write_bytes(b"")
        yield str(path)
    else:
        yield {"proc-mem": "/proc/self/mem", "dev-null": "/dev/null", "proc-status": "/proc/self/status"}[kind]


#: Options whose value is an output path.
OUTPUT_OPTIONS = {"-o", "--json", "--junit", "--markdown", "--svg"}


def with_output_fault(argv: list[str], out: Path, fault: str) -> list[str]:
    """`argv` with every output moved where writing fails (but "file-size", which `run_in_process`
    applies as a resource limit)."""
    if fault == "not-a-folder":
        blocker = out / "a-file"
        blocker.write_bytes(b"")
        moved = [str(blocker / Path(a).name) for a in argv]
    elif fault == "name-too-long":
        moved = [str(out / f"{'n' * 300}{Path(a).name}") for a in argv]
    else:
        return argv
    return [moved[i] if i and argv[i - 1] in OUTPUT_OPTIONS else a for i, a in enumerate(argv)]


@contextlib.contextmanager
def file_size_limit(limit: int | None) -> Iterator[None]:
    """Files written in the block cannot grow past `limit` bytes (EFBIG, not SIGXFSZ); None: no limit."""
    if limit is None:
        yield
        return
    import resource

    previous = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, previous[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous)
        signal.signal(signal.SIGXFSZ, handler)


@contextlib.contextmanager
def native_stderr() -> Iterator[list[bytes]]:
    """What is written to file descriptor 2 in the block (the native core's panics go there, past
    Python's `sys.stderr`), in the list it yields once the block ends."""
    got: list[bytes] = []
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield got
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            got.append(capture.read())


class Hang(Exception):
    """A command ran past HANG_SECONDS of CPU time, or was stuck for STUCK_FACTOR times as long."""


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
    panics: int = 0
    special_inputs: int = 0
    output_faults: int = 0
    exits: dict[int, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # CPU time per command


def _svgs_well_formed(folder: Path) -> str | None:
    for path in folder.glob("*.svg"):
        try:
            etree.parse(str(path))
        except etree.XMLSyntaxError as exc:
            return f"{path.name} is not well-formed: {exc}"
    return None


def run_in_process(
    argv: list[str], outcome: Outcome, note: Callable[[str], None], limit: int = HANG_SECONDS, file_size: int | None = None
) -> None:
    """Run one command (files it writes limited to `file_size` bytes); count its exit code, a
    traceback, a Rust panic or a hang (over `limit` seconds)."""
    outcome.runs += 1
    err = io.StringIO()
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, limit)  # CPU time of the whole process, every thread
    signal.alarm(limit * STUCK_FACTOR)
    started = time.process_time()
    native: list[bytes] = []
    try:
        with native_stderr() as native, file_size_limit(file_size), contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
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
        signal.setitimer(signal.ITIMER_PROF, 0)
        outcome.seconds[argv[0]] = outcome.seconds.get(argv[0], 0.0) + time.process_time() - started
    if native and (b"panicked" in native[0] or b"Traceback" in native[0]):
        outcome.panics += 1
        note(f"Rust panic or traceback on file descriptor 2: {argv}\n{native[0][-2000:].decode('utf-8', 'replace')}")
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
            special = rng.choice(SPECIAL_INPUTS) if rng.randrange(SPECIAL_EVERY) == 0 else None
            outcome.special_inputs += special is not None
            for argv in commands(str(x), str(bases[k]), work, rng):
                fault = rng.choice(OUTPUT_FAULTS) if rng.randrange(OUTPUT_FAULT_EVERY) == 0 else None
                outcome.output_faults += fault is not None
                argv = with_output_fault(argv, work, fault) if fault else argv
                size = rng.choice([0, 1, 100, 4096, 65536]) if fault == "file-size" else None
                if special is None:
                    run_in_process(argv, outcome, found.append, file_size=size)
                else:
                    with special_input(special, data, work) as path:
                        run_in_process([path if a == str(x) else a for a in argv], outcome, found.append, file_size=size)
                left = [p.name for p in work.rglob(".*") if LEFTOVER.match(p.name)]
                if left:
                    found.append(f"left behind after {argv}: {left}")
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
                        # every other batch writes its report where files cannot grow past 64 KiB
                        size = 65536 if (i // REPORT_BATCH) % 2 else None
                        outcome.output_faults += size is not None
                        run_in_process(argv, outcome, found.append, limit=HANG_SECONDS * len(batch), file_size=size)
                        found.extend(_slow_captures(Path(site), outcome))
                        left = [p.name for p in root.iterdir() if LEFTOVER.match(p.name)]
                        if left:
                            found.append(f"report left behind: {left}")
                    outcome.failures.extend(f"report batch ending at input {i} (seed {seed}): {f}" for f in found)
                    for path in batch:
                        path.unlink()
                    batch = []
            if (i + 1) % 250 == 0:
                log(f"{i + 1} inputs, {outcome.runs} runs, {outcome.tracebacks} tracebacks, {outcome.hangs} hangs")
    return outcome


def cli(argv: list[str] | None = None) -> int:
    """`python -m tests.support.fuzz`: run the fuzzer, print a summary, exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="mutated inputs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="folder to keep failing inputs in")
    parser.add_argument("--no-report", action="store_true", help="skip the report batches")
    args = parser.parse_args(argv)
    started = time.monotonic()
    outcome = fuzz(args.count, args.seed, args.keep, report=not args.no_report, log=lambda line: print(line, flush=True))
    for failure in outcome.failures[:20]:
        print(failure, file=sys.stderr)
    exits = ", ".join(f"exit {k}: {v}" for k, v in sorted(outcome.exits.items()))
    cpu = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(outcome.seconds.items(), key=lambda kv: -kv[1]))
    print(f"fuzz: CPU time by command: {cpu}")
    print(
        f"fuzz: {outcome.inputs} mutated inputs ({outcome.special_inputs} read from special files), "
        f"{outcome.runs} command runs ({exits}; {outcome.output_faults} with a failing output) in "
        f"{time.monotonic() - started:.0f} s: {outcome.tracebacks} tracebacks, {outcome.panics} panics, "
        f"{outcome.hangs} hangs over {HANG_SECONDS} s, {len(outcome.failures)} failures (seed {args.seed})"
    )
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(cli())

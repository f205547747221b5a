"""Write outputs: regular files atomically (temp file + rename), anything else (devices, FIFOs,
`/dev/stdout`) straight through; compressed by suffix (`.gz`, `.zst`). Every failure to write is
an `OutputError` naming the path and the reason.

A symlink to a regular file keeps the link: its target is replaced atomically. Several outputs
of one command (`check --json --junit --svg`) go through `write_all`: all are staged as temp
files first, and renamed into place only when every one was written. A set of files in a folder
(`fold --per-thread`) is written into a `staged_folder` and moved into place when all are written.
Folders are made with `make_folder`, so one that cannot be made (a read-only file system, a
folder the user may not write to, a full disk) is an `OutputError` too.

`OUTPUT_SUFFIXES` is the registry of what each command can write, by output suffix.
"""

from __future__ import annotations

import os
import stat
import sys

from foldkit.errors import OutputError, UsageError
from foldkit.lazy import contextmanager

#: `typing.TYPE_CHECKING` without importing typing: the plain flame graph (`foldkit.cli.plain`)
#: writes through this module, and loads none of typing, pathlib, tempfile, shutil, gzip or
#: contextlib (they load when a function here needs them).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from pathlib import Path
    from types import TracebackType
    from typing import BinaryIO

OutputPath = str | os.PathLike[str]

#: Suffixes that compress a text output.
COMPRESSION_SUFFIXES = (".gz", ".zst")
#: Table outputs (`top`, `diff`): suffix -> table format.
TABLE_SUFFIXES = {".txt": "text", ".text": "text", ".csv": "csv", ".json": "json", ".parquet": "parquet"}
#: What each command can write with `-o`: command -> {suffix: what it writes}. A command declares
#: its suffixes with `output_suffixes`; a new output format is one more entry.
OUTPUT_SUFFIXES: dict[str, dict[str, str]] = {}


def output_suffixes(command: str, suffixes: Mapping[str, str]) -> dict[str, str]:
    """Declare (or extend) the suffixes `command` can write; its whole table."""
    table = OUTPUT_SUFFIXES.setdefault(command, {})
    table.update(suffixes)
    return table


def output_suffix(command: str, path: OutputPath | None) -> str | None:
    """The declared suffix `path` ends with (the longest; `.gz`/`.zst` ignored), "" for a name
    without a suffix, None for stdout; a UsageError naming what `command` can write otherwise."""
    if is_stdout(path):
        return None
    name = os.path.basename(os.fspath(path)).lower()  # type: ignore[arg-type]
    for comp in COMPRESSION_SUFFIXES:
        name = name.removesuffix(comp)
    table = OUTPUT_SUFFIXES.get(command, {})
    for suffix in sorted(table, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    if "." not in name.lstrip("."):
        return ""
    raise UsageError(
        f"{path}: foldkit {command} cannot write {os.path.splitext(name)[1]} files; "
        f"it writes {', '.join(table)} (a .gz or .zst suffix compresses text)"
    )


def is_stdout(path: OutputPath | None) -> bool:
    """True when `path` means standard output (absent or `-`)."""
    return path is None or os.fspath(path) == "-"


#: gzip level of `.gz` outputs (pprof's `.pb.gz` keeps Go's level 1).
GZIP_LEVEL = 6


def compress_for(path: OutputPath, data: bytes) -> bytes:
    """`data` compressed as the output name's suffix asks (`.gz`, `.zst`), else unchanged."""
    name = os.fspath(path)
    if name.endswith(".zst"):
        import zstandard  # on use (see foldkit.inputs)

        return zstandard.ZstdCompressor(level=6).compress(data)
    if name.endswith(".gz"):
        import gzip

        # level 6, gzip(1)'s default: on a 20 MB folded file 0.23 s of CPU for 1.72 MB, where
        # Python's default level 9 takes 0.78 s for 1.55 MB
        return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    return data


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


class output_errors:
    """Turn an operating-system error while writing `name` into an `OutputError` (a broken pipe
    stays a `BrokenPipeError`: the reader went away, which is not the writer's fault), for a
    `with` block. A class, not a `contextlib` generator: see `TYPE_CHECKING` above."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None) -> None:
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise OutputError(f"{self.name}: cannot write: {_reason(exc)}") from None


def _remove(path: str) -> None:
    """Delete the file at `path` if it is there (a temp file given up)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def stdout_binary() -> BinaryIO:
    """Standard output as a binary stream; an `OutputError` when it is closed."""
    out = sys.stdout
    if out is None or getattr(out, "buffer", None) is None:
        raise OutputError("standard output is closed; use -o FILE")
    return out.buffer


def _final_path(path: OutputPath) -> tuple[str, os.stat_result | None]:
    """Where an output really goes (symlinks followed; a trailing slash dropped, as pathlib
    drops it) and what is there now (None: nothing)."""
    name = os.fspath(path)
    target = os.path.realpath(name) if os.path.islink(name) else name.rstrip("/") or name
    try:
        return target, os.stat(target)
    except FileNotFoundError:
        return target, None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {_reason(exc)}") from None


def _is_direct(st: os.stat_result | None, path: OutputPath) -> bool:
    """Whether the output is written straight through (device, FIFO, socket), not replaced."""
    if st is None:
        return False
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: is a directory; give a file name")
    return not stat.S_ISREG(st.st_mode)


def _temp_folder(name: str, target: str) -> str:
    """The folder of `target` (the output `name` really goes to), where its temp file is made;
    an `OutputError` when it does not exist."""
    parent = os.path.dirname(target) or "."
    if not os.path.isdir(parent):
        raise OutputError(f"{name}: output directory {parent} does not exist")
    return parent


#: Names tried for a temp file before giving up (each is random: one taken is a rare event).
_TEMP_TRIES = 100


def _temp_names(parent: str, target: str) -> Iterator[str]:
    """Names for the temp file of `target` in `parent`: hidden, named after it, random."""
    base = os.path.basename(target)
    for _ in range(_TEMP_TRIES):
        yield os.path.join(parent, f".{base}.{os.urandom(6).hex()}.tmp")
    import errno  # (on use: the plain path's module list has no errno)

    raise FileExistsError(errno.EEXIST, f"no free name for its temporary file in {parent} ({_TEMP_TRIES} random names tried, all taken)")


def _make_temp(parent: str, target: str) -> tuple[int, str]:
    """A new temp file for `target` in `parent`, open for writing, readable by its owner only
    (as `tempfile.mkstemp` makes one): its descriptor and name."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for tmp in _temp_names(parent, target):
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise AssertionError("unreachable: _temp_names raises when it runs out")


@contextmanager
def _staged(path: OutputPath) -> Iterator[tuple[BinaryIO, str, str | None]]:
    """An open file for `path`: (file, final path, temp path or None when written in place)."""
    name = os.fspath(path)
    target, st = _final_path(path)
    if _is_direct(st, path):
        with output_errors(name), open(target, "wb") as fh:
            yield fh, target, None
        return
    parent = _temp_folder(name, target)
    with output_errors(name):
        fd, tmp = _make_temp(parent, target)
    try:
        with output_errors(name), os.fdopen(fd, "wb") as fh:
            yield fh, target, tmp
    except BaseException:
        _remove(tmp)
        raise


def _commit(name: str, tmp: str, target: str) -> None:
    with output_errors(name):
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)


def _commit_or_remove(name: str, tmp: str, target: str) -> None:
    """`_commit`, the temp file deleted when that fails."""
    try:
        _commit(name, tmp, target)
    except BaseException:
        _remove(tmp)
        raise


@contextmanager
def atomic_writer(path: OutputPath) -> Iterator[BinaryIO]:
    """A binary file that appears at `path` only if the block finishes without error (a device
    or FIFO is written straight through)."""
    with _staged(path) as (fh, target, tmp):
        yield fh
    if tmp is not None:
        _commit_or_remove(os.fspath(path), tmp, target)


def write_bytes(path: OutputPath | None, data: bytes) -> None:
    """Write `data` to `path` atomically (compressed by suffix), or to stdout for `-`/None."""
    if is_stdout(path):
        out = stdout_binary()
        with output_errors("<stdout>"):
            out.write(data)
            out.flush()
        return
    assert path is not None
    with atomic_writer(path) as fh:
        fh.write(compress_for(path, data))


def write_natively(path: OutputPath | None, write: Callable[[str | None, bool], bool], data: Callable[[], bytes | None]) -> bool:
    """Write an output the native core writes itself, as `write_bytes` writes one, without its
    bytes passing through Python: `write(file, new)` writes the whole of it to the file named
    `file` (which it makes, readable by its owner only, when `new`: the temp file, renamed into
    place once written) or to the process's standard output (`file` None), and returns False,
    having made and written nothing, when it does not write this output. Where the native core
    cannot reach the output (a name asking for compression, a standard output that is not the
    process's), `data()` gives the bytes (or None: not written). True when written; the errors
    are `write_bytes`'s."""
    if is_stdout(path):
        out = stdout_binary()
        with output_errors("<stdout>"):
            try:
                fd = out.fileno()
            except (OSError, ValueError):
                fd = -1  # replaced (a test's capture): written as bytes
            if fd == 1:
                out.flush()
                return write(None, False)
        return _write_data(path, data)
    assert path is not None
    name = os.fspath(path)
    if name.endswith(COMPRESSION_SUFFIXES):
        return _write_data(path, data)
    target, st = _final_path(path)
    if _is_direct(st, path):
        with output_errors(name):
            return write(target, False)
    parent = _temp_folder(name, target)
    with output_errors(name):
        for tmp in _temp_names(parent, target):
            try:
                written = write(tmp, True)
            except FileExistsError:
                continue  # the name is taken (by another file: left alone)
            except BaseException:
                _remove(tmp)
                raise
            break
    if written:
        _commit_or_remove(name, tmp, target)
    return written


def _write_data(path: OutputPath | None, data: Callable[[], bytes | None]) -> bool:
    """`write_bytes` of `data()` unless that is None; whether written."""
    got = data()
    if got is None:
        return False
    write_bytes(path, got)
    return True


def write_stream(path: OutputPath | None, write: Callable[[BinaryIO], None]) -> None:
    """`write_bytes` of what `write(file)` writes, without holding it whole when it can: a
    regular file gets it as it is written (atomically, as `write_bytes`); a name that asks for
    compression gets it compressed as a whole; stdout gets it straight through."""
    if is_stdout(path):
        out = stdout_binary()
        with output_errors("<stdout>"):
            write(out)
            out.flush()
        return
    assert path is not None
    if os.fspath(path).endswith(COMPRESSION_SUFFIXES):
        import io

        buffer = io.BytesIO()
        write(buffer)
        write_bytes(path, buffer.getvalue())
        return
    with atomic_writer(path) as fh:
        write(fh)


def write_all(outputs: Iterable[tuple[OutputPath | None, bytes]]) -> None:
    """Write several outputs, all or none of the regular files: each is staged as a temp file,
    and only when every one is written are they renamed into place (then devices and stdout)."""
    staged: list[tuple[str, str, str]] = []
    later: list[tuple[OutputPath | None, bytes]] = []
    try:
        for path, data in outputs:
            if is_stdout(path) or _is_direct(_final_path(path)[1], path):  # type: ignore[arg-type]
                later.append((path, data))
                continue
            assert path is not None
            with _staged(path) as (fh, target, tmp):
                fh.write(compress_for(path, data))
            assert tmp is not None
            staged.append((os.fspath(path), tmp, target))
        for name, tmp, target in staged:
            _commit(name, tmp, target)
    except BaseException:
        for _, tmp, _ in staged:
            _remove(tmp)
        raise
    for path, data in later:
        write_bytes(path, data)


def make_folder(path: OutputPath) -> Path:
    """Make the folder `path` (and its parents) unless it exists; an `OutputError` naming it when
    it cannot be made (or a file is in its place)."""
    from pathlib import Path

    folder = Path(path)
    with output_errors(os.fspath(path)):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # a file (or a link to one) of that name
            raise OutputError(f"{path}: exists and is not a folder") from None
    return folder


def write_file(path: OutputPath, data: bytes) -> None:
    """Write `data` to `path` in place, for files inside a folder that is itself staged and moved
    into place whole (a report being built, `staged_folder`); an `OutputError` naming the file
    when it cannot be written (a full disk)."""
    with output_errors(os.fspath(path)), open(path, "wb") as fh:
        fh.write(data)


#: Prefix of the hidden folders a set of files is staged in (see `staged_folder`).
STAGING_PREFIX = ".foldkit-staging-"
#: Seconds an empty staging folder nobody holds is left alone: its run may have made it and not
#: yet locked it (see `remove_abandoned_stages`).
_JUST_MADE = 60.0


@contextmanager
def holding(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` while the block runs. The kernel lets it go when the
    process ends, however it ends (SIGKILL, a crash), so a staging folder nobody holds is one whose
    run is over."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def remove_abandoned_stages(parent: Path, prefix: str) -> None:
    """Delete the staging folders `prefix*` in `parent` that runs killed before they could clean
    up left behind: the ones no process holds (see `holding`), unless empty and just made."""
    import fcntl
    import shutil
    import time

    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # held: its run goes on
            # a run writes only once it holds its folder: files in one nobody holds are left over
            if not os.listdir(fd) and time.time() - os.fstat(fd).st_mtime < _JUST_MADE:
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            continue
        finally:
            os.close(fd)


@contextmanager
def staged_folder(path: OutputPath) -> Iterator[Path]:
    """A hidden, empty folder to write a set of files into; when the block ends normally they are
    moved into the folder `path` (made if missing; files of the same names replaced, others kept),
    and when it raises (or is interrupted) they are deleted and `path` is left as it was.

    A new folder is staged beside its place and renamed into it whole; an existing one holds the
    staging folder, whose files are renamed into it one by one once all are written (renames on
    one file system, which need no space). Staging folders of `path` left by runs that were
    killed (SIGKILL cannot be caught) are deleted first."""
    import shutil
    import tempfile
    from pathlib import Path

    name = os.fspath(path)
    folder = Path(path)
    with output_errors(name):  # a name too long, a parent that is a file: said, not raised
        try:
            st: os.stat_result | None = os.stat(folder)
        except FileNotFoundError:
            st = None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{name}: exists and is not a folder")
    new = st is None
    parent = make_folder(folder.parent if new else folder)
    prefix = f"{STAGING_PREFIX}{folder.name}."
    for place in {folder.parent, parent}:
        remove_abandoned_stages(place, prefix)
    with output_errors(name):
        stage = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        with holding(stage):
            yield stage
            _move_staged(stage, folder, new, name)
    except OutputError as exc:  # named as the file in its folder, where the user looks for it
        shutil.rmtree(stage, ignore_errors=True)
        raise OutputError(str(exc).replace(os.fspath(stage), os.fspath(folder))) from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _move_staged(stage: Path, folder: Path, new: bool, name: str) -> None:
    """Move the staged files into `folder` (see `staged_folder`)."""
    with output_errors(name):
        os.chmod(stage, 0o755)  # mkdtemp makes it private
        if new:
            try:
                os.rename(stage, folder)  # onto nothing, or an empty folder made meanwhile
                return
            except OSError:
                folder.mkdir(exist_ok=True)
        for entry in sorted(os.listdir(stage)):
            os.replace(stage / entry, folder / entry)
        stage.rmdir()


def _input_paths(inputs: Iterable[object]) -> Iterator[str]:
    for spec in inputs:
        if isinstance(spec, str | os.PathLike) and os.fspath(spec) != "-":
            yield os.fspath(spec)


def refuse_input_as_output(outputs: Sequence[OutputPath | None], inputs: Iterable[object]) -> None:
    """A `UsageError` when an output file is also one of the inputs (writing it would destroy the
    input); devices and FIFOs may be both."""
    files = []
    for out in outputs:
        if is_stdout(out):
            continue
        assert out is not None
        try:
            st = os.stat(out)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            files.append((out, st))
    if not files:
        return
    for spec in _input_paths(inputs):
        try:
            st = os.stat(spec)
        except OSError:
            continue
        for out, ost in files:
            if (st.st_dev, st.st_ino) == (ost.st_dev, ost.st_ino):
                raise UsageError(f"{out}: is also an input ({spec}); writing it would destroy the input, choose another output")

"""Reading ahead (`foldkit.readahead`, `foldkit.launch`): which files a command line reads ahead, that a read is
handed over only for the same file with the same settings, and that a command gives the same
output whether its input was read ahead or not."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit import _native, cli, launch, readahead
from foldkit.cli import main
from foldkit.inputs import DEFAULT_MAX_RECORD
from foldkit.jobs import default_jobs
from foldkit.launch import read_ahead_paths
from foldkit.profile import LazyProfile
from tests.ingest.test_folded_file_native import PLAIN, SKIPPED
from tests.ingest.test_folded_native import LINE

SETTINGS = (DEFAULT_MAX_RECORD, _native.MAX_DEFERRED)


@pytest.fixture(autouse=True)
def _nothing_pending() -> Iterator[None]:
    readahead.forget()
    yield
    readahead.forget()


def big_folded(path: Path, stacks: int = 80_000) -> Path:
    """A sorted folded file of more than `readahead.MIN_BYTES`."""
    lines = [f"proc-{i % 7};lib::outer_{i % 13};mod::function_number_{i:06d};leaf_{i % 5} {i % 97 + 1}" for i in range(stacks)]
    path.write_text("\n".join(sorted(lines)) + "\n")
    assert path.stat().st_size >= readahead.MIN_BYTES
    return path


def test_candidates_are_big_folded_files_of_commands_that_read_them(tmp_path: Path) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    small = tmp_path / "small.folded"
    small.write_text("a;b 1\n")
    other = tmp_path / "big.txt"
    other.write_bytes(Path(big).read_bytes())
    assert read_ahead_paths(["flamegraph", big, "-o", "x.svg"]) == [big]
    assert read_ahead_paths(["diff", big, big, big]) == [big, big]  # at most two
    for command in ("top", "check", "fold"):
        assert read_ahead_paths([command, big]) == [big]
    assert read_ahead_paths(["flamegraph", str(small), str(other), str(tmp_path / "gone.folded")]) == []
    assert read_ahead_paths(["fold", big, "-o", big]) == [big]  # the output is not read
    assert read_ahead_paths(["fold", "-o", big]) == [] and read_ahead_paths(["fold", "--output", big]) == []
    assert read_ahead_paths(["report", big]) == []  # read by worker processes
    assert read_ahead_paths([big]) == [] and read_ahead_paths([]) == []


@pytest.mark.parametrize("option", ["-j", "-j1", "--jobs=3", "--nthreads", "--max-record", "--format=folded", "-f", "--cluster", "--flamechart", "--help", "-h"])
def test_options_that_change_how_inputs_are_read_turn_it_off(tmp_path: Path, option: str) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    assert read_ahead_paths(["flamegraph", big, option, "1"]) == []


def test_n_is_threads_only_for_fold(tmp_path: Path) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    assert read_ahead_paths(["fold", big, "-n", "2"]) == []  # inferno-collapse-perf's --nthreads
    assert read_ahead_paths(["top", big, "-n", "5"]) == [big]  # top's --limit


def test_the_launcher_knows_what_the_commands_parameters_say() -> None:
    """`launch.READ_AHEAD` (the launcher cannot load the command line in time) is what the
    commands' own parameters give; regenerate it with `cli.read_ahead_spellings` when not."""
    assert launch.READ_AHEAD == cli.read_ahead_spellings(launch.READ_AHEAD)


def test_what_stops_reading_ahead() -> None:
    """The folding flags that change how folded files are read, and the others that do."""
    assert cli.NOT_READ_AHEAD == {"jobs", "max_record", "format", "cluster", "flamechart", "help"}


def test_a_cluster_in_the_environment_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    monkeypatch.setenv("FOLDKIT_CLUSTER", "local:2")
    assert read_ahead_paths(["flamegraph", big]) == []


def test_a_read_is_handed_over_once_for_the_same_file_and_settings(tmp_path: Path) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    readahead.start([big])
    assert readahead.take(big, DEFAULT_MAX_RECORD - 1) is None  # another --max-record: not used
    readahead.start([big])
    pending = readahead.take(big, DEFAULT_MAX_RECORD)
    assert pending is not None and readahead.take(big, DEFAULT_MAX_RECORD) is None
    table = pending.result()
    assert len(table) == len(_native.read_folded_file(big, default_jobs(), *SETTINGS))
    with pytest.raises(RuntimeError, match="already taken"):
        pending.result()


@pytest.mark.parametrize("change", ["append", "replace", "delete"])
def test_a_file_changed_after_the_read_started_is_read_again(tmp_path: Path, change: str) -> None:
    path = big_folded(tmp_path / "a.folded")
    readahead.start([str(path)])
    if change == "append":
        with path.open("a") as f:
            f.write("late;stack 5\n")
    elif change == "replace":
        fresh = big_folded(tmp_path / "b.folded", stacks=90_000)
        os.replace(fresh, path)
    else:
        path.unlink()
    assert readahead.take(str(path), DEFAULT_MAX_RECORD) is None


def _table(table: object) -> object:
    if table is None:
        return None
    # the stacks in order: the order of first appearance is part of what is read
    sums = None if table.has_floats() else table.sums()  # type: ignore[attr-defined]
    return (list(table.to_dict().items()), table.deferred(), table.may_hold_offsets(), sums)  # type: ignore[attr-defined]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(LINE, PLAIN, SKIPPED), max_size=40).map(b"".join),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=64),
    st.integers(min_value=0, max_value=2),
)
def test_a_pending_read_gives_what_the_reader_gives(text: bytes, threads: int, min_split: int, wait: int) -> None:
    """Any threads, ranges as small as a few bytes, the result asked for at once or later."""
    import tempfile
    import time

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.folded"
        path.write_bytes(text)
        pending = _native.read_folded_file_later(str(path), threads, 1 << 20, 50, min_split=min_split)
        time.sleep(wait / 1000)
        assert _table(pending.result()) == _table(_native.read_folded_file(str(path), 1, 1 << 20, 50))


def test_a_failed_read_raises_what_the_reader_raises() -> None:
    pending = _native.read_folded_file_later("/nonexistent/foldkit.folded", 2, *SETTINGS)
    with pytest.raises(OSError):
        pending.result()


def test_a_command_reads_the_file_read_ahead_and_draws_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    assert main(["flamegraph", big, "-q", "-o", str(tmp_path / "plain.svg")]) == 0
    taken: list[object] = []
    real_take = readahead.take

    def take(*args: object) -> object:
        taken.append(real_take(*args))  # type: ignore[arg-type]
        return taken[-1]

    monkeypatch.setattr(readahead, "take", take)
    readahead.start([big])
    assert main(["flamegraph", big, "-q", "-o", str(tmp_path / "ahead.svg")]) == 0
    assert len(taken) == 1 and taken[0] is not None  # the read ahead was used
    assert (tmp_path / "ahead.svg").read_bytes() == (tmp_path / "plain.svg").read_bytes()


def test_the_table_read_ahead_is_the_one_read_now(tmp_path: Path) -> None:
    from foldkit.ingest import FoldOptions, read

    big = str(big_folded(tmp_path / "a.folded"))
    now = read([big], FoldOptions())
    readahead.start([big])
    ahead = read([big], FoldOptions())
    assert isinstance(ahead, LazyProfile) and ahead.weights == now.weights


@pytest.mark.parametrize("how", ["script", "module"])
def test_the_console_script_and_python_m_read_ahead_with_the_same_output(tmp_path: Path, how: str) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    script = Path(sys.executable).with_name("foldkit")
    cmd = [str(script)] if how == "script" else [sys.executable, "-m", "foldkit"]
    ahead = subprocess.run([*cmd, "top", big, "-n", "5"], capture_output=True, timeout=120)
    plain = subprocess.run([*cmd, "top", big, "-n", "5", "-j", str(default_jobs())], capture_output=True, timeout=120)
    assert ahead.returncode == plain.returncode == 0, ahead.stderr
    assert ahead.stdout == plain.stdout and b"leaf_" in ahead.stdout


def test_the_launcher_reads_ahead_before_the_command_line_loads(tmp_path: Path) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    code = (
        "import sys; from foldkit import readahead; real = readahead.take\n"
        "def take(*a):\n    r = real(*a); print('taken' if r else 'not taken', file=sys.stderr); return r\n"
        "readahead.take = take\n"
        f"sys.argv = ['foldkit', 'top', {big!r}, '-n', '1']\n"
        "from foldkit.launch import entry; entry()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "taken\n", done.stderr


def test_a_command_line_error_while_reading_ahead_exits_cleanly(tmp_path: Path) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    done = subprocess.run([sys.executable, "-m", "foldkit", "flamegraph", big, "--no-such-option"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no-such-option" in done.stderr
    assert "Traceback" not in done.stderr and "panic" not in done.stderr

"""Writing outputs: errors are exit 2 with the path and the reason, devices, FIFOs and symlinks
are never replaced, an output that is also an input is refused, `check` writes all or nothing."""

from __future__ import annotations

import errno
import gzip
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from foldkit import export, native, outputs
from foldkit.cli import main
from foldkit.errors import OutputError
from foldkit.outputs import write_all, write_bytes

FOLDED = b"main;work;leaf 3\nmain;idle 1\n"


def run(*args: str, stdin: bytes | None = None, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "foldkit", *args], input=stdin, capture_output=True, timeout=120, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "in.folded"
    path.write_bytes(FOLDED)
    return path


@pytest.mark.parametrize("command", ["fold", "flamegraph", "top"])
def test_output_onto_a_directory_is_exit_2_with_the_path(command: str, capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, str(capture), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: is a directory" in err


def device_copy(folder: Path, device: str) -> Path:
    """A node for `device` (same major/minor) in `folder`: if a regression replaced it, the
    machine's own device would be untouched. Needs root, as these tests run in CI."""
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    node = folder / Path(device).name
    os.mknod(node, stat.S_IFCHR | 0o666, os.stat(device).st_rdev)
    return node


def test_disk_full_is_exit_2_with_the_reason(capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    full = device_copy(tmp_path, "/dev/full")
    assert main(["fold", str(capture), "-o", str(full)]) == 2
    assert f"{full}: cannot write: No space left on device" in capsys.readouterr().err
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_missing_output_folder_is_exit_2(capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fold", str(capture), "-o", str(tmp_path / "nope" / "x.folded")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_read_only_file_system_is_exit_2(capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # a read-only mount cannot be made in a test (and root ignores permission bits): the file
    # system's answer is simulated where foldkit asks for the temp file (the folded text of a
    # folded input is written by the native core, tested below: here the bytes' writer)
    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(outputs, "_make_temp", read_only)
    monkeypatch.setattr(export, "_write_table", lambda profile, path: False)
    assert main(["fold", str(capture), "-o", str(tmp_path / "x.folded")]) == 2
    assert f"{tmp_path / 'x.folded'}: cannot write: Read-only file system" in capsys.readouterr().err


PERF = b"prog 123 1.000000: 1 cycles:\n\t1000 leaf (/bin/prog)\n\t2000 main (/bin/prog)\n\n"


@pytest.mark.parametrize(
    ("name", "text", "writer"),
    [("in.folded", FOLDED, "table_folded_write"), ("in.perf", PERF, "folded_write")],
    ids=["from-the-table", "from-the-weights"],
)
def test_read_only_file_system_is_exit_2_when_the_native_core_writes(
    name: str, text: bytes, writer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    core = native.native_core()
    if core is None:
        pytest.skip("no native core")
    source = tmp_path / name
    source.write_bytes(text)
    asked: list[bool] = []

    def read_only(table: object, file: str | None, new: bool) -> bool:
        asked.append(new)
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    class ReadOnly:
        """The native core, its folded writer answering as a read-only file system does."""

        def __getattr__(self, attr: str) -> object:
            return read_only if attr == writer else getattr(core, attr)

    monkeypatch.setattr(native, "native_core", ReadOnly)
    assert main(["fold", str(source), "-o", str(tmp_path / "x.folded")]) == 2
    assert asked == [True]  # the temp file, made by the native core
    assert f"{tmp_path / 'x.folded'}: cannot write: Read-only file system" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [source]  # no output, no temp file left


def test_closed_stdout_is_exit_2_not_a_traceback(capture: Path) -> None:
    for command in ("top", "fold", "flamegraph"):
        proc = subprocess.run(
            [sys.executable, "-m", "foldkit", command, str(capture)], stdout=None, stderr=subprocess.PIPE, timeout=120,
            pass_fds=(), close_fds=True, preexec_fn=lambda: os.close(1),
        )
        assert proc.returncode == 2, proc.stderr
        assert b"standard output is closed" in proc.stderr and b"Traceback" not in proc.stderr


def test_check_junit_onto_a_directory_is_exit_2(capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(capture), str(capture), "--junit", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_report_into_proc_is_exit_2(capture: Path) -> None:
    proc = run("report", str(capture), "-o", "/proc/foo", "-q")
    assert proc.returncode == 2, proc.stderr
    assert b"Traceback" not in proc.stderr


def test_a_device_is_written_through_not_replaced(tmp_path: Path) -> None:
    node = device_copy(tmp_path, "/dev/null")
    null = os.stat(node)
    write_bytes(node, b"x")
    after = os.stat(node)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (null.st_ino, null.st_rdev)


def test_a_fifo_is_written_through(capture: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert main(["fold", str(capture), "-o", str(fifo)]) == 0
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got == [b"main;idle 1\nmain;work;leaf 3\n"]


def test_a_symlink_keeps_pointing_at_its_replaced_target(capture: Path, tmp_path: Path) -> None:
    target = tmp_path / "real.folded"
    target.write_bytes(b"old\n")
    link = tmp_path / "link.folded"
    link.symlink_to(target.name)
    assert main(["fold", str(capture), "-o", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == target.name
    assert target.read_bytes() == b"main;idle 1\nmain;work;leaf 3\n"


def test_a_dangling_symlink_creates_its_target(capture: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.folded"
    link.symlink_to("made.folded")
    assert main(["fold", str(capture), "-o", str(link)]) == 0
    assert link.is_symlink() and (tmp_path / "made.folded").read_bytes().startswith(b"main;")


@pytest.mark.parametrize("command", ["fold", "flamegraph", "top", "diff", "check"])
def test_output_equal_to_an_input_is_refused(command: str, capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = capture.with_name("other.folded")
    other.write_bytes(FOLDED)
    args = [str(capture), str(other)] if command in ("diff", "check") else [str(capture)]
    suffix = {"diff": ["-o", str(capture)], "check": ["--json", str(capture)]}.get(command, ["-o", str(capture)])
    assert main([command, *args, *suffix]) == 2
    assert "is also an input" in capsys.readouterr().err
    assert capture.read_bytes() == FOLDED


def test_output_equal_to_an_input_through_a_symlink_is_refused(capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = capture.with_name("link.folded")
    link.symlink_to(capture.name)
    assert main(["fold", str(capture), "-o", str(link)]) == 2
    assert capture.read_bytes() == FOLDED


def test_write_all_writes_none_when_one_fails(tmp_path: Path) -> None:
    first = tmp_path / "a.json"
    first.write_bytes(b"old")
    with pytest.raises(OutputError):
        write_all([(first, b"new"), (tmp_path, b"x")])
    assert first.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]  # no temp file left


def test_check_with_a_failing_output_leaves_the_others_untouched(capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.folded"
    other.write_bytes(FOLDED)
    outs = {name: tmp_path / name for name in ("c.json", "c.xml", "c.md")}
    for path in outs.values():
        path.write_bytes(b"previous")
    args = ["check", str(capture), str(other), "--json", str(outs["c.json"]), "--junit", str(outs["c.xml"]), "--markdown", str(outs["c.md"]), "--svg", str(tmp_path)]
    assert main(args) == 2
    assert "is a directory" in capsys.readouterr().err
    assert all(path.read_bytes() == b"previous" for path in outs.values())
    args[-1] = str(tmp_path / "c.svg")
    assert main(args) == 0
    assert all(path.read_bytes() != b"previous" for path in outs.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["top", "{x}", "-n", "-5"], "--limit"),
        (["top", "{x}", "--csv", "-o", "t.json"], "--csv contradicts the output name t.json"),
        (["top", "{x}", "--json", "-o", "t.csv.zst"], "--json contradicts"),
        (["diff", "{x}", "{x}", "--folded", "-o", "d.svg"], "--folded contradicts"),
        (["fold", "{x}", "--jobs", "-1"], "--jobs"),
    ],
)
def test_impossible_or_contradictory_values_are_refused(args: list[str], message: str, capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([a.format(x=capture) for a in args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err + captured.out
    assert not (tmp_path / "t.json").exists() and not (tmp_path / "d.svg").exists()


def test_gz_outputs_are_compressed_at_gzips_default_level() -> None:
    """Level 6, not Python's 9: the header's XFL byte is 2 only for the slowest level."""
    data = b"p;a;b 1\n" * 10_000
    packed = outputs.compress_for("x.folded.gz", data)
    assert gzip.decompress(packed) == data
    assert packed[8] == 0  # XFL: 2 would mean level 9, 4 level 1
    assert outputs.GZIP_LEVEL == 6


@pytest.mark.parametrize("command, suffix", [("fold", ".folded"), ("flamegraph", ".svg")])
def test_every_temp_name_taken_is_exit_2_saying_so(
    command: str, suffix: str, capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every random temp-file name tried already exists (the same name each time here): exit 2
    with a message that says what is wrong, not a traceback nor a bare "File exists"."""
    monkeypatch.setattr(outputs.os, "urandom", lambda n: b"\0" * n)
    target = tmp_path / f"x{suffix}"
    (tmp_path / f".x{suffix}.{'00' * 6}.tmp").write_bytes(b"someone else's")
    assert main([command, str(capture), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"{target}: cannot write: no free name for its temporary file in {tmp_path}" in err
    assert "Traceback" not in err and not target.exists()

"""The native reader of whole plain folded files (threads over ranges of the file, stacks kept in
a native table) against the Python reference reader, and the flame-graph layout of that table
against the Python twin's layout of the same stacks as a dict."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit import _native
from foldkit.errors import InputError
from foldkit.ingest import FoldOptions, read
from foldkit.ingest.folded import fold_chunks, fold_file, split_columns
from foldkit.profile import LazyProfile, Profile
from foldkit.render import RenderOptions, layout_profile, render_flamegraph
from foldkit.render.layout import layout_flame, layout_table
from tests.ingest.test_folded_native import LINE, described

#: A line the native reader takes, and lines it hands back without a stack.
PLAIN = st.sampled_from([b"a;b 3\n", b"a;c 1\r\n", b"b 2\n", b"\xff;x 4\n", b"a;b;c 7\n", b"\x00 1\n", b"a b;d 5\n"])
SKIPPED = st.sampled_from([b"# c\n", b"# foldkit: unit=ns event=cpu-clock\n", b"no weight\n", b"\n", b"  \n"])


def read_file(text: bytes, options: FoldOptions, **native: int) -> Profile | tuple[object, ...] | None:
    """`fold_file` of `text` written to a file: the profile, None, or ("error", message)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.folded"
        path.write_bytes(text)
        try:
            profile = fold_file("in.folded", str(path), options, native.pop("max_record", 1 << 26), **native)
        except InputError as exc:
            return ("error", str(exc))
        return profile


def _two_column(text: bytes) -> bool:
    """Whether a line of `text` is `stack before after` (the reference reader keeps the before column)."""
    return any((c := split_columns(ln.strip())) is not None and c[1] is not None for ln in text.split(b"\n"))


def python_outcome(text: bytes, options: FoldOptions) -> tuple[object, ...]:
    try:
        return described(fold_chunks("in.folded", [text], options, native=False))
    except InputError as exc:
        return ("error", str(exc))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(LINE, PLAIN, SKIPPED), max_size=30).map(b"".join),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=1, max_value=64),
    st.booleans(),
)
def test_the_file_reader_equals_the_reference_reader(text: bytes, threads: int, min_split: int, kernel: bool) -> None:
    options = FoldOptions(jobs=threads, kernel=kernel)
    got = read_file(text, options, min_split=min_split)
    if got is None:  # left to the stream reader: a file with no stack, or with a two-column line
        stacks = python_outcome(text, options)[0]
        assert stacks == "error" or not stacks or _two_column(text)
        return
    assert (got if isinstance(got, tuple) else described(got)) == python_outcome(text, options)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(PLAIN, SKIPPED), min_size=1, max_size=40).map(b"".join), st.integers(min_value=1, max_value=4))
def test_plain_files_stay_in_the_native_table(text: bytes, threads: int) -> None:
    got = read_file(text, FoldOptions(jobs=threads), min_split=1)
    stacks = python_outcome(text, FoldOptions())[0]
    if stacks == "error" or not stacks:
        assert got is None  # no stack: the stream reader says so
        return
    assert isinstance(got, LazyProfile)
    assert described(got) == python_outcome(text, FoldOptions())


def test_lines_once_left_to_the_stream_reader_stay_native() -> None:
    """Decimal weights, whitespace around the weight and the largest weight: the
    native file reader reads them (a line costs that line, not the file), with the reference's
    result; decimal sums come back as a plain Profile."""
    assert read_file(b"a 1\nb 2 3\n", FoldOptions()) is None  # two columns: the reference keeps the before column
    for text in (b"a 1\nb 1.5\n", b"a 1\nb 9223372036854775807\n", b"a 1\nb;c  2 \r\n", b"a 1\n  b\t 3\n"):
        got = read_file(text, FoldOptions())
        assert isinstance(got, Profile)
        assert isinstance(got, LazyProfile) == (b"." not in text)
        assert described(got) == python_outcome(text, FoldOptions())


def test_lines_longer_than_max_record_go_to_the_stream_reader() -> None:
    assert read_file(b"a 1\n" + b"x" * 5000 + b" 2\n", FoldOptions(), max_record=1000) is None
    assert read_file(b"a 1\n" + b"x" * 5000 + b" 2\n", FoldOptions(), max_record=10_000) is not None


def test_decimal_sums_over_several_ranges_are_the_reference_sums() -> None:
    """Ranges read by threads cannot merge float sums: the file is read again by one reader."""
    text = b"".join(b"s%d %s\n" % (k % 3, b"0.1" if k % 5 else b"9007199254740993") for k in range(400))
    got = read_file(text, FoldOptions(jobs=4), min_split=1)
    assert isinstance(got, Profile) and not isinstance(got, LazyProfile)
    assert described(got) == python_outcome(text, FoldOptions())


def test_a_bad_weight_is_the_reference_readers_error() -> None:
    text = b"a 1\nb 1e400\n"
    assert read_file(text, FoldOptions()) == python_outcome(text, FoldOptions()) == ("error", python_outcome(text, FoldOptions())[1])


def test_call_site_offsets_are_stripped_as_the_reference_reader_strips_them() -> None:
    text = b"a;f+0x1f 1\na;f+12 2\nlibstdc++.so;g 3\n"
    got = read_file(text, FoldOptions())
    assert isinstance(got, Profile) and not isinstance(got, LazyProfile)
    assert described(got) == python_outcome(text, FoldOptions())
    assert isinstance(read_file(b"libstdc++.so;g 3\n", FoldOptions()), LazyProfile)


def test_a_panic_is_an_input_error_naming_the_file(monkeypatch, tmp_path: Path) -> None:
    def panicking(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal error in the native folded reader: boom")

    monkeypatch.setattr(_native, "read_folded_file", panicking)
    path = tmp_path / "cpu.folded"
    path.write_bytes(b"a 1\n")
    with pytest.raises(InputError, match=r"^cpu\.folded: internal error in the native folded reader"):
        fold_file("cpu.folded", str(path), FoldOptions(), 1 << 20)


def lazy(text: bytes) -> LazyProfile:
    got = read_file(text, FoldOptions(), min_split=1)
    assert isinstance(got, LazyProfile)
    return got


STACK_LINES = st.lists(
    st.tuples(st.lists(st.sampled_from(["a", "b", "c", "ab", "é", "\x01", "a b"]), min_size=1, max_size=5), st.integers(1, 50)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(STACK_LINES, st.sampled_from(["0", "0.1", "5", "30%", "1%"]), st.integers(1, 40), st.booleans(), st.sampled_from([None, 0.5, 10**4]))
def test_the_tables_layout_equals_the_twins(lines: list[tuple[list[str], int]], min_width: str, max_frames: int, by_weight: bool, span: float | None) -> None:
    text = "".join(f"{';'.join(frames)} {w}\n" for frames, w in lines).encode()
    profile = lazy(text)
    table = profile.table
    assert table is not None
    options = RenderOptions(min_width=min_width, max_frames=max_frames, sort_by_weight=by_weight, total=span)
    fraction = options.min_width_value()[0] / (100 if options.min_width_value()[1] else options.plot_width)
    kwargs = {"min_fraction": fraction, "max_frames": max_frames, "sort_by_weight": by_weight, "span": span}
    assert layout_table(table, **kwargs) == layout_flame(dict(table.to_dict()), native=False, **kwargs)
    assert render_flamegraph(profile, options) == render_flamegraph(Profile(weights=table.to_dict(), unit=profile.unit), options)
    assert profile.table is table, "drawing used the table, not the weights"


def test_a_table_with_bytes_that_are_not_utf8_is_laid_out_as_a_dict() -> None:
    profile = lazy(b"\xff;a 1\n\xfe;a 2\n\xef;b 3\n")
    assert profile.table is not None and profile.table.layout(0, 100, False) is None
    options = RenderOptions(min_width="0")
    assert layout_profile(profile, options) == layout_profile(Profile(weights=dict(profile.weights)), options)


def test_a_lazy_profile_is_a_profile_once_its_weights_are_used() -> None:
    profile = lazy(b"a;b 3\nb 2\na;b 1\n# foldkit: unit=ns\n")
    plain = Profile(weights={"a;b": 4, "b": 2}, unit="ns")
    assert (len(profile), profile.total, profile.magnitude(), profile.unit) == (2, 6, 6, "ns")
    assert profile.table is not None
    assert profile == plain and plain == profile
    assert profile.weights == {"a;b": 4, "b": 2} and profile.table is None
    import copy
    import pickle

    assert type(copy.copy(lazy(b"a 1\n"))) is Profile
    assert pickle.loads(pickle.dumps(lazy(b"a 1\n"))).weights == {"a": 1}
    again = lazy(b"a 1\n")
    again.weights = {"b": 2}
    assert again.table is None and len(again) == 1


def big_folded(path: Path) -> Path:
    """A folded file of a few hundred kB (read by path, not from the sniffed head), stacks
    repeated, a header line, comments, a bad line, names needing escapes."""
    lines = ["# foldkit: unit=ns event=cpu-clock"]
    for k in range(6000):
        frames = ["proc-1/2", f"main_{k % 13}", f"work<{k % 7}>&", f"leaf_{k % 101}"][: 2 + k % 3]
        lines.append(f"{';'.join(frames)} {k % 17 + 1}")
        if k % 1000 == 0:
            lines += ["# a comment", "not a stack"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_big_files_render_as_the_python_path_renders_them(tmp_path: Path) -> None:
    path = big_folded(tmp_path / "big.folded")
    profile = read(str(path))
    assert isinstance(profile, LazyProfile) and profile.table is not None
    env = {**os.environ}
    outputs = []
    for native in ("1", "0"):
        env["FOLDKIT_NATIVE"] = native
        for flags in ([], ["--minwidth", "0", "--sort-by-weight"]):
            out = tmp_path / f"x{native}{len(flags)}.svg"
            run = subprocess.run([sys.executable, "-m", "foldkit", "flamegraph", *flags, str(path), "-o", str(out)], env=env, capture_output=True, text=True)
            assert run.returncode == 0, run.stderr
            outputs.append((out.read_bytes(), run.stderr))
    assert outputs[:2] == outputs[2:]
    assert "6 unrecognised line(s) skipped" in outputs[0][1]


def test_reading_by_path_keeps_the_reference_readers_diagnostics(tmp_path: Path) -> None:
    path = big_folded(tmp_path / "big.folded")
    fast = read(str(path), FoldOptions(jobs=2))
    slow = fold_chunks(str(path), [path.read_bytes()], FoldOptions(), native=False)
    assert isinstance(fast, LazyProfile)
    ours, reference = described(fast), described(slow)
    assert (ours[:3], ours[5:]) == (reference[:3], reference[5:])
    assert type(replace(fast, unit="x")) is LazyProfile and replace(fast, unit="x").weights == fast.weights


def test_hostile_files_read_by_path_draw_what_the_python_reader_draws(tmp_path: Path) -> None:
    path = tmp_path / "hostile.folded"
    deep = ";".join(f"f{i}" for i in range(100_000))
    long_line = "x" * (10 * 1024 * 1024)
    path.write_bytes(
        b"".join(
            [
                f"{deep} 1\n".encode(),
                f"main;{long_line} 3\n".encode(),
                b"main;\xff\xfe;nul\x00here 500\n",
                b"main;ok 496\n",
                b"not a stack\n",
            ]
        )
    )
    assert isinstance(read(str(path)), LazyProfile)
    svgs = []
    for native in ("1", "0"):
        out = tmp_path / f"{native}.svg"
        env = {**os.environ, "FOLDKIT_NATIVE": native}
        run = subprocess.run([sys.executable, "-m", "foldkit", "flamegraph", str(path), "-o", str(out)], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        svgs.append((out.read_bytes(), run.stderr))
    assert svgs[0] == svgs[1]
    assert b"\\xff\\xfe" in svgs[0][0] and "1 unrecognised line(s) skipped" in svgs[0][1]


def test_switched_off_native_core_is_never_imported(tmp_path: Path) -> None:
    """FOLDKIT_NATIVE=0 reaches the folded reader and the layout: a flame graph of a folded file
    (big enough for the chunked/threaded readers) is drawn without loading `foldkit._native`."""
    path = tmp_path / "cpu.folded"
    path.write_bytes(b"".join(b"main;f%d;g %d\n" % (i % 97, i + 1) for i in range(5000)))
    out = tmp_path / "cpu.svg"
    code = (
        "import sys\n"
        "from foldkit.launch import entry\n"
        f"sys.argv = ['foldkit', 'flamegraph', {str(path)!r}, '-o', {str(out)!r}]\n"
        "try:\n    entry()\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('foldkit._native' in sys.modules)\n"
    )
    env = {**os.environ, "FOLDKIT_NATIVE": "0"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert run.returncode == 0, run.stderr
    assert out.read_bytes().startswith(b"<?xml")
    assert run.stdout.strip().splitlines()[-1] == "False", run.stdout


def test_a_file_smaller_than_the_head_is_read_into_the_table_alike(tmp_path: Path) -> None:
    """A folded file the format detection read whole (under 64 KiB) goes to the native table too
    (`Source.whole_file_path`), with the stacks, weights and header the stream reader gives."""
    text = b"# foldkit: unit=samples\n" + b"".join(b"main;f%d;g 3\n" % i for i in range(200)) + b"main;h 2\n"
    path = tmp_path / "small.folded"
    path.write_bytes(text)
    got = read(path)
    assert isinstance(got, LazyProfile) and got.table is not None
    want = described(fold_chunks("small.folded", [text], FoldOptions(), native=False))
    mine = described(got)
    assert mine[:4] + mine[5:] == want[:4] + want[5:] and mine[4] == [f"{path}: format folded (not compressed)"]
    gz = tmp_path / "small.folded.gz"  # not plain: the stream reader, as before
    subprocess.run(["gzip", "-k", "-c", str(path)], stdout=gz.open("wb"), check=True)
    assert not isinstance(read(gz), LazyProfile)

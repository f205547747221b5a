"""Already-folded input: weights, the two-column diff form, summing, offsets, `--kernel`, bad lines."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit.errors import StrictModeError
from foldkit.ingest import folded
from tests.support.bpf import DATA, fold


def test_integer_and_decimal_weights() -> None:
    profile = fold(b"a;b 3\na;c 0.25\na;b 2\nd 1e3\n")
    assert profile.format == "folded"
    assert profile.weights == {"a;b": 5, "a;c": 0.25, "d": 1000.0}
    assert profile.to_folded_bytes() == b"a;b 5\na;c 0.25\nd 1000\n"


def test_two_column_diff_form_reads_the_second_column() -> None:
    assert fold(b"a;b 10 7\na;c 0 4\n").weights == {"a;b": 7, "a;c": 4}


def test_spaces_in_frames_comments_blank_lines_and_crlf() -> None:
    text = b"# written by hand\r\n\r\nC2 CompilerThre;Compile::Compile(ciEnv*, int) 4\r\njava;JS:*fib /x.js:1:2 1\r\n"
    assert fold(text).weights == {"C2 CompilerThre;Compile::Compile(ciEnv*, int)": 4, "java;JS:*fib /x.js:1:2": 1}


def test_offsets_are_stripped_so_call_sites_merge() -> None:
    text = b"bash;main+12;read+0x1a 2\nbash;main+40;read+0x2b 3\nbash;operator+ 1\n"
    assert fold(text).weights == {"bash;main;read": 5, "bash;operator+": 1}


def test_kernel_annotation() -> None:
    text = (
        b"sort;[unknown];entry_SYSCALL_64_after_hwframe;do_syscall_64;ksys_read;vfs_read 4\n"
        b"xz;main;-;asm_exc_page_fault;exc_page_fault;handle_mm_fault 1\n"
        b"kworker/0:1;ret_from_fork_asm;ret_from_fork;kthread;worker_thread 2\n"
        b"python3;main;compute 7\n"
        b"bash;main;read_[k] 1\n"
    )
    assert fold(text, kernel=True).weights == {
        "sort;[unknown];entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];ksys_read_[k];vfs_read_[k]": 4,
        "xz;main;-;asm_exc_page_fault_[k];exc_page_fault_[k];handle_mm_fault_[k]": 1,
        "kworker/0:1;ret_from_fork_asm_[k];ret_from_fork_[k];kthread_[k];worker_thread_[k]": 2,
        "python3;main;compute": 7,
        "bash;main;read_[k]": 1,
    }


def test_reference_kernel_results_keep_their_annotations() -> None:
    """FlameGraph's `--kernel` results are already annotated; `--kernel` adds nothing twice."""
    path = DATA / "flamegraph-tests" / "results" / "perf-dd-stacks-01-collapsed-kernel.txt.zst"
    if not path.exists():
        pytest.skip("flamegraph-tests results not present")
    plain = fold(path)
    again = fold(path, kernel=True)
    assert not any("_[k]_[k]" in s for s in again.weights)
    assert again.total == plain.total


def test_bad_lines_are_numbered_and_strict_fails() -> None:
    text = b"a;b 1\nno weight here\na;b 2\n"
    profile = fold(text, format="folded")
    assert profile.weights == {"a;b": 3}
    assert profile.diagnostics.bad_examples == [("<bytes>", 2, "no weight here")]
    with pytest.raises(StrictModeError):
        fold(text, format="folded", strict=True)


def test_sniff_leaves_bpftrace_and_bcc_alone() -> None:
    assert folded.sniff(b"a;b 1\nc 2\n")
    assert not folded.sniff(b"@[bash, 1, ]: 3\n@[sh, 2, ]: 4\n@[zsh, 3, ]: 5\n")
    assert not folded.sniff(b"    schedule\n    -                sh (1)\n        2\n")


def test_skip_after() -> None:
    assert fold(b"bash;main;run;work;leaf 2\n", skip_after=("work",)).weights == {"bash;work;leaf": 2}


stacks = st.lists(st.sampled_from(["main", "a b", "f(int)", "x+0x1f", "y+12", "[unknown]"]), min_size=1, max_size=4)


@settings(max_examples=80, deadline=None)
@given(lines=st.lists(st.tuples(stacks, st.integers(0, 10**15)), min_size=1, max_size=30), seed=st.randoms())
def test_duplicate_lines_are_summed(lines: list[tuple[list[str], int]], seed: object) -> None:
    want: Counter[str] = Counter()
    text = ""
    for frames, weight in lines:
        text += ";".join(frames) + f" {weight}\n"
        want[";".join(f.split("+")[0] for f in frames)] += weight
    shuffled = text.splitlines(keepends=True)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    for variant in (text, "".join(shuffled)):
        profile = fold(variant.encode(), format="folded")
        assert profile.weights == {s: w for s, w in want.items()}
        assert profile.total == sum(w for _, w in lines)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab+0x1_[k]: 9", min_size=1, max_size=12), min_size=1, max_size=8))
def test_stack_wide_offset_stripping_equals_per_frame(frames: list[str]) -> None:
    from foldkit.ingest import bpf_frames
    from foldkit.ingest.folded import _tidy_stack
    from foldkit.ingest.options import FoldOptions

    frames = [f.replace(";", "") or "f" for f in frames]
    expected = ";".join(bpf_frames.strip_offset(f) for f in frames)
    assert _tidy_stack(";".join(frames), FoldOptions(), frozenset()) == expected


def test_a_bad_line_near_the_top_is_skipped_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    """Detection decides on the lines that parse; the folder warns about the others (issue 19)."""
    profile = fold(b"a;b 1\nBAD\na;c 2\n")
    assert profile.format == "folded"
    assert profile.weights == {"a;b": 1, "a;c": 2}
    assert profile.diagnostics.bad_examples == [("<bytes>", 2, "BAD")]
    # inferno's flamegraph `bad-lines` case: two bad lines among eight
    cksum = fold(DATA / "inferno" / "bad-lines.txt")
    assert cksum.format == "folded" and cksum.diagnostics.bad_lines == 2
    assert cksum.weights["noploop;main"] == 548


def test_the_cli_folds_a_file_with_one_bad_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    from foldkit.cli import main

    path = tmp_path / "x.txt"
    path.write_bytes(b"a;b 1\nBAD\na;c 2\n")
    out = tmp_path / "o.folded"
    assert main(["fold", str(path), "-o", str(out)]) == 0
    assert out.read_bytes() == b"a;b 1\na;c 2\n"
    assert "1 unrecognised line(s) skipped" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    [
        b"a 1\nfoo\nbar\n",  # most lines do not parse
        b"a 1\nBAD\n",  # one line that parses is not enough
        b"Dear diary,\nthe profile was slow.\n",
    ],
)
def test_text_that_is_mostly_not_folded_is_not_recognised(text: bytes) -> None:
    from foldkit.errors import InputError

    with pytest.raises(InputError, match="could not recognise"):
        fold(text)
    assert folded.sniff(text) is False


def test_a_bpftrace_map_entry_is_never_folded() -> None:
    assert folded.sniff(b"@[a]: 1\nx 2\ny 3\n") is False
    assert folded.sniff(b"a 1\nb 2\nBAD\n") is None  # folded unless another format is sure


def test_whitespace_at_the_start_of_a_line_is_stripped() -> None:
    """As inferno does (flamegraph.pl keeps it: docs/differences.md, flamegraph section); a
    space after a `;` is part of the frame name in both."""
    text = b" a;b 1\n\ta;b 2\na; c 4\n"
    assert fold(text, format="folded").weights == {"a;b": 3, "a; c": 4}
    assert fold(text + b"x 1\ny 1\nz 1\n").weights == {"a;b": 3, "a; c": 4, "x": 1, "y": 1, "z": 1}


def test_decimal_weights_are_written_in_the_shortest_exact_form() -> None:
    profile = fold(b"x 14.2343983248722834234\ny 1e-12\nz 0.5\nw 2.50\n")
    assert profile.to_folded_bytes() == b"w 2.5\nx 14.234398324872284\ny 0.000000000001\nz 0.5\n"


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-(2.0**62), max_value=2.0**62))
@settings(max_examples=300, deadline=None)
def test_written_decimals_read_back_as_the_same_number(w: float) -> None:
    from foldkit.profile import format_weight

    text = format_weight(w)
    assert "e" not in text and "E" not in text
    assert float(text) == w
    assert folded.split_line(b"a " + text.encode()) == (b"a", w if w != int(w) else int(w))

"""DTrace stack aggregations (`foldkit.ingest.dtrace`): detection, folding, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.errors import InputError
from foldkit.ingest import FORMATS, dtrace
from tests.support.bpf import fold
from tests.support.common import DATA

HEADER = b"CPU     ID                    FUNCTION:NAME\n  0  64091                        :tick-60s \n\n\n"


def test_blocks_are_reversed_with_modules_kept_and_offsets_dropped() -> None:
    text = HEADER + (
        b"              genunix`vn_rele+0x82\n              unix`sys_syscall+0x17a\n                3\n\n"
        b"              unix`mutex_exit+0x12\n              genunix`vn_rele+0x4\n              unix`sys_syscall+0x17a\n                2\n\n"
        b"              genunix`vn_rele+0x9\n              unix`sys_syscall+0x10e\n                1\n"
    )
    profile = fold(text)
    assert profile.format == "dtrace"
    assert profile.weights == {
        "unix`sys_syscall;genunix`vn_rele": 4,
        "unix`sys_syscall;genunix`vn_rele;unix`mutex_exit": 2,
    }
    assert profile.unit == "samples"


def test_names_are_tidied_like_perf_names() -> None:
    text = HEADER + (
        b"  a.out`ns::Foo<int>::bar(int, char*)+0x10\n"
        b"  rg`std::rt::lang_start::_$u7b$$u7b$closure$u7d$$u7d$::h0123456789abcdef+0x5\n"
        b"  libc.so.1`semi;colon\n"
        b"  0x7fff1234\n"
        b"  7\n"
    )
    assert fold(text).weights == {
        "0x7fff1234;libc.so.1`semi:colon;rg`std::rt::lang_start::{{closure}};a.out`ns::Foo<int>::bar": 7
    }


def test_inline_chains_are_marked_with_all() -> None:
    text = b"h\n\n  test`baz\n  test`foo->bar\n  test`main\n  1\n"
    assert fold(text).weights == {"test`main;test`foo;test`bar;test`baz": 1}
    assert fold(text, inline=True).weights == {"test`main;test`foo;test`bar_[i];test`baz": 1}


def test_demangle_and_skip_after() -> None:
    text = HEADER + b"  a.out`_ZN4work3runEi+0x3\n  a.out`main+0x1\n  libc`_start\n  5\n"
    assert fold(text, demangle=True).weights == {"libc`_start;a.out`main;a.out`work::run": 5}
    assert fold(text, skip_after=("a.out`main",)).weights == {"a.out`main;a.out`_ZN4work3runEi": 5}


def test_a_value_without_frames_and_a_cut_off_block() -> None:
    text = HEADER + b"  a`f\n  4\n\n  9\n\n  a`g\n  a`h+0x2\n"
    profile = fold(text)
    assert profile.weights == {"a`f": 4, "[no stack]": 9}
    assert profile.diagnostics.bad_lines == 1
    assert any("the last stack has no value" in w for w in profile.diagnostics.warnings)


def test_crlf_and_stack_ustack_in_one_key() -> None:
    text = HEADER.replace(b"\n", b"\r\n") + b"  k`a\r\n  k`b\r\n\r\n  u`c\r\n  u`d\r\n  2\r\n"
    assert fold(text).weights == {"u`d;u`c;k`b;k`a": 2}


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"Sampling at 99 Hertz of all threads by user + kernel stack for 5 secs.\n\n    f\n    g\n    -    xz (1)\n        1\n",
        b"\n    schedule\n    worker_thread\n        17\n",  # no module`function frame: BCC
        b"tmpl 1 1.0: 1 cpu-clock: \n\tffff f+0x1 (/x)\n\n",
        b"a;b`c 1\n",
        HEADER + b"  a`f\n",  # no value yet
        b"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n\n  a`f\n  1\n",  # too long a header
    ],
)
def test_sniff_says_no_to_other_text(head: bytes) -> None:
    assert dtrace.sniff(head) is False


def test_the_example_is_detected_by_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.folded"
    path = DATA / "flamegraph-tests" / "example-dtrace-stacks.txt.zst"
    assert main(["fold", "-v", str(path), "-o", str(out)]) == 0
    assert "format dtrace" in capsys.readouterr().err
    assert b"unix`sys_syscall;genunix`open" in out.read_bytes()
    assert list(FORMATS).index("dtrace") < list(FORMATS).index("bcc")


def test_only_a_cut_off_block_is_an_error() -> None:
    with pytest.raises(InputError, match="no DTrace stack found"):
        fold(HEADER + b"  a`f\n  a`g\n", format="dtrace")


def test_standard_input_is_detected(tmp_path: Path) -> None:
    """inferno's `collapse_dtrace_cli`: the same result from a file and from standard input."""
    import subprocess
    import sys

    from tests.support.common import data_bytes

    text = data_bytes("flamegraph-tests/example-dtrace-stacks.txt")
    done = subprocess.run([sys.executable, "-m", "foldkit", "fold", "-"], input=text, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == data_bytes("inferno/collapse-dtrace/results/dtrace-example.txt")

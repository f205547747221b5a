"""What a weight may be: a finite number (integer or decimal) of magnitude at most 2^63-1, and a
profile whose magnitudes add up to at most that; anything else is an input error naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foldkit.cli import main
from foldkit.errors import InputError
from foldkit.ingest import read
from foldkit.profile import MAX_WEIGHT, format_weight
from foldkit.text import format_count, format_number, format_px


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"a;b 1e400\n", ":1: the weight 1e400 is not a finite number"),
        (b"a;b 1\na;b 1e400\na;b -1e400\n", ":2: the weight 1e400 is not a finite number"),
        (b"a;b 1180591620717411303424\n", ":1: the weight 1180591620717411303424 is larger than 2^63-1"),
        (b"a;b " + b"9" * 20000 + b"\n", "is larger than 2^63-1"),
        (b"a;b -" + b"9" * 20000 + b"\n", "is larger than 2^63-1"),
        (b"a;b 9223372036854775807\nc 1\n", "add up to more than 2^63-1"),
        (b"a;b 9000000000000000000\na;b 9000000000000000000\n", "add up to more than 2^63-1"),
        # the sum fits, but the positive part alone would not: named as magnitudes, not as the sum
        (b"a;b -6000000000000000000\na;c 9223372036854775807\n", "magnitudes of its weights add up to more than 2^63-1"),
    ],
)
@pytest.mark.parametrize("command", ["fold", "flamegraph", "top", "diff"])
def test_bad_weights_are_an_input_error_naming_the_line(
    command: str, text: bytes, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w.folded"
    path.write_bytes(text)
    args = [command, str(path), str(path)] if command == "diff" else [command, str(path)]
    assert main([*args, "-o", str(tmp_path / {"top": "out.csv", "fold": "out.folded"}.get(command, "out.svg"))]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_leading_zeros_do_not_make_a_weight_large(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.folded"
    path.write_bytes(b"a;b " + b"0" * 5000 + b"7\n")
    assert main(["fold", str(path)]) == 0
    assert capsys.readouterr().out == "a;b 7\n"


def test_the_largest_weight_is_kept_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.folded"
    path.write_bytes(f"a;b {MAX_WEIGHT}\n".encode())
    assert main(["fold", str(path)]) == 0
    assert capsys.readouterr().out == f"a;b {MAX_WEIGHT}\n"
    assert main(["top", str(path), "--csv"]) == 0
    assert f"{MAX_WEIGHT}" in capsys.readouterr().out


def test_merged_inputs_over_the_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.folded"
    path.write_bytes(b"a;b 5000000000000000000\n")
    with pytest.raises(InputError, match="add up to more than"):
        read([str(path), str(path)])


def test_a_huge_factor_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.folded"
    path.write_bytes(b"a;b 10\n")
    assert main(["flamegraph", str(path), "--factor", "1e308", "-o", str(tmp_path / "x.svg")]) == 2
    assert "--factor" in capsys.readouterr().err


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers())
def test_formatting_a_number_never_raises(value: float) -> None:
    assert isinstance(format_weight(value), str)
    assert isinstance(format_count(value), str)
    assert isinstance(format_number(value), str)


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**70), 2**70))
def test_formatted_numbers_read_back(value: float) -> None:
    """Integral values print as integers; fractions keep at most two decimals (counts, coordinates)
    or every digit (data attributes); no trailing zeros or dots."""
    count, number, px = format_count(value), format_number(value), format_px(value)
    if isinstance(value, int) or value.is_integer():
        assert count == f"{int(value):,}"
        assert number == (str(int(value)) if isinstance(value, int) or abs(value) < 2**63 else repr(value))
    else:
        assert float(count.replace(",", "")) == float(f"{value:.2f}")
        assert float(number) == value
    assert float(px) == float(f"{value:.2f}")
    for text in (count, px):
        assert "." not in text or not text.endswith(("0", ".")), text


def test_one_capture_with_a_bad_weight_does_not_sink_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.folded").write_bytes(b"main;work 3\nmain;idle 1\n")
    (folder / "inf.folded").write_bytes(b"main;work 1e400\n")
    assert main(["report", str(folder), "-o", str(tmp_path / "site"), "-q", "--jobs", "1"]) == 0
    import json

    summary = json.loads((tmp_path / "site" / "summary.json").read_text())
    rows = {row["name"]: row for row in summary["captures"]}
    assert rows["good.folded"]["status"] == "ok"
    assert rows["inf.folded"]["status"] == "error" and "not a finite number" in rows["inf.folded"]["error"]


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("Attaching 1 probe...\n@[\n    foo+1\n    bar+2\n]: " + "9" * 5000 + "\n", "bpftrace"),
        ("    foo\n    bar\n    -                python3 (123)\n        " + "9" * 5000 + "\n\n", "bcc"),
        ("perf 123 [000] 1.000000: " + "9" * 5000 + " cpu-clock: \n\tffffffff81000000 foo+0x1 ([kernel.kallsyms])\n\n", "perf"),
        ("a;b " + "9" * 5000 + "\n", "folded"),
    ],
)
def test_integers_of_thousands_of_digits_are_an_input_error(text: str, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Python refuses to convert integers of more than 4,300 digits (a ValueError traceback before)
    path = tmp_path / "huge.txt"
    path.write_text(text)
    assert main(["fold", str(path), "--format", fmt]) == 2
    err = capsys.readouterr().err
    assert "2^63-1" in err and "Traceback" not in err

"""The input layer: compression by magic bytes, truncation and corruption, perf.data, odd sizes."""

from __future__ import annotations

import gzip
import os

import pytest
import zstandard

from foldkit.errors import InputError, StrictModeError
from foldkit.ingest import FoldOptions, read
from foldkit.inputs import open_source
from tests.support.common import data_bytes

C_FP = data_bytes("captures/perf-c-fp.txt")


def test_compression_is_detected_by_magic_not_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    plain = read(C_FP).to_folded_bytes()
    for name, data in [
        ("a.txt", gzip.compress(C_FP)),
        ("b.gz", zstandard.ZstdCompressor().compress(C_FP)),
        ("c.zst", C_FP),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        assert read(path).to_folded_bytes() == plain, name


def test_zstd_multi_frame_and_gzip_multi_member(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cctx = zstandard.ZstdCompressor()
    half = len(C_FP) // 2
    cut = C_FP.rfind(b"\n\n", 0, half) + 2
    (tmp_path / "m.zst").write_bytes(cctx.compress(C_FP[:cut]) + cctx.compress(C_FP[cut:]))
    (tmp_path / "m.gz").write_bytes(gzip.compress(C_FP[:cut]) + gzip.compress(C_FP[cut:]))
    plain = read(C_FP).to_folded_bytes()
    assert read(tmp_path / "m.zst").to_folded_bytes() == plain
    assert read(tmp_path / "m.gz").to_folded_bytes() == plain


@pytest.mark.parametrize("kind", ["zst", "gz"])
def test_truncated_stream_names_the_file(tmp_path, kind: str) -> None:  # type: ignore[no-untyped-def]
    big = data_bytes("captures/perf-system-mixed.txt")
    data = zstandard.ZstdCompressor().compress(big) if kind == "zst" else gzip.compress(big)
    path = tmp_path / f"cut.{kind}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=rf"cut\.{kind}: truncated or corrupt"):
        read(path)


def test_corrupt_zstd_names_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = bytearray(zstandard.ZstdCompressor().compress(C_FP))
    data[len(data) // 2 : len(data) // 2 + 64] = os.urandom(64)
    (tmp_path / "bad.zst").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"bad\.zst: truncated or corrupt zstd"):
        read(tmp_path / "bad.zst")


def test_perf_data_binary_gets_a_hint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "perf.data").write_bytes(b"PERFILE2" + os.urandom(200))
    with pytest.raises(InputError, match=r"perf\.data.*run `perf script"):
        read(tmp_path / "perf.data")


def test_unknown_format_lists_supported_formats() -> None:
    with pytest.raises(InputError, match=r"could not recognise.*supported: perf"):
        read(b"\x00\x01\x02 binary garbage \xff" * 100)


def test_empty_input_warns_and_gives_empty_profile() -> None:
    p = read(b"")
    assert len(p) == 0
    assert any("no samples" in w for w in p.diagnostics.warnings)


def test_unrecognised_lines_are_counted_quoted_and_strict_fails() -> None:
    text = b"a 1 1.0: 1 cycles: \n\tffff f+0x1 (/x)\n\nTHIS_IS_A_WEIRD_LINE\n\na 1 2.0: 1 cycles: \n\tffff g (/x)\n"
    p = read(text, FoldOptions(format="perf"))
    assert p.weights == {"a;f": 1, "a;g": 1}
    assert p.diagnostics.bad_lines == 1
    [message] = p.diagnostics.messages()
    assert "<bytes>:4: 'THIS_IS_A_WEIRD_LINE'" in message
    with pytest.raises(StrictModeError):
        read(text, FoldOptions(format="perf", strict=True))


def test_line_numbers_count_across_chunks() -> None:
    sample = b"a 1 1.0: 1 cycles: \n\tffff f+0x1 (/x)\n\n"
    text = sample * 50 + b"garbage line\n\n" + sample
    p = read(text, FoldOptions(format="perf", jobs=1, chunk_size=64))
    assert p.diagnostics.bad_examples == [("<bytes>", 151, "garbage line")]


def test_ten_megabyte_line_and_hundred_thousand_frames() -> None:
    long_name = b"f" * (10 * 1024 * 1024)
    text = b"a 1 1.0: 1 cycles: \n\tffff " + long_name + b" (/x)\n"
    p = read(text)
    assert p.weights == {"a;" + "f" * (10 * 1024 * 1024): 1}
    deep = b"a 1 1.0: 1 cycles: \n" + b"".join(b"\tffff r%d (/x)\n" % (i % 7) for i in range(100_000))
    p = read(deep, FoldOptions(chunk_size=4096))
    [(stack, weight)] = p.weights.items()
    assert weight == 1 and stack.count(";") == 100_000


def test_crlf_line_ends() -> None:
    assert read(C_FP.replace(b"\n", b"\r\n")).to_folded_bytes() == read(C_FP).to_folded_bytes()


def test_non_utf8_bytes_pass_through() -> None:
    text = b"a 1 1.0: 1 cycles: \n\tffff caf\xe9\xff (/x)\n"
    assert read(text).to_folded_bytes() == b"a;caf\xe9\xff 1\n"


def test_last_sample_without_blank_line_is_kept() -> None:
    assert read(b"a 1 1.0: 5 cycles: \n\tffff f (/x)").weights == {"a;f": 5}


def test_source_head_does_not_consume() -> None:
    source = open_source(C_FP)
    assert source.head(100) == C_FP[:100]
    assert source.read_all() == C_FP



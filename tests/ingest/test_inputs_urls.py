"""Inputs named by URL (fsspec): read by the same input layer as paths (compression by magic
bytes, format sniffing), with clear errors for what cannot be opened."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import fsspec
import pytest
import zstandard

from foldkit.cli import main
from foldkit.errors import INSTALL_CLUSTER
from foldkit.inputs import is_url
from foldkit.report.discover import find_captures
from tests.support.common import FIXTURES, run_cli_without


def _fold(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["fold", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_file_url_folds_like_the_path(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "system-mixed.perf.zst"
    assert _fold([str(path), "-q"], capsys)[:2] == _fold([path.as_uri(), "-q"], capsys)[:2]


def test_compressed_data_behind_any_url_is_sniffed(capsys: pytest.CaptureFixture[str]) -> None:
    plain = (FIXTURES / "java.perf").read_bytes()
    memory = fsspec.filesystem("memory")
    memory.pipe("/foldkit-test/java.perf.zst", zstandard.ZstdCompressor().compress(plain))
    memory.pipe("/foldkit-test/java.gz", gzip.compress(plain))
    expected = _fold([str(FIXTURES / "java.perf"), "-q"], capsys)
    assert _fold(["memory://foldkit-test/java.perf.zst", "-q"], capsys)[:2] == expected[:2]
    code, out, err = _fold(["memory://foldkit-test/java.gz", "-v"], capsys)
    assert (code, out) == expected[:2] and "memory://foldkit-test/java.gz: format perf (gzip compression)" in err


def test_a_report_reads_urls_as_captures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = (FIXTURES / "bcc-profile.txt").as_uri()
    assert main(["report", str(FIXTURES / "java.perf"), url, "-o", str(tmp_path / "site"), "-q", "-j", "1"]) == 0
    rows = {r.name: r for r in find_captures([str(FIXTURES / "java.perf"), url])}
    assert rows[url].path == url and rows[url].explicit
    assert (tmp_path / "site" / "captures" / rows[url].slug / "flamegraph.svg").is_file()


def test_urls_that_cannot_be_opened_are_input_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _fold(["file:///nonexistent/cpu.perf"], capsys)
    assert code == 2 and "file:///nonexistent/cpu.perf: no such file" in err
    code, _, err = _fold(["nosuchprotocol://bucket/cpu.perf"], capsys)
    assert code == 2 and "nosuchprotocol://bucket/cpu.perf: cannot open" in err
    if importlib.util.find_spec("s3fs") is None:
        code, _, err = _fold(["s3://bucket/cpu.perf"], capsys)
        assert code == 2 and "s3fs" in err  # fsspec names the package to install


def test_without_fsspec_a_url_says_how_to_install_it(tmp_path: Path) -> None:
    run = run_cli_without(["fsspec"], ["fold", (FIXTURES / "java.perf").as_uri()])
    assert run.returncode == 2 and INSTALL_CLUSTER in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("spec", "url"),
    [("s3://b/k", True), ("file:///x", True), ("https://h/x", True), ("git+ssh://h/x", True), ("C://x", False), ("a/b://c", False), ("plain.perf", False)],
)
def test_what_is_a_url(spec: str, url: bool) -> None:
    assert is_url(spec) is url

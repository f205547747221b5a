"""Shared by the transform, export and API tests: real captures, golden files, running the CLI."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from foldkit.cli import main
from tests.support.common import assert_golden

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "tests" / "data" / "captures"
FIXTURES = ROOT / "fixtures"


def capture(name: str) -> str:
    """Path of a real capture in tests/data/captures (compressed; foldkit reads it as is)."""
    path = CAPTURES / f"{name}.zst"
    assert path.exists(), path
    return str(path)


def check_golden(name: str, data: bytes) -> None:
    """Compare with tests/golden/transform/NAME (see `tests.support.common.assert_golden`; FOLDKIT_BLESS=1)."""
    assert_golden(f"transform/{name}", data)


def run_cli(argv: list[str]) -> tuple[int, bytes, str]:
    """Run `foldkit ARGV` in-process: (exit code, stdout bytes, stderr text)."""
    out = io.BytesIO()
    err = io.StringIO()

    stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
        code = main(argv)
    stdout.flush()
    return code, out.getvalue(), err.getvalue()

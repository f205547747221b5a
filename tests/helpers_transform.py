"""Shared by the transform, export and API tests: real captures, golden files, running the CLI."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from foldkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "tests" / "data" / "captures"
FIXTURES = ROOT / "fixtures"
GOLDEN = ROOT / "tests" / "golden" / "transform"


def capture(name: str) -> str:
    """Path of a real capture in tests/data/captures (compressed; foldkit reads it as is)."""
    path = CAPTURES / f"{name}.zst"
    assert path.exists(), path
    return str(path)


def check_golden(name: str, data: bytes) -> None:
    """Compare with tests/golden/transform/NAME; FOLDKIT_BLESS=1 rewrites it, a missing one is
    written and the test fails asking for review."""
    path = GOLDEN / name
    if os.environ.get("FOLDKIT_BLESS") == "1" or not path.exists():
        existed = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if not existed:
            pytest.fail(f"golden file {path} was missing and has been written: review and commit it")
        return
    expected = path.read_bytes()
    assert data == expected, f"output differs from {path} (FOLDKIT_BLESS=1 rewrites it after review)"


def run_cli(argv: list[str]) -> tuple[int, bytes, str]:
    """Run `foldkit ARGV` in-process: (exit code, stdout bytes, stderr text)."""
    out = io.BytesIO()
    err = io.StringIO()

    stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
        code = main(argv)
    stdout.flush()
    return code, out.getvalue(), err.getvalue()

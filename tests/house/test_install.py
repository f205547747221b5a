"""The built distribution (`make wheel`, which `make test` runs before pytest): the abi3 wheel
installs into a fresh virtual environment (and with pipx) on a PATH without cargo or rustc, folds a
capture there with the native core, and the sdist builds with cargo present.

Dependencies come from the package index as wheels only (`--only-binary :all:`), so nothing can be
compiled while installing: a wheel that needed a compiler would fail here. The wheels are built once
per `make test` run; without `dist/` (pytest run alone) these tests are skipped, or fail when `CI`
is set."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from foldkit import __version__
from foldkit.errors import DISTRIBUTION
from tests.support.common import DATA, data_bytes, folded_multiset

ROOT = DATA.parent.parent
DIST = ROOT / "dist"
#: where the sdist is unpacked and built: a fixed place under cargo's target folder, so the
#: dependencies compiled for the editable install are reused and nothing accumulates
SDIST_BUILD = ROOT / "native" / "target" / "sdist-check"
CAPTURE = DATA / "captures" / "perf-c-fp.txt.zst"
STEM = DISTRIBUTION.replace("-", "_")

pytestmark = pytest.mark.slow


def _built(pattern: str) -> Path:
    """The one file in dist/ matching `pattern`, or a skip (a failure when CI is set)."""
    found = sorted(DIST.glob(pattern))
    if len(found) != 1:
        message = f"dist/{pattern}: {len(found)} files; run `make wheel` first (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found[0]


def _without_rust() -> dict[str, str]:
    """The environment with every PATH folder holding cargo or rustc left out (and no PYTHONPATH,
    so nothing from this checkout can be imported)."""
    folders = [
        d for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not any(os.path.exists(os.path.join(d, tool)) for tool in ("cargo", "rustc"))
    ]
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "CARGO_HOME", "RUSTUP_HOME"}}
    env["PATH"] = os.pathsep.join(folders)
    assert shutil.which("cargo", path=env["PATH"]) is None and shutil.which("rustc", path=env["PATH"]) is None
    return env


def _run(cmd: list[str | Path], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, f"{cmd}: exit {run.returncode}\n{run.stdout[-2000:]}\n{run.stderr[-4000:]}"
    return run


def _base_python() -> str:
    """An interpreter to make virtual environments with (the one running the tests, or its base)."""
    return getattr(sys, "_base_executable", sys.executable)


def _assert_works(bin_dir: Path, python: Path, env: dict[str, str], tmp_path: Path) -> None:
    """The installed `foldkit` folds a capture like the reference, says its native core is in
    use, and runs as `python -m foldkit`; the package comes from the install, not this checkout."""
    where = _run([python, "-c", "import foldkit; print(foldkit.__file__)"], env, tmp_path).stdout.strip()
    assert "site-packages" in where and not where.startswith(str(ROOT / "foldkit")), where
    out = tmp_path / "out.folded"
    _run([bin_dir / "foldkit", "fold", CAPTURE, "-o", out], env, tmp_path)
    assert folded_multiset(out.read_bytes()) == folded_multiset(data_bytes("expected/perf-c-fp.folded"))
    version = _run([bin_dir / "foldkit", "--version", "-v"], env, tmp_path).stdout
    assert f"foldkit {__version__}" in version and ", in use" in version, version
    module = _run([python, "-m", "foldkit", "--version"], env, tmp_path).stdout
    assert module.strip() == f"foldkit {__version__}"


def test_wheel_is_abi3_with_the_native_core() -> None:
    wheel = _built(f"{STEM}-{__version__}-*.whl")
    assert "-cp311-abi3-" in wheel.name and "manylinux" in wheel.name, wheel.name
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        scripts = zf.read(f"{STEM}-{__version__}.dist-info/entry_points.txt").decode()
    assert any(n.startswith("foldkit/_native") and n.endswith(".so") for n in names), names
    assert "foldkit/__main__.py" in names and "foldkit/py.typed" in names
    assert "foldkit=foldkit.launch:entry" in scripts.replace(" ", "")


def test_wheel_installs_and_runs_without_a_rust_toolchain(tmp_path: Path) -> None:
    wheel = _built(f"{STEM}-{__version__}-*.whl")
    env = _without_rust()
    venv = tmp_path / "venv"
    _run([_base_python(), "-m", "venv", venv], env, tmp_path)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", "--only-binary", ":all:", wheel], env, tmp_path)
    _assert_works(venv / "bin", python, env, tmp_path)


def test_pipx_installs_the_wheel(tmp_path: Path) -> None:
    wheel = _built(f"{STEM}-{__version__}-*.whl")
    pytest.importorskip("pipx", reason="pipx is not installed (it is in the test extras)")
    env = _without_rust() | {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    env["PIPX_DEFAULT_PYTHON"] = _base_python()
    _run([sys.executable, "-m", "pipx", "install", "--pip-args=--only-binary=:all:", wheel], env, tmp_path)
    venv = tmp_path / "pipx" / "venvs" / DISTRIBUTION
    _assert_works(tmp_path / "bin", venv / "bin" / "python", env, tmp_path)


def test_sdist_builds_with_cargo(tmp_path: Path) -> None:
    sdist = _built(f"{STEM}-{__version__}.tar.gz")
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not on PATH")
    shutil.rmtree(SDIST_BUILD, ignore_errors=True)
    SDIST_BUILD.mkdir(parents=True)
    with tarfile.open(sdist) as tf:
        tf.extractall(SDIST_BUILD, filter="data")
    (source,) = SDIST_BUILD.iterdir()
    assert (source / "native" / "Cargo.lock").is_file() and (source / "pyproject.toml").is_file()
    for rust in (source / "native").rglob("*.rs"):
        rust.touch()  # foldkit's own crates are compiled from the sdist; only third-party ones are reused
    env = dict(os.environ, CARGO_TARGET_DIR=str(ROOT / "native" / "target"))
    # the maturin of the test extras, as the build backend (no download of an isolated one)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", tmp_path, source], env, tmp_path)
    (built,) = tmp_path.glob(f"{STEM}-{__version__}-*.whl")
    with zipfile.ZipFile(built) as zf:
        assert any(n.startswith("foldkit/_native") and n.endswith(".so") for n in zf.namelist())
    shutil.rmtree(SDIST_BUILD, ignore_errors=True)

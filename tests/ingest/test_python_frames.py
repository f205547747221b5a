"""CPython 3.12+ `-X perf` captures (built from the documented frame forms, see
tests/data/python/README.md): the `--python` view and the warning about unresolved JIT weight."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.transform.python import PythonView, python_stack, python_view
from tests.support.bpf import fold
from tests.support.common import DATA

CAPTURE = DATA / "python" / "perf-python312-xperf.txt.zst"


def test_python_view_reads_as_python_with_native_calls() -> None:
    profile = python_view(fold(CAPTURE), PythonView())
    prefix = "python3.12;main;Py_RunMain;PyEval_EvalCode;_PyEval_EvalFrameDefault;py::<module>:/app/work.py;py::compute:/app/work.py"
    assert profile.weights == {
        f"{prefix};py::fib:/app/work.py;py::fib:/app/work.py": 10101010,
        f"{prefix};_PyBytes_Join;__memmove_avx_unaligned_erms": 10101010,
        "python3.12;main;Py_RunMain;[perf-4243.map];_PyEval_EvalFrameDefault;[perf-4243.map]": 10101010,
    }
    assert profile.total == fold(CAPTURE).total


def test_python_view_leaves_other_stacks_and_annotations_alone() -> None:
    assert python_stack("a;_PyEval_EvalFrameDefault;b") == "a;_PyEval_EvalFrameDefault;b"
    assert python_stack("a;py::f:/x.py_[j];_PyEval_EvalFrameDefault;py::g:/x.py_[j]") == "a;py::f:/x.py_[j];py::g:/x.py_[j]"


def test_unresolved_jit_weight_is_reported_with_why(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    profile = fold(CAPTURE)
    [warning] = [w for w in profile.diagnostics.warnings if "unresolved JIT" in w]
    assert "33.3% of the weight" in warning and "Kubernetes" in warning
    assert main(["fold", str(CAPTURE), "--python", "-o", str(tmp_path / "py.folded")]) == 0
    assert "33.3% of the weight ends in unresolved JIT frames" in capsys.readouterr().err
    assert not [w for w in fold(DATA / "captures" / "perf-node.txt.zst").diagnostics.warnings if "unresolved JIT" in w]


def test_default_palette_marks_python_frames_as_code_not_cpp() -> None:
    from foldkit.render import palette

    hue = palette._SEMANTIC["default"]
    assert hue("py::compute:/app/work.py") == hue("LazyCompile:~body_0 evalmachine.<anonymous>:1") == "green"
    assert hue("std::vector<int>::push_back") == "yellow"

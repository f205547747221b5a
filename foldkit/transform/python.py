"""`--python`: Python code as the graph's frames. CPython 3.12+ run with `-X perf` (or
`-Xperf_jit`) puts a `py::function:/path/file.py` frame (from `/tmp/perf-PID.map`, or a
`jitted-*.so` dso) next to each `_PyEval_EvalFrameDefault` of the interpreter; this view drops the
interpreter's own frames (evaluation loop, vectorcall and call plumbing) leafward of the first
Python frame, so a stack reads as Python functions calling Python functions, with the native
functions they call (C extensions, libc, the kernel) where they happen. Stacks without a Python
frame are unchanged, and so is the total."""

from __future__ import annotations

from dataclasses import dataclass

from foldkit.lazy import regex
from foldkit.profile import Profile, map_stacks
from foldkit.transform.base import SEP

#: A Python frame of CPython's perf support (any annotation suffix such as `_[j]` allowed).
PYTHON_FRAME = regex(globals(), "PYTHON_FRAME", r"py::.*")
#: The interpreter's own frames between Python frames: the evaluation loop, the trampolines and
#: the calling convention's plumbing (not the builtins or C functions a Python function calls).
INTERPRETER_FRAME = regex(
    globals(),
    "INTERPRETER_FRAME",
    r"(?:_PyEval_EvalFrame\w*|_PyEval_Vector|PyEval_EvalCode\w*|_PyFunction_Vectorcall|"
    r"PyObject_Vectorcall\w*|_PyObject_Vectorcall\w*|_PyObject_Call\w*|PyObject_Call\w*|_PyObject_MakeTpCall|"
    r"_PyVectorcall_Call|PyVectorcall_Call|vectorcall_\w+|method_vectorcall\w*|cfunction_vectorcall\w*|"
    r"cfunction_call|slot_tp_call|slot_tp_init|type_call|_Py_trampoline\w*|py_trampoline_evaluator|"
    r"_PyEval_EvalFrameDefault\.cold|\[python interpreter\])"
    r"(?:\.(?:cold|isra\.\d+|constprop\.\d+|part\.\d+))*(?:_\[[kj]\])?"
)


@dataclass(frozen=True)
class PythonView:
    """`--python`: hide the interpreter's frames leafward of the first Python frame."""


def python_stack(stack: str) -> str:
    """One stack as the Python view shows it."""
    if "py::" not in stack:
        return stack
    frames = stack.split(SEP)
    first = next((i for i, f in enumerate(frames) if PYTHON_FRAME.fullmatch(f)), None)
    if first is None:
        return stack
    kept = frames[: first + 1] + [f for f in frames[first + 1 :] if not INTERPRETER_FRAME.fullmatch(f)]
    return SEP.join(kept)


def python_view(profile: Profile, options: PythonView) -> Profile:
    """Every stack through `python_stack` (stacks that become equal are summed)."""
    return map_stacks(profile, python_stack)

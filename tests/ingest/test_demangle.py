"""Symbol names: Rust names perf printed half demangled are tidied by default; `--demangle`
demangles C++ and Rust names in every input format; `--version -v` says whether the native core
(whose demanglers these are) is in use."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from foldkit.ingest import FoldOptions, read
from foldkit.native import load_native
from tests.support.common import DATA

pytestmark = pytest.mark.skipif(load_native() is None, reason="the native core is not built")


def _frames(data: bytes) -> set[str]:
    out: set[str] = set()
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        out.update(line.rsplit(" ", 1)[0].split(";"))
    return out


def test_rust_names_are_tidied_by_default() -> None:
    text = (
        b"app 1/1 [000] 1.0: 1 cycles: \n"
        b"\t    55d0c1e2a3b4 std::rt::lang_start::_$u7b$$u7b$closure$u7d$$u7d$::h0123456789abcdef+0x2 (/app)\n"
        b"\t    55d0c1e2a3b5 _$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..Drop$GT$::drop::h3ab4e1c5e3a0b2c1+0x1 (/app)\n\n"
    )
    assert read(text).to_folded_bytes() == b"app;<alloc::vec::Vec<T> as core::ops::Drop>::drop;std::rt::lang_start::{{closure}} 1\n"


@pytest.mark.parametrize(
    ("mangled", "by_perf"),
    [("perf-cpp-nodemangle", "perf-cpp-fp"), ("perf-cpp-literals-nodemangle", "perf-cpp-literals")],
)
def test_demangled_cpp_capture_is_what_perf_demangled(mangled: str, by_perf: str) -> None:
    """The same recording printed by `perf script --no-demangle` and by `perf script`: demangled
    by foldkit it is exactly perf's (GNU's spelling of integer template arguments, `32ul`)."""
    raw = read(DATA / "captures" / f"{mangled}.txt.zst").to_folded_bytes()
    demangled = read(DATA / "captures" / f"{mangled}.txt.zst", FoldOptions(demangle=True))
    perf = read(DATA / "captures" / f"{by_perf}.txt.zst")
    assert any(f.startswith("_Z") for f in _frames(raw))
    assert not any(f.startswith("_Z") for f in _frames(demangled.to_folded_bytes()))
    assert demangled.weights == perf.weights
    assert any(re.search(r"[<, ]\d+ul[,>]", f) for f in _frames(demangled.to_folded_bytes()))


FOLDED = "main;_ZN4work3runEi;_ZN3std2rt10lang_start17h0123456789abcdefE_[k] 3\nmain;work::run 2\n"


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("folded", "main;_ZN4work3runEi 3\nmain;work::run 2\n"),
        ("bpftrace", "@[\n    _ZN4work3runEi+12\n    main+5\n]: 3\n@[\n    work::run\n    main\n]: 2\n"),
        ("bcc", "main;_ZN4work3runEi 3\nmain;work::run 2\n"),
    ],
)
def test_demangle_in_every_format(fmt: str, text: str) -> None:
    plain = read(text.encode(), FoldOptions(format=fmt))
    demangled = read(text.encode(), FoldOptions(format=fmt, demangle=True))
    assert any("_ZN4work3runEi" in s for s in plain.weights)
    assert "main;work::run" in demangled.weights
    assert demangled.weights["main;work::run"] == 5  # stacks that became equal are merged
    assert not any("_Z" in s for s in demangled.weights)


def test_demangle_flag_on_the_command_line() -> None:
    got = subprocess.run([sys.executable, "-m", "foldkit", "fold", "-", "-f", "folded", "--demangle"],
                         input=FOLDED.encode(), capture_output=True, check=True).stdout
    assert got == b"main;work::run 2\nmain;work::run;std::rt::lang_start_[k] 3\n"


def test_version_verbose_says_whether_the_native_core_is_in_use() -> None:
    def run(*args: str, native: str = "1") -> str:
        env = {"FOLDKIT_NATIVE": native, "PATH": "/usr/bin:/bin"}
        return subprocess.run([sys.executable, "-m", "foldkit", *args], capture_output=True, check=True, text=True, env=env).stdout

    assert "native core: 0.1.0, in use" in run("--version", "-v")
    assert "switched off by FOLDKIT_NATIVE=0" in run("--version", "--verbose", native="0")
    assert "native core" not in run("--version")
    assert "native core: 0.1.0, in use" in run("formats")

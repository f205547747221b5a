"""The package is layered: no module imports (at import time, inside a function, or for type
checkers under `if TYPE_CHECKING:`) a module of a higher layer, and the imports that run form no
cycle (a module's type-only import of a sibling it hands its objects to is not run, so not one)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import foldkit

#: Top floor first; modules in one layer may import each other.
LAYERS: list[set[str]] = [
    {"cli", "launch"},
    {"api", "report"},
    {"regression", "analysis", "export"},
    {"transform", "render", "cluster"},
    {"ingest"},
    {"profile", "timeline", "inputs", "outputs", "native", "jobs", "errors", "constants", "text", "readahead", "lazy", "_native", "_profile_api"},
]
#: The package's own `__init__`/`__main__` are its front door (above everything); from the
#: package, other modules may only take its version string, and the launcher and the command line
#: its start-up SIGINT handler (installed by `__init__` for the console script, so it lives there)
#: and what tells a Ctrl-C behind another exception and forgets CPython's note of one.
FRONT_DOOR = {"foldkit", "foldkit.__main__"}
ALLOWED_FROM_PACKAGE = {"__version__", "_catch_interrupts", "_forget_unhandled_interrupt", "_interruption"}

PACKAGE = Path(foldkit.__file__).parent


def _height(part: str) -> int:
    for height, layer in enumerate(reversed(LAYERS)):
        if part in layer:
            return height
    raise AssertionError(f"foldkit.{part} is in no layer: add it to LAYERS in {__file__}")


def _module_name(path: Path) -> str:
    parts = ("foldkit", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, typing: bool = False) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every runtime import in `tree`; with `typing`, those under
    `if TYPE_CHECKING:` too."""
    return _imports_in(list(ast.iter_child_nodes(tree)), typing)


def _imports_in(nodes: list[ast.AST], typing: bool) -> list[tuple[int, str, list[str]]]:
    found: list[tuple[int, str, list[str]]] = []
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node):
            found.extend(_imports_in([*node.body, *node.orelse] if typing else list(node.orelse), typing))
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"line {node.lineno}: relative import"
            found.append((node.lineno, node.module or "", [alias.name for alias in node.names]))
        found.extend(_imports(node, typing))
    return found


def _violations(name: str, source: str) -> list[str]:
    """What module `name` (with this source text) imports against the layering."""
    if name in FRONT_DOOR:
        return []
    mine = _height(name.split(".")[1])
    out = []
    for line, module, names in _imports(ast.parse(source), typing=True):
        if module == "foldkit":  # a submodule (`from foldkit import _native`) or the version
            for n in names:
                if n in ALLOWED_FROM_PACKAGE:
                    continue
                if not any(n in layer for layer in LAYERS):
                    out.append(f"{name}:{line} takes {n} from the package")
                elif _height(n) > mine:
                    out.append(f"{name}:{line} imports foldkit.{n}, a higher layer")
        elif module.startswith("foldkit.") and _height(module.split(".")[1]) > mine:
            out.append(f"{name}:{line} imports {module}, a higher layer")
    return out


MODULES = sorted([*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.pyi")])


@pytest.mark.parametrize("path", MODULES, ids=[_module_name(p) for p in MODULES])
def test_no_module_imports_a_higher_layer(path: Path) -> None:
    assert _violations(_module_name(path), path.read_text(encoding="utf-8")) == []


def test_the_check_finds_imports_of_higher_layers() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from foldkit.errors import UsageError\n"
        "from foldkit import __version__, read, errors, api\n"
        "if TYPE_CHECKING:\n    from foldkit.api import ProfileMethods\n"
        "def f():\n    import foldkit.render.svg\n"
    )
    assert _violations("foldkit.profile", source) == [
        "foldkit.profile:3 takes read from the package",
        "foldkit.profile:3 imports foldkit.api, a higher layer",
        "foldkit.profile:5 imports foldkit.api, a higher layer",
        "foldkit.profile:7 imports foldkit.render.svg, a higher layer",
    ]
    assert _violations("foldkit.cli.fold", source) == ["foldkit.cli.fold:3 takes read from the package"]


def _runtime_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module -> the package modules it imports when run (at import time or in a function; not
    under TYPE_CHECKING). `from foldkit.x import y` is an edge to `foldkit.x.y` when that is a
    module, else to `foldkit.x`; the front door (`foldkit`, above everything) is left out."""
    graph: dict[str, set[str]] = {}
    for name, source in sources.items():
        edges = set()
        for _, module, names in _imports(ast.parse(source)):
            if not module.startswith("foldkit"):
                continue
            for target in [f"{module}.{n}" for n in names] or [module]:
                while target not in sources and "." in target:
                    target = target.rpartition(".")[0]
                edges.add(target)
        graph[name] = edges - FRONT_DOOR - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of `graph`: its strongly connected parts of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while (w := stack.pop()) != v:
                part.append(w)
            if part:
                found.append(sorted([v, *part]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_imports_form_no_cycle() -> None:
    sources = {_module_name(p): p.read_text(encoding="utf-8") for p in MODULES if p.suffix == ".py"}
    assert _cycles(_runtime_graph(sources)) == []


def test_the_check_finds_cycles() -> None:
    sources = {
        "foldkit.regression.gate": "def view():\n    from foldkit.regression.outputs import to_html\n",
        "foldkit.regression.outputs": "from foldkit.regression import gate\nfrom foldkit import __version__\n",
        "foldkit.cluster": "def f():\n    from foldkit.cluster import session\n",
        "foldkit.cluster.session": "from foldkit.cluster import INSTALL\n",
        "foldkit.profile": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from foldkit.api import ProfileMethods\n",
        "foldkit.api": "from foldkit.profile import Profile\n",
    }
    assert _cycles(_runtime_graph(sources)) == [
        ["foldkit.cluster", "foldkit.cluster.session"],
        ["foldkit.regression.gate", "foldkit.regression.outputs"],
    ]


def test_profile_methods_are_typed_by_the_stub() -> None:
    """`foldkit/_profile_api.pyi` declares exactly the methods `foldkit.api` adds to `Profile`
    (mypy checks their signatures; a method left out of the stub would be untyped)."""
    from foldkit.api import ProfileMethods

    stub = ast.parse((PACKAGE / "_profile_api.pyi").read_text(encoding="utf-8"))
    declared = {n.name for c in stub.body if isinstance(c, ast.ClassDef) for n in c.body if isinstance(n, ast.FunctionDef)}
    added = {name for name, value in vars(ProfileMethods).items() if callable(value) and not name.startswith("_")}
    assert declared == added


def test_profile_keeps_its_api_methods() -> None:
    profile = foldkit.Profile(weights={"main;work": 3, "main;idle": 1})
    assert profile.focus("work").weights == {"main;work": 3}


#: The one door to the native core: the only module that imports `foldkit._native`.
NATIVE_DOOR = "foldkit.native"


def _native_importers(name: str, source: str) -> list[str]:
    """Where module `name` imports the native extension itself (TYPE_CHECKING imports left out)."""
    out = []
    for line, module, names in _imports(ast.parse(source)):
        if module == "foldkit._native" or (module == "foldkit" and "_native" in names):
            out.append(f"{name}:{line} imports foldkit._native")
    return out


def test_only_the_door_imports_the_native_core() -> None:
    found = [hit for path in MODULES if _module_name(path) != NATIVE_DOOR for hit in _native_importers(_module_name(path), path.read_text(encoding="utf-8"))]
    assert found == []
    door = PACKAGE / "native.py"
    assert _native_importers(NATIVE_DOOR, door.read_text(encoding="utf-8")), "the door no longer imports foldkit._native: update NATIVE_DOOR"


def test_the_door_check_finds_native_imports() -> None:
    source = "def f():\n    import foldkit._native\n    from foldkit import _native, text\n"
    assert _native_importers("foldkit.render.layout", source) == [
        "foldkit.render.layout:2 imports foldkit._native",
        "foldkit.render.layout:3 imports foldkit._native",
    ]

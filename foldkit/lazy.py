"""Standard-library pieces made when first used, for modules that commands load whether or not
they use them: the plain flame graph (`foldkit.cli.plain`) draws a tower of 29,000 frames in
less time than `contextlib` (with collections and functools) takes to import, and a command's
start-up compiled some sixty regular expressions of readers, palettes and transforms it never ran.

* `contextmanager`: `contextlib.contextmanager`, imported the first time a decorated function
  is called (mypy sees contextlib's own);
* `regex(scope, name, pattern, flags)`: the module global `name` of `scope` (`globals()`), a
  regular expression compiled the first time it is used, which then puts the compiled pattern
  in its place (later uses are the compiled pattern's own, at no cost);
* `attribute(scope, table, name)`: for a package's module `__getattr__`, its public name `name`
  imported on first use from the module `table` names for it.
"""

from __future__ import annotations

#: `typing.TYPE_CHECKING` without importing typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from contextlib import contextmanager as contextmanager
    from typing import Any, AnyStr
else:

    def contextmanager(func):
        """`contextlib.contextmanager(func)`, made when the function is first called."""
        made = None

        def call(*args, **kwargs):
            nonlocal made
            if made is None:
                from contextlib import contextmanager as real

                made = real(func)
            return made(*args, **kwargs)

        call.__name__, call.__qualname__, call.__doc__ = func.__name__, func.__qualname__, func.__doc__
        call.__module__, call.__wrapped__ = func.__module__, func
        return call


class _Regex:
    """A regular expression not yet compiled, standing for the module global `name` of `scope`:
    its first attribute asked for (`.match`, `.sub`, `.pattern`, ...) compiles it and puts the
    compiled pattern in the global's place."""

    __slots__ = ("_compiled", "_flags", "_name", "_pattern", "_scope")

    def __init__(self, scope: dict[str, Any], name: str, pattern: str | bytes, flags: int) -> None:
        self._scope, self._name, self._pattern, self._flags = scope, name, pattern, flags
        self._compiled: re.Pattern[Any] | None = None

    def __getattr__(self, attribute: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            import re

            compiled = self._compiled = re.compile(self._pattern, self._flags)
            if self._scope.get(self._name) is self:
                self._scope[self._name] = compiled
        return getattr(compiled, attribute)

    def __repr__(self) -> str:
        return f"regex({self._pattern!r})"


def regex(scope: dict[str, Any], name: str, pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """The regular expression `pattern` (with `flags`) for the module global `name` of `scope`
    (`_X = regex(globals(), "_X", r"...")`), compiled when first used (see the module docstring).
    Uses through another name (`from m import _X`, a default argument) keep working, each
    through one more attribute lookup."""
    return _Regex(scope, name, pattern, flags)  # type: ignore[return-value]


def attribute(scope: dict[str, Any], table: dict[str, str], name: str) -> Any:
    """The attribute `name` of the package whose globals are `scope`, imported from the module
    `table` maps it to and kept in `scope` (later uses do not come here); AttributeError for a
    name `table` does not list. For the package's module-level `__getattr__`."""
    module = table.get(name)
    if module is None:
        raise AttributeError(f"module {scope['__name__']!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    scope[name] = value
    return value


__all__ = ["attribute", "contextmanager", "regex"]


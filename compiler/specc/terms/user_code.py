"""The user's own Python in a spec (``type: mypkg.layers.TransformerBlock``, ``loss:
mypkg.losses.focal``): a dotted name, and the door the command line opens for it.

A spec is data; a plugin is code. Validating a spec must never run code the command line
did not allow (a CI job checks specs from anyone), so the schema accepts a dotted name only
while a :class:`Plugins` object that allows its module is set (:func:`allowing`), and
reports every other one at its line with the hint to pass ``--plugin``. What a plugin
layer's shape and weights are is Keras' to say: the object set here also answers that
(``specc.backends.plugins`` implements it; this floor imports no Keras and no plugin).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Protocol

from pydantic_core import PydanticCustomError

PLUGIN_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
"""``module.Class`` or ``package.module.function``: what a spec names a plugin object by."""


def is_plugin_path(value: Any) -> bool:
    """Whether ``value`` names a plugin object (a dotted Python path).

    >>> is_plugin_path("mypkg.layers.TransformerBlock"), is_plugin_path("Dense")
    (True, False)
    """
    return isinstance(value, str) and PLUGIN_PATH.match(value) is not None


def split_path(path: str) -> tuple[str, str]:
    """Module and attribute of a dotted path.

    >>> split_path("mypkg.layers.TransformerBlock")
    ('mypkg.layers', 'TransformerBlock')
    """
    module, _, name = path.rpartition(".")
    return module, name


class Plugins(Protocol):
    """The modules the command line allowed, and Keras' answers about their layers."""

    def allows(self, module: str) -> bool:
        """Whether ``--plugin`` named ``module`` (an importable name or a file's stem)."""
        ...

    def infer(self, layer: Any, shapes: list[Any]) -> Any:
        """A plugin layer's ``Out`` on inputs of ``shapes``, as Keras computes it; raise
        ``ShapeError`` with Keras' one-line reason."""
        ...

    def defining(self, name: str) -> list[str]:
        """The allowed modules defining ``name`` (a saved custom function's only trace)."""
        ...

    def sublayers(self, layer: Any) -> tuple[str, ...]:
        """Automatic-name prefixes the layer's construction (and first call) takes."""
        ...


_ALLOWED: ContextVar[Plugins | None] = ContextVar("specc_plugins", default=None)


def current() -> Plugins | None:
    """The plugins the running compilation may use (None: no ``--plugin``: none)."""
    return _ALLOWED.get()


@contextlib.contextmanager
def allowing(plugins: Plugins | None) -> Iterator[None]:
    """Let the specs compiled inside use ``plugins`` (None: no plugin at all)."""
    token = _ALLOWED.set(plugins)
    try:
        yield
    finally:
        _ALLOWED.reset(token)


HINT = "pass --plugin {module}, or the .py file defining it, to allow its code"


def check_allowed(path: str, what: str) -> None:
    """Refuse a plugin ``what`` (``layer class``, ``loss``) whose module was not allowed:
    a schema error at its entry, with the hint."""
    module, _ = split_path(path)
    plugins = current()
    if plugins is None or not plugins.allows(module):
        raise PydanticCustomError(
            "plugin_not_allowed",
            "{path} is a {what} from Python code (module {module}), which specc does not "
            "import unless the command line allows it",
            {"path": path, "what": what, "module": module},
        )

"""specc: a declarative model-spec compiler for Keras.

The public API; importing it never imports TensorFlow or Keras (only ``build_model``
does, when called).

>>> import specc
>>> spec = specc.load_spec("specs/mnist_cnn.yaml")  # doctest: +SKIP
>>> specc.summary(spec)["total_params"]             # doctest: +SKIP
43290
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from specc.errors import Diagnostic, KerasMissingError, SpecError
from specc.language.schema import Spec

if TYPE_CHECKING:
    from specc.analysis.graph import Graph

__all__ = [
    "Diagnostic",
    "KerasMissingError",
    "Spec",
    "SpecError",
    "build_model",
    "load_spec",
    "resolve",
    "summary",
]
__version__ = "0.1.0"


def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read, validate and check a spec file; raise :class:`SpecError` listing every problem."""
    from specc.analysis.pipeline import compile_file

    return compile_file(path).spec


def resolve(spec: Spec | str | os.PathLike[str]) -> Graph:
    """The resolved layer graph (names, shapes, params) of a spec or spec file."""
    from specc.analysis import graph
    from specc.analysis.pipeline import compile_file

    if not isinstance(spec, Spec):
        return compile_file(spec).graph

    def diagnose(loc: tuple, message: str) -> Diagnostic:
        return Diagnostic(message, loc=tuple(loc))

    resolved, problems = graph.resolve(spec, diagnose)
    if resolved is None:
        raise SpecError(problems)
    return resolved


def summary(spec: Spec | str | os.PathLike[str]) -> dict[str, Any]:
    """The layer table as data: ``{"name", "layers": [...], "total_params", ...}``."""
    from specc.backends import table

    return table.as_dict(resolve(spec))


def build_model(spec: Spec | str | os.PathLike[str], *, compile: bool = True) -> Any:
    """Build (and by default compile) the ``keras.Sequential`` a spec describes (a
    functional ``keras.Model`` for a graph spec).

    Raises :class:`KerasMissingError` (an ``ImportError``) when Keras or its backend is
    not installed.
    """
    import importlib.util

    from specc.backends import keras_build, kerasenv

    install = "pip install 'specc[keras]'"
    if importlib.util.find_spec("keras") is None:
        raise KerasMissingError(f"specc.build_model needs Keras: {install}")
    kerasenv.keras()  # keras is there, its backend may not be: KerasMissingError
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    return keras_build.build(spec, resolve(spec), compile=compile)

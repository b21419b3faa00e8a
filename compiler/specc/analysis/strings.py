"""String tensors: only the layers that take strings may take them.

A ``dtype: string`` input (a text, a category) builds in Keras whatever takes it, then
fails when the model runs (a Dense cannot multiply strings). Shapes cannot tell, so this
check follows which tensors are strings through the resolved graph: a model input of
dtype string, and the output of a layer that gives strings (an inverted StringLookup).
Each layer taking a string tensor must be one that reads strings (StringLookup,
TextVectorization, Hashing, HashedCrossing); one fed a number where it reads only
strings is refused too, where the number's dtype is known (a model input).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from specc.analysis.graph import Graph, Source
from specc.errors import Diagnostic
from specc.language.schema import Spec
from specc.layers import CATALOG

Diagnose = Callable[[tuple, str], Diagnostic]
STRING = "string"
LOOKUPS = "a StringLookup (categories), TextVectorization (text) or Hashing layer"


def reads(layer: Any) -> str:
    """What a layer reads: "string", "number", or "any" (Hashing, HashedCrossing)."""
    declared = getattr(layer, "reads", None)  # the lookup layers declare it
    return declared() if declared is not None else "number"


def gives(layer: Any) -> str | None:
    """The dtype of a layer's output where it matters here: "string", or None (numbers)."""
    dtype = getattr(layer, "output_dtype", None)
    return STRING if dtype is not None and dtype() == STRING else None


def _problem(layer: Any, name: str, dtype: str | None) -> str:
    """Why ``layer`` cannot take tensor ``name`` of ``dtype`` ("" if it can)."""
    wants = reads(layer)
    if wants == "any" or dtype is None:
        return ""
    if dtype == STRING and wants != STRING:
        return (
            f"{layer.type} cannot take {name!r}, a string tensor; put {LOOKUPS} before it "
            "to turn the strings into numbers"
        )
    if dtype != STRING and wants == STRING:
        return (
            f"{layer.type} reads strings but {name!r} is {dtype}; give the input dtype: "
            "string, or use IntegerLookup for integer categories"
        )
    return ""


def check_strings(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """One diagnostic per layer that takes a string tensor it cannot read (or the reverse)."""
    inputs = spec.model.model_inputs
    if not any(given.dtype == STRING for given in inputs) and not any(
        reads(layer.spec) == STRING for layer in graph.layers
    ):
        return
    if not graph.functional:
        dtype: str | None = inputs[0].dtype
        name = graph.input_name
        for layer in graph.layers:
            if layer.type not in CATALOG:
                return
            problem = _problem(layer.spec, name, dtype)
            if problem:
                yield diagnose(("model", "layers", layer.index), problem)
                return
            dtype, name = gives(layer.spec), layer.name
        return
    specs = {layer.name: layer.spec for layer in graph.made or graph.layers}
    dtypes: dict[tuple[str, int], str | None] = {
        (given.name, 0): given.dtype for given in graph.inputs
    }
    for call in graph.calls:
        made = specs.get(call.layer)
        if made is None or getattr(made, "type", None) not in CATALOG:
            continue  # a sub-model or backbone: what it reads is its own layers' business
        for source in call.sources:
            problem = _problem(made, _shown(source), dtypes.get((source[0], source[1])))
            if problem:
                entry = spec.model.layers[call.entry]
                given = getattr(entry, "inputs", None) is not None
                loc = ("model", "layers", call.entry, *(("inputs",) if given else ()))
                yield diagnose(loc, problem)
                break
        dtypes[(call.layer, call.node)] = gives(made)


def _shown(source: Source) -> str:
    name, _node, index = source
    return name if index in (None, 0) else f"{name}.{index}"

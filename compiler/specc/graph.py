"""The resolved model: final layer names, shapes and parameter counts.

This is the single input of every back end (summary, keras_build, codegen), so they cannot
drift apart. Resolving is pure Python; it reproduces Keras 3's naming and shape rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from specc import shapes
from specc.errors import Diagnostic
from specc.layers import LayerSpec
from specc.schema import Spec
from specc.shapes import Shape, ShapeError


def to_snake_case(name: str) -> str:
    """Keras' automatic layer-name prefix for a class name.

    >>> [to_snake_case(n) for n in ("Conv2D", "MaxPooling2D", "GlobalAveragePooling1D")]
    ['conv2d', 'max_pooling2d', 'global_average_pooling1d']
    >>> to_snake_case("BatchNormalization")
    'batch_normalization'
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


@dataclass(frozen=True)
class ResolvedLayer:
    """One layer with everything a back end needs."""

    index: int
    name: str
    type: str
    spec: LayerSpec
    input_shape: Shape
    output_shape: Shape
    trainable_params: int
    non_trainable_params: int

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params


@dataclass(frozen=True)
class Graph:
    """An immutable, fully resolved sequential model."""

    name: str
    input_shape: Shape
    layers: tuple[ResolvedLayer, ...]

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].output_shape if self.layers else self.input_shape

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable_params for layer in self.layers)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params


def resolve_names(types: list[str], explicit: list[str | None]) -> list[str]:
    """Keras 3 names: per-prefix counters, explicit names don't advance them.

    >>> resolve_names(["Conv2D", "Conv2D", "Dense", "Conv2D"], [None, "stem", None, None])
    ['conv2d', 'stem', 'dense', 'conv2d_1']
    """
    counters: dict[str, int] = {}
    names = []
    for layer_type, name in zip(types, explicit, strict=True):
        if name is None:
            prefix = to_snake_case(layer_type)
            n = counters.get(prefix, 0)
            counters[prefix] = n + 1
            name = prefix if n == 0 else f"{prefix}_{n}"
        names.append(name)
    return names


def resolve(
    spec: Spec, diagnose: Callable[[tuple, str], Diagnostic]
) -> tuple[Graph | None, list[Diagnostic]]:
    """Resolve names, shapes and params; return the graph (None if shapes fail) and problems.

    ``diagnose(loc, message)`` turns a YAML path and message into a located diagnostic.
    Shape flow stops at the first layer that cannot take its input (later shapes are
    unknown); name clashes are reported for all layers and still yield a graph, so the
    cross-field checks can run too. The spec is valid only if no problem is returned.
    """
    layers = spec.model.layers
    names = resolve_names([layer.type for layer in layers], [layer.name for layer in layers])
    problems: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            j = seen[name]
            where = "name" if layers[i].name is not None else "type"
            problems.append(
                diagnose(
                    ("model", "layers", i, where),
                    f"layer name {name!r} is already used by layer {j}; Keras requires unique names",
                )
            )
        else:
            seen[name] = i
    resolved = []
    shape: Shape = (None, *spec.model.input.shape)
    for i, (layer, name) in enumerate(zip(layers, names, strict=True)):
        try:
            result = layer.infer(shape)
        except ShapeError as exc:
            loc = ("model", "layers", i) + ((exc.field,) if exc.field else ())
            message = f"{exc} (input {shapes.format_shape(shape)})" if exc.show_input else str(exc)
            problems.append(diagnose(loc, message))
            return None, problems
        out, trainable, frozen = result.shape, result.trainable, result.non_trainable
        if not getattr(layer, "trainable", True):
            trainable, frozen = 0, trainable + frozen
        resolved.append(ResolvedLayer(i, name, layer.type, layer, shape, out, trainable, frozen))
        shape = out
    return Graph(spec.name, (None, *spec.model.input.shape), tuple(resolved)), problems

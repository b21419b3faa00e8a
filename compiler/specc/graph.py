"""The resolved model: final layer names, shapes and parameter counts.

This is the single input of every back end (summary, keras_build, codegen), so they cannot
drift apart. Resolving is pure Python; it reproduces Keras 3's naming and shape rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from specc import shapes
from specc.errors import Diagnostic
from specc.schema import NamedLayer, Spec
from specc.shapes import Shape, ShapeError

INPUT_NAME = "input_layer"
"""The name specc (and the emitted code) give the model's ``keras.Input``: Keras' own name
for it in a fresh session. A layer may not take it (Keras requires unique names)."""
MAX_TENSOR_WEIGHTS = 2**31 - 1
"""Most weights one tensor may hold. TensorFlow's GPU kernels index tensors with 32-bit
ints and fail beyond it (tensorflow/tensorflow#19473, #60330); as float32 it is 8 GiB."""
MAX_MODEL_WEIGHTS = 2**33
"""Most weights a whole model may hold: 32 GiB as float32, 128 GiB with the gradients and
Adam's two slots, beyond any single accelerator's memory; 60x VGG16's 138 million."""


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
    spec: NamedLayer
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


# ------------------------------------------------------------------ per-type rules
# Each rule takes (layer spec, input shape) and returns (output shape, trainable,
# non-trainable), raising ShapeError when the layer cannot take that input.
Rule = Callable[[NamedLayer, Shape], tuple[Shape, int, int]]


def _need_rank(shape: Shape, rank: int, layer: NamedLayer, what: str) -> None:
    if len(shape) != rank:
        raise ShapeError(
            f"{layer.type} needs a rank-{rank} input {what}, "  # type: ignore[attr-defined]
            f"but gets {shapes.format_shape(shape)}"
            + ("; it cannot follow Flatten or Dense" if len(shape) == 2 else ""),
            show_input=False,
        )


def _spatial_kind(layer: NamedLayer) -> tuple[int, str]:
    rank = 1 if "1D" in layer.type else 2  # type: ignore[attr-defined]
    return rank, ("(batch, steps, channels)" if rank == 1 else "(batch, rows, cols, channels)")


def _conv(layer, shape):  # type: ignore[no-untyped-def]
    rank, what = _spatial_kind(layer)
    _need_rank(shape, rank + 2, layer, what)
    if max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ShapeError(
            "strides > 1 cannot be combined with dilation_rate > 1 (Keras refuses it)",
            "strides",
            show_input=False,
        )
    dims = []
    for axis, n in enumerate(shape[1:-1]):
        k, s, d = layer.kernel_size[axis], layer.strides[axis], layer.dilation_rate[axis]
        out = shapes.conv_output_length(n, k, s, d, layer.padding)
        if out < 1:
            size = f"{k} dilated by {d} (spanning {d * (k - 1) + 1})" if d > 1 else str(k)
            raise ShapeError(
                f"kernel of size {size} does not fit input of size {n} on axis {axis + 1} "
                f"with padding 'valid' (output would be {out})",
                "kernel_size",
            )
        dims.append(out)
    params = shapes.conv_params(layer.kernel_size, shape[-1], layer.filters, layer.use_bias)
    return (shape[0], *dims, layer.filters), params, 0


def _pool(layer, shape):  # type: ignore[no-untyped-def]
    rank, what = _spatial_kind(layer)
    _need_rank(shape, rank + 2, layer, what)
    strides = layer.strides or layer.pool_size
    dims = []
    for axis, n in enumerate(shape[1:-1]):
        out = shapes.pool_output_length(n, layer.pool_size[axis], strides[axis], layer.padding)
        if out < 1:
            raise ShapeError(
                f"pool of size {layer.pool_size[axis]} does not fit input of size {n} on axis "
                f"{axis + 1} (output would be {out}); use padding: same or a smaller pool_size",
                "pool_size",
            )
        dims.append(out)
    return (shape[0], *dims, shape[-1]), 0, 0


def _global_pool(layer, shape):  # type: ignore[no-untyped-def]
    rank, what = _spatial_kind(layer)
    _need_rank(shape, rank + 2, layer, what)
    if layer.keepdims:
        return (shape[0], *([1] * rank), shape[-1]), 0, 0
    return (shape[0], shape[-1]), 0, 0


def _dense(layer, shape):  # type: ignore[no-untyped-def]
    params = shapes.dense_params(shape[-1], layer.units, layer.use_bias)
    return (*shape[:-1], layer.units), params, 0


def _axis_size(layer, shape) -> int:  # type: ignore[no-untyped-def]
    axis = layer.axis
    if not -len(shape) < axis < len(shape) or axis % len(shape) == 0:
        raise ShapeError(
            f"axis {axis} is out of range for input {shapes.format_shape(shape)}", "axis"
        )
    return shape[axis]


def _batch_norm(layer, shape):  # type: ignore[no-untyped-def]
    c = _axis_size(layer, shape)
    trainable = c * (int(layer.center) + int(layer.scale))
    return shape, trainable, 2 * c  # moving mean and variance are never trained


def _layer_norm(layer, shape):  # type: ignore[no-untyped-def]
    c = _axis_size(layer, shape)
    return shape, c * (int(layer.center) + int(layer.scale)), 0


def _spatial_dropout(layer, shape):  # type: ignore[no-untyped-def]
    rank, what = _spatial_kind(layer)
    _need_rank(shape, rank + 2, layer, what)
    return shape, 0, 0


def _identity(layer, shape):  # type: ignore[no-untyped-def]
    return shape, 0, 0


def _flatten(layer, shape):  # type: ignore[no-untyped-def]
    return shapes.flatten_shape(shape), 0, 0


def _reshape(layer, shape):  # type: ignore[no-untyped-def]
    return shapes.reshape_shape(shape, layer.target_shape), 0, 0


RULES: dict[str, Rule] = {
    "Conv1D": _conv, "Conv2D": _conv,
    "MaxPooling1D": _pool, "MaxPooling2D": _pool, "AveragePooling1D": _pool, "AveragePooling2D": _pool,
    "GlobalMaxPooling1D": _global_pool, "GlobalMaxPooling2D": _global_pool,
    "GlobalAveragePooling1D": _global_pool, "GlobalAveragePooling2D": _global_pool,
    "Dense": _dense, "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm,
    "Dropout": _identity, "Activation": _identity,
    "SpatialDropout1D": _spatial_dropout, "SpatialDropout2D": _spatial_dropout,
    "Flatten": _flatten, "Reshape": _reshape,
}  # fmt: skip


def largest_weight(layer: NamedLayer, shape: Shape) -> tuple[int, str, str]:
    """Elements of a layer's largest weight tensor, how they come about, and the argument
    to blame: the kernel of Dense and convolutions, the per-channel vectors of normalisations.

    >>> from specc.schema import Dense
    >>> largest_weight(Dense(type="Dense", units=10), (None, 128))
    (1280, '128 inputs x 10 units', 'units')
    """
    args: Any = layer
    channels = shape[-1] or 0
    if args.type == "Dense":
        return channels * args.units, f"{channels:,} inputs x {args.units:,} units", "units"
    if args.type in ("Conv1D", "Conv2D"):
        kernel = " x ".join(str(k) for k in args.kernel_size)
        how = f"{kernel} kernel x {channels:,} channels x {args.filters:,} filters"
        return shapes.conv_params(args.kernel_size, channels, args.filters, False), how, "filters"
    if args.type in ("BatchNormalization", "LayerNormalization"):
        size = shape[args.axis] or 0
        return size, f"{size:,} channels", ""
    return 0, "", ""


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


def _size_problem(
    spec: Spec,
    i: int,
    shape: Shape,
    before: int,
    params: int,
    diagnose: Callable[[tuple, str], Diagnostic],
) -> Diagnostic | None:
    """Weights Keras cannot allocate: one tensor too large, or the model with this layer."""
    largest, how, field = largest_weight(spec.model.layers[i], shape)
    if largest > MAX_TENSOR_WEIGHTS:
        return diagnose(
            ("model", "layers", i, field) if field else ("model", "layers", i),
            f"its largest weight tensor would have {largest:,} parameters ({how}), more than "
            f"the {MAX_TENSOR_WEIGHTS:,} one tensor may hold (TensorFlow's 32-bit index "
            "limit); make the layer or its input smaller",
        )
    if before + params > MAX_MODEL_WEIGHTS:
        return diagnose(
            ("model", "layers", i),
            f"with this layer the model has {before + params:,} parameters, more than the "
            f"{MAX_MODEL_WEIGHTS:,} (32 GiB as float32) specc allows; make it smaller",
        )
    return None


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
        if name == INPUT_NAME:
            problems.append(
                diagnose(
                    ("model", "layers", i, "name"),
                    f"layer name {name!r} is the model input's name in Keras; choose another name",
                )
            )
        elif name in seen:
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
    total = 0
    too_big: Diagnostic | None = None
    for i, (layer, name) in enumerate(zip(layers, names, strict=True)):
        try:
            out, trainable, frozen = RULES[layer.type](layer, shape)
        except ShapeError as exc:
            loc = ("model", "layers", i) + ((exc.field,) if exc.field else ())
            message = f"{exc} (input {shapes.format_shape(shape)})" if exc.show_input else str(exc)
            problems.append(diagnose(loc, message))
            return None, problems
        if not getattr(layer, "trainable", True):
            trainable, frozen = 0, trainable + frozen
        if not too_big:  # only the first: the layers after it inherit its size
            too_big = _size_problem(spec, i, shape, total, trainable + frozen, diagnose)
            problems += [too_big] if too_big else []
        total += trainable + frozen
        resolved.append(ResolvedLayer(i, name, layer.type, layer, shape, out, trainable, frozen))
        shape = out
    return Graph(spec.name, (None, *spec.model.input.shape), tuple(resolved)), problems

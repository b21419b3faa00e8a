"""Activation layers: elementwise, shape-preserving, no weights (PReLU excepted)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from specc.layers import shapes
from specc.layers.base import Out, Trainable
from specc.layers.shapes import Shape, ShapeError
from specc.terms.objects import ConstraintSpec, InitializerSpec, RegularizerSpec
from specc.terms.values import INT64_MAX, Float, NonNegFloat, PosInt
from specc.terms.values import Activation as ActivationName


class Activation(Trainable):
    """``activation`` applied elementwise."""

    POSITIONAL = ("activation",)
    VALUE = "argument"
    type: Literal["Activation"]
    activation: ActivationName

    def infer(self, shape: Shape) -> Out:
        return Out(shape)


class ReLU(Trainable):
    """``max(x, 0)`` with Keras' optional cap, leak below ``threshold`` and threshold."""

    VALUE = "relu"
    type: Literal["ReLU"]
    max_value: NonNegFloat | None = None
    negative_slope: NonNegFloat = 0.0
    threshold: NonNegFloat = 0.0

    def infer(self, shape: Shape) -> Out:
        return Out(shape)


class LeakyReLU(Trainable):
    POSITIONAL = ("negative_slope",)
    VALUE = "leaky_relu"
    type: Literal["LeakyReLU"]
    negative_slope: NonNegFloat = 0.3

    def infer(self, shape: Shape) -> Out:
        return Out(shape)


class ELU(Trainable):
    POSITIONAL = ("alpha",)
    VALUE = "elu"
    type: Literal["ELU"]
    alpha: Float = 1.0

    def infer(self, shape: Shape) -> Out:
        return Out(shape)


def normalise_axes(axes: int | Sequence[int], shape: Shape) -> tuple[int, ...]:
    """Axes as non-negative indices; refuse one out of range or named twice.

    Keras builds such a layer but fails when it is called.

    >>> normalise_axes(-1, (None, 5, 4))
    (2,)
    >>> normalise_axes([1, -1], (None, 5, 4))
    (1, 2)
    >>> normalise_axes([1, -2], (None, 5, 4))
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: axis -2 is axis 1 again; name each axis once
    """
    rank = len(shape)
    seen: list[int] = []
    for axis in (axes,) if isinstance(axes, int) else axes:
        if not -rank <= axis < rank:
            raise ShapeError(
                f"axis {axis} is out of range for input {shapes.format_shape(shape)} "
                f"(rank {rank}: use -{rank}..{rank - 1})",
                "axis",
                show_input=False,
            )
        if axis % rank in seen:
            raise ShapeError(
                f"axis {axis} is axis {axis % rank} again; name each axis once", "axis"
            )
        seen.append(axis % rank)
    return tuple(seen)


def _one_axis(value: Any) -> Any:
    """``[-1]`` is ``-1`` (Keras' configs store one axis either way)."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


_INT = {"type": "integer"}
OneAxis = Annotated[
    int,
    BeforeValidator(_one_axis),
    WithJsonSchema(
        {"anyOf": [_INT, {"type": "array", "items": _INT, "minItems": 1, "maxItems": 1}]}
    ),
]
"""One axis: an int (or a one-item list, as Keras may store it)."""
Axes = Annotated[
    int | Annotated[list[int], Field(min_length=2)],
    BeforeValidator(_one_axis),
    WithJsonSchema({"anyOf": [_INT, {"type": "array", "items": _INT, "minItems": 1}]}),
]
"""One axis or several (``[1, 2]``), as Keras takes them."""


class Softmax(Trainable):
    POSITIONAL = ("axis",)
    VALUE = "softmax"
    type: Literal["Softmax"]
    axis: Axes = -1

    def infer(self, shape: Shape) -> Out:
        normalise_axes(self.axis, shape)
        return Out(shape)


def prelu_params(shape: Shape, shared_axes: Sequence[int] | None) -> int:
    """PReLU's alpha: one slope per input value, except along ``shared_axes`` (size 1).

    >>> prelu_params((None, 5, 4, 3), None)
    60
    >>> prelu_params((None, 5, 4, 3), [1, 2])
    3
    >>> prelu_params((None, None, 4, 3), [1])
    12
    """
    sizes: list[int | None] = list(shape[1:])
    for axis in shared_axes or ():
        if axis >= len(shape):
            raise ShapeError(
                f"shared axis {axis} is out of range for input {shapes.format_shape(shape)} "
                f"(use 1..{len(shape) - 1})",
                "shared_axes",
                show_input=False,
            )
        sizes[axis - 1] = 1
    if None in sizes:
        raise ShapeError(
            f"PReLU needs a known size on every axis it does not share, but gets "
            f"{shapes.format_shape(shape)}; list the unknown axes in shared_axes",
            "shared_axes",
            show_input=False,
        )
    return math.prod(sizes)  # type: ignore[arg-type]  # unknown axes were refused just above


_POS = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}


def _axis_list(value: Any) -> Any:
    """Keras takes one int for one axis: ``1`` is ``[1]``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    return value


class PReLU(Trainable):
    """A leaky ReLU whose slopes are learned: one per value, or shared along axes."""

    VALUE = "prelu"
    type: Literal["PReLU"]
    alpha_initializer: InitializerSpec = "Zeros"  # Keras' default, spelled as its class
    alpha_regularizer: RegularizerSpec | None = None
    alpha_constraint: ConstraintSpec | None = None
    shared_axes: (
        Annotated[
            list[PosInt],
            BeforeValidator(_axis_list),
            Field(min_length=1),
            WithJsonSchema({"anyOf": [_POS, {"type": "array", "items": _POS, "minItems": 1}]}),
        ]
        | None
    ) = None

    def infer(self, shape: Shape) -> Out:
        return Out(shape, prelu_params(shape, self.shared_axes))

"""Normalization: per-feature scale and offset on one axis."""

from __future__ import annotations

from typing import Literal

from specc import shapes
from specc.layers.base import Out, Trainable, need_known
from specc.shapes import Shape, ShapeError
from specc.values import Fraction, Positive


def axis_size(layer: Trainable, shape: Shape, axis: int) -> int:
    """The size of the normalised axis; the batch axis and axes out of range are refused."""
    if not -len(shape) < axis < len(shape) or axis % len(shape) == 0:
        raise ShapeError(
            f"axis {axis} is out of range for input {shapes.format_shape(shape)}", "axis"
        )
    return need_known(layer, shape, axis, "the normalised axis sizes the weights")


class BatchNormalization(Trainable):
    """gamma and beta trainable; moving mean and variance never trained."""

    type: Literal["BatchNormalization"]
    axis: int = -1
    momentum: Fraction = 0.99
    epsilon: Positive = 0.001
    center: bool = True
    scale: bool = True

    def infer(self, shape: Shape) -> Out:
        c = axis_size(self, shape, self.axis)
        return Out(
            shape, c * (int(self.center) + int(self.scale)), 2 * c, (c, f"{c:,} channels", "")
        )


class LayerNormalization(Trainable):
    type: Literal["LayerNormalization"]
    axis: int = -1
    epsilon: Positive = 0.001
    center: bool = True
    scale: bool = True

    def infer(self, shape: Shape) -> Out:
        c = axis_size(self, shape, self.axis)
        return Out(shape, c * (int(self.center) + int(self.scale)), 0, (c, f"{c:,} channels", ""))

"""Normalization: per-feature scale and offset on one axis."""

from __future__ import annotations

from typing import Literal

from specc.layers import shapes
from specc.layers.activations import Axes, OneAxis, normalise_axes
from specc.layers.base import Out, Trainable, need_known
from specc.layers.shapes import Shape, ShapeError
from specc.terms.objects import ConstraintSpec, InitializerSpec, RegularizerSpec
from specc.terms.values import Fraction, PosInt, Positive


def axis_size(layer: Trainable, shape: Shape, axis: int) -> int:
    """The size of the normalised axis; the batch axis and axes out of range are refused."""
    if not -len(shape) < axis < len(shape) or axis % len(shape) == 0:
        raise ShapeError(
            f"axis {axis} is out of range for input {shapes.format_shape(shape)}", "axis"
        )
    return need_known(layer, shape, axis, "the normalised axis sizes the weights")


class BatchNormalization(Trainable):
    """gamma and beta trainable; moving mean and variance never trained."""

    VALUE = "linear"
    type: Literal["BatchNormalization"]
    axis: int = -1
    momentum: Fraction = 0.99
    epsilon: Positive = 0.001
    center: bool = True
    scale: bool = True

    def infer(self, shape: Shape) -> Out:
        c = axis_size(self, shape, self.axis)
        return Out(
            shape,
            c * (int(self.center) + int(self.scale)),
            2 * c,
            largest=(c, f"{c:,} channels", ""),
        )


class LayerNormalization(Trainable):
    VALUE = "linear"
    type: Literal["LayerNormalization"]
    axis: OneAxis = -1
    epsilon: Positive = 0.001
    center: bool = True
    scale: bool = True

    def infer(self, shape: Shape) -> Out:
        if not (self.center or self.scale):  # no weights: any size will do, as in Keras
            if not -len(shape) < self.axis < len(shape) or self.axis % len(shape) == 0:
                raise ShapeError(
                    f"axis {self.axis} is out of range for input {shapes.format_shape(shape)}",
                    "axis",
                )
            return Out(shape)
        c = axis_size(self, shape, self.axis)
        return Out(
            shape, c * (int(self.center) + int(self.scale)), 0, largest=(c, f"{c:,} channels", "")
        )


def group_size(groups: int, channels: int) -> int:
    """Channels per group; ``groups: -1`` is one group per channel (instance normalisation).

    >>> group_size(3, 6), group_size(-1, 6)
    (2, 1)
    >>> group_size(4, 6)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: groups (4) must divide the 6 channels of the normalised axis
    """
    groups = channels if groups == -1 else groups
    if groups > channels:
        raise ShapeError(
            f"groups ({groups}) cannot be more than the {channels} channels of the normalised axis",
            "groups",
        )
    if channels % groups:
        raise ShapeError(
            f"groups ({groups}) must divide the {channels} channels of the normalised axis",
            "groups",
        )
    return channels // groups


class GroupNormalization(Trainable):
    """Normalises groups of channels; gamma and beta per channel."""

    VALUE = "linear"
    type: Literal["GroupNormalization"]
    groups: PosInt | Literal[-1] = 32
    axis: int = -1
    epsilon: Positive = 0.001
    center: bool = True
    scale: bool = True
    beta_initializer: InitializerSpec = "zeros"
    gamma_initializer: InitializerSpec = "ones"
    beta_regularizer: RegularizerSpec | None = None
    gamma_regularizer: RegularizerSpec | None = None
    beta_constraint: ConstraintSpec | None = None
    gamma_constraint: ConstraintSpec | None = None

    def infer(self, shape: Shape) -> Out:
        c = axis_size(self, shape, self.axis)
        group_size(self.groups, c)
        return Out(
            shape, c * (int(self.center) + int(self.scale)), 0, largest=(c, f"{c:,} channels", "")
        )


class UnitNormalization(Trainable):
    """Scales to unit L2 norm along ``axis``; no weights, any sizes."""

    VALUE = "linear"
    type: Literal["UnitNormalization"]
    axis: Axes = -1

    def infer(self, shape: Shape) -> Out:
        normalise_axes(self.axis, shape)
        return Out(shape)


class RMSNormalization(Trainable):
    """Divides by the root mean square along ``axis``, then a learned ``scale`` per unit."""

    VALUE = "linear"
    type: Literal["RMSNormalization"]
    axis: OneAxis = -1
    epsilon: Positive = 1e-6

    def infer(self, shape: Shape) -> Out:
        c = axis_size(self, shape, self.axis)
        return Out(shape, c, 0, largest=(c, f"{c:,} units", ""))

"""Core layers: Dense and friends."""

from __future__ import annotations

from typing import Literal

from specc import shapes
from specc.layers.base import Out, Trainable, need_known
from specc.shapes import Shape
from specc.values import Activation, Initializer, PosInt, Regularizer


class Weighted(Trainable):
    """Arguments shared by layers with a kernel and a bias (Dense, convolutions)."""

    activation: Activation | None = None
    use_bias: bool = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None


class Dense(Weighted):
    """A kernel on the input's last axis, whatever its rank."""

    POSITIONAL = ("units",)
    type: Literal["Dense"]
    units: PosInt

    def infer(self, shape: Shape) -> Out:
        units_in = need_known(self, shape, -1, "the kernel's size depends on it")
        return Out(
            (*shape[:-1], self.units), shapes.dense_params(units_in, self.units, self.use_bias)
        )

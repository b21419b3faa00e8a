"""Core layers: Dense and friends."""

from __future__ import annotations

from typing import Literal

from specc import shapes
from specc.layers.base import Out, Trainable, need_known
from specc.objects import ConstraintSpec, InitializerSpec, RegularizerSpec
from specc.shapes import Shape
from specc.values import Activation, PosInt


class Weighted(Trainable):
    """Arguments shared by layers with a kernel and a bias (Dense, convolutions)."""

    activation: Activation | None = None
    use_bias: bool = True
    kernel_initializer: InitializerSpec = "glorot_uniform"
    bias_initializer: InitializerSpec = "zeros"
    kernel_regularizer: RegularizerSpec | None = None
    bias_regularizer: RegularizerSpec | None = None
    activity_regularizer: RegularizerSpec | None = None
    kernel_constraint: ConstraintSpec | None = None
    bias_constraint: ConstraintSpec | None = None


class Dense(Weighted):
    """A kernel on the input's last axis, whatever its rank."""

    POSITIONAL = ("units",)
    type: Literal["Dense"]
    units: PosInt

    def infer(self, shape: Shape) -> Out:
        units_in = need_known(self, shape, -1, "the kernel's size depends on it")
        kernel = (units_in * self.units, f"{units_in:,} inputs x {self.units:,} units", "units")
        return Out(
            (*shape[:-1], self.units),
            shapes.dense_params(units_in, self.units, self.use_bias),
            largest=kernel,
        )

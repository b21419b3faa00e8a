"""Activation layers: elementwise, shape-preserving, no weights (PReLU excepted)."""

from __future__ import annotations

from typing import Literal

from specc.layers.base import Out, Trainable
from specc.shapes import Shape
from specc.values import Activation as ActivationName


class Activation(Trainable):
    """``activation`` applied elementwise."""

    POSITIONAL = ("activation",)
    type: Literal["Activation"]
    activation: ActivationName

    def infer(self, shape: Shape) -> Out:
        return Out(shape)

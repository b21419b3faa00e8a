"""Reshaping: move values between axes, no weights."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from specc import shapes
from specc.layers.base import Out, Trainable
from specc.shapes import Shape


class Flatten(Trainable):
    type: Literal["Flatten"]

    def infer(self, shape: Shape) -> Out:
        return Out(shapes.flatten_shape(shape))


class Reshape(Trainable):
    POSITIONAL = ("target_shape",)
    type: Literal["Reshape"]
    target_shape: Annotated[list[Annotated[int, Field(ge=-1)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_unknown(self) -> Reshape:
        if self.target_shape.count(-1) > 1 or 0 in self.target_shape:
            raise ValueError("target_shape takes positive sizes and at most one -1")
        return self

    def infer(self, shape: Shape) -> Out:
        return Out(shapes.reshape_shape(shape, self.target_shape))

"""Reshaping: move values between axes, no weights."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from specc import shapes
from specc.layers.base import Out, Trainable
from specc.shapes import Shape
from specc.values import INT64_MAX


class Flatten(Trainable):
    type: Literal["Flatten"]

    def infer(self, shape: Shape) -> Out:
        return Out(shapes.flatten_shape(shape))


def _reshape_json_schema(schema: dict[str, Any]) -> None:
    """What ``_one_unknown`` says, for JSON Schema: no 0 and at most one -1."""
    target = schema["properties"]["target_shape"]
    target["items"]["not"] = {"const": 0}
    target.update({"contains": {"const": -1}, "minContains": 0, "maxContains": 1})


class Reshape(Trainable):
    model_config = ConfigDict(json_schema_extra=_reshape_json_schema)
    POSITIONAL = ("target_shape",)
    type: Literal["Reshape"]
    target_shape: Annotated[list[Annotated[int, Field(ge=-1, le=INT64_MAX)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_unknown(self) -> Reshape:
        if self.target_shape.count(-1) > 1 or 0 in self.target_shape:
            raise ValueError("target_shape takes positive sizes and at most one -1")
        return self

    def infer(self, shape: Shape) -> Out:
        return Out(shapes.reshape_shape(shape, self.target_shape))

"""Reshaping: move values between axes, no weights."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from specc.layers import shapes
from specc.layers.base import Out, Trainable, need_rank, spatial_rank
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import INT64_MAX, INT_OR_TUPLE, Count, PosInt, Spatial2, Spatial3


def flatten_shape(shape: Shape) -> Shape:
    """Flatten keeps the batch axis and multiplies the rest; any unknown size makes it unknown.

    >>> flatten_shape((None, 3, 3, 16))
    (None, 144)
    >>> flatten_shape((None, None, 8))
    (None, None)
    """
    rest = shape[1:]
    return (shape[0], None if None in rest else math.prod(rest))  # type: ignore[arg-type]  # None not in rest here (the conditional)


class Flatten(Trainable):
    VALUE = "same"
    type: Literal["Flatten"]

    def infer(self, shape: Shape) -> Out:
        return Out(flatten_shape(shape))


def _reshape_json_schema(schema: dict[str, Any]) -> None:
    """What ``_one_unknown`` says, for JSON Schema: no 0 and at most one -1."""
    target = schema["properties"]["target_shape"]
    target["items"]["not"] = {"const": 0}
    target.update({"contains": {"const": -1}, "minContains": 0, "maxContains": 1})


class Reshape(Trainable):
    model_config = ConfigDict(json_schema_extra=_reshape_json_schema)
    POSITIONAL = ("target_shape",)
    VALUE = "same"
    type: Literal["Reshape"]
    target_shape: Annotated[list[Annotated[int, Field(ge=-1, le=INT64_MAX)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_unknown(self) -> Reshape:
        if self.target_shape.count(-1) > 1 or 0 in self.target_shape:
            raise ValueError("target_shape takes positive sizes and at most one -1")
        return self

    def infer(self, shape: Shape) -> Out:
        if None in shape[1:]:  # as Keras: nothing to check, and -1 stays unknown
            return Out((shape[0], *(None if d == -1 else d for d in self.target_shape)))
        return Out(shapes.reshape_shape(shape, self.target_shape))


class Permute(Trainable):
    """Reorders the non-batch axes: ``dims`` is a permutation of 1..rank."""

    POSITIONAL = ("dims",)
    MINIMAL: ClassVar[dict[str, Any]] = {"dims": (1,)}
    VALUE = "same"
    type: Literal["Permute"]
    dims: Annotated[list[PosInt], Field(min_length=1)]

    def infer(self, shape: Shape) -> Out:
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ShapeError(
                f"dims must be a permutation of 1..{len(self.dims)} (the non-batch axes), "
                f"got {self.dims} (Keras refuses it)",
                "dims",
                show_input=False,
            )
        need_rank(self, shape, len(self.dims) + 1, f"(dims {self.dims} name its axes)")
        return Out((shape[0], *(shape[d] for d in self.dims)))


class RepeatVector(Trainable):
    POSITIONAL = ("n",)
    MINIMAL: ClassVar[dict[str, Any]] = {"n": 1}
    VALUE = "same"
    type: Literal["RepeatVector"]
    n: PosInt

    def infer(self, shape: Shape) -> Out:
        need_rank(self, shape, 2, "(batch, features)")
        return Out((shape[0], self.n, shape[1]))


def _scaled(layer: Trainable, shape: Shape, factors: Sequence[int]) -> Out:
    rank, layout = spatial_rank(layer)
    need_rank(layer, shape, rank + 2, layout)
    dims = (None if n is None else n * f for n, f in zip(shape[1:-1], factors, strict=True))
    return Out((shape[0], *dims, shape[-1]))


class UpSampling1D(Trainable):
    POSITIONAL = ("size",)
    VALUE = "same"
    type: Literal["UpSampling1D"]
    size: PosInt = 2

    def infer(self, shape: Shape) -> Out:
        return _scaled(self, shape, (self.size,))


class UpSampling2D(Trainable):
    POSITIONAL = ("size",)
    VALUE = "same"
    type: Literal["UpSampling2D"]
    size: Spatial2 = (2, 2)
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"] = "nearest"

    def infer(self, shape: Shape) -> Out:
        return _scaled(self, shape, self.size)


class UpSampling3D(Trainable):
    POSITIONAL = ("size",)
    VALUE = "same"
    type: Literal["UpSampling3D"]
    size: Spatial3 = (2, 2, 2)

    def infer(self, shape: Shape) -> Out:
        return _scaled(self, shape, self.size)


# ------------------------------------------------------------------ padding, cropping
Pair = tuple[Count, Count]


def _as_pair(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, list):
        return tuple(value)
    return value


def margins(rank: int) -> Any:
    """Padding or cropping as Keras takes it, normalised to one ``(before, after)`` per axis.

    One int for every side; for 2D/3D one entry per axis, each an int (both sides) or a
    pair: ``1``, ``[1, 2]``, ``[[1, 2], [3, 4]]`` or mixed ``[[1, 2], 3]``. For 1D a pair
    is ``(before, after)`` of the one axis.
    """
    item = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
    pair = {"type": "array", "items": item, "minItems": 2, "maxItems": 2}
    if rank == 1:
        schema = {"anyOf": [item, pair]}
        return Annotated[Pair, BeforeValidator(_as_pair), WithJsonSchema(schema), INT_OR_TUPLE]

    def expand(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return ((value, value),) * rank
        if isinstance(value, list | tuple):
            if len(value) != rank:
                raise ValueError(f"needs {rank} entries (one per axis), got {len(value)}")
            return tuple(_as_pair(v) for v in value)
        return value

    per_axis = {"anyOf": [item, pair]}
    schema = {
        "anyOf": [item, {"type": "array", "items": per_axis, "minItems": rank, "maxItems": rank}]
    }
    return Annotated[
        tuple[(Pair,) * rank],  # type: ignore[misc]  # a tuple type of a rank known only at call time
        BeforeValidator(expand),
        WithJsonSchema(schema),
        INT_OR_TUPLE,
    ]


def _padded(layer: Trainable, shape: Shape, pads: Sequence[tuple[int, int]], sign: int) -> Out:
    """Each spatial axis grows (``sign`` 1) or shrinks (-1) by its two margins."""
    rank, layout = spatial_rank(layer)
    need_rank(layer, shape, rank + 2, layout)
    dims: list[int | None] = []
    for axis, (n, (before, after)) in enumerate(zip(shape[1:-1], pads, strict=True)):
        if n is not None and sign < 0 and before + after >= n:
            raise ShapeError(
                f"cropping {before} + {after} leaves nothing of size {n} on axis {axis + 1}; "
                "Keras needs at least 1 left",
                "cropping",
            )
        dims.append(None if n is None else n + sign * (before + after))
    return Out((shape[0], *dims, shape[-1]))


class ZeroPadding1D(Trainable):
    POSITIONAL = ("padding",)
    VALUE = "same"
    type: Literal["ZeroPadding1D"]
    padding: margins(1) = (1, 1)  # type: ignore[valid-type]  # margins() builds a Pydantic type; mypy cannot evaluate calls

    def infer(self, shape: Shape) -> Out:
        return _padded(self, shape, (self.padding,), 1)


class ZeroPadding2D(Trainable):
    POSITIONAL = ("padding",)
    VALUE = "same"
    type: Literal["ZeroPadding2D"]
    padding: margins(2) = ((1, 1), (1, 1))  # type: ignore[valid-type]  # margins() builds a Pydantic type; mypy cannot evaluate calls

    def infer(self, shape: Shape) -> Out:
        return _padded(self, shape, self.padding, 1)


class ZeroPadding3D(Trainable):
    POSITIONAL = ("padding",)
    VALUE = "same"
    type: Literal["ZeroPadding3D"]
    padding: margins(3) = ((1, 1), (1, 1), (1, 1))  # type: ignore[valid-type]  # margins() builds a Pydantic type; mypy cannot evaluate calls

    def infer(self, shape: Shape) -> Out:
        return _padded(self, shape, self.padding, 1)


class Cropping1D(Trainable):
    POSITIONAL = ("cropping",)
    VALUE = "same"
    type: Literal["Cropping1D"]
    cropping: margins(1) = (1, 1)  # type: ignore[valid-type]  # margins() builds a Pydantic type; mypy cannot evaluate calls

    def infer(self, shape: Shape) -> Out:
        return _padded(self, shape, (self.cropping,), -1)


class Cropping2D(Trainable):
    POSITIONAL = ("cropping",)
    VALUE = "same"
    type: Literal["Cropping2D"]
    cropping: margins(2) = ((0, 0), (0, 0))  # type: ignore[valid-type]  # margins() builds a Pydantic type; mypy cannot evaluate calls

    def infer(self, shape: Shape) -> Out:
        return _padded(self, shape, self.cropping, -1)


class Cropping3D(Trainable):
    POSITIONAL = ("cropping",)
    VALUE = "same"
    type: Literal["Cropping3D"]
    cropping: margins(3) = ((1, 1), (1, 1), (1, 1))  # type: ignore[valid-type]  # margins() builds a Pydantic type; mypy cannot evaluate calls

    def infer(self, shape: Shape) -> Out:
        return _padded(self, shape, self.cropping, -1)

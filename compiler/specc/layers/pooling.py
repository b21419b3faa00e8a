"""Pooling: windows over the spatial axes, no weights."""

from __future__ import annotations

from typing import Literal

from specc.layers import shapes
from specc.layers.base import Out, Trainable, need_rank, spatial_rank
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import Padding, Spatial1, Spatial2, Spatial3


class _Pool(Trainable):
    VALUE = "same"
    padding: Padding = "valid"

    def infer(self, shape: Shape) -> Out:
        rank, layout = spatial_rank(self)
        need_rank(self, shape, rank + 2, layout)
        pool = self.pool_size  # type: ignore[attr-defined]  # mixin: pool_size is a field of each pooling layer using it
        strides = self.strides or pool  # type: ignore[attr-defined]  # mixin: strides is a field of each pooling layer using it
        dims: list[int | None] = []
        for axis, n in enumerate(shape[1:-1]):
            if n is None:
                dims.append(None)
                continue
            out = shapes.pool_output_length(n, pool[axis], strides[axis], self.padding)
            if out < 1:
                raise ShapeError(
                    f"pool of size {pool[axis]} does not fit input of size {n} on axis "
                    f"{axis + 1} (output would be {out}); use padding: same or a smaller pool_size",
                    "pool_size",
                )
            dims.append(out)
        return Out((shape[0], *dims, shape[-1]))


class MaxPooling1D(_Pool):
    type: Literal["MaxPooling1D"]
    pool_size: Spatial1 = (2,)
    strides: Spatial1 | None = None


class AveragePooling1D(_Pool):
    POSITIONAL = ("pool_size",)
    type: Literal["AveragePooling1D"]
    pool_size: Spatial1  # required: unlike MaxPooling1D, Keras gives it no default
    strides: Spatial1 | None = None


class MaxPooling2D(_Pool):
    type: Literal["MaxPooling2D"]
    pool_size: Spatial2 = (2, 2)
    strides: Spatial2 | None = None


class AveragePooling2D(_Pool):
    POSITIONAL = ("pool_size",)
    type: Literal["AveragePooling2D"]
    pool_size: Spatial2  # required: unlike MaxPooling2D, Keras gives it no default
    strides: Spatial2 | None = None


class MaxPooling3D(_Pool):
    type: Literal["MaxPooling3D"]
    pool_size: Spatial3 = (2, 2, 2)
    strides: Spatial3 | None = None


class AveragePooling3D(_Pool):
    POSITIONAL = ("pool_size",)
    type: Literal["AveragePooling3D"]
    pool_size: Spatial3  # required: unlike MaxPooling3D, Keras gives it no default
    strides: Spatial3 | None = None


class _GlobalPool(Trainable):
    VALUE = "same"
    keepdims: bool = False

    def infer(self, shape: Shape) -> Out:
        rank, layout = spatial_rank(self)
        need_rank(self, shape, rank + 2, layout)
        if self.keepdims:
            return Out((shape[0], *([1] * rank), shape[-1]))
        return Out((shape[0], shape[-1]))


class GlobalMaxPooling1D(_GlobalPool):
    type: Literal["GlobalMaxPooling1D"]


class GlobalAveragePooling1D(_GlobalPool):
    type: Literal["GlobalAveragePooling1D"]


class GlobalMaxPooling2D(_GlobalPool):
    type: Literal["GlobalMaxPooling2D"]


class GlobalAveragePooling2D(_GlobalPool):
    type: Literal["GlobalAveragePooling2D"]


class GlobalMaxPooling3D(_GlobalPool):
    type: Literal["GlobalMaxPooling3D"]


class GlobalAveragePooling3D(_GlobalPool):
    type: Literal["GlobalAveragePooling3D"]

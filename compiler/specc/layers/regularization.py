"""Regularization layers: active in training only, shape-preserving, no weights."""

from __future__ import annotations

from typing import Literal

from specc.layers.base import LayerSpec, Out, Trainable, need_rank, spatial_rank
from specc.shapes import Shape
from specc.values import Rate, Seed


class Dropout(Trainable):
    POSITIONAL = ("rate",)
    type: Literal["Dropout"]
    rate: Rate
    seed: Seed | None = None

    def infer(self, shape: Shape) -> Out:
        return Out(shape)


class _SpatialDropout(LayerSpec):
    """Keras' SpatialDropout layers take no ``**kwargs``, hence no ``trainable``."""

    POSITIONAL = ("rate",)
    rate: Rate
    seed: Seed | None = None

    def infer(self, shape: Shape) -> Out:
        rank, layout = spatial_rank(self)
        need_rank(self, shape, rank + 2, layout)
        return Out(shape)


class SpatialDropout1D(_SpatialDropout):
    type: Literal["SpatialDropout1D"]


class SpatialDropout2D(_SpatialDropout):
    type: Literal["SpatialDropout2D"]

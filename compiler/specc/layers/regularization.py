"""Regularization layers: active in training only, shape-preserving, no weights."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from specc.layers.base import LayerSpec, Out, Trainable, need_rank, spatial_rank
from specc.layers.shapes import Shape
from specc.terms.values import Fraction, NonNegFloat, Rate, Seed


class Dropout(Trainable):
    POSITIONAL = ("rate",)
    VALUE = "same"
    type: Literal["Dropout"]
    rate: Rate
    seed: Seed | None = None

    def infer(self, shape: Shape) -> Out:
        return Out(shape)


class _SpatialDropout(LayerSpec):
    """Keras' SpatialDropout layers take no ``**kwargs``, hence no ``trainable``."""

    VALUE = "same"

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


class SpatialDropout3D(_SpatialDropout):
    type: Literal["SpatialDropout3D"]


class GaussianNoise(Trainable):
    """Additive zero-centred noise in training; Keras takes ``stddev`` in [0, 1] only."""

    POSITIONAL = ("stddev",)
    MINIMAL: ClassVar[dict[str, Any]] = {"stddev": 0.1}
    VALUE = "same"
    type: Literal["GaussianNoise"]
    stddev: Fraction
    seed: Seed | None = None

    def infer(self, shape: Shape) -> Out:
        return Out(shape)


class GaussianDropout(Trainable):
    """Multiplicative noise; ``rate`` 1 passes Keras' check but divides by zero in training."""

    POSITIONAL = ("rate",)
    VALUE = "same"
    type: Literal["GaussianDropout"]
    rate: Rate
    seed: Seed | None = None

    def infer(self, shape: Shape) -> Out:
        return Out(shape)


class AlphaDropout(Trainable):
    """Dropout that keeps SELU's mean and variance; ``rate`` 1 divides by zero, as above.

    ``noise_shape`` is left out: Keras checks it only when training runs.
    """

    POSITIONAL = ("rate",)
    VALUE = "same"
    type: Literal["AlphaDropout"]
    rate: Rate
    seed: Seed | None = None

    def infer(self, shape: Shape) -> Out:
        return Out(shape)


class ActivityRegularization(Trainable):
    """Adds ``l1``/``l2`` of its input to the loss; passes the input on unchanged."""

    VALUE = "same"
    type: Literal["ActivityRegularization"]
    l1: NonNegFloat = 0.0
    l2: NonNegFloat = 0.0

    def infer(self, shape: Shape) -> Out:
        return Out(shape)

"""Regularization layers: active in training only, shape-preserving, no weights."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from specc.layers.base import LayerSpec, Out, Trainable, need_rank, spatial_rank
from specc.layers.shapes import FITS_SOME, Shape, ShapeError, format_shape
from specc.terms.values import Fraction, NonNegFloat, PosInt, Rate, Seed

NoiseShape = list[PosInt | None]
"""A dropout mask's shape: one size or null (the input's size) per axis."""


def _size_of(n: int | None) -> str:
    return "unknown size" if n is None else f"size {n}"


def _mask_note(size: int | None, i: int, axis: int, shape: Shape) -> str:
    """Why a mask size that does not line up fails (the differential tests read the words:
    FITS_SOME where Keras runs it on some inputs, "but computes" where it widens)."""
    there = shape[axis]
    if size is None:  # a null entry i whose axis is unknown, against another axis
        want = f"axes {i} and {axis} are the same size" if there is None else f"axis {i} is {there}"
        return f": {FITS_SOME} {want}"
    if there is None:
        return f": {FITS_SOME} it is {size}"
    if there == 1:
        return f" (Keras declares the output {format_shape(shape)} but computes {size} there in training)"
    return ""


def check_noise_shape(noise: list[int | None], shape: Shape) -> None:
    """Refuse a ``noise_shape`` whose mask does not broadcast to the input, as Keras 3.15
    computes it in training: a null entry ``i`` takes the size of input axis ``i`` (from
    the left), then the mask broadcasts against the input from the right (NumPy's rule), so
    a shorter ``noise_shape`` lines up with the last axes and a longer one adds axes. Sizes
    unknown before running (the batch axis) accept only null or 1 here: any other size
    fits some batches only.

    >>> check_noise_shape([None, 1, 1, 1], (None, 7, 7, 32))
    >>> check_noise_shape([4, 32], (None, 7, 4, 32))
    >>> check_noise_shape([8, 1, 1, 1], (None, 7, 7, 32))
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: 8 lines up with axis 0 of the input (None, 7, 7, 32), of unknown size: ...
    """
    rank = len(shape)
    if len(noise) > rank:
        raise ShapeError(
            f"{len(noise)} entries, but the input {format_shape(shape)} has {rank} axes "
            "(the batch axis included), and Keras' mask would give the output more; "
            "give one entry per input axis",
            "noise_shape",
            show_input=False,
        )
    for i, entry in enumerate(noise):
        axis = rank - len(noise) + i  # the input axis the mask's entry i broadcasts against
        size = shape[i] if entry is None else entry
        if (entry is None and axis == i) or size == 1 or (size is not None and size == shape[axis]):
            continue
        what = f"null (input axis {i}'s {_size_of(shape[i])})" if entry is None else str(entry)
        why = _mask_note(size, i, axis, shape)
        raise ShapeError(
            f"{what} lines up with axis {axis} of the input {format_shape(shape)}, of "
            f"{_size_of(shape[axis])}{why}; write null (the input's size) or 1 (one mask "
            "value along the axis), one entry per input axis",
            ("noise_shape", i),
            show_input=False,
        )


class _Masked(Trainable):
    """Dropout with a random mask of ``noise_shape``, checked where Keras draws the mask:
    at a ``rate`` above 0 (at 0 Keras skips the mask, and its shape)."""

    POSITIONAL = ("rate",)
    VALUE = "same"
    rate: Rate
    noise_shape: NoiseShape | None = None
    seed: Seed | None = None

    @classmethod
    def from_keras(cls, key: str, value: Any) -> Any:
        return list(value) if key == "noise_shape" and isinstance(value, tuple) else value

    def infer(self, shape: Shape) -> Out:
        if self.noise_shape is not None and self.rate > 0:
            check_noise_shape(self.noise_shape, shape)
        return Out(shape)


class Dropout(_Masked):
    type: Literal["Dropout"]


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


class AlphaDropout(_Masked):
    """Dropout that keeps SELU's mean and variance; ``rate`` 1 divides by zero, as above."""

    type: Literal["AlphaDropout"]


class ActivityRegularization(Trainable):
    """Adds ``l1``/``l2`` of its input to the loss; passes the input on unchanged."""

    VALUE = "same"
    type: Literal["ActivityRegularization"]
    l1: NonNegFloat = 0.0
    l2: NonNegFloat = 0.0

    def infer(self, shape: Shape) -> Out:
        return Out(shape)

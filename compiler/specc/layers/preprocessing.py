"""Preprocessing layers with stated values, and the nested Sequential block around them.

Image layers take ``(batch, height, width, channels)``. Keras also "accepts" a rank-3 input
there, but then takes the batch axis for image rows (an unbatched image), so specc refuses
it; a rank-2 or rank-5 input builds in Keras and fails when run, so it is refused too.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, PlainValidator, WithJsonSchema

from specc.layers import shapes
from specc.layers.base import Container, Layer, LayerSpec, Out, Trainable, apply, nested
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import Float, PosInt, Seed

FillMode = Literal["reflect", "wrap", "constant", "nearest"]
Interpolation = Literal["nearest", "bilinear"]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _factor(check: Any, rule: str) -> Any:
    """A factor as Keras takes it: one number, or a pair ``[low, high]``; ``check`` holds
    the layer's range (``rule`` says it)."""

    def validate(value: Any) -> float | list[float]:
        pair = isinstance(value, list | tuple) and len(value) == 2 and all(map(_number, value))
        if not (_number(value) or pair) or not check(value):
            raise ValueError(f"takes {rule} (got {value!r})")
        return [float(v) for v in value] if pair else float(value)

    number = {"type": "number"}
    schema = {"anyOf": [number, {"type": "array", "items": number, "minItems": 2, "maxItems": 2}]}
    return Annotated[float | list[float], PlainValidator(validate), WithJsonSchema(schema)]


def _loose_factor(low: float, high: float) -> Any:
    """Keras' base image-layer check: a number in [low, high], or a pair [a, b] with
    a <= high and b >= low (Keras checks no more than that)."""
    return _factor(
        lambda v: v[0] <= high and v[1] >= low if isinstance(v, list | tuple) else low <= v <= high,
        f"a number in [{low:g}, {high:g}] or a pair [low, high] with low <= {high:g} "
        f"and high >= {low:g}",
    )


def _each_factor(low: float, high: float, *, low_open: bool = False) -> Any:
    """A number, or a pair of numbers, each in [low, high] (``(low, high]`` if ``low_open``)."""
    shown = f"{'(' if low_open else '['}{low:g}, {high:g}]"
    return _factor(
        lambda v: all(
            low <= n <= high and not (low_open and n == low)
            for n in (v if isinstance(v, list | tuple) else [v])
        ),
        f"a number in {shown} or a pair [low, high] of such numbers",
    )


def factor_from_keras(value: Any, low: float) -> Any:
    """Keras stores a base image layer's ``factor`` as the range it samples from; the number
    it came from, where there is one, reads better in a spec.

    >>> factor_from_keras([-0.1, 0.1], -1), factor_from_keras([0, 0.2], 0), factor_from_keras([-0.1, 0.3], -1)
    (0.1, 0.2, [-0.1, 0.3])
    """
    pair = isinstance(value, list) and len(value) == 2
    return value[1] if pair and value[1] >= 0 and value[0] == max(-value[1], low) else value


RotationFactor = _loose_factor(-1, 1)
ContrastFactor = _loose_factor(0, 1)
ZoomFactor = _each_factor(-1, 1, low_open=True)
TranslationFactor = _each_factor(-1, 1)


def need_image(layer: LayerSpec, shape: Shape) -> None:
    """Refuse anything but a batch of images ``(batch, height, width, channels)``."""
    if len(shape) == 4:
        return
    hint = (
        "; Keras would take the batch axis for image rows: give the input a channels axis, "
        f"e.g. shape {[*shape[1:], 1]}"
        if len(shape) == 3
        else ""
    )
    raise ShapeError(
        f"{layer.type} needs a (batch, height, width, channels) input, but gets "
        f"{shapes.format_shape(shape)}{hint}",
        show_input=False,
    )


def broadcasts(values: float | list[float], size: int | None) -> bool:
    """Whether per-channel values fit an axis of ``size`` (one value, or one per entry).

    >>> broadcasts([1.0, 2.0, 3.0], 3), broadcasts([1.0, 2.0], 3), broadcasts(0.5, 3)
    (True, False, True)
    >>> broadcasts([1.0, 2.0], None)    # unknown size: Keras cannot tell either
    True
    """
    return not isinstance(values, list) or len(values) == 1 or size is None or len(values) == size


class Rescaling(Trainable):
    """``x * scale + offset``; a list gives one value per channel (last axis)."""

    POSITIONAL = ("scale",)
    MINIMAL: ClassVar[dict[str, Any]] = {"scale": 1.0}
    VALUE = "linear"
    type: Literal["Rescaling"]
    scale: Float | Annotated[list[Float], Field(min_length=1)]
    offset: Float | Annotated[list[Float], Field(min_length=1)] = 0.0

    def infer(self, shape: Shape) -> Out:
        for key in ("scale", "offset"):
            values = getattr(self, key)
            if not broadcasts(values, shape[-1]):
                what = (
                    f"Keras declares the output {shapes.format_shape(shape)} but computes "
                    f"{len(values)} values per position"
                    if shape[-1] == 1
                    else "Keras builds it, then fails when run"
                )
                raise ShapeError(
                    f"{key} has {len(values)} values but the last axis has {shape[-1]} "
                    f"({what}); give one value or one per channel",
                    key,
                    show_input=False,
                )
        return Out(shape)


class Resizing(Trainable):
    CALL_TRAINING = True  # call(inputs, training=True)
    POSITIONAL = ("height", "width")
    MINIMAL: ClassVar[dict[str, Any]] = {"height": 1, "width": 1}
    VALUE = "same"
    type: Literal["Resizing"]
    height: PosInt
    width: PosInt
    interpolation: Literal["bilinear", "nearest", "lanczos3", "lanczos5", "bicubic"] = "bilinear"
    crop_to_aspect_ratio: bool = False
    pad_to_aspect_ratio: bool = False
    fill_mode: Literal["constant"] = "constant"
    fill_value: Float = 0.0
    antialias: bool = False

    def rules(self) -> None:
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ShapeError(
                "crop_to_aspect_ratio and pad_to_aspect_ratio exclude each other",
                "pad_to_aspect_ratio",
                show_input=False,
            )

    def infer(self, shape: Shape) -> Out:
        need_image(self, shape)
        return Out((shape[0], self.height, self.width, shape[-1]))


class CenterCrop(Trainable):
    """The centre ``height`` x ``width`` window (smaller images are resized up to it)."""

    CALL_TRAINING = True  # call(inputs, training=True)
    POSITIONAL = ("height", "width")
    MINIMAL: ClassVar[dict[str, Any]] = {"height": 1, "width": 1}
    VALUE = "same"
    type: Literal["CenterCrop"]
    height: PosInt
    width: PosInt

    def infer(self, shape: Shape) -> Out:
        need_image(self, shape)
        return Out((shape[0], self.height, self.width, shape[-1]))


class RandomCrop(Trainable):
    """A random window in training. NB: Keras 3.15 passes images through unchanged at
    inference, so ``predict`` on inputs of another size then fails (a Keras bug)."""

    CALL_TRAINING = True  # call(inputs, training=True)
    POSITIONAL = ("height", "width")
    MINIMAL: ClassVar[dict[str, Any]] = {"height": 1, "width": 1}
    VALUE = "same"
    type: Literal["RandomCrop"]
    height: PosInt
    width: PosInt
    seed: Seed | None = None

    def infer(self, shape: Shape) -> Out:
        need_image(self, shape)
        return Out((shape[0], self.height, self.width, shape[-1]))


class _ImageAugmentation(Trainable):
    CALL_TRAINING = True  # call(inputs, training=True)
    VALUE = "same"

    def infer(self, shape: Shape) -> Out:
        need_image(self, shape)
        return Out(shape)


class RandomFlip(_ImageAugmentation):
    POSITIONAL = ("mode",)
    type: Literal["RandomFlip"]
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = "horizontal_and_vertical"
    seed: Seed | None = None


class RandomRotation(_ImageAugmentation):
    """``factor`` is a fraction of a full turn: 0.1 rotates by up to +-36 degrees."""

    POSITIONAL = ("factor",)
    MINIMAL: ClassVar[dict[str, Any]] = {"factor": 0.1}
    type: Literal["RandomRotation"]
    factor: RotationFactor  # type: ignore[valid-type]  # _loose_factor() builds a Pydantic type; mypy cannot evaluate calls

    @classmethod
    def from_keras(cls, key: str, value: Any) -> Any:
        return factor_from_keras(value, -1) if key == "factor" else value

    fill_mode: FillMode = "reflect"
    interpolation: Interpolation = "bilinear"
    seed: Seed | None = None
    fill_value: Float = 0.0


class RandomZoom(_ImageAugmentation):
    POSITIONAL = ("height_factor", "width_factor")
    MINIMAL: ClassVar[dict[str, Any]] = {"height_factor": 0.1}
    type: Literal["RandomZoom"]
    height_factor: ZoomFactor  # type: ignore[valid-type]  # _each_factor() builds a Pydantic type; mypy cannot evaluate calls
    width_factor: ZoomFactor | None = None  # type: ignore[valid-type]  # _each_factor() builds a Pydantic type; mypy cannot evaluate calls
    fill_mode: FillMode = "reflect"
    interpolation: Interpolation = "bilinear"
    seed: Seed | None = None
    fill_value: Float = 0.0


class RandomTranslation(_ImageAugmentation):
    POSITIONAL = ("height_factor", "width_factor")
    MINIMAL: ClassVar[dict[str, Any]] = {"height_factor": 0.1, "width_factor": 0.1}
    type: Literal["RandomTranslation"]
    height_factor: TranslationFactor  # type: ignore[valid-type]  # _each_factor() builds a Pydantic type; mypy cannot evaluate calls
    width_factor: TranslationFactor  # type: ignore[valid-type]  # _each_factor() builds a Pydantic type; mypy cannot evaluate calls
    fill_mode: FillMode = "reflect"
    interpolation: Interpolation = "bilinear"
    seed: Seed | None = None
    fill_value: Float = 0.0


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class RandomContrast(_ImageAugmentation):
    POSITIONAL = ("factor",)
    MINIMAL: ClassVar[dict[str, Any]] = {"factor": 0.1}
    type: Literal["RandomContrast"]
    factor: ContrastFactor  # type: ignore[valid-type]  # _loose_factor() builds a Pydantic type; mypy cannot evaluate calls

    @classmethod
    def from_keras(cls, key: str, value: Any) -> Any:
        return factor_from_keras(value, 0) if key == "factor" else value

    value_range: Annotated[tuple[Float, Float], BeforeValidator(_as_tuple)] = (0, 255)
    seed: Seed | None = None


def normalization_weights(shape: Shape, axis: tuple[int, ...]) -> int:
    """Size of an adapted Normalization's mean (and of its variance): the kept axes.

    >>> normalization_weights((None, 8, 8, 3), (-1,))
    3
    >>> normalization_weights((None, 8, 8, 3), (1, 2))
    64
    >>> normalization_weights((None, 8, 8, 3), ())     # axis: null, one mean for all
    1
    """
    return math.prod(shape[a] for a in axis)  # type: ignore[misc]  # axes of a known shape (Normalization needs them known)


class Normalization(Trainable):
    """``(x - mean) / sqrt(variance)`` per position of ``axis``.

    Given ``mean`` and ``variance``, the layer has no weights. Without them, Keras keeps
    mean, variance (float32) and a sample count (int64) as non-trainable weights, which
    ``layer.adapt(data)`` fills; ``specc train`` adapts such layers on the training set.
    """

    VALUE = "linear"
    type: Literal["Normalization"]
    axis: int | Annotated[list[int], Field(min_length=1)] | None = -1
    mean: Float | Annotated[list[Float], Field(min_length=1)] | None = None
    variance: Float | Annotated[list[Float], Field(min_length=1)] | None = None
    invert: bool = False

    def rules(self) -> None:
        def refuse(message: str) -> ShapeError:
            return ShapeError(
                message, "variance" if self.variance is not None else "mean", show_input=False
            )

        if (self.mean is None) != (self.variance is None):
            raise refuse("give both mean and variance, or neither (to adapt the layer)")
        if isinstance(self.mean, list) != isinstance(self.variance, list) or (
            isinstance(self.mean, list) and len(self.mean) != len(self.variance)  # type: ignore[arg-type]  # variance is a list too (the isinstance comparison before it)
        ):
            raise refuse("mean and variance must have the same shape")
        if isinstance(self.mean, list) and self.axis is None:
            raise refuse("with axis: null, mean and variance are single numbers")

    @classmethod
    def from_keras(cls, key: str, value: Any) -> Any:
        """Keras stores ``axis`` as a tuple: ``()`` for null, ``(-1,)`` for -1."""
        if key == "axis" and isinstance(value, list) and len(value) <= 1:
            return value[0] if value else None
        return value

    def axes(self) -> tuple[int, ...]:
        return (
            ()
            if self.axis is None
            else (self.axis,)
            if isinstance(self.axis, int)
            else tuple(self.axis)
        )

    def infer(self, shape: Shape) -> Out:
        rank = len(shape)
        axes = self.axes()
        bad = [a for a in axes if not -rank <= a < rank]
        if bad:
            raise ShapeError(
                f"axis {bad[0]} is out of range for a rank-{rank} input "
                f"{shapes.format_shape(shape)}",
                "axis",
                show_input=False,
            )
        kept = tuple(sorted(a % rank for a in axes))
        unknown = [a for a in kept if shape[a] is None]
        if unknown:
            what = "the batch axis" if unknown[0] == 0 else f"axis {unknown[0]}"
            raise ShapeError(
                f"Normalization keeps {what} of {shapes.format_shape(shape)}, whose size is "
                "unknown; Keras needs a known size on every kept axis",
                "axis",
                show_input=False,
            )
        if self.mean is not None:
            last = shape[kept[-1]] if kept else None
            for key in ("mean", "variance"):
                if not broadcasts(getattr(self, key), last):
                    raise ShapeError(
                        f"{key} has {len(getattr(self, key))} values but axis {kept[-1]} has "
                        f"{last}; give one value or one per position",
                        key,
                        show_input=False,
                    )
            return Out(shape)
        return Out(shape, 0, 2 * normalization_weights(shape, kept) + 1, int64_params=1)


def adapted_at_train_time(layers: list[Any]) -> bool:
    """Whether a Normalization without mean and variance is among ``layers`` (or inside;
    an ``apply`` entry calls a layer above again, so it adds none)."""
    return any(
        (isinstance(layer, Normalization) and layer.mean is None)
        or (isinstance(layer, LayerSpec) and adapted_at_train_time(layer.sublayers()))
        for layer in layers
    )


class Sequential(Container):
    """A block of layers used as one layer (tutorials' augmentation stage).

    Keras summarises it as one row (its name, output shape, total parameters). Its inner
    layers take Keras' automatic names before the block takes its own.
    """

    POSITIONAL = ("layers",)
    KERAS_PATH = "Sequential"
    MODEL = True
    VALUE = "inner"
    type: Literal["Sequential"]
    layers: list[Layer] | None = None

    def infer(self, shape: Shape) -> Out:
        if not self.layers:
            raise ShapeError(
                "a nested Sequential needs at least one layer (Keras cannot build an empty one)",
                "layers",
                show_input=False,
            )
        current: Shape | list[Shape] = shape
        trainable = frozen = wide = 0
        for j, layer in enumerate(self.layers):
            try:
                out = apply(layer, current, f"layer {j} of this Sequential" if j else "")
            except ShapeError as exc:
                raise nested(exc, current, "layers", j) from None
            trainable += out.trainable
            frozen += out.non_trainable
            wide += out.int64_params
            current = out.shape
        return Out(current, trainable, frozen, wide)


__all__ = [
    "CenterCrop",
    "Normalization",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "Sequential",
]

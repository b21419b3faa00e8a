"""Convolutions: output lengths from padding/strides/dilation, kernel-sized weights."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

from specc.layers import shapes
from specc.layers.base import Out, Trainable, need_known, need_rank, spatial_rank
from specc.layers.core import Weighted
from specc.layers.shapes import Shape, ShapeError
from specc.terms.objects import ConstraintSpec, InitializerSpec, RegularizerSpec
from specc.terms.values import (
    Activation,
    Padding,
    PosInt,
    Spatial1,
    Spatial2,
    Spatial3,
    spatial,
)


def _refuse_strided_dilation(strides: Sequence[int], dilation: Sequence[int]) -> None:
    if max(strides) > 1 and max(dilation) > 1:
        raise ShapeError(
            "strides > 1 cannot be combined with dilation_rate > 1 (Keras refuses it)",
            "strides",
            show_input=False,
        )


def _kernel(
    kernel_size: Sequence[int], channels: int, out: int, what: str, blame: str
) -> tuple[int, str, str]:
    """A kernel's weight count, how it comes about, and the argument to blame (``Out.largest``)."""
    how = f"{' x '.join(map(str, kernel_size))} kernel x {channels:,} channels x {out:,} {what}"
    return math.prod(kernel_size) * channels * out, how, blame


def _spatial_dims(
    layer: Trainable, shape: Shape, length: Callable[[int, int], int]
) -> list[int | None]:
    """Each spatial axis through ``length(axis, size)``; unknown sizes stay unknown.

    Checks the rank first: ``(batch, *spatial, channels)``.
    """
    rank, layout = spatial_rank(layer)
    need_rank(layer, shape, rank + 2, layout)
    return [None if n is None else length(axis, n) for axis, n in enumerate(shape[1:-1])]


def _windowed(layer: Trainable, shape: Shape) -> list[int | None]:
    """Output lengths of a (depthwise, separable or plain) convolution; refuse a kernel too big."""
    kernel, strides = layer.kernel_size, layer.strides  # type: ignore[attr-defined]  # mixin: fields of the convolution layers using it
    dilation, padding = layer.dilation_rate, layer.padding  # type: ignore[attr-defined]  # mixin: fields of the convolution layers using it

    def length(axis: int, n: int) -> int:
        k, s, d = kernel[axis], strides[axis], dilation[axis]
        out = shapes.conv_output_length(n, k, s, d, padding)
        if out < 1:
            size = f"{k} dilated by {d} (spanning {d * (k - 1) + 1})" if d > 1 else str(k)
            raise ShapeError(
                f"kernel of size {size} does not fit input of size {n} on axis {axis + 1} "
                f"with padding 'valid' (output would be {out})",
                "kernel_size",
            )
        return out

    return _spatial_dims(layer, shape, length)


class _Conv(Weighted):
    VALUE = "argument"
    POSITIONAL = ("filters", "kernel_size")
    filters: PosInt
    groups: PosInt = 1

    def infer(self, shape: Shape) -> Out:
        if self.filters % self.groups:
            raise ShapeError(
                f"groups ({self.groups}) must divide filters ({self.filters}) (Keras refuses it)",
                "groups",
                show_input=False,
            )
        rank, layout = spatial_rank(self)
        need_rank(self, shape, rank + 2, layout)
        _refuse_strided_dilation(self.strides, self.dilation_rate)  # type: ignore[attr-defined]  # mixin: fields of the convolution layers using it
        dims = _windowed(self, shape)
        channels = need_known(self, shape, -1, "the channels axis sizes the kernel")
        if channels % self.groups:
            raise ShapeError(
                f"groups ({self.groups}) must divide the input's {channels} channels "
                "(Keras refuses it)",
                "groups",
            )
        kernel_size = self.kernel_size  # type: ignore[attr-defined]  # mixin: kernel_size is a field of the convolution layers
        per_group = channels // self.groups
        params = shapes.conv_params(kernel_size, per_group, self.filters, self.use_bias)
        largest = _kernel(kernel_size, per_group, self.filters, "filters", "filters")
        return Out((shape[0], *dims, self.filters), params, largest=largest)


class Conv1D(_Conv):
    type: Literal["Conv1D"]
    kernel_size: Spatial1
    strides: Spatial1 = (1,)
    padding: Literal["valid", "same", "causal"] = "valid"
    dilation_rate: Spatial1 = (1,)


class Conv2D(_Conv):
    PICTURES = True
    type: Literal["Conv2D"]
    kernel_size: Spatial2
    strides: Spatial2 = (1, 1)
    padding: Padding = "valid"
    dilation_rate: Spatial2 = (1, 1)


class Conv3D(_Conv):
    type: Literal["Conv3D"]
    kernel_size: Spatial3
    strides: Spatial3 = (1, 1, 1)
    padding: Padding = "valid"
    dilation_rate: Spatial3 = (1, 1, 1)


# ---------------------------------------------------------------------- transposed
def conv_transpose_output_length(
    n: int, kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> int:
    """Output length of one axis of a transposed convolution (Keras' TF-style rule).

    >>> conv_transpose_output_length(10, 3, 2, 1, "valid", None)
    21
    >>> conv_transpose_output_length(10, 1, 3, 1, "valid", None)   # padded up to the stride
    30
    >>> conv_transpose_output_length(10, 3, 2, 1, "same", None)
    20
    >>> conv_transpose_output_length(10, 4, 2, 1, "same", 1)
    19
    >>> conv_transpose_output_length(1, 2, 2, 1, "same", 0)   # Keras allows an empty axis
    0
    """
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (n - 1) * stride + span + extra
    if output_padding is None:
        return n * stride
    return (n - 1) * stride + span % 2 + output_padding


class _ConvTranspose(Weighted):
    VALUE = "argument"
    POSITIONAL = ("filters", "kernel_size")
    filters: PosInt
    padding: Padding = "valid"

    def infer(self, shape: Shape) -> Out:
        kernel, strides = self.kernel_size, self.strides  # type: ignore[attr-defined]  # mixin: fields of the transposed convolutions using it
        dilation, extra = self.dilation_rate, self.output_padding  # type: ignore[attr-defined]  # mixin: fields of the transposed convolutions using it
        if extra is not None:
            for axis, (op, s) in enumerate(zip(extra, strides, strict=True)):
                if op >= s:
                    raise ShapeError(
                        f"output_padding ({op}) must be less than strides ({s}) on axis "
                        f"{axis + 1} (Keras refuses it)",
                        "output_padding",
                        show_input=False,
                    )
        _refuse_strided_dilation(strides, dilation)
        rank, layout = spatial_rank(self)
        need_rank(self, shape, rank + 2, layout)
        dims = _spatial_dims(
            self,
            shape,
            lambda axis, n: conv_transpose_output_length(
                n,
                kernel[axis],
                strides[axis],
                dilation[axis],
                self.padding,
                None if extra is None else extra[axis],
            ),
        )
        channels = need_known(self, shape, -1, "the channels axis sizes the kernel")
        params = shapes.conv_params(kernel, channels, self.filters, self.use_bias)
        largest = _kernel(kernel, channels, self.filters, "filters", "filters")
        return Out((shape[0], *dims, self.filters), params, largest=largest)


class Conv1DTranspose(_ConvTranspose):
    type: Literal["Conv1DTranspose"]
    kernel_size: Spatial1
    strides: Spatial1 = (1,)
    output_padding: spatial(1, minimum=0) | None = None  # type: ignore[valid-type]  # spatial() builds a Pydantic type; mypy cannot evaluate calls
    dilation_rate: Spatial1 = (1,)


class Conv2DTranspose(_ConvTranspose):
    PICTURES = True
    type: Literal["Conv2DTranspose"]
    kernel_size: Spatial2
    strides: Spatial2 = (1, 1)
    output_padding: spatial(2, minimum=0) | None = None  # type: ignore[valid-type]  # spatial() builds a Pydantic type; mypy cannot evaluate calls
    dilation_rate: Spatial2 = (1, 1)


class Conv3DTranspose(_ConvTranspose):
    type: Literal["Conv3DTranspose"]
    kernel_size: Spatial3
    strides: Spatial3 = (1, 1, 1)
    output_padding: spatial(3, minimum=0) | None = None  # type: ignore[valid-type]  # spatial() builds a Pydantic type; mypy cannot evaluate calls
    dilation_rate: Spatial3 = (1, 1, 1)


# --------------------------------------------------------------- depthwise, separable
class _Depthwise(Trainable):
    """A kernel per input channel (``depth_multiplier`` of them); no strides/dilation check."""

    VALUE = "argument"

    padding: Padding = "valid"
    depth_multiplier: PosInt = 1
    activation: Activation | None = None
    use_bias: bool = True
    depthwise_initializer: InitializerSpec = "glorot_uniform"

    def _depthwise(self, shape: Shape) -> tuple[list[int | None], int, tuple[int, str, str]]:
        """Output spatial dims, input channels, and the depthwise kernel (``Out.largest``)."""
        dims = _windowed(self, shape)
        channels = need_known(self, shape, -1, "the channels axis sizes the kernel")
        kernel = _kernel(
            self.kernel_size,  # type: ignore[attr-defined]  # mixin: kernel_size is a field of the convolution layers
            channels,
            self.depth_multiplier,
            "depth multiplier",
            "depth_multiplier",
        )
        return dims, channels, kernel


class DepthwiseConv1D(_Depthwise):
    POSITIONAL = ("kernel_size",)
    type: Literal["DepthwiseConv1D"]
    kernel_size: Spatial1
    strides: Spatial1 = (1,)
    dilation_rate: Spatial1 = (1,)
    bias_initializer: InitializerSpec = "zeros"
    depthwise_regularizer: RegularizerSpec | None = None
    bias_regularizer: RegularizerSpec | None = None
    activity_regularizer: RegularizerSpec | None = None
    depthwise_constraint: ConstraintSpec | None = None
    bias_constraint: ConstraintSpec | None = None

    def infer(self, shape: Shape) -> Out:
        dims, channels, kernel = self._depthwise(shape)
        out = channels * self.depth_multiplier
        return Out(
            (shape[0], *dims, out), kernel[0] + (out if self.use_bias else 0), largest=kernel
        )


class DepthwiseConv2D(DepthwiseConv1D):
    PICTURES = True
    type: Literal["DepthwiseConv2D"]  # type: ignore[assignment]  # narrows the parent's type Literal to this layer's
    kernel_size: Spatial2
    strides: Spatial2 = (1, 1)
    dilation_rate: Spatial2 = (1, 1)


class SeparableConv1D(_Depthwise):
    """Depthwise kernels, then a 1x1 ("pointwise") convolution to ``filters``."""

    POSITIONAL = ("filters", "kernel_size")
    type: Literal["SeparableConv1D"]
    filters: PosInt
    kernel_size: Spatial1
    strides: Spatial1 = (1,)
    dilation_rate: Spatial1 = (1,)
    pointwise_initializer: InitializerSpec = "glorot_uniform"
    bias_initializer: InitializerSpec = "zeros"
    depthwise_regularizer: RegularizerSpec | None = None
    pointwise_regularizer: RegularizerSpec | None = None
    bias_regularizer: RegularizerSpec | None = None
    activity_regularizer: RegularizerSpec | None = None
    depthwise_constraint: ConstraintSpec | None = None
    pointwise_constraint: ConstraintSpec | None = None
    bias_constraint: ConstraintSpec | None = None

    def infer(self, shape: Shape) -> Out:
        dims, channels, depthwise = self._depthwise(shape)
        pointwise = _kernel((1,) * len(dims), channels * self.depth_multiplier, self.filters,
                            "filters", "filters")  # fmt: skip
        bias = self.filters if self.use_bias else 0
        params = depthwise[0] + pointwise[0] + bias
        return Out((shape[0], *dims, self.filters), params, largest=max(depthwise, pointwise))


class SeparableConv2D(SeparableConv1D):
    PICTURES = True
    type: Literal["SeparableConv2D"]  # type: ignore[assignment]  # narrows the parent's type Literal to this layer's
    kernel_size: Spatial2
    strides: Spatial2 = (1, 1)
    dilation_rate: Spatial2 = (1, 1)

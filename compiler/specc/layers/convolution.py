"""Convolutions: output lengths from padding/strides/dilation, kernel-sized weights."""

from __future__ import annotations

from typing import Literal

from specc import shapes
from specc.layers.base import Out, need_known, need_rank, spatial_rank
from specc.layers.core import Weighted
from specc.shapes import Shape, ShapeError
from specc.values import Padding, PosInt, Spatial1, Spatial2


class _Conv(Weighted):
    POSITIONAL = ("filters", "kernel_size")
    filters: PosInt

    def infer(self, shape: Shape) -> Out:
        rank, layout = spatial_rank(self)
        need_rank(self, shape, rank + 2, layout)
        strides, dilation = self.strides, self.dilation_rate  # type: ignore[attr-defined]
        if max(strides) > 1 and max(dilation) > 1:
            raise ShapeError(
                "strides > 1 cannot be combined with dilation_rate > 1 (Keras refuses it)",
                "strides",
                show_input=False,
            )
        dims: list[int | None] = []
        for axis, n in enumerate(shape[1:-1]):
            k, s, d = self.kernel_size[axis], strides[axis], dilation[axis]  # type: ignore[attr-defined]
            if n is None:
                dims.append(None)
                continue
            out = shapes.conv_output_length(n, k, s, d, self.padding)  # type: ignore[attr-defined]
            if out < 1:
                size = f"{k} dilated by {d} (spanning {d * (k - 1) + 1})" if d > 1 else str(k)
                raise ShapeError(
                    f"kernel of size {size} does not fit input of size {n} on axis {axis + 1} "
                    f"with padding 'valid' (output would be {out})",
                    "kernel_size",
                )
            dims.append(out)
        channels = need_known(self, shape, -1, "the channels axis sizes the kernel")
        kernel_size = self.kernel_size  # type: ignore[attr-defined]
        params = shapes.conv_params(kernel_size, channels, self.filters, self.use_bias)  # type: ignore[attr-defined]
        how = f"{' x '.join(map(str, kernel_size))} kernel x {channels:,} channels x {self.filters:,} filters"
        kernel = (shapes.conv_params(kernel_size, channels, self.filters, False), how, "filters")
        return Out((shape[0], *dims, self.filters), params, largest=kernel)


class Conv1D(_Conv):
    type: Literal["Conv1D"]
    kernel_size: Spatial1
    strides: Spatial1 = (1,)
    padding: Literal["valid", "same", "causal"] = "valid"
    dilation_rate: Spatial1 = (1,)


class Conv2D(_Conv):
    type: Literal["Conv2D"]
    kernel_size: Spatial2
    strides: Spatial2 = (1, 1)
    padding: Padding = "valid"
    dilation_rate: Spatial2 = (1, 1)

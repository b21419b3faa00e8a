"""Shape and parameter arithmetic, exactly as Keras 3 computes it.

Small pure functions (after Keras' ``ops/operation_utils.py``) so each rule can be read,
doctested and compared against Keras on its own. ``None`` is the batch axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Shape = tuple[int | None, ...]


FITS_SOME = "it fits only inputs where"
"""How a refusal reads where Keras builds the layer, and runs it only when a size unknown
before running (the batch, an input's ``None``) happens to be right: the differential tests
know such refusals by these words."""


class ShapeError(ValueError):
    """A layer cannot take its input; ``field`` names the argument to blame, if any (a path
    such as ``("layer", 0)`` for an argument inside a nested layer)."""

    def __init__(
        self,
        message: str,
        field: str | tuple[str | int, ...] | None = None,
        *,
        show_input: bool = True,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.show_input = show_input


def conv_output_length(n: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    """Output length of one spatial axis of a convolution.

    >>> conv_output_length(28, 3, 1, 1, "same")
    28
    >>> conv_output_length(28, 3, 1, 1, "valid")
    26
    >>> conv_output_length(28, 3, 2, 1, "valid")
    13
    >>> conv_output_length(10, 3, 1, 2, "valid")   # dilated kernel spans 5
    6
    >>> conv_output_length(7, 3, 2, 1, "causal")
    4
    """
    if padding in ("same", "causal"):
        return -(-n // stride)
    span = dilation * (kernel - 1) + 1
    return (n - span) // stride + 1


def pool_output_length(n: int, pool: int, stride: int, padding: str) -> int:
    """Output length of one spatial axis of a pooling layer.

    >>> pool_output_length(7, 2, 2, "valid")   # the floor: 7 -> 3
    3
    >>> pool_output_length(7, 2, 2, "same")
    4
    >>> pool_output_length(1, 2, 2, "valid")
    0
    """
    if padding == "same":
        return -(-n // stride)
    return (n - pool) // stride + 1


def conv_params(kernel: Sequence[int], channels_in: int, filters: int, use_bias: bool) -> int:
    """Weights of a convolution: one kernel per (input channel, filter), plus biases.

    >>> conv_params((3, 3), 1, 32, True)
    320
    >>> conv_params((3, 3), 32, 16, True)
    4624
    >>> conv_params((5,), 8, 4, False)
    160
    """
    return math.prod(kernel) * channels_in * filters + (filters if use_bias else 0)


def dense_params(units_in: int, units: int, use_bias: bool) -> int:
    """Weights of a Dense layer on its input's last axis.

    >>> dense_params(144, 128, True)
    18560
    >>> dense_params(128, 10, True)
    1290
    """
    return units_in * units + (units if use_bias else 0)


def flatten_shape(shape: Shape) -> Shape:
    """Flatten keeps the batch axis and multiplies the rest.

    >>> flatten_shape((None, 3, 3, 16))
    (None, 144)
    >>> flatten_shape((None, 10))
    (None, 10)
    """
    return (shape[0], math.prod(d for d in shape[1:] if d is not None))


def reshape_shape(shape: Shape, target: Sequence[int]) -> Shape:
    """Reshape to ``target`` (batch axis excluded), resolving at most one ``-1``.

    >>> reshape_shape((None, 784), [28, 28, 1])
    (None, 28, 28, 1)
    >>> reshape_shape((None, 28, 28), [-1])
    (None, 784)
    >>> reshape_shape((None, 10), [3, -1])
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: cannot reshape 10 values into [3, -1]: 10 is not divisible by 3
    """
    size = math.prod(d for d in shape[1:] if d is not None)
    known = math.prod(d for d in target if d != -1)
    if -1 in target:
        if known == 0 or size % known:
            raise ShapeError(
                f"cannot reshape {size} values into {list(target)}: {size} is not divisible by {known}",
                "target_shape",
            )
        return (shape[0], *(size // known if d == -1 else d for d in target))
    if known != size:
        raise ShapeError(
            f"cannot reshape {size} values into {list(target)} ({known} values)", "target_shape"
        )
    return (shape[0], *target)


def format_shape(shape: Shape) -> str:
    """Shape as Keras prints it.

    >>> format_shape((None, 28, 28, 32))
    '(None, 28, 28, 32)'
    >>> format_shape((None,))
    '(None,)'
    """
    return repr(tuple(shape))

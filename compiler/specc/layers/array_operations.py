"""Operations that reduce, join, split, reshape, multiply and resample tensors.

The second family of :mod:`specc.layers.operations` (same ``op:`` entries, same
declarations): ``keras.ops.mean``, ``concatenate``, ``reshape``, ``einsum``,
``keras.ops.image.extract_patches`` and the rest, as Keras 3 records them in a functional
model (``mean (Mean)``, no weights). Their shape rules are :mod:`specc.layers.op_shapes`,
each compared with Keras' own in ``tests/test_op_shapes.py``. The spec reads like the
Python; the axes count the batch axis, as the operations do::

    - {op: mean, axis: 1}                          # keras.ops.mean(x, axis=1)
    - {op: concatenate, inputs: [a, b], axis: -1}  # keras.ops.concatenate([a, b], axis=-1)
    - {op: split, indices_or_sections: 2, axis: -1, as: halves}   # halves.0, halves.1
    - {op: einsum, subscripts: "bij,bjk->bik", inputs: [q, k]}
    - {op: extract_patches, size: 6}               # keras.ops.image.extract_patches(x, 6)
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from specc.layers import op_shapes
from specc.layers.base import Constant, OpSpec, Out
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import INT64_MAX, Float, Padding, PosInt

AxisInt = int
"""An axis, the batch axis 0 (-1: the last); one out of range is refused by the shape rule,
so no number Keras cannot take reaches it."""
Axes = AxisInt | Annotated[list[AxisInt], Field(min_length=1)]
DataFormat = Literal["channels_last", "channels_first"]
Pair = Annotated[list[PosInt], Field(min_length=2, max_length=2)]
Window = PosInt | Annotated[list[PosInt], Field(min_length=2, max_length=3)]


class Many(OpSpec):
    """An operation on any number (one or more) of tensors, all named in ``inputs``."""

    MINIMUM: ClassVar[int] = 1

    def arrange(self, given: list[Any] | None) -> tuple[tuple[str, ...] | None, str]:
        listed: list[Any] = [None] if given is None else list(given)
        if len(listed) < self.MINIMUM:
            return None, self.count_problem(len(listed), given is None)
        constants = [v for v in listed if v is not None and not isinstance(v, str)]
        if constants:
            return None, f"{self.op} takes tensors, not constants ({constants[0]!r})"
        self._operands = (None,) * len(listed)
        return (tuple(listed) if given is not None else None), ""

    def count_problem(self, count: int, above: bool) -> str:
        where = " (the entry above)" if above else ""
        return (
            f"{self.op} takes {self.MINIMUM} or more tensors, got {count}{where};"
            f" give inputs: with {self.MINIMUM} or more"
        )

    @property
    def operands(self) -> tuple[Constant | None, ...]:
        """One tensor per input (the entry above: one)."""
        return self._operands or (None,)

    def infer_many(self, shapes: list[Shape]) -> Out:
        if len(shapes) < self.MINIMUM:
            raise ShapeError(self.count_problem(len(shapes), False), show_input=False)
        return self.compute(shapes)


# ---------------------------------------------------------------------------- reductions
class Reduction(OpSpec):
    """A reduction over ``axis`` (every axis when none is given); ``keepdims`` keeps the
    reduced axes as size 1."""

    MODULE = "numpy"
    axis: Axes | None = None
    keepdims: bool = False

    def compute(self, shapes: list[Shape]) -> Out:
        """The shape without the reduced axes.

        >>> Mean(op="mean", axis=[1, 2]).infer((None, 7, 7, 32)).shape
        (None, 32)
        """
        return Out(op_shapes.reduce_shape(shapes[0], self.axis, self.keepdims))


class Mean(Reduction):
    """The mean over ``axis`` (a global average pool: ``axis: [1, 2]``)."""

    op: Literal["mean"]


class Sum(Reduction):
    """The sum over ``axis``."""

    op: Literal["sum"]


class Max(Reduction):
    """The largest value over ``axis``; ``initial`` is a floor under every result."""

    op: Literal["max"]
    initial: Float | None = None


class Min(Reduction):
    """The smallest value over ``axis``; ``initial`` is a ceiling over every result."""

    op: Literal["min"]
    initial: Float | None = None


class _ArgExtreme(OpSpec):
    """The index of an extreme value along ``axis`` (of all values flattened when none):
    ``int32`` indices."""

    MODULE = "numpy"
    axis: AxisInt | None = None
    keepdims: bool = False

    def compute(self, shapes: list[Shape]) -> Out:
        """The shape without ``axis``.

        >>> Argmax(op="argmax", axis=-1).infer((None, 7, 10)).shape
        (None, 7)
        """
        return Out(op_shapes.reduce_shape(shapes[0], self.axis, self.keepdims))


class Argmax(_ArgExtreme):
    """The index of the largest value along ``axis``: a classifier's predicted class."""

    op: Literal["argmax"]


class Argmin(_ArgExtreme):
    """The index of the smallest value along ``axis``."""

    op: Literal["argmin"]


class Flip(OpSpec):
    """The values in reverse order along ``axis`` (every axis when none)."""

    op: Literal["flip"]
    MODULE = "numpy"
    axis: Axes | None = None

    def compute(self, shapes: list[Shape]) -> Out:
        if self.axis is not None:
            op_shapes._axes(self.axis, len(shapes[0]))
        return Out(shapes[0])


class Cumsum(OpSpec):
    """Running sums along ``axis`` (of all values flattened when none)."""

    op: Literal["cumsum"]
    MODULE = "numpy"
    axis: AxisInt | None = None
    dtype: Literal["float16", "bfloat16", "float32", "float64", "int32", "int64"] | None = None

    def compute(self, shapes: list[Shape]) -> Out:
        """The operand's shape along ``axis``; flattened without one.

        >>> Cumsum(op="cumsum").infer((None, 4, 3)).shape
        (None,)
        """
        shape = shapes[0]
        if self.axis is None:
            known = all(d is not None for d in shape)
            return Out((math.prod(d for d in shape if d is not None) if known else None,))
        op_shapes._axis(self.axis, len(shape))
        return Out(shape)


class Normalize(OpSpec):
    """``x`` divided by its norm of ``order`` along ``axis`` (L2 by default): unit vectors,
    as embeddings for cosine similarity."""

    op: Literal["normalize"]
    MODULE = "nn"
    axis: AxisInt = -1
    order: PosInt = 2
    epsilon: Float | None = None

    def compute(self, shapes: list[Shape]) -> Out:
        op_shapes._axis(self.axis, len(shapes[0]))
        return Out(shapes[0])


# ------------------------------------------------------------------------ join and split
class Concatenate(OpSpec):
    """Tensors joined along an existing ``axis`` (Keras' default 0 is the batch axis:
    give ``axis: -1`` for channels)."""

    op: Literal["concatenate"]
    MODULE = "numpy"
    OPERANDS = ("xs",)
    LISTED = True
    axis: AxisInt = 0

    def compute(self, shapes: list[Shape]) -> Out:
        """The sizes on ``axis`` add up.

        >>> Concatenate(op="concatenate", axis=-1).compute([(None, 4), (None, 2)]).shape
        (None, 6)
        """
        return Out(op_shapes.concatenate_shape(shapes, self.axis))


class Stack(OpSpec):
    """Tensors of one shape joined along a new ``axis`` (default 0, before the batch)."""

    op: Literal["stack"]
    MODULE = "numpy"
    LISTED = True
    axis: AxisInt = 0

    def compute(self, shapes: list[Shape]) -> Out:
        return Out(op_shapes.stack_shape(shapes, self.axis))


MAX_SECTIONS = 20_000
"""A split's pieces at most (a model's layers at most): ``indices_or_sections: 10000000``
is a line that made ten million shapes, and validate ran out of memory."""


class Split(OpSpec):
    """A tensor cut along ``axis`` into equal sections, or at increasing indices: several
    outputs (``split.0``, ``split.1``...)."""

    op: Literal["split"]
    MODULE = "numpy"
    POSITIONAL = ("indices_or_sections",)
    indices_or_sections: (
        PosInt | Annotated[list[Annotated[int, Field(ge=0, le=INT64_MAX)]], Field(min_length=1)]
    )
    axis: AxisInt = 0

    def compute(self, shapes: list[Shape]) -> Out:
        """One shape per piece.

        >>> Split(op="split", indices_or_sections=2, axis=-1).infer((None, 4, 6)).shape
        [(None, 4, 3), (None, 4, 3)]
        """
        sections = self.indices_or_sections
        if isinstance(sections, int) and sections > MAX_SECTIONS:
            raise ShapeError(
                f"a split gives at most {MAX_SECTIONS:,} tensors, not {sections:,} (each "
                "is a row's output and a tensor to connect); split into fewer",
                "indices_or_sections",
            )
        return Out(op_shapes.split_shapes(shapes[0], sections, self.axis))


# ------------------------------------------------------------------------ reshape family
class Reshape(OpSpec):
    """The values in a new shape, the batch axis included (``[-1, 64, 32]``: one ``-1``
    takes what is left)."""

    op: Literal["reshape"]
    MODULE = "numpy"
    POSITIONAL = ("newshape",)
    newshape: Annotated[list[Annotated[int, Field(ge=-1, le=INT64_MAX)]], Field(min_length=0)]

    def compute(self, shapes: list[Shape]) -> Out:
        return Out(op_shapes.reshape_shape(shapes[0], self.newshape))


class Transpose(OpSpec):
    """The axes in the order ``axes`` lists them (all of them, batch first usually);
    reversed when none is given."""

    op: Literal["transpose"]
    MODULE = "numpy"
    POSITIONAL = ("axes",)
    axes: list[AxisInt] | None = None

    def compute(self, shapes: list[Shape]) -> Out:
        return Out(op_shapes.transpose_shape(shapes[0], self.axes))


class ExpandDims(OpSpec):
    """A new axis of size 1 at ``axis`` (several with a list)."""

    op: Literal["expand_dims"]
    MODULE = "numpy"
    POSITIONAL = ("axis",)
    axis: Axes

    def compute(self, shapes: list[Shape]) -> Out:
        return Out(op_shapes.expand_dims_shape(shapes[0], self.axis))


class Squeeze(OpSpec):
    """Axes of size 1 removed: those in ``axis``, or every one of known size 1."""

    op: Literal["squeeze"]
    MODULE = "numpy"
    axis: Axes | None = None

    def compute(self, shapes: list[Shape]) -> Out:
        return Out(op_shapes.squeeze_shape(shapes[0], self.axis))


# ------------------------------------------------------------------------------ products
class Matmul(OpSpec):
    """The matrix product of two tensors over their last two axes (attention scores)."""

    op: Literal["matmul"]
    MODULE = "numpy"
    OPERANDS = ("x1", "x2")

    def compute(self, shapes: list[Shape]) -> Out:
        return Out(op_shapes.matmul_shape(shapes[0], shapes[1]))


class Einsum(Many):
    """Einstein summation over the inputs (``"bij,bjk->bik"``); letters a-z, ``...``."""

    op: Literal["einsum"]
    MODULE = "numpy"
    OPERANDS = ("operands",)
    LEADING = ("subscripts",)
    subscripts: Annotated[str, Field(min_length=1)]

    def compute(self, shapes: list[Shape]) -> Out:
        """The output term's sizes.

        >>> Einsum(op="einsum", subscripts="bij,bjk->bik").infer_many([(None, 4, 8), (None, 8, 2)]).shape
        (None, 4, 2)
        """
        return Out(op_shapes.einsum_shape(self.subscripts, shapes))


# ------------------------------------------------------------------------------ indexing
class GetItem(OpSpec):
    """``x[key]``: integers take an axis away, slices keep it (``1:3``, ``::-1``), ``None``
    adds one, ``...`` stands for the rest (the batch axis is axis 0: ``[:, 0]`` takes a
    sequence's first token). ``key`` is written as Python writes it, brackets included."""

    op: Literal["getitem", "get_item"]
    MODULE = "numpy"
    FUNCTION = "get_item"
    OPERATOR = "[]"
    TRAILING = ("key",)
    key: Annotated[str, Field(min_length=2)]

    @property
    def python_key(self) -> op_shapes.Key:
        """The key as Python passes it (``(slice(None), 0)`` for ``"[:, 0]"``)."""
        return op_shapes.parse_index(self.key)

    def trailing_arguments(self) -> list[Any]:
        return [self.python_key]

    def compute(self, shapes: list[Shape]) -> Out:
        """The axes the key keeps and adds.

        >>> GetItem(op="getitem", key="[:, -1]").infer((None, 5, 4)).shape
        (None, 4)
        >>> GetItem(op="getitem", key="[..., ::-1]").infer((None, 5, 3)).shape
        (None, 5, 3)
        """
        return Out(op_shapes.getitem_shape(shapes[0], self.python_key))


# -------------------------------------------------------------------------------- images
class ExtractPatches(OpSpec):
    """``keras.ops.image.extract_patches``: the image cut into ``size`` patches, each
    flattened into the channels axis (ViT's tokens); strides default to ``size``."""

    op: Literal["extract_patches"]
    MODULE = "image"
    OPERANDS = ("images",)
    FUNCTION = "image.extract_patches"
    POSITIONAL = ("size",)
    size: Window
    strides: Window | None = None
    dilation_rate: Window = 1
    padding: Padding = "valid"
    data_format: DataFormat | None = None

    def compute(self, shapes: list[Shape]) -> Out:
        """Patches per axis, and the values of one patch as channels.

        >>> ExtractPatches(op="extract_patches", size=6).infer((None, 72, 72, 3)).shape
        (None, 12, 12, 108)
        """
        return Out(
            op_shapes.extract_patches_shape(
                shapes[0],
                self.size,
                self.strides,
                self.dilation_rate,
                self.padding,
                self.data_format or "channels_last",
            )
        )


class Resize(OpSpec):
    """``keras.ops.image.resize``: images to ``size`` (height, width)."""

    op: Literal["resize"]
    MODULE = "image"
    OPERANDS = ("images",)
    FUNCTION = "image.resize"
    POSITIONAL = ("size",)
    size: Pair
    interpolation: Literal["bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area"] = (
        "bilinear"
    )
    antialias: bool = False
    crop_to_aspect_ratio: bool = False
    pad_to_aspect_ratio: bool = False
    fill_mode: Literal["constant"] = "constant"
    fill_value: Float = 0.0
    data_format: DataFormat | None = None

    def compute(self, shapes: list[Shape]) -> Out:
        return Out(
            op_shapes.resize_shape(shapes[0], self.size, self.data_format or "channels_last")
        )


__all__ = [
    "Argmax",
    "Argmin",
    "Concatenate",
    "Cumsum",
    "Einsum",
    "ExpandDims",
    "ExtractPatches",
    "Flip",
    "GetItem",
    "Many",
    "Matmul",
    "Max",
    "Mean",
    "Min",
    "Normalize",
    "Reduction",
    "Reshape",
    "Resize",
    "Split",
    "Squeeze",
    "Stack",
    "Sum",
    "Transpose",
]

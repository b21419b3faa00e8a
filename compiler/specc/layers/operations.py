"""Operations: ``keras.ops`` functions on tensors, recorded by Keras as functional nodes.

``x + y``, ``x * (1 / 6)`` and ``keras.ops.relu6(x)`` in a functional model are not
layers: Keras 3 records them as nodes of operation classes (``keras.src.ops.numpy.Add``,
``keras.src.ops.nn.Relu6``) with their constant arguments, and ``model.summary()`` prints
them as rows with no weights (``add (Add)``). A spec writes them as entries with ``op:``
(see :class:`specc.layers.base.OpSpec`)::

    - {op: add, inputs: [x, y]}           # x + y (tensors broadcast together)
    - {op: add, value: 3.0}               # (the entry above) + 3.0
    - {op: subtract, inputs: [1.0, gate]} # 1.0 - gate: a constant on the left
    - {op: relu6}                         # keras.ops.relu6 of the entry above
    - {op: softmax, axis: 1}

Adding an operation is one declaration here: its class is Keras' operation class (its
summary type and automatic name), ``op`` its ``keras.ops`` name(s), ``MODULE`` where
Keras defines it, its fields the function's keyword arguments, and its family's
``compute`` the shape rule, as Keras' ``compute_output_spec`` computes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from pydantic import Field

from specc.layers.base import OpSpec, Out
from specc.layers.constants import ArrayConstant
from specc.layers.shapes import Shape, ShapeError, format_shape
from specc.terms.values import Number


def broadcast_shapes(what: str, shapes: list[Shape], constant: Sequence[bool] = ()) -> Shape:
    """The shape of an elementwise operation's result, as Keras' ``broadcast_shapes``.

    Axes line up from the last; a shorter shape gains size-1 axes in front. On each axis a
    size 1 takes the other, an unknown size takes a known one (Keras declares it so), and
    known sizes other than 1 must be equal. Constants are scalars, ``()``.

    >>> broadcast_shapes("add", [(None, 4, 3), (None, 1, 3)])
    (None, 4, 3)
    >>> broadcast_shapes("add", [(None, 4, 3), ()])
    (None, 4, 3)
    >>> broadcast_shapes("subtract", [(None, 4, 3), (3,)], [False, True])
    (None, 4, 3)
    >>> broadcast_shapes("add", [(None, None, 3), (None, 4, 1)])
    (None, 4, 3)
    >>> broadcast_shapes("multiply", [(None, 4, 3), (None, 2, 3)])
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: multiply needs operands that broadcast together, but (None, 4, 3) and (None, 2, 3) have sizes 4 and 2 on axis 1; make them equal there (or 1)

    A tensor of lower rank lines its batch axis up with an axis of the other; Keras builds
    that, then the sizes meet the batch size when it runs. Refused unless that axis has size
    1 (every batch size broadcasts with it):

    >>> broadcast_shapes("add", [(None, 4, 3), (None, 3)])
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: add lines up the batch axis of (None, 3) with axis 1 of (None, 4, 3) (size 4): Keras builds it, then it fails when run unless the batch size is 4; give both operands the same rank (expand_dims, Reshape)
    """
    flags = list(constant) or [False] * len(shapes)
    tensors = [s for s, fixed in zip(shapes, flags, strict=True) if s and not fixed]
    arrays = [s for s, fixed in zip(shapes, flags, strict=True) if fixed]
    top = max((len(s) for s in tensors), default=0)
    for shape in arrays:
        if len(shape) > top:
            raise ShapeError(
                f"{what} takes a constant of rank {len(shape)} {format_shape(shape)} with a "
                f"tensor of rank {top}: the result would gain axes before the batch axis; give "
                f"the constant at most {top} axes",
                "value",
                show_input=False,
            )
    for shape in tensors:
        longest = max(tensors, key=len)
        if len(shape) < len(longest):
            axis = len(longest) - len(shape)
            size = longest[axis]
            if size != 1:
                runs = f"is {size}" if size is not None else "equals that size"
                raise ShapeError(
                    f"{what} lines up the batch axis of {format_shape(shape)} with axis "
                    f"{axis} of {format_shape(longest)} (size {size}): Keras builds it, then "
                    f"it fails when run unless the batch size {runs}; give both operands the "
                    "same rank (expand_dims, Reshape)",
                    show_input=False,
                )
    out: list[int | None] = []
    rank = max(len(s) for s in shapes)
    for axis in range(rank):
        sizes = [s[axis - rank + len(s)] if axis - rank + len(s) >= 0 else 1 for s in shapes]
        size = 1
        for n in sizes:
            if n == 1:
                continue
            if size in (1, None) or n is None:
                size = n if size in (1, None) else size
            elif n != size:
                clash = [format_shape(s) for s in shapes if s]
                raise ShapeError(
                    f"{what} needs operands that broadcast together, but {' and '.join(clash)} "
                    f"have sizes {size} and {n} on axis {axis}; make them equal there (or 1)",
                    show_input=False,
                )
        out.append(size)
    return tuple(out)


# ----------------------------------------------------------------------------- families
class Unary(OpSpec):
    """An elementwise function of one tensor: the output has its shape."""

    MODULE = "numpy"
    CALL = "one"

    def compute(self, shapes: list[Shape]) -> Out:
        """The operand's shape.

        >>> Relu6(op="relu6").infer((None, 4, 3))
        Out(shape=(None, 4, 3), trainable=0, non_trainable=0, int64_params=0, largest=None)
        """
        return Out(shapes[0])


class Activation(Unary):
    """An activation function of ``keras.ops.nn``, elementwise."""

    MODULE = "nn"


class Binary(OpSpec):
    """An elementwise function of two operands, tensors or constants, which broadcast."""

    MODULE = "numpy"
    OPERANDS = ("x1", "x2")
    CONSTANT_OPERANDS = True
    value: Number | ArrayConstant = Field(default=None)  # None: not set ("| None" takes null)

    def compute(self, shapes: list[Shape]) -> Out:
        """The operands broadcast together (an array constant's shape too).

        >>> Add(op="add", value=3.0).infer((None, 4, 3))
        Out(shape=(None, 4, 3), trainable=0, non_trainable=0, int64_params=0, largest=None)
        >>> Add(op="add").infer_many([(None, 4, 3), (None, 1, 3)]).shape
        (None, 4, 3)
        >>> Subtract(op="subtract", value=[1.0, 2.0, 3.0]).infer((None, 4, 3)).shape
        (None, 4, 3)
        """
        constant = [v is not None for v in self.operands]
        return Out(broadcast_shapes(self.op, shapes, constant))


# --------------------------------------------------------------------------- arithmetic
class Add(Binary):
    """``x1 + x2``, elementwise (a residual connection; ``x + 3.0``)."""

    op: Literal["add"]
    OPERATOR: ClassVar[str] = "+"


class Subtract(Binary):
    """``x1 - x2``, elementwise (``1.0 - gate``)."""

    op: Literal["subtract"]
    OPERATOR: ClassVar[str] = "-"


class Multiply(Binary):
    """``x1 * x2``, elementwise (a gate; ``x * (1 / 6)``)."""

    op: Literal["multiply"]
    OPERATOR: ClassVar[str] = "*"


class Divide(Binary):
    """``keras.ops.divide(x1, x2)``, elementwise."""

    op: Literal["divide"]


class TrueDivide(Binary):
    """``x1 / x2``, elementwise: the operation Python's ``/`` records."""

    op: Literal["true_divide"]
    OPERATOR: ClassVar[str] = "/"


class Power(Binary):
    """``x1 ** x2``, elementwise."""

    op: Literal["power"]
    OPERATOR: ClassVar[str] = "**"


class Maximum(Binary):
    """The larger of ``x1`` and ``x2``, elementwise (``keras.ops.maximum(x, 0.0)``)."""

    op: Literal["maximum"]


class Minimum(Binary):
    """The smaller of ``x1`` and ``x2``, elementwise."""

    op: Literal["minimum"]


class Negative(Unary):
    """``-x``, elementwise."""

    op: Literal["negative"]
    OPERATOR: ClassVar[str] = "-"


class Clip(Unary):
    """``x`` limited to ``[x_min, x_max]``, elementwise."""

    op: Literal["clip"]
    POSITIONAL = ("x_min", "x_max")
    x_min: Number
    x_max: Number


class Cast(Unary):
    """``keras.ops.cast(x, dtype)``: the values in another dtype (``int32`` for an
    Embedding's indices, ``float32`` for images read as ``uint8``)."""

    op: Literal["cast"]
    MODULE = "core"
    POSITIONAL = ("dtype",)
    dtype: Literal[
        "float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
        "uint8", "uint16", "uint32", "uint64", "bool",
    ]  # fmt: skip


# ------------------------------------------------------------------------ elementwise math
class Square(Unary):
    """``x * x``, elementwise (squared distances, a variance)."""

    op: Literal["square"]


class Sqrt(Unary):
    """The square root, elementwise (a distance, an RMS)."""

    op: Literal["sqrt"]


class Exp(Unary):
    """``e ** x``, elementwise."""

    op: Literal["exp"]


class Log(Unary):
    """The natural logarithm, elementwise."""

    op: Literal["log"]


class Absolute(Unary):
    """``|x|``, elementwise (``abs`` is its other name, ``keras.ops.abs``)."""

    op: Literal["absolute", "abs"]


class Sign(Unary):
    """-1, 0 or 1 by the sign of ``x``, elementwise."""

    op: Literal["sign"]


class Floor(Unary):
    """The largest integer not above ``x``, elementwise (its dtype kept)."""

    op: Literal["floor"]


class Round(Unary):
    """``x`` rounded to ``decimals`` places, elementwise (halves to even)."""

    op: Literal["round"]
    decimals: int = 0


class Erf(Unary):
    """The error function, elementwise (``keras.ops.erf``: an exact GELU)."""

    op: Literal["erf"]
    MODULE = "math"


class OnesLike(Unary):
    """Ones in the operand's shape (positions made from token ids, with ``cumsum``)."""

    op: Literal["ones_like"]
    dtype: Literal["float16", "float32", "float64", "int32", "int64"] | None = None


# -------------------------------------------------------------------------- activations
class Relu(Activation):
    """``max(x, 0)``, elementwise."""

    op: Literal["relu"]
    VALUE = "relu"


class Relu6(Activation):
    """``min(max(x, 0), 6)``, elementwise (MobileNets)."""

    op: Literal["relu6"]
    VALUE = "relu6"


class Sigmoid(Activation):
    """``1 / (1 + exp(-x))``, elementwise."""

    op: Literal["sigmoid"]
    VALUE = "sigmoid"


class HardSigmoid(Activation):
    """A piecewise linear sigmoid: ``clip(x / 6 + 0.5, 0, 1)``."""

    op: Literal["hard_sigmoid"]
    VALUE = "hard_sigmoid"


class HardSilu(Activation):
    """Hard swish: ``x * hard_sigmoid(x)`` (MobileNetV3); ``hard_swish`` is its other name."""

    op: Literal["hard_silu", "hard_swish"]
    VALUE = "hard_silu"


class Silu(Activation):
    """Swish: ``x * sigmoid(x)``; ``swish`` is its other name."""

    op: Literal["silu", "swish"]
    VALUE = "silu"


class Gelu(Activation):
    """Gaussian error linear unit (its tanh approximation unless ``approximate: false``)."""

    op: Literal["gelu"]
    VALUE = "gelu"
    approximate: bool = True


class Tanh(Unary):
    """Hyperbolic tangent, elementwise."""

    op: Literal["tanh"]
    VALUE = "tanh"


class _AlongAxis(Activation):
    """An activation along ``axis`` (softmax, log-softmax): the operand's shape."""

    axis: int = -1

    def compute(self, shapes: list[Shape]) -> Out:
        """The operand's shape; ``axis`` must be one of its axes.

        >>> Softmax(op="softmax", axis=3).infer((None, 4, 3))
        Traceback (most recent call last):
        ...
        specc.layers.shapes.ShapeError: axis 3 is out of range for an operand of rank 3 (None, 4, 3); use an axis from -3 to 2
        """
        rank = len(shapes[0])
        if not -rank <= self.axis < rank:
            raise ShapeError(
                f"axis {self.axis} is out of range for an operand of rank {rank} "
                f"{format_shape(shapes[0])}; use an axis from {-rank} to {rank - 1}",
                "axis",
                show_input=False,
            )
        return Out(shapes[0])


class LogSoftmax(_AlongAxis):
    """``log(softmax(x))`` along ``axis``, computed stably (a classifier's log-probabilities)."""

    op: Literal["log_softmax"]


class Softmax(_AlongAxis):
    """Softmax along ``axis``: positive values that sum to 1."""

    op: Literal["softmax"]
    VALUE = "softmax"


__all__ = [
    "Absolute",
    "Activation",
    "Add",
    "Binary",
    "Cast",
    "Clip",
    "Divide",
    "Erf",
    "Exp",
    "Floor",
    "Gelu",
    "HardSigmoid",
    "HardSilu",
    "Log",
    "LogSoftmax",
    "Maximum",
    "Minimum",
    "Multiply",
    "Negative",
    "OnesLike",
    "Power",
    "Relu",
    "Relu6",
    "Round",
    "Sigmoid",
    "Sign",
    "Silu",
    "Softmax",
    "Sqrt",
    "Square",
    "Subtract",
    "Tanh",
    "TrueDivide",
    "Unary",
    "broadcast_shapes",
]

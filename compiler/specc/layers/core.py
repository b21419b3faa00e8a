"""Core layers: Dense and friends (EinsumDense, Embedding, Identity)."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from specc.layers import shapes
from specc.layers.base import Out, Trainable, identity, need_known
from specc.layers.shapes import Shape, ShapeError
from specc.terms.objects import ConstraintSpec, InitializerSpec, RegularizerSpec
from specc.terms.values import INT64_MAX, Activation, PosInt


class Weighted(Trainable):
    """Arguments shared by layers with a kernel and a bias (Dense, convolutions)."""

    activation: Activation | None = None
    use_bias: bool = True
    kernel_initializer: InitializerSpec = "glorot_uniform"
    bias_initializer: InitializerSpec = "zeros"
    kernel_regularizer: RegularizerSpec | None = None
    bias_regularizer: RegularizerSpec | None = None
    activity_regularizer: RegularizerSpec | None = None
    kernel_constraint: ConstraintSpec | None = None
    bias_constraint: ConstraintSpec | None = None


class Dense(Weighted):
    """A kernel on the input's last axis, whatever its rank."""

    POSITIONAL = ("units",)
    VALUE = "argument"
    type: Literal["Dense"]
    units: PosInt

    def infer(self, shape: Shape) -> Out:
        units_in = need_known(
            self,
            shape,
            -1,
            "the kernel's size depends on it; a null in the input's shape, or a Flatten "
            "over one, leaves it unknown",
        )
        kernel = (units_in * self.units, f"{units_in:,} inputs x {self.units:,} units", "units")
        return Out(
            (*shape[:-1], self.units),
            shapes.dense_params(units_in, self.units, self.use_bias),
            largest=kernel,
        )


# ------------------------------------------------------------------------ EinsumDense
_EQUATION_FORMS = (
    ("", re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)")),
    ("left", re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)")),
    ("right", re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.")),
)


EQUATION_PATTERN = (
    r"^(?:[a-zA-Z]+,[a-zA-Z]+->[a-zA-Z]+|\.\.\.[a-zA-Z]+,[a-zA-Z]+->\.\.\.[a-zA-Z]+"
    r"|[a-zA-Z]{2,}\.\.\.,[a-zA-Z]+->[a-zA-Z]+\.\.\.)$"
)
"""The three forms as one pattern, for JSON Schema (ECMA-262 reads it as Python does)."""


def _equation_form(equation: str) -> str:
    if not any(pattern.fullmatch(equation) for _, pattern in _EQUATION_FORMS):
        raise ValueError(
            f"{equation!r} is not an einsum equation Keras takes: write 'ab,bc->ac', "
            "'...b,bc->...c' or 'ab...,bc->ac...' (letters; one '...' on the input and "
            "output of the last two forms)"
        )
    return equation


def split_equation(equation: str) -> tuple[str, str, str, str]:
    """``(input, weight, output, ellipsis side)`` of an EinsumDense equation, as Keras reads it.

    Keras takes three forms: ``ab,bc->ac``, ``...b,bc->...c`` and ``ab...,bc->ac...``;
    no letter may repeat within one part, every output letter must come from the input
    or the weight, and every weight letter must appear in the input or the output.

    >>> split_equation("abc,cd->abd")
    ('abc', 'cd', 'abd', '')
    >>> split_equation("...x,xy->...y")
    ('x', 'xy', 'y', 'left')
    >>> split_equation("ab...,bc->ac...")
    ('ab', 'bc', 'ac', 'right')
    >>> split_equation("ab,bc->ad")
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: output letter 'd' is in neither the input 'ab' nor the weight 'bc'
    """
    _equation_form(equation)
    side, match = next(
        (side, m) for side, pattern in _EQUATION_FORMS if (m := pattern.fullmatch(equation))
    )
    inp, weight, out = match.groups()

    def refuse(message: str) -> ShapeError:
        return ShapeError(message, "equation", show_input=False)

    for part in (inp, weight, out):
        repeated = sorted({c for c in part if part.count(c) > 1})
        if repeated:
            raise refuse(f"letter {repeated[0]!r} appears twice in {part!r}")
    for c in out:
        if c not in inp and c not in weight:
            raise refuse(
                f"output letter {c!r} is in neither the input {inp!r} nor the weight {weight!r}"
            )
    for c in weight:
        if c not in inp and c not in out:
            raise refuse(
                f"weight letter {c!r} is in neither the input {inp!r} nor the output {out!r}"
            )
    return inp, weight, out, side


def _elided_axes(equation: str, inp: str, side: str, shape: Shape) -> int:
    """How many input axes the equation's ``...`` stands for; an input with too few axes
    (or a different number, without ``...``) refused."""
    rank = len(shape)
    elided = rank - len(inp)
    if elided < 0 or (side == "" and elided != 0):
        axes = f"{len(inp)} axes" + ("" if side == "" else " and more")
        raise ShapeError(
            f"EinsumDense equation {equation!r} needs an input with {axes} (batch included), "
            f"but gets {shapes.format_shape(shape)}"
            + ("; use '...' for the axes it leaves out" if side == "" else ""),
            "equation",
            show_input=False,
        )
    return elided


def _bias_shape(
    bias_axes: str | None, out: str, side: str, elided: int, full: list[int | None]
) -> tuple[int | None, ...] | None:
    """The bias' shape as Keras makes it: from the first bias axis of the output on, size 1
    on the output axes without a bias (and on the axes a trailing ``...`` stands for)."""
    if bias_axes is None:
        return None
    offset = elided if side == "left" else 0
    sizes = {c: full[i + offset] for i, c in enumerate(out)}
    first = min(out.find(c) for c in bias_axes)
    bias = tuple(sizes[c] if c in bias_axes else 1 for c in out[first:])
    if side != "left":
        bias += (1,) * elided
    return bias


def einsum_dense_shapes(
    equation: str, bias_axes: str | None, shape: Shape, output_shape: list[int | None]
) -> tuple[Shape, tuple[int | None, ...], tuple[int | None, ...] | None]:
    """``(output shape, kernel shape, bias shape)`` exactly as Keras' EinsumDense computes them.

    ``output_shape`` leaves out the batch axis (and the axes ``...`` stands for). An
    output axis keeps the size ``output_shape`` gives it, even ``None`` where the input
    knows the size, as in Keras.

    >>> einsum_dense_shapes("abc,cd->abd", "d", (None, 32, 128), [None, 64])
    ((None, None, 64), (128, 64), (64,))
    >>> einsum_dense_shapes("...x,xy->...y", None, (None, 32, 128), [64])
    ((None, 32, 64), (128, 64), None)
    >>> einsum_dense_shapes("ab...,bd->ad...", "d", (None, 3, 5, 6), [4])
    ((None, 4, 5, 6), (3, 4), (4, 1, 1))
    >>> einsum_dense_shapes("ab,bcd->acd", "c", (None, 5), [7, 2])
    ((None, 7, 2), (5, 7, 2), (7, 1))

    With more than one axis under a leading ``...``, Keras lists them in reverse order
    (the layer's real output keeps their order): reproduced, as Keras' summary shows it.

    >>> einsum_dense_shapes("...b,bc->...c", None, (None, 3, 4, 5), [7])[0]
    (None, 4, 3, 7)
    """
    inp, weight, out, side = split_equation(equation)
    for c in bias_axes or "":
        if c not in out:
            raise ShapeError(
                f"bias axis {c!r} is not in the equation's output {out!r}",
                "bias_axes",
                show_input=False,
            )
    rank = len(shape)
    elided = _elided_axes(equation, inp, side, shape)
    # Output axes Keras fills in itself: the batch axis, plus the axes '...' stands for.
    batch_in_spec = side != "left" or elided == 0
    wanted = len(out) - 1 if batch_in_spec else len(out)
    if len(output_shape) != wanted:
        spans = "after the batch axis" if batch_in_spec else "of the equation's output"
        raise ShapeError(
            f"output_shape has {len(output_shape)} size{'s' * (len(output_shape) != 1)}, but "
            f"the output {out!r} of {equation!r} has {wanted} "
            f"{'axis' if wanted == 1 else 'axes'} {spans} here",
            "output_shape",
        )
    full: list[int | None] = [shape[0], *output_shape]
    if side == "left":
        for i in range(1, elided):
            full.insert(1, shape[i])  # sic: Keras inserts them in reverse order
        in_axis = {c: i + elided - rank for i, c in enumerate(inp)}
        out_axis = {c: i + elided for i, c in enumerate(out)}
    else:
        full.extend(shape[rank - elided :] if elided else ())
        in_axis = {c: i for i, c in enumerate(inp)}
        out_axis = {c: i for i, c in enumerate(out)}
    for c in inp:
        if (
            c in out_axis
            and full[out_axis[c]] is not None
            and full[out_axis[c]] != shape[in_axis[c]]
        ):
            raise ShapeError(
                f"axis {c!r} is in both the input and the output of {equation!r}, but the "
                f"input has {shape[in_axis[c]]} there and output_shape says {full[out_axis[c]]}",
                "output_shape",
            )
    kernel = tuple(full[out_axis[c]] if c in out_axis else shape[in_axis[c]] for c in weight)
    bias = _bias_shape(bias_axes, out, side, elided, full)
    for what, weights in (("kernel", kernel), ("bias", bias)):
        if weights is not None and None in weights:
            raise ShapeError(
                f"EinsumDense's {what} would have shape {shapes.format_shape(weights)}, with "
                "an unknown size; Keras needs every weight size known: give it in "
                "output_shape or in the input's shape",
                "output_shape",
            )
    return tuple(full), kernel, bias


_SIZE = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}


def _output_sizes(value: Any) -> Any:
    """Keras takes one int for a one-axis output: ``64`` is ``[64]``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    return value


class EinsumDense(Trainable):
    """A kernel contracted with the input by an einsum equation (attention projections)."""

    POSITIONAL = ("equation", "output_shape")
    MINIMAL: ClassVar[dict[str, Any]] = {"equation": "ab,bc->ac", "output_shape": 1}
    VALUE = "argument"
    type: Literal["EinsumDense"]
    equation: Annotated[
        str,
        AfterValidator(_equation_form),
        WithJsonSchema({"type": "string", "pattern": EQUATION_PATTERN}),
    ]
    output_shape: Annotated[
        list[PosInt | None],
        BeforeValidator(_output_sizes),
        WithJsonSchema(
            {"anyOf": [_SIZE, {"type": "array", "items": {"anyOf": [_SIZE, {"type": "null"}]}}]}
        ),
    ]
    activation: Activation | None = None
    bias_axes: Annotated[str, Field(pattern=r"^[a-zA-Z]+$")] | None = None
    kernel_initializer: InitializerSpec = "glorot_uniform"
    bias_initializer: InitializerSpec = "zeros"
    kernel_regularizer: RegularizerSpec | None = None
    bias_regularizer: RegularizerSpec | None = None
    kernel_constraint: ConstraintSpec | None = None
    bias_constraint: ConstraintSpec | None = None

    def infer(self, shape: Shape) -> Out:
        out, kernel, bias = einsum_dense_shapes(
            self.equation, self.bias_axes, shape, self.output_shape
        )
        size = math.prod(kernel)  # type: ignore[arg-type]  # einsum_dense_shapes returns known sizes for the kernel
        params = size + (math.prod(bias) if bias is not None else 0)  # type: ignore[arg-type]  # einsum_dense_shapes returns known sizes for the bias
        how = f"kernel of shape {shapes.format_shape(kernel)}"
        return Out(out, params, largest=(size, how, "output_shape"))


# ---------------------------------------------------------------------- lookup, identity
class Embedding(Trainable):
    """One learned vector per token id: adds a last axis of ``output_dim``."""

    POSITIONAL = ("input_dim", "output_dim")
    MINIMAL: ClassVar[dict[str, Any]] = {"input_dim": 1, "output_dim": 1}
    VALUE = "linear"
    type: Literal["Embedding"]
    input_dim: PosInt
    output_dim: PosInt
    embeddings_initializer: InitializerSpec = "uniform"  # Keras' alias of random_uniform
    embeddings_regularizer: RegularizerSpec | None = None
    embeddings_constraint: ConstraintSpec | None = None
    mask_zero: bool = False

    def infer(self, shape: Shape) -> Out:
        size = self.input_dim * self.output_dim
        how = f"{self.input_dim:,} ids x {self.output_dim:,} dimensions"
        return Out((*shape, self.output_dim), size, largest=(size, how, "input_dim"))


class Identity(Trainable):
    VALUE = "same"
    type: Literal["Identity"]

    def infer(self, shape: Shape) -> Out:
        return identity(self, shape)

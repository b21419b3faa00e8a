"""Attention layers: they take a query and a value (and optionally a key) tensor.

Keras refuses them in a Sequential stack (MultiHeadAttention has two required inputs;
Attention wants one list, which a stack never hands it), so ``infer`` explains that, and
``infer_many`` holds the rule over a list of input shapes ``[query, value, key?]`` for the
graph specs to come. Where Keras builds a model that then fails when run (mismatched
sizes it does not check when building), specc refuses with the reason.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal, NoReturn

from pydantic import Field

from specc.layers import shapes
from specc.layers.base import LayerSpec, Out, Trainable
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import Initializer, PosInt, Rate, Regularizer, Seed


def _graph_only(layer: LayerSpec) -> ShapeError:
    return ShapeError(
        f"{layer.type} needs query and value inputs (two or three tensors), so Keras refuses it "
        "in a Sequential stack; give it inputs: [query, value] (layer or input names)",
        show_input=False,
    )


def _inputs(layer: LayerSpec, shape_list: list[Shape]) -> tuple[Shape, Shape, Shape]:
    """``[query, value]`` or ``[query, value, key]``; the key defaults to the value."""
    if len(shape_list) not in (2, 3):
        raise ShapeError(
            f"{layer.type} takes [query, value] or [query, value, key], not "
            f"{len(shape_list)} input(s)",
            show_input=False,
        )
    query, value = shape_list[0], shape_list[1]
    return query, value, shape_list[2] if len(shape_list) == 3 else value


def _fmt(shape: Shape) -> str:
    return shapes.format_shape(shape)


def _known(layer: LayerSpec, shape: Shape, role: str) -> int:
    if shape[-1] is None:
        raise ShapeError(
            f"{layer.type} needs a known last axis on its {role} {_fmt(shape)} (it sizes weights)",
            show_input=False,
        )
    return shape[-1]


def _fits(small: int | None, big: int | None) -> bool:
    """Whether an axis of size ``small`` broadcasts into one of size ``big`` unchanged."""
    return small is None or big is None or small in (1, big)


def mha_params(
    query: int,
    key: int,
    value: int,
    heads: int,
    key_dim: int,
    value_dim: int,
    out: int,
    use_bias: bool,
    use_gate: bool = False,
) -> int:
    """Weights of MultiHeadAttention: query, key, (gate,) value and output projections.

    ``query``/``key``/``value`` are the inputs' last sizes, ``out`` the output's feature
    size (the product of ``output_shape``, else the query's last size).

    >>> mha_params(4, 7, 7, heads=2, key_dim=3, value_dim=3, out=4, use_bias=True)
    154
    >>> mha_params(4, 9, 7, heads=2, key_dim=3, value_dim=3, out=4, use_bias=True)
    166
    >>> mha_params(4, 7, 7, heads=2, key_dim=3, value_dim=5, out=4, use_bias=False)
    176
    >>> mha_params(4, 7, 7, heads=2, key_dim=3, value_dim=3, out=16, use_bias=True)
    238
    >>> mha_params(4, 7, 7, heads=2, key_dim=3, value_dim=3, out=4, use_bias=True, use_gate=True)
    184
    """

    def dense(n_in: int, n_out: int) -> int:
        return n_in * n_out + (n_out if use_bias else 0)

    gate = dense(query, heads * value_dim) if use_gate else 0
    return (
        dense(query, heads * key_dim)
        + dense(key, heads * key_dim)
        + gate
        + dense(value, heads * value_dim)
        + heads * value_dim * out
        + (out if use_bias else 0)
    )


def attention_axes(rank: int, axes: int | list[int] | None) -> tuple[int, ...]:
    """The input axes MultiHeadAttention attends over, as Keras reads ``attention_axes``.

    Default: every axis between batch and features. Keras counts a negative axis in the
    projected tensor (one axis longer: heads), so -2 is the last sequence axis, not -1.

    >>> attention_axes(3, None), attention_axes(4, None), attention_axes(4, [-2]), attention_axes(4, 2)
    ((1,), (1, 2), (2,), (2,))
    """
    if axes is None:
        return tuple(range(1, rank - 1))
    given = (axes,) if isinstance(axes, int) else tuple(axes)
    return tuple(a if a >= 0 else rank + a for a in given)


class MultiHeadAttention(Trainable):
    """``num_heads`` attention heads over projections of size ``key_dim`` (``value_dim``)."""

    POSITIONAL = ("num_heads", "key_dim")
    MINIMAL: ClassVar[dict[str, Any]] = {"num_heads": 1, "key_dim": 1}
    VALUE = "linear"
    CALL = "positional"
    SUBLAYERS = ("softmax", "dropout")  # made in build(), unnamed
    CALL_ARGUMENTS = ("use_causal_mask",)
    type: Literal["MultiHeadAttention"]
    num_heads: PosInt
    key_dim: PosInt
    value_dim: PosInt | None = None
    dropout: Rate = 0.0
    use_bias: bool = True
    output_shape: PosInt | Annotated[list[PosInt], Field(min_length=1)] | None = None
    attention_axes: int | Annotated[list[int], Field(min_length=1)] | None = None
    sliding_window: PosInt | None = None
    flash_attention: bool | None = None
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None
    use_gate: bool = False
    seed: Seed | None = None
    use_causal_mask: bool = False

    def rules(self) -> None:
        if self.flash_attention and self.dropout > 0:
            raise ShapeError(
                "flash_attention: true does not support dropout (Keras refuses it)",
                "dropout",
                show_input=False,
            )

    def infer(self, shape: Shape) -> Out:
        raise _graph_only(self)

    def infer_many(self, shape_list: list[Shape]) -> Out:
        """Output and weights for ``[query, value(, key)]``, as Keras builds and runs them.

        >>> layer = MultiHeadAttention(type="MultiHeadAttention", num_heads=2, key_dim=3)
        >>> layer.infer_many([(None, 5, 4), (None, 6, 7)])
        Out(shape=(None, 5, 4), trainable=154, non_trainable=0, int64_params=0, largest=None)
        >>> layer.infer_many([(None, 5, 4), (None, 6, 7), (None, 8, 9)])
        Traceback (most recent call last):
        ...
        specc.layers.shapes.ShapeError: MultiHeadAttention needs value and key equal on every axis but the last, but gets value (None, 6, 7) and key (None, 8, 9)
        """
        query, value, key = _inputs(self, shape_list)
        if value[1:-1] != key[1:-1]:
            raise ShapeError(
                f"MultiHeadAttention needs value and key equal on every axis but the last, "
                f"but gets value {_fmt(value)} and key {_fmt(key)}",
                show_input=False,
            )
        q, k, v = (
            _known(self, query, "query"),
            _known(self, key, "key"),
            _known(self, value, "value"),
        )
        rank = len(query)
        if rank < 3:
            raise ShapeError(
                f"MultiHeadAttention needs inputs of rank 3 or more (batch, sequence, features), "
                f"but gets query {_fmt(query)} (Keras builds it, then fails when run)",
                show_input=False,
            )
        if len(value) != rank:
            raise ShapeError(
                f"MultiHeadAttention needs query and value of the same rank, but gets query "
                f"{_fmt(query)} and value {_fmt(value)} (Keras builds it, then fails when run)",
                show_input=False,
            )
        axes = attention_axes(rank, self.attention_axes)
        for a in axes:
            if not 1 <= a <= rank - 2:
                raise ShapeError(
                    f"attention_axes {self.attention_axes} names axis {a}, but a rank-{rank} "
                    f"input attends over axes 1..{rank - 2} (between batch and features)",
                    "attention_axes",
                    show_input=False,
                )
        for a in range(1, rank - 1):
            if a not in axes and None not in (query[a], value[a]) and query[a] != value[a]:
                raise ShapeError(
                    f"query {_fmt(query)} and value {_fmt(value)} differ on axis {a}, which "
                    "is not attended over (Keras builds it, then fails when run)",
                    show_input=False,
                )
        extra = (
            ()
            if self.output_shape is None
            else (self.output_shape,)
            if isinstance(self.output_shape, int)
            else tuple(self.output_shape)
        )
        out = math.prod(extra) if extra else q
        params = mha_params(
            q, k, v, self.num_heads, self.key_dim, self.value_dim or self.key_dim, out,
            self.use_bias, self.use_gate,
        )  # fmt: skip
        return Out((*query[:-1], *extra) if extra else query, params)


def attention_output(query: Shape, value: Shape, key: Shape, score_mode: str) -> Shape:
    """Output of dot-product (``dot``) or additive (``concat``) attention: ``(*query[:-1],
    value[-1])``, once the sizes Keras multiplies together are checked.

    >>> attention_output((None, 5, 4), (None, 6, 3), (None, 6, 4), "dot")
    (None, 5, 3)
    >>> attention_output((None, 5, 4), (None, 6, 3), (None, 6, 3), "dot")
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: score_mode 'dot' multiplies query (None, 5, 4) by key (None, 6, 3): their last axes must be equal (Keras builds it, then fails when run)
    """
    q_last, k_last = query[-1], key[-1]
    if score_mode == "dot" and None not in (q_last, k_last) and q_last != k_last:
        _runtime_failure(
            f"score_mode 'dot' multiplies query {_fmt(query)} by key {_fmt(key)}: their last "
            "axes must be equal"
        )
    if score_mode == "concat" and not (_fits(q_last, k_last) or _fits(k_last, q_last)):
        _runtime_failure(
            f"score_mode 'concat' adds query {_fmt(query)} to key {_fmt(key)}: their last axes "
            "must be equal (or one of them 1)"
        )
    if None not in (key[-2], value[-2]) and key[-2] != value[-2]:
        _runtime_failure(
            f"attention weighs value {_fmt(value)} by key {_fmt(key)} step for step: their "
            "second-to-last axes must be equal"
        )
    for other in (key, value):
        if len(other) != len(query):
            raise ShapeError(
                f"query {_fmt(query)}, value {_fmt(value)} and key {_fmt(key)} must have the "
                "same rank (else Keras lines the batch axis up with another axis: it fails "
                "when run, or one sample attends to the others)",
                show_input=False,
            )
        if not all(_fits(o, q) for o, q in zip(other[1:-2], query[1:-2], strict=True)):
            _runtime_failure(
                f"key {_fmt(key)} and value {_fmt(value)} must match query {_fmt(query)} on the "
                "axes before the last two (or be 1 there)"
            )
    return (*query[:-1], value[-1])


def _runtime_failure(message: str) -> NoReturn:
    raise ShapeError(message + " (Keras builds it, then fails when run)", show_input=False)


class Attention(Trainable):
    """Dot-product (Luong) attention, or additive (Bahdanau) with ``score_mode: concat``."""

    VALUE = "same"
    CALL = "list"
    type: Literal["Attention"]
    use_scale: bool = False
    score_mode: Literal["dot", "concat"] = "dot"
    dropout: Rate = 0.0
    seed: Seed | None = None

    def infer(self, shape: Shape) -> Out:
        raise _graph_only(self)

    def infer_many(self, shape_list: list[Shape]) -> Out:
        """Output and weights for ``[query, value(, key)]``.

        >>> layer = Attention(type="Attention", use_scale=True, score_mode="concat")
        >>> layer.infer_many([(None, 5, 4), (None, 6, 4)])
        Out(shape=(None, 5, 4), trainable=2, non_trainable=0, int64_params=0, largest=None)
        """
        query, value, key = _inputs(self, shape_list)
        out = attention_output(query, value, key, self.score_mode)
        return Out(out, int(self.use_scale) + int(self.score_mode == "concat"))


__all__ = ["Attention", "MultiHeadAttention"]

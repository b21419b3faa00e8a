"""The attention family against Keras: refused in a layer stack, exact over several inputs.

In a stack, specc and Keras both refuse MultiHeadAttention and Attention. Their rule over a
list of input shapes (``infer_many``, for graph specs) is compared with Keras' functional
API directly: where specc accepts, the output shape and the weights equal Keras' (and the
model runs when every size is known); where specc refuses, Keras fails to build or to run.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from specc.layers.attention import Attention, MultiHeadAttention
from specc.layers.shapes import ShapeError
from tests.family_differential import SETTINGS, check, specs
from tests.keras_helpers import keras
from tests.strategies_attention import layer_for

STACK_SHAPES = st.lists(st.integers(1, 6), min_size=1, max_size=3)


@settings(max_examples=10, **SETTINGS)
@given(specs(STACK_SHAPES, layer_for, max_layers=1))
def test_attention_in_a_stack_is_refused_like_keras(data):
    check(data)


def _dims(draw, rank):
    size = st.one_of(st.sampled_from([1, 2, 3, 4]), st.none())
    return (None, *(draw(size) for _ in range(rank - 1)))


@st.composite
def attention_cases(draw):
    """A layer and [query, value(, key)] shapes, near-matching so that both outcomes occur."""
    rank = draw(st.integers(2, 4))
    query = _dims(draw, rank)
    value = _dims(draw, draw(st.sampled_from([rank, rank, rank - 1])) if rank > 2 else rank)
    shapes = [query, value]
    if draw(st.booleans()):
        shapes.append((*value[:-1], draw(st.sampled_from([query[-1], value[-1], 2]))))
    if draw(st.booleans()):
        layer = Attention(
            type="Attention",
            use_scale=draw(st.booleans()),
            score_mode=draw(st.sampled_from(["dot", "concat"])),
        )
        return layer, shapes
    rank_q = len(query)
    axes = draw(st.sampled_from([None, None, *range(1, rank_q - 1), *range(-rank_q + 1, -1)]))
    layer = MultiHeadAttention(
        type="MultiHeadAttention",
        num_heads=draw(st.integers(1, 3)),
        key_dim=draw(st.integers(1, 4)),
        value_dim=draw(st.sampled_from([None, 2])),
        use_bias=draw(st.booleans()),
        use_gate=draw(st.booleans()),
        output_shape=draw(st.sampled_from([None, 5, [2, 3]])),
        attention_axes=axes,
        dropout=draw(st.sampled_from([0.0, 0.1])),
    )
    return layer, shapes


def _keras_layer(layer):
    k = keras()
    args = {key: getattr(layer, key) for key in layer.model_fields_set if key != "type"}
    return getattr(k.layers, layer.type)(**args)


def _keras_outcome(layer, shapes, run=None):
    """Keras' output shape and weight counts, or the exception it raised (building, running).

    The model runs on ones (unknown sizes 3) if ``run``; by default when all sizes are known.
    An output other than the shape Keras declared counts as a failure (nothing to agree on).
    """
    k = keras()
    k.backend.clear_session()
    try:
        inputs = [k.Input(shape[1:]) for shape in shapes]
        keras_layer = _keras_layer(layer)
        output = keras_layer(inputs) if layer.type == "Attention" else keras_layer(*inputs)
        model = k.Model(inputs, output)
        counts = (
            sum(int(np.prod(w.shape)) for w in keras_layer.trainable_weights),
            sum(int(np.prod(w.shape)) for w in keras_layer.non_trainable_weights),
        )
        if run or (run is None and all(d is not None for shape in shapes for d in shape[1:])):
            sample = [np.ones((2, *(3 if d is None else d for d in shape[1:]))) for shape in shapes]
            result = model.predict(sample, verbose=0)
            declared = tuple(output.shape)
            if len(result.shape) != len(declared) or any(
                d is not None and d != n
                for d, n in zip(declared[1:], result.shape[1:], strict=True)
            ):
                raise ValueError(f"Keras runs into {result.shape[1:]}, not the declared {declared}")
    except Exception as exc:  # Keras raises ValueError, InvalidArgumentError, ...
        return exc
    return tuple(output.shape), counts


def _check_many(layer, shapes, log=lambda text: None):
    log(f"{layer!r} on {shapes}")
    try:
        ours = layer.infer_many(shapes)
    except ShapeError as exc:  # sizes specc compares are known: any unknown one will do
        if "one sample attends to the others" in str(exc):  # deliberate: runs, but mixes samples
            assert len({len(shape) for shape in shapes}) > 1
            return "rejected"
        keras_result = _keras_outcome(layer, shapes, run=True)
        assert isinstance(keras_result, Exception), f"specc refuses what Keras runs: {exc}"
        return "rejected"
    keras_result = _keras_outcome(layer, shapes)
    log(f"Keras: {keras_result!r}")
    assert not isinstance(keras_result, Exception), f"Keras refuses: {keras_result}"
    assert (ours.shape, (ours.trainable, ours.non_trainable)) == keras_result
    return "accepted"


@settings(max_examples=50, **SETTINGS)
@given(attention_cases())
def test_infer_many_agrees_with_keras_functional(case):
    _check_many(*case, log=note)


@pytest.mark.slow
@settings(max_examples=1000, **SETTINGS)
@given(attention_cases())
def test_infer_many_agrees_with_keras_functional_long(case):
    _check_many(*case, log=note)


@pytest.mark.parametrize(
    ("layer", "shapes", "expected"),
    [
        (MultiHeadAttention(type="MultiHeadAttention", num_heads=2, key_dim=3), [(None, 5, 4), (None, 6, 7)], ((None, 5, 4), 154)),
        (MultiHeadAttention(type="MultiHeadAttention", num_heads=2, key_dim=3, output_shape=[2, 8]), [(None, 5, 4), (None, 6, 7)], ((None, 5, 2, 8), 238)),
        (MultiHeadAttention(type="MultiHeadAttention", num_heads=4, key_dim=8, value_dim=2, use_gate=True), [(None, None, 16), (None, None, 12), (None, None, 10)], ((None, None, 16), 1280)),
        (MultiHeadAttention(type="MultiHeadAttention", num_heads=1, key_dim=2, attention_axes=[1, 2]), [(None, 3, 4, 5), (None, 6, 7, 8)], ((None, 3, 4, 5), 63)),
        (Attention(type="Attention", use_scale=True), [(None, 5, 4), (None, 6, 3), (None, 6, 4)], ((None, 5, 3), 1)),
        (Attention(type="Attention", score_mode="concat"), [(None, None, 4), (None, None, 4)], ((None, None, 4), 1)),
    ],
)  # fmt: skip
def test_infer_many_examples_equal_keras(layer, shapes, expected):
    assert _check_many(layer, shapes) == "accepted"
    out = layer.infer_many(shapes)
    assert (out.shape, out.trainable) == expected


def test_mha_axis_over_heads_is_refused_though_keras_ignores_it():
    """Keras reads a negative attention axis in the projected tensor (one axis longer), so
    -1 names the heads axis; on rank-3 inputs without dropout Keras then ignores the axes
    altogether (its fused path). specc refuses the axis rather than mean something else."""
    layer = MultiHeadAttention(type="MultiHeadAttention", num_heads=2, key_dim=3, attention_axes=-1)
    shapes = [(None, 5, 4), (None, 6, 7)]
    with pytest.raises(ShapeError, match=r"attends over axes 1\.\.1"):
        layer.infer_many(shapes)
    default = MultiHeadAttention(type="MultiHeadAttention", num_heads=2, key_dim=3)
    assert _keras_outcome(layer, shapes) == _keras_outcome(default, shapes)  # ignored


@pytest.mark.parametrize("layer_type", ["MultiHeadAttention", "Attention"])
def test_one_input_in_a_stack_says_why(layer_type):
    layer = (
        MultiHeadAttention(type=layer_type, num_heads=1, key_dim=1)
        if layer_type == "MultiHeadAttention"
        else Attention(type=layer_type)
    )
    with pytest.raises(
        ShapeError, match=r"needs query and value inputs .*give it inputs: \[query, value\]"
    ):
        layer.infer((None, 5, 4))

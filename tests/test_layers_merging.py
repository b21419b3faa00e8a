"""The merging family against Keras: exact over a list of inputs, refused on one tensor.

``infer_many`` (what graph specs call for a layer with several inputs) is compared with
Keras' functional API: ``keras.Input`` per shape, the layer called on the list, a
``keras.Model``. Where specc accepts, the output shape and the weights equal Keras' (and
the model runs when every size is known); where specc refuses, Keras fails to build or to
run on a batch (unknown sizes 3). In a layer list a merge layer gets one tensor, unless
the layer before outputs several (``return_state``): the stack test compares both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from specc.layers import CATALOG
from specc.layers.base import LayerSpec, Out
from specc.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    dot_axes,
)
from specc.layers.shapes import Shape, ShapeError
from tests.family_differential import SETTINGS, check
from tests.keras_helpers import keras

ELEMENTWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]
TYPES = [*ELEMENTWISE, "Concatenate", "Dot"]
SIZE = st.one_of(st.sampled_from([1, 2, 3, 4]), st.none())


def _dims(draw: Any, rank: int) -> Shape:
    return (None, *(draw(SIZE) for _ in range(rank - 1)))


def _variant(draw: Any, base: Shape, free: int | None = None) -> Shape:
    """Another input for a merge with ``base``: often equal, sometimes broadcastable
    (1s, fewer axes), unknown, or wrong; ``free`` is an axis that may differ freely."""
    how = draw(st.sampled_from(["same", "same", "free", "dims", "rank"]))
    if how == "same":
        return base
    if how == "free" and free is not None and -len(base) <= free < len(base):
        changed = list(base)
        changed[free] = draw(SIZE) if free % len(base) else None
        return tuple(changed)
    if how == "rank":
        rank = draw(st.sampled_from([r for r in (2, 3, 4) if r != len(base)]))
        if rank < len(base):
            return (None, *base[len(base) - rank + 1 :])
        return (None, *_dims(draw, rank - len(base) + 1)[1:], *base[1:])
    return (None, *(draw(st.sampled_from([d, d, 1, None, 2, 4])) for d in base[1:]))


def _set(shape: Shape, axis: int, size: int | None) -> Shape:
    changed = list(shape)
    changed[axis] = size
    return tuple(changed)


@st.composite
def merge_cases(draw: Any) -> tuple[LayerSpec, list[Shape]]:
    """A merge layer, its arguments and 2-4 input shapes (ranks 2-4, sizes 1-4 or None)."""
    kind = draw(st.sampled_from(TYPES))
    rank = draw(st.integers(2, 4))
    base = _dims(draw, rank)
    two = kind in ("Subtract", "Dot")
    count = draw(st.sampled_from([2, 2, 2, 2, 3])) if two else draw(st.integers(2, 4))
    if kind == "Dot":
        axes = draw(
            st.one_of(
                st.integers(-rank - 1, rank),
                st.lists(st.integers(-4, 4), min_size=2, max_size=2),
            )
        )
        right = _dims(draw, draw(st.integers(2, 4)))
        try:
            a, b = dot_axes(len(base), len(right), axes)
            if draw(st.integers(0, 4)):  # mostly: the summed sizes agree
                right = _set(right, b, base[a])
        except ShapeError:
            pass
        shapes = [base, right, *(_variant(draw, base) for _ in range(count - 2))]
        return Dot(type="Dot", axes=axes, normalize=draw(st.booleans())), shapes
    if kind == "Concatenate":
        axis = draw(st.sampled_from([-1, -1, *range(1, rank), *range(-1 - rank, 0), 0, rank]))
        shapes = [base, *(_variant(draw, base, free=axis) for _ in range(count - 1))]
        if axis == -1 and draw(st.booleans()):
            return Concatenate(type="Concatenate"), shapes  # Keras' default axis
        return Concatenate(type="Concatenate", axis=axis), shapes
    shapes = [base, *(_variant(draw, base) for _ in range(count - 1))]
    return CATALOG[kind](type=kind), shapes


def _keras_outcome(layer: LayerSpec, shapes: list[Shape], run: bool | None = None) -> Any:
    """Keras' output shape and weight counts, or the exception it raised (building, running).

    The model runs on ones (unknown sizes 3) if ``run``; by default when all sizes are known.
    An output other than the shape Keras declared (batch axis included: 2 samples in, 2
    out) counts as a failure: there is nothing to agree on.
    """
    k = keras()
    k.backend.clear_session()
    try:
        inputs = [k.Input(shape[1:]) for shape in shapes]
        args = {key: getattr(layer, key) for key in layer.model_fields_set if key != "type"}
        keras_layer = getattr(k.layers, layer.type)(**args)
        output = keras_layer(inputs)
        model = k.Model(inputs, output)
        counts = (
            sum(int(np.prod(w.shape)) for w in keras_layer.trainable_weights),
            sum(int(np.prod(w.shape)) for w in keras_layer.non_trainable_weights),
        )
        if run or (run is None and all(d is not None for shape in shapes for d in shape[1:])):
            sample = [np.ones((2, *(3 if d is None else d for d in shape[1:]))) for shape in shapes]
            result = model.predict(sample, verbose=0)
            declared = (2, *output.shape[1:])
            if len(result.shape) != len(declared) or any(
                d is not None and d != n for d, n in zip(declared, result.shape, strict=True)
            ):
                raise ValueError(f"Keras runs into {result.shape}, not the declared {declared}")
    except Exception as exc:  # Keras raises ValueError, IndexError, InvalidArgumentError, ...
        return exc
    return tuple(output.shape), counts


def _check_many(layer: LayerSpec, shapes: list[Shape], log: Any = lambda text: None) -> str:
    log(f"{layer!r} on {shapes}")
    try:
        ours = layer.infer_many(shapes)
    except ShapeError as exc:
        log(f"specc: {exc}")
        keras_result = _keras_outcome(layer, shapes, run=True)
        assert isinstance(keras_result, Exception), f"specc refuses what Keras runs: {exc}"
        assert "\n" not in str(exc)
        return "rejected"
    keras_result = _keras_outcome(layer, shapes)
    log(f"Keras: {keras_result!r}")
    assert not isinstance(keras_result, Exception), f"Keras refuses: {keras_result}"
    assert (ours.shape, (ours.trainable, ours.non_trainable)) == keras_result
    return "accepted"


@settings(max_examples=50, **SETTINGS)
@given(merge_cases())
def test_infer_many_agrees_with_keras_functional(case):
    _check_many(*case, log=note)


@pytest.mark.slow
@settings(max_examples=1000, **SETTINGS)
@given(merge_cases())
def test_infer_many_agrees_with_keras_functional_long(case):
    _check_many(*case, log=note)


def test_strategy_draws_both_outcomes_for_every_layer():
    """The property needs accepted and refused cases of each layer (a fixed draw)."""
    seen: set[tuple[str, str]] = set()

    @settings(max_examples=400, database=None, **{**SETTINGS, "derandomize": True})
    @given(merge_cases())
    def collect(case):
        layer, shapes = case
        try:
            layer.infer_many(shapes)
            seen.add((layer.type, "accepted"))
        except ShapeError:
            seen.add((layer.type, "rejected"))

    collect()
    assert seen == {(t, outcome) for t in TYPES for outcome in ("accepted", "rejected")}


def _layer(kind: str, **args: Any) -> LayerSpec:
    return CATALOG[kind].model_validate({"type": kind, **args})


@pytest.mark.parametrize(
    ("layer", "shapes", "expected"),
    [
        (Add(type="Add"), [(None, 4, 3), (None, 4, 3)], (None, 4, 3)),
        (Add(type="Add"), [(None, 4, 3), (None, 3)], (None, 4, 3)),  # fewer axes: broadcast
        (Multiply(type="Multiply"), [(None, 1, 3), (None, 4, 1), (None, 1, 1)], (None, 4, 3)),
        (Average(type="Average"), [(None, None, 3), (None, 5, 3)], (None, None, 3)),
        (Maximum(type="Maximum"), [(None, 2), (None, None), (None, 2)], (None, None)),
        (Minimum(type="Minimum"), [(None, 1), (None, 1)], (None, 1)),
        (Subtract(type="Subtract"), [(None, 2, 3, 4), (None, 4)], (None, 2, 3, 4)),
        (Add(type="Add"), [(None, 3)], (None, 3)),  # Keras takes a list of one
        (Concatenate(type="Concatenate"), [(None, 4, 3), (None, 4, 5), (None, 4, 1)], (None, 4, 9)),
        (Concatenate(type="Concatenate", axis=1), [(None, 2, 3), (None, 4, 3)], (None, 6, 3)),
        (Concatenate(type="Concatenate", axis=-2), [(None, 2, 3), (None, None, 3)], (None, None, 3)),
        (Concatenate(type="Concatenate"), [(None, None, 3), (None, 2, 5)], (None, None, 8)),
        (Dot(type="Dot", axes=-1), [(None, 5, 3), (None, 7, 3)], (None, 5, 7)),
        (Dot(type="Dot", axes=1, normalize=True), [(None, 3), (None, 3)], (None, 1)),
        (Dot(type="Dot", axes=[1, 2]), [(None, 2, 3, 4), (None, 1, 2, 5)], (None, 3, 4, 1, 5)),
        (Dot(type="Dot", axes=[2, 1]), [(None, 2, 3), (None, 3)], (None, 2)),
        (Dot(type="Dot", axes=[-2, -1]), [(None, None, 3), (None, 4, None)], (None, 3, 4)),
        (Dot(type="Dot", axes=-4), [(None, 4, 3), (None, 4, 3)], (None, 4, 4)),  # Keras wraps
    ],
)  # fmt: skip
def test_examples_equal_keras(layer, shapes, expected):
    assert layer.infer_many(shapes) == Out(expected)
    assert _check_many(layer, shapes) == "accepted"


@pytest.mark.parametrize(
    ("layer", "shapes", "message"),
    [
        (Add(type="Add"), [(None, 2), (None, 3)], r"^Add needs inputs that broadcast together, but \(None, 2\), \(None, 3\) have sizes 2 and 3 on axis -1 \(counting from the last\); make them equal there \(or 1\)$"),
        (Multiply(type="Multiply"), [(None, 2, 4), (None, None, 4), (None, 3, 4)], r"sizes 2 and 3 on axis -2 .*\(Keras builds it, then fails when run\)$"),
        (Subtract(type="Subtract"), [(None, 2)] * 3, r"^Subtract takes exactly 2 inputs .* gets 3: \(None, 2\), \(None, 2\), \(None, 2\); give it two \(Add sums any number\)$"),
        (Subtract(type="Subtract"), [(None, 2)], r"^Subtract takes exactly 2 inputs"),
        (Concatenate(type="Concatenate"), [(None, 4, 3), (None, 5, 3)], r"^Concatenate on axis -1 needs inputs equal on every other axis, but \(None, 4, 3\), \(None, 5, 3\) have sizes 4 and 5 on axis 1; make them equal there, or concatenate on axis 1$"),
        (Concatenate(type="Concatenate"), [(None, 4), (None, 2, 4)], r"^Concatenate needs inputs of the same rank"),
        (Concatenate(type="Concatenate", axis=3), [(None, 4, 3), (None, 4, 3)], r"^axis 3 is out of range for inputs of rank 3 .*; use an axis from 1 to 2"),
        (Concatenate(type="Concatenate", axis=0), [(None, 4), (None, 4)], r"^axis 0 is the batch axis"),
        (Dot(type="Dot", axes=-1), [(None, 5, 3), (None, 5, 4)], r"^Dot sums over axis 2 of \(None, 5, 3\) and axis 2 of \(None, 5, 4\), but their sizes 3 and 4 differ"),
        (Dot(type="Dot", axes=1), [(None, None), (None, 4)], r"sizes None and 4 are not both known .*; give both a size$"),
        (Dot(type="Dot", axes=[-3, -3]), [(None, 4, 3), (None, 4, 3)], r"^axes \[-3, -3\] names the batch axis"),
        (Dot(type="Dot", axes=[-4, -1]), [(None, 4, 3), (None, 4, 3)], r"^axes \[-4, -1\] names axis -4 of an input of rank 3"),
        (Dot(type="Dot", axes=3), [(None, 4, 3), (None, 4, 3)], r"^axes 3 names axis 3"),
        (Dot(type="Dot", axes=1), [(None, 3)] * 3, r"^Dot takes exactly 2 inputs, but gets 3"),
    ],
)  # fmt: skip
def test_refusals_say_why_and_keras_refuses_too(layer, shapes, message):
    with pytest.raises(ShapeError, match=message):
        layer.infer_many(shapes)
    assert _check_many(layer, shapes) == "rejected"


def test_concatenate_on_the_batch_axis_is_refused_though_keras_runs_it():
    """Keras builds Concatenate(axis=0) and runs it into twice the samples it was given
    (declared batch None): no model can train on that, so specc refuses the axis."""
    layer = Concatenate(type="Concatenate", axis=0)
    shapes = [(None, 3), (None, 3)]
    with pytest.raises(ShapeError, match="batch axis"):
        layer.infer_many(shapes)
    assert "runs into (4, 3)" in str(_keras_outcome(layer, shapes, run=True))


@pytest.mark.parametrize("kind", TYPES)
def test_one_input_in_a_layer_list_says_why(kind):
    layer = _layer(kind, **({"axes": 1} if kind == "Dot" else {}))
    assert layer.LIST_INPUT
    with pytest.raises(ShapeError, match=r"needs several inputs .*; graph specs route them"):
        layer.infer((None, 5, 4))


@st.composite
def stack_specs(draw: Any) -> dict[str, Any]:
    """A layer list ending in a merge layer, after one tensor or a ``return_state`` RNN."""
    kind = draw(st.sampled_from(TYPES))
    merge: dict[str, Any] = {"type": kind}
    if kind == "Dot":
        merge["axes"] = draw(st.sampled_from([1, -1, [1, 1]]))
    if kind == "Concatenate" and draw(st.booleans()):
        merge["axis"] = draw(st.sampled_from([1, -1, 0]))
    before = draw(st.sampled_from([[], ["LSTM"], ["GRU"]]))
    layers = [{"type": rnn, "units": 3, "return_state": True} for rnn in before]
    return {"name": "random", "model": {"input": {"shape": [5, 4]}, "layers": [*layers, merge]}}


@settings(max_examples=12, **SETTINGS)
@given(stack_specs())
def test_merge_in_a_layer_list_agrees_with_keras(data):
    check(data)

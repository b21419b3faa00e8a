"""Layers inside layers and layers with several outputs, against Keras.

Wrappers (Bidirectional, TimeDistributed) and nested Sequential blocks: Keras' automatic
names (inner layers are constructed first), the summary text Keras prints (lists of
shapes, int64 weights) and the code emit-code writes for them (``specc import`` of such
models written in plain Keras code: tests/test_import_sequential.py).
"""

from __future__ import annotations

import pytest

from specc.analysis import graph
from specc.analysis.pipeline import compile_file, compile_text
from specc.backends import codegen, keras_build, table
from specc.backends.arguments import layer_arguments
from specc.errors import Diagnostic, SpecError
from specc.language.schema import Spec
from tests.family_differential import keras_summary
from tests.helpers import CASES
from tests.keras_helpers import keras

FAMILY_CASES = sorted(
    p / "spec.yaml"
    for p in CASES.iterdir()
    if (p / "expected.json").exists()
    and any(
        word in p.name
        for word in (
            "recurrent",
            "bidirectional",
            "lstm",
            "time_distributed",
            "preprocessing",
            "nested",
        )
    )
)


def test_family_cases_exist():
    assert len(FAMILY_CASES) >= 9


@pytest.mark.parametrize("path", FAMILY_CASES, ids=lambda p: p.parent.name)
def test_summary_text_equals_keras(path):
    """``specc summary`` prints what ``model.summary()`` prints, several outputs included."""
    compiled = compile_file(path)
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert table.as_text(compiled.graph, width=88).strip() == keras_summary(model)


@pytest.mark.parametrize("path", FAMILY_CASES, ids=lambda p: p.parent.name)
def test_inner_names_equal_keras(path):
    """Left to Keras in a fresh session, the layers inside layers get specc's names too."""
    compiled = compile_file(path)
    keras().backend.clear_session()
    model = keras_build.build(compiled.spec, compiled.graph, compile=False, keras_names=True)
    for layer, resolved in zip(model.layers, compiled.graph.layers, strict=True):
        assert _inner_names(layer) == list(resolved.inner_names), layer.name


def _inner_names(layer):
    """Names of the layers inside a Keras layer, in construction order."""
    if hasattr(layer, "forward_layer"):  # Bidirectional renames its copy forward_<name>
        inner = layer.forward_layer
        return [*_inner_names(inner), inner.name.removeprefix("forward_")]
    if type(layer).__name__ == "TimeDistributed":
        return [*_inner_names(layer.layer), layer.layer.name]
    if type(layer).__name__ == "Sequential":
        return [name for sub in layer.layers for name in [*_inner_names(sub), sub.name]]
    return []


@pytest.mark.parametrize("path", FAMILY_CASES, ids=lambda p: p.parent.name)
def test_emitted_layer_calls_build_the_same_model(path):
    """The calls emit-code writes build the model specc builds (same config, weights)."""
    k = keras()
    compiled = compile_file(path)
    calls = [
        str(codegen.layer_call(layer.spec, layer_arguments(layer)))
        for layer in compiled.graph.layers
    ]
    code = (
        f"keras.Sequential([keras.Input(shape={tuple(compiled.spec.model.input.shape)!r}, "
        f"name='input_layer'), {', '.join(calls)}], name={compiled.spec.name!r})"
    )
    k.backend.clear_session()  # a nested model's own input layer takes an automatic name
    emitted = eval(code, {"keras": k})  # the code emit-code puts in build_model()
    k.backend.clear_session()
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert emitted.get_config() == built.get_config()
    assert emitted.count_params() == built.count_params()


def _calls(text):
    return [
        str(codegen.layer_call(layer.spec, layer_arguments(layer)))
        for layer in compile_text(text).graph.layers
    ]


def test_layer_calls_read_as_written_by_hand():
    assert _calls("""
name: m
model:
  input: {shape: [null, 8]}
  layers:
    - {type: Bidirectional, layer: {type: LSTM, units: 64, return_sequences: true}}
    - {type: TimeDistributed, layer: {type: Dense, units: 3}}
""") == [
        'keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True, name="lstm"), '
        'name="bidirectional")',
        'keras.layers.TimeDistributed(keras.layers.Dense(3, name="dense"), name="time_distributed")',
    ]  # fmt: skip
    assert _calls("""
name: m
model:
  input: {shape: [8, 8, 3]}
  layers:
    - type: Sequential
      layers: [{type: RandomFlip, mode: horizontal}, {type: RandomRotation, factor: [-0.1, 0.2]}]
""") == [
        'keras.Sequential([keras.layers.RandomFlip("horizontal", name="random_flip"), '
        'keras.layers.RandomRotation([-0.1, 0.2], name="random_rotation")], name="sequential")'
    ]  # fmt: skip


def test_names_of_plain_keras_code():
    """Keras' counters, as plain code advances them: a wrapped layer takes its name first,
    a nested model's layers take theirs before the model, explicit names take none."""
    k = keras()
    k.backend.clear_session()
    L = k.layers
    model = k.Sequential(
        [
            k.Input((6, 4)),
            L.Bidirectional(L.LSTM(3, return_sequences=True)),
            L.LSTM(3, return_sequences=True, name="lstm"),
            L.TimeDistributed(L.Dense(2)),
            k.Sequential([L.Dense(2), L.LSTM(2, return_sequences=True)]),
            L.LSTM(2),
            L.Dense(1),
        ],
        name="plain",
    )
    spec = Spec.model_validate(
        {
            "name": "plain",
            "model": {
                "input": {"shape": [6, 4]},
                "layers": [
                    {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 3, "return_sequences": True}},
                    {"type": "LSTM", "units": 3, "return_sequences": True, "name": "lstm"},
                    {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}},
                    {"type": "Sequential", "layers": [
                        {"type": "Dense", "units": 2},
                        {"type": "LSTM", "units": 2, "return_sequences": True},
                    ]},
                    {"type": "LSTM", "units": 2},
                    {"type": "Dense", "units": 1},
                ],
            },
        }
    )  # fmt: skip
    resolved, problems = graph.resolve(spec, lambda loc, msg: Diagnostic(msg))
    assert not problems and resolved is not None
    assert [layer.name for layer in model.layers] == [layer.name for layer in resolved.layers]
    assert [layer.name for layer in model.layers] == [
        "bidirectional", "lstm", "time_distributed", "sequential", "lstm_2", "dense_2",
    ]  # fmt: skip
    for layer, ours in zip(model.layers, resolved.layers, strict=True):
        assert _inner_names(layer) == list(ours.inner_names)


def test_last_activation_is_read_inside_wrappers_and_blocks():
    """The cross-field check looks into the layer that ends the model."""
    text = """
name: m
model:
  input: {shape: [8, 8, 3]}
  layers:
    - {type: Conv2D, filters: 2, kernel_size: 3, activation: relu}
    - {type: Flatten}
    - type: Sequential
      layers: [{type: Dense, units: 4, activation: ACT}, {type: Dropout, rate: 0.1}]
compile: {loss: sparse_categorical_crossentropy}
"""
    compile_text(text.replace("ACT", "softmax"))  # valid: no false alarm from the Conv2D
    with pytest.raises(SpecError) as caught:
        compile_text(text.replace("ACT", "tanh"))
    (problem,) = caught.value.diagnostics
    assert problem.line == 9  # the Dense inside the block
    assert "last activation must be softmax, not 'tanh'" in problem.message

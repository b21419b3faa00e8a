"""``specc import`` of Functional models that branch, merge, share layers or have several
inputs and outputs.

Each model is written as a person writes Keras' functional code, in a fresh session (so
its layers get Keras' automatic names), saved and imported; the imported spec's
``specc summary`` must print Keras' own table (COLUMNS=200, as test_graph_specs.py), byte
for byte, "Connected to" column included, and ``specc build`` must make the same model.
An RNN's ``initial_state=`` is routed as inputs after its sequence; calls a spec cannot
say (``training=True``, a mask) are refused, one line naming the layer.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import run_specc
from tests.keras_helpers import keras


def _keras_text(model: Any) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue()


def _branches(k: Any) -> Any:
    x = k.Input(shape=(8, 8, 3))
    a = k.layers.Conv2D(4, 3, padding="same")(x)
    b = k.layers.Conv2D(4, 1)(x)
    b = k.layers.BatchNormalization()(b)
    added = k.layers.Add()([a, b])
    joined = k.layers.Concatenate(axis=-1)([added, x])
    out = k.layers.GlobalAveragePooling2D()(joined)
    return k.Model(x, k.layers.Dense(2)(out), name="branches")


def _two_inputs(k: Any) -> Any:
    image = k.Input(shape=(16,), name="image")
    meta = k.Input(shape=(3,), name="meta", dtype="int32")
    h = k.layers.Dense(8, activation="relu")(image)
    m = k.layers.Embedding(10, 2)(meta)
    m = k.layers.Flatten()(m)
    joined = k.layers.Concatenate()([h, m])
    return k.Model([image, meta], k.layers.Dense(1)(joined), name="two_inputs")


def _shared(k: Any) -> Any:
    left = k.Input(shape=(4,), name="left")
    right = k.Input(shape=(4,), name="right")
    encoder = k.layers.Dense(4, activation="tanh")
    head = k.layers.Dense(1, activation="sigmoid")  # made before it is first called
    a, b = encoder(left), encoder(right)
    c = encoder(k.layers.Subtract()([a, b]))
    distance = k.layers.Multiply()([c, c])
    return k.Model([left, right], [head(distance), head(a)], name="siamese")


def _lstm_states(k: Any) -> Any:
    x = k.Input(shape=(7, 3))
    seq, h, c = k.layers.LSTM(4, return_sequences=True, return_state=True)(x)
    pooled = k.layers.GlobalMaxPooling1D()(seq)
    both = k.layers.Concatenate()([pooled, h])
    return k.Model(x, [k.layers.Dense(2)(both), c], name="states")


def _unused_branch(k: Any) -> Any:
    x = k.Input(shape=(6,))
    d = k.layers.Dense(4)(x)
    k.layers.Dense(3)(x)  # feeds no output: Keras leaves it out, but it took dense_1
    e = k.layers.Dense(4)(x)
    return k.Model(x, k.layers.Add()([d, e]), name="unused")


def _made_early(k: Any) -> Any:
    head = k.layers.Dense(2)  # "dense": made first, called last
    x = k.Input(shape=(6,))
    h = k.layers.Dense(4)(x)  # "dense_1"
    g = k.layers.Dense(4)(x)  # "dense_2"
    return k.Model(x, head(k.layers.Add()([h, g])), name="made_early")


def _long_shortcut(k: Any) -> Any:
    """The branch made second is the deeper one: Keras' config lists layers by depth, so
    ``dense_1`` comes before ``dense``; listed so, a spec would need names."""
    x = k.Input(shape=(6,))
    y = k.layers.Dense(4)(x)
    s = k.layers.Dense(5)(x)
    s = k.layers.Dense(4)(s)
    return k.Model(x, k.layers.Add()([y, s]), name="long_shortcut")


def _image_preprocessing(k: Any) -> Any:
    """Layers whose ``call`` defaults ``training`` to True: Keras saves ``training=True``
    in each of their calls in a graph (the learnable resizer's Resizing)."""
    x = k.Input(shape=(None, None, 3))
    naive = k.layers.Resizing(8, 8)(x)
    flipped = k.layers.RandomFlip()(k.layers.Resizing(8, 8)(x))
    return k.Model(x, k.layers.Add()([naive, k.layers.CenterCrop(8, 8)(flipped)]), name="pre")


CASES: dict[str, Callable[[Any], Any]] = {
    "made_before_called": _made_early,
    "long_shortcut": _long_shortcut,
    "branches_add_concatenate": _branches,
    "two_inputs": _two_inputs,
    "shared_layers": _shared,
    "lstm_states": _lstm_states,
    "unused_branch": _unused_branch,
    "image_preprocessing": _image_preprocessing,
}


def _imported(code: Callable[[Any], Any], folder: Path) -> tuple[Any, dict[str, Any], Path]:
    """Keras' model made in a fresh session, and the spec ``specc import`` makes of it."""
    k = keras()
    k.backend.clear_session()
    model = code(k)
    model.save(folder / "original.keras")
    spec_path = folder / "imported.yaml"
    run = run_specc("import", str(folder / "original.keras"), "-o", str(spec_path))
    assert run.exit_code == 0, run.stderr
    return model, yaml.safe_load(spec_path.read_text(encoding="utf-8")), spec_path


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    """Keras and specc both take the console width from COLUMNS: wide, the default table."""
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_imported_graph_prints_keras_table_and_builds_it(case, tmp_path):
    model, _, spec_path = _imported(CASES[case], tmp_path)
    text = _keras_text(model)
    summary = run_specc("summary", str(spec_path))
    assert summary.exit_code == 0, summary.stderr
    assert summary.stdout == text
    k = keras()
    k.backend.clear_session()
    built = run_specc("build", str(spec_path), "-o", str(tmp_path / "built.keras"))
    assert built.exit_code == 0, built.stderr
    assert built.stdout.rsplit("\n", 2)[0] + "\n" == text
    again = k.saving.load_model(tmp_path / "built.keras")
    assert [(x.name, x.count_params()) for x in again.layers] == [
        (x.name, x.count_params()) for x in model.layers
    ]
    assert [t.shape for t in again.outputs] == [t.shape for t in model.outputs]


def test_graph_spec_is_short_and_says_the_graph(tmp_path):
    """Inputs only where a layer does not take the entry above; names only where Keras'
    automatic name would differ; later calls of a shared layer as ``apply``."""
    _, spec, _ = _imported(_shared, tmp_path)
    model = spec["model"]
    assert model["inputs"] == [{"name": "left", "shape": [4]}, {"name": "right", "shape": [4]}]
    assert model["layers"] == [
        {"type": "Dense", "units": 4, "activation": "tanh", "inputs": ["left"]},
        {"apply": "dense", "inputs": ["right"], "as": "dense_call1"},
        {"type": "Subtract", "inputs": ["dense", "dense_call1"]},
        {"apply": "dense", "inputs": ["subtract"], "as": "dense_call2"},
        {"type": "Multiply", "inputs": ["dense_call2", "dense_call2"]},
        {"type": "Dense", "units": 1, "activation": "sigmoid"},
        {"apply": "dense_1", "inputs": ["dense"], "as": "dense_1_call1"},
    ]
    assert model["outputs"] == ["dense_1", "dense_1_call1"]


def test_layers_come_in_the_order_keras_made_them(tmp_path):
    """Listed in the config's order the deeper branch would take ``dense``; the import
    lists layers as they were made, so none needs a name."""
    model, spec, _ = _imported(_long_shortcut, tmp_path)
    assert [layer.name for layer in model.layers][1:3] == ["dense_1", "dense"]
    assert spec["model"]["layers"] == [
        {"type": "Dense", "units": 4},
        {"type": "Dense", "units": 5, "inputs": ["input_layer"]},
        {"type": "Dense", "units": 4},
        {"type": "Add", "inputs": ["dense", "dense_2"]},
    ]


def test_layer_made_before_what_it_takes_keeps_its_order_by_a_name(tmp_path):
    _, spec, _ = _imported(_made_early, tmp_path)
    assert spec["model"]["layers"] == [
        {"type": "Dense", "name": "dense_1", "units": 4},
        {"type": "Dense", "name": "dense_2", "units": 4, "inputs": ["input_layer"]},
        {"type": "Add", "inputs": ["dense_1", "dense_2"]},
        {"type": "Dense", "units": 2},
    ]


def test_lstm_states_are_indexed_and_last_layer_output_is_implied(tmp_path):
    _, spec, _ = _imported(_lstm_states, tmp_path)
    model = spec["model"]
    assert model["input"] == {"shape": [7, 3]}
    layers = model["layers"]
    assert layers[1] == {"type": "GlobalMaxPooling1D", "inputs": ["lstm.0"]}
    assert layers[2] == {"type": "Concatenate", "inputs": ["global_max_pooling1d", "lstm.1"]}
    assert layers[3] == {"type": "Dense", "units": 2}  # takes the entry above
    assert model["outputs"] == ["dense", "lstm.2"]


def test_unused_branch_shifts_names_which_the_spec_keeps(tmp_path):
    _, spec, _ = _imported(_unused_branch, tmp_path)
    assert spec["model"]["layers"] == [
        {"type": "Dense", "units": 4},
        {"type": "Dense", "name": "dense_2", "units": 4, "inputs": ["input_layer"]},
        {"type": "Add", "inputs": ["dense", "dense_2"]},
    ]
    assert "outputs" not in spec["model"]


def _seq2seq_state(k: Any) -> Any:
    x = k.Input(shape=(5, 3))
    _, h, c = k.layers.LSTM(4, return_state=True)(x)
    y = k.Input(shape=(6, 3))
    out = k.layers.LSTM(4)(y, initial_state=[h, c])
    return k.Model([x, y], out, name="seq2seq")


def _training_call(k: Any) -> Any:
    x = k.Input(shape=(4,))
    h = k.layers.Dense(4)(x)
    return k.Model(x, k.layers.Dropout(0.5)(h, training=True), name="always_dropout")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            _training_call,
            "layers[1] (dropout): the call passes training=True, which a spec cannot say\n",
        ),
    ],
    ids=["training"],
)
def test_call_arguments_a_spec_cannot_say_are_refused_naming_the_layer(code, message, tmp_path):
    k = keras()
    k.backend.clear_session()
    code(k).save(tmp_path / "m.keras")
    run = run_specc("import", str(tmp_path / "m.keras"))
    assert run.exit_code == 1 and run.stdout == ""
    assert run.stderr == f"{tmp_path / 'm.keras'}:1:1: error: {message}"


def test_initial_states_are_routed_after_the_sequence(tmp_path):
    """``LSTM(4)(y, initial_state=[h, c])`` is ``inputs: [y, lstm.1, lstm.2]``."""
    k = keras()
    k.backend.clear_session()
    _seq2seq_state(k).save(tmp_path / "m.keras")
    run = run_specc("import", str(tmp_path / "m.keras"))
    assert run.exit_code == 0, run.stderr
    layers = yaml.safe_load(run.stdout)["model"]["layers"]
    assert layers[1] == {
        "type": "LSTM",
        "units": 4,
        "inputs": ["input_layer_1", "lstm.1", "lstm.2"],
    }


def test_every_problem_of_a_graph_is_named_at_once(tmp_path):
    k = keras()
    k.backend.clear_session()
    x = k.Input(shape=(5, 3))
    conv = k.layers.Conv1D(3, 1, data_format="channels_first", name="c")(x)
    h = k.layers.Dense(4)(conv)
    out = k.layers.Dropout(0.5)(h, training=True)
    k.Model(x, out, name="two_problems").save(tmp_path / "m.keras")
    run = run_specc("import", str(tmp_path / "m.keras"))
    assert run.exit_code == 1 and run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 2, run.stderr
    assert lines[0].endswith(
        "layers[0] (c): argument data_format='channels_first' is not supported by specc"
    )
    assert lines[1].endswith(
        "layers[2] (dropout): the call passes training=True, which a spec cannot say"
    )


def test_call_training_is_keras_call_default_for_every_catalog_layer():
    """``CALL_TRAINING`` of each catalog layer is ``training``'s default in Keras' call
    (None where Keras has none or None/False), which the importer takes as the plain call."""
    import inspect

    from specc.layers import CATALOG

    k = keras()
    for name, cls in sorted(CATALOG.items()):
        target = k
        for part in cls.KERAS_PATH.split("."):
            target = getattr(target, part, None)
        call = getattr(target, "call", None)
        if call is None:
            assert cls.CALL_TRAINING is None, name
            continue
        parameter = inspect.signature(call).parameters.get("training")
        default = None if parameter is None else parameter.default
        if default in (None, False, inspect.Parameter.empty):
            default = None
        assert cls.CALL_TRAINING is default, name

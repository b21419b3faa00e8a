"""A model whose outputs (or inputs) are a dict: ``keras.Model({"a": x, "b": y},
{"label": p, "box": q})``. Keras flattens a dict by its sorted keys (``model.outputs``,
``output_names``, the summary's order) and saves it as a dict in the config; the spec
says ``outputs: {label: ..., box: ...}`` and specc's table, ``specc build``, the emitted
script and ``specc import`` keep that structure, so losses, metrics and loss weights by
output name work."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

from specc.analysis.checks import output_names
from specc.analysis.pipeline import compile_text
from specc.backends import keras_build, table
from specc.backends.importer import import_model, to_yaml
from tests.emitted import emit, load_module
from tests.keras_helpers import keras

SPEC = """
name: dicty
data: {dataset: npz, path: d.npz}
model:
  inputs: [{name: a, shape: [4]}, {name: b, shape: [3]}]
  layers:
    - {type: Concatenate, inputs: [a, b]}
    - {type: Dense, units: 2}
    - {type: Dense, units: 4, inputs: [concatenate]}
  outputs: {label: dense, box: dense_1}
compile:
  optimizer: adam
  loss: {label: mse, box: mae}
  loss_weights: {label: 1.0, box: 0.5}
"""


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")


def _text(model: Any) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue()


def _keras_model(k: Any) -> Any:
    """SPEC as Keras code: dict inputs given out of order, dict outputs by other names."""
    a, b = k.Input((4,), name="a"), k.Input((3,), name="b")
    x = k.layers.Concatenate()([a, b])
    label, box = k.layers.Dense(2)(x), k.layers.Dense(4)(x)
    return k.Model({"b": b, "a": a}, {"label": label, "box": box}, name="dicty")


def _fits(model: Any) -> dict[str, Any]:
    """One step of fit by output name, and what predict gives."""
    model.compile(optimizer="adam", loss={"label": "mse", "box": "mae"},
                  loss_weights={"label": 1.0, "box": 0.5})  # fmt: skip
    x = {"a": np.zeros((4, 4), "float32"), "b": np.zeros((4, 3), "float32")}
    y = {"label": np.zeros((4, 2), "float32"), "box": np.zeros((4, 4), "float32")}
    history = model.fit(x, y, epochs=1, verbose=0)
    assert {"label_loss", "box_loss"} <= set(history.history)
    return model.predict(x, verbose=0)


@pytest.mark.keras
def test_dict_outputs_table_build_and_names_equal_keras():
    k = keras()
    k.backend.clear_session()
    want = _keras_model(k)
    text = _text(want)  # before fit, which adds the optimizer's row
    compiled = compile_text(SPEC)
    # Keras' output_names are the layers' (dense_1, dense: the sorted keys' order), but
    # compile, fit and predict go by the keys: specc's output names are the keys.
    assert tuple(want.output_names) == ("dense_1", "dense")
    assert output_names(compiled.graph) == tuple(sorted(_fits(want))) == ("box", "label")
    assert table.as_text(compiled.graph) == text
    k.backend.clear_session()
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert _text(built) == text
    assert built.output_names == want.output_names
    predicted = _fits(built)
    assert isinstance(predicted, dict) and predicted["box"].shape == (4, 4)


@pytest.mark.keras
def test_the_emitted_script_builds_the_dict(tmp_path):
    module = load_module(emit(compile_text(SPEC), tmp_path))
    keras().backend.clear_session()
    model = module.build_model()
    assert 'outputs={"label": dense, "box": dense_1}' in (tmp_path / "dicty.py").read_text()
    assert model.output_names == ["dense_1", "dense"]
    assert isinstance(_fits(model), dict)


@pytest.mark.keras
def test_import_reads_dict_inputs_and_outputs(tmp_path):
    k = keras()
    k.backend.clear_session()
    model = _keras_model(k)
    model.save(tmp_path / "m.keras")
    spec = import_model(tmp_path / "m.keras")
    assert spec["model"]["inputs"] == [{"name": "a", "shape": [4]}, {"name": "b", "shape": [3]}]
    assert spec["model"]["outputs"] == {"label": "dense", "box": "dense_1"}
    text = to_yaml(spec, "m.keras")
    assert "  outputs: {label: dense, box: dense_1}\n" in text
    compiled = compile_text(text)
    assert table.as_text(compiled.graph) == _text(model)
    assert output_names(compiled.graph) == ("box", "label")


@pytest.mark.keras
def test_dict_inputs_keyed_by_other_names_are_refused_in_one_line(tmp_path):
    k = keras()
    k.backend.clear_session()
    a = k.Input((4,), name="a")
    k.Model({"first": a}, k.layers.Dense(2)(a)).save(tmp_path / "m.keras")
    from specc.errors import SpecError

    with pytest.raises(SpecError) as caught:
        import_model(tmp_path / "m.keras")
    assert "whose keys are not the inputs' names" in str(caught.value)

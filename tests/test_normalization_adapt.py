"""A Normalization given no mean and variance is adapted at train time, by specc train and
by the emitted script alike, on the data as it reaches the layer (training part only)."""

from __future__ import annotations

import importlib.util

import numpy as np

from specc.analysis.pipeline import compile_text
from specc.backends import codegen, keras_build
from specc.training.train import Options, train
from tests.keras_helpers import keras

SPEC = """
name: adapt
data: {{dataset: npz, path: {path}, preprocessing: {{x: [{{reshape: [4, 4, 2]}}, {{cast: float32}}]}}}}
model:
  input: {{shape: [4, 4, 2]}}
  layers:
    - {{type: Rescaling, scale: 2.0}}
    - {{type: Normalization}}
    - type: Sequential
      layers: [{{type: Flatten}}, {{type: Normalization, axis: null}}]
    - {{type: Dense, units: 3, activation: softmax}}
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy}}
training: {{epochs: 1, validation_split: 0.25}}
"""


def _data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (40, 32), dtype=np.uint8)
    x[30:] = 255  # the validation part (last quarter) differs: it must not be adapted on
    y = rng.integers(0, 3, 40, dtype=np.uint8)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:8], y_test=y[:8])
    return path, x[:30].reshape(30, 4, 4, 2).astype("float32")


def _means(model):
    first = model.layers[1]
    nested = model.layers[2].layers[1]
    return np.asarray(first.mean), np.asarray(nested.mean).ravel()


def test_builder_adapts_in_order(tmp_path):
    _, x = _data(tmp_path)
    compiled = compile_text(SPEC.format(path=tmp_path / "d.npz"))
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert keras_build.adapt_normalization(model, x) == 2
    channel_means, nested_mean = _means(model)
    np.testing.assert_allclose(channel_means.ravel(), (2 * x).mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(nested_mean, [0.0], atol=1e-4)  # sees the first one adapted


def test_specc_train_and_the_emitted_script_adapt_the_same(tmp_path, monkeypatch):
    path, x = _data(tmp_path)
    compiled = compile_text(SPEC.format(path=path), str(tmp_path / "adapt.yaml"))
    result_dir = tmp_path / "run"
    train(compiled, Options(output_dir=str(result_dir), seed=1, verbose=0))
    trained = keras().saving.load_model(result_dir / "model.keras", compile=False)
    channel_means, _ = _means(trained)
    np.testing.assert_allclose(channel_means.ravel(), (2 * x).mean(axis=(0, 1, 2)), rtol=1e-5)

    ((script, text),) = codegen.render(compiled, tmp_path / "gen").items()
    assert (
        "adapt_normalization(model, x_train[: int(len(x_train) * (1 - VALIDATION_SPLIT))])" in text
    )
    script.parent.mkdir()
    script.write_text(text)
    loader = importlib.util.spec_from_file_location("emitted_adapt", script)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    model = module.build_model()
    module.adapt_normalization(model, x)
    for ours, theirs in zip(_means(model), _means(trained), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_no_adapt_step_without_such_a_layer(tmp_path):
    text = (
        SPEC.format(path=tmp_path / "d.npz")
        .replace("- {type: Normalization}", "- {type: Normalization, mean: 0.5, variance: 2.0}")
        .replace("{type: Normalization, axis: null}", "{type: Dropout, rate: 0.1}")
    )
    ((_, code),) = codegen.render(compile_text(text), tmp_path).items()
    assert "adapt_normalization" not in code

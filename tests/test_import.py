"""specc import: saved Sequential models back to specs; round trip spec -> build -> import."""

from __future__ import annotations

import pytest

from specc import keras_build
from specc.pipeline import compile_file, compile_text
from tests.conftest import SPECS
from tests.keras_helpers import keras
from tests.test_keras_build import VALID_SPECS


def _saved(path, tmp_path):
    compiled = compile_file(path)
    model = keras_build.build(compiled.spec, compiled.graph)
    target = tmp_path / f"{compiled.spec.name}.keras"
    keras_build.save(model, target)
    return compiled, target


@pytest.mark.parametrize(
    "path", VALID_SPECS, ids=lambda p: p.parent.name if p.name == "spec.yaml" else p.stem
)
def test_round_trip(path, tmp_path, specc):
    original, saved = _saved(path, tmp_path)
    out = tmp_path / "imported.yaml"
    run = specc("import", str(saved), "-o", str(out))
    assert run.exit_code == 0, run.stderr
    imported = compile_file(out)
    assert imported.spec.name == original.spec.name
    assert imported.spec.model.model_dump() == original.spec.model.model_dump()
    assert imported.spec.compile == original.spec.compile
    assert [layer.name for layer in imported.graph.layers] == [
        layer.name for layer in original.graph.layers
    ]


def test_import_omits_keras_defaults(tmp_path, specc):
    _, saved = _saved(SPECS / "mnist_cnn.yaml", tmp_path)
    run = specc("import", str(saved))
    assert run.exit_code == 0, run.stderr
    text = run.stdout
    assert "- {type: Conv2D, filters: 32, kernel_size: 3, padding: same, activation: relu}" in text
    assert "- {type: Dense, units: 128, activation: relu, kernel_regularizer: {l2: 0.001}}" in text
    for default in ("use_bias", "strides", "glorot_uniform", "name:", "trainable"):
        assert default not in text.split("model:")[1]
    assert "optimizer: rmsprop" in text
    compile_text(text)  # and it is a valid spec


def test_import_keeps_non_automatic_names(tmp_path, specc):
    k = keras()
    k.backend.clear_session()  # Keras' name counters are global to the process
    model = k.Sequential(
        [k.Input((4,)), k.layers.Dense(3, name="hidden"), k.layers.Dense(2)], name="named"
    )
    model.save(tmp_path / "m.keras")
    run = specc("import", str(tmp_path / "m.keras"))
    assert run.exit_code == 0, run.stderr
    assert "- {type: Dense, name: hidden, units: 3}" in run.stdout
    assert "- {type: Dense, units: 2}" in run.stdout


def test_functional_model_is_refused(tmp_path, specc):
    k = keras()
    inputs = k.Input((4,))
    model = k.Model(inputs, k.layers.Dense(2)(inputs), name="func")
    model.save(tmp_path / "f.keras")
    run = specc("import", str(tmp_path / "f.keras"))
    assert run.exit_code == 1
    assert "is not a keras.Sequential" in run.stderr
    assert run.stdout == ""


def test_unsupported_layer_is_named(tmp_path, specc):
    k = keras()
    model = k.Sequential([k.Input((5, 3)), k.layers.Masking(name="mask"), k.layers.Dense(2)])
    model.save(tmp_path / "g.keras")
    run = specc("import", str(tmp_path / "g.keras"))
    assert run.exit_code == 1
    assert "layer 'mask' (Masking): layer type 'Masking' is not supported by specc" in run.stderr


def test_unsupported_argument_is_named(tmp_path, specc):
    k = keras()
    model = k.Sequential([k.Input((4,)), k.layers.Dense(2, kernel_constraint="non_neg")])
    model.save(tmp_path / "c.keras")
    run = specc("import", str(tmp_path / "c.keras"))
    assert run.exit_code == 1
    assert "argument kernel_constraint=" in run.stderr


def test_import_bad_files(tmp_path, specc):
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"\x00not a zip")
    assert specc("import", str(junk)).exit_code == 1
    assert specc("import", str(tmp_path / "missing.keras")).exit_code == 2

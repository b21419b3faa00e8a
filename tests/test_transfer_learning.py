"""specs/transfer_learning_mobilenetv2.yaml: the TensorFlow transfer-learning tutorial.

tensorflow/docs site/en/tutorials/images/transfer_learning.ipynb: MobileNetV2 (160x160,
no top) frozen and called with training=False, preprocess_input as Rescaling(1/127.5,
offset=-1), GlobalAveragePooling2D, Dropout(0.2), Dense(1) logits, Adam 1e-4, then
``fine_tune_at = 100`` at 1e-5. The static table is checked without TensorFlow and against
the tutorial's Keras code; the slow test trains the spec itself end to end on a few dozen
random images with the backbone's weights from a local file.
"""

from __future__ import annotations

import inspect
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from specc.analysis import finetune
from specc.analysis.pipeline import compile_file
from specc.backends import table
from tests.helpers import SPECS

SPEC = SPECS / "transfer_learning_mobilenetv2.yaml"
WEIGHTS = "mobilenet_v2_160_no_top.weights.h5"
BASE = "mobilenetv2_1.00_160"


def tutorial_model(keras: Any, weights: str | None = None) -> tuple[Any, Any]:
    """The tutorial's Keras code for the model (augmentation flat, the input first)."""
    inputs = keras.Input(shape=(160, 160, 3))
    x = keras.layers.RandomFlip("horizontal")(inputs)
    x = keras.layers.RandomRotation(0.2)(x)
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1)(x)  # preprocess_input
    base_model = keras.applications.MobileNetV2(
        input_shape=(160, 160, 3), include_top=False, weights=weights
    )
    base_model.trainable = False
    x = base_model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs, name="transfer_learning_mobilenetv2")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)],
    )
    return model, base_model


def tutorial_fine_tune(keras: Any, model: Any, base_model: Any) -> None:
    """The tutorial's second phase: unfreeze from layer 100, compile again at 1e-5."""
    base_model.trainable = True
    fine_tune_at = 100
    for layer in base_model.layers[:fine_tune_at]:
        layer.trainable = False
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-5),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)],
    )


def _code_lines(*functions: Any) -> int:
    """Lines of code in functions' bodies: no signature, docstring, comment or blank."""
    count = 0
    for function in functions:
        body = inspect.getsource(function).split('"""')[2]
        count += sum(1 for line in body.splitlines() if line.strip() and not
                     line.strip().startswith(("#", "return")))  # fmt: skip
    return count


def _spec_lines(section: str) -> int:
    """Lines of a top-level section of the spec, comments and blanks aside."""
    lines, inside = 0, False
    for line in SPEC.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            inside = line.startswith(f"{section}:")
        if inside and line.strip() and not line.strip().startswith("#"):
            lines += 1
    return lines


def test_the_static_table_is_the_tutorials_without_tensorflow():
    """The tutorial's counts: 2,259,265 params, 1,281 trainable with the base frozen, and
    after ``fine_tune_at = 100`` (block_11_expand_relu) 1,862,721 trainable, 396,544 not;
    computed in a fresh process that never imports TensorFlow or Keras."""
    script = (
        "import sys, json\n"
        "from specc.analysis import finetune\n"
        "from specc.analysis.pipeline import compile_file\n"
        f"c = compile_file({str(SPEC)!r})\n"
        "w = finetune.resolve(c.spec, c.graph, lambda loc, m: sys.exit(m))\n"
        "print(json.dumps([c.graph.total_params, c.graph.trainable_params,\n"
        "    c.graph.non_trainable_params, w.layer.name, w.at, w.names[w.at],\n"
        "    finetune.after_unfreeze(c.graph, w),\n"
        "    sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [
        2_259_265,
        1_281,
        2_257_984,
        BASE,
        100,
        "block_11_expand_relu",
        [1_862_721, 396_544],
        [],
    ]


def test_the_spec_is_shorter_than_the_tutorials_code():
    """model: about 15 lines; with compile: and the fine-tuning line, fewer than the
    Keras code they stand for."""
    model = _spec_lines("model")
    assert model <= 16, model
    spec = model + _spec_lines("compile") + 1  # + training.fine_tune
    assert spec < _code_lines(tutorial_model, tutorial_fine_tune), spec


def test_the_spec_validates_and_its_backbone_is_frozen_and_called_in_inference(specc):
    run = specc("validate", str(SPEC))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.endswith(": ok (7 layers, 2,259,265 params)\n"), run.stdout
    layer = compile_file(SPEC).graph.layers[3].spec
    assert (layer.name, layer.trainable, layer.call_training, layer.weights) == (
        BASE,
        False,
        False,
        WEIGHTS,
    )


def _text(model: Any) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue()


@pytest.mark.keras
def test_the_summary_equals_the_tutorials_keras_code(monkeypatch):
    """specc's table, row for row, equals model.summary() of the tutorial's code; the
    counts after the unfreeze equal Keras' after its fine_tune_at loop. (A wide terminal
    for both: without one, Keras and specc each fall back to a width of their own.)"""
    monkeypatch.setenv("COLUMNS", "120")
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    model, base_model = tutorial_model(k)
    compiled = compile_file(SPEC)
    assert table.as_text(compiled.graph) == _text(model)
    tutorial_fine_tune(k, model, base_model)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    where = finetune.resolve(compiled.spec, compiled.graph, lambda loc, m: pytest.fail(m))
    assert finetune.after_unfreeze(compiled.graph, where) == (
        trainable,
        model.count_params() - trainable,
    )


def _folder(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    """The spec, its base's weights file (not Keras' initial values, so that a load shows)
    and 32 random 160x160 images (24 to train, 8 to test) in a folder of their own."""
    from tests.keras_helpers import keras

    spec = tmp_path / SPEC.name
    shutil.copy(SPEC, spec)
    base = keras().applications.MobileNetV2(
        include_top=False, input_shape=(160, 160, 3), weights=None
    )
    rng = np.random.default_rng(0)
    for w in base.weights:
        value = w.numpy() + rng.normal(0.0, 0.01, size=w.shape).astype("float32")
        w.assign(np.abs(value) if "variance" in w.path else value)
    base.save_weights(tmp_path / WEIGHTS)
    x = rng.integers(0, 256, (32, 160, 160, 3)).astype("uint8")
    y = (x[..., 0].mean(axis=(1, 2)) > 127.5).astype("float32")
    np.savez(tmp_path / "d.npz", x_train=x[:24], y_train=y[:24], x_test=x[24:], y_test=y[24:])
    return spec, [w.numpy() for w in base.weights]


@pytest.mark.slow
@pytest.mark.keras
def test_specc_train_runs_the_tutorial_end_to_end(tmp_path, specc):
    """One epoch with the base frozen, one fine-tuning epoch: the base starts from the
    file (its layers before 100 still equal it after both phases) and layers 100 on move."""
    spec, saved = _folder(tmp_path)
    text = spec.read_text().replace("epochs: 10, learning_rate", "epochs: 1, learning_rate")
    assert text != spec.read_text()
    spec.write_text(text)
    out = tmp_path / "run"
    run = specc("train", str(spec), "--data", str(tmp_path / "d.npz"), "--output-dir",
                str(out), "--epochs", "1")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert f"fine-tuning {BASE} from layer 100 (block_11_expand_relu)" in run.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and "test_loss" in metrics, metrics
    from tests.keras_helpers import keras

    trained = keras().saving.load_model(out / "model.keras").get_layer(BASE)
    values = iter(saved)
    moved: dict[str, list[bool]] = {}
    for index, layer in enumerate(trained.layers):
        for w in layer.weights:
            changed = not np.array_equal(w.numpy(), next(values))
            moved.setdefault("frozen" if index < 100 else "unfrozen", []).append(changed)
    assert len(moved["frozen"]) + len(moved["unfrozen"]) == len(saved) == 260
    assert not any(moved["frozen"]), moved
    assert all(moved["unfrozen"]), moved

"""Training a model of several outputs by name: ``specs/two_outputs.yaml``.

A loss, a ``loss_weights`` entry and metrics per output name, as ``model.compile`` takes
them; labels ``y_train_<output>``/``y_test_<output>`` per output; ``metrics.json`` groups
the test metrics by output and every output of class labels gets its confusion matrix
(``confusion_<output>.png``, shown in report.html). ``specc train`` and the emitted script
each train it one epoch on tiny synthetic arrays; the static checks of a
``loss_weights`` mapping are cases under tests/cases (``loss_weights_*``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file, compile_text
from tests.emitted import emit, load_module
from tests.helpers import TWO_OUTPUTS, run_script, two_output_arrays

pytestmark = pytest.mark.keras


def _data(tmp_path):
    path = tmp_path / "two_outputs.npz"
    np.savez(path, **two_output_arrays())
    return path


def test_specc_train_trains_the_two_output_example(tmp_path, specc):
    out = tmp_path / "run"
    run = specc("train", str(TWO_OUTPUTS), "--data", str(_data(tmp_path)), "--epochs", "1",
                "--output-dir", str(out))  # fmt: skip
    assert run.exit_code == 0, run.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_samples"] == 48 and metrics["epochs"] == 1
    outputs = metrics["outputs"]
    assert set(outputs) == {"age", "kind"}
    assert set(outputs["age"]) == {"loss", "mae"} and set(outputs["kind"]) == {"loss", "accuracy"}
    assert outputs["kind"]["accuracy"] == metrics["test_kind_accuracy"]
    # loss_weights {age: 0.5, kind: 1.0} reached Keras: the total is the weighted sum.
    total = 0.5 * outputs["age"]["loss"] + outputs["kind"]["loss"]
    assert metrics["test_loss"] == pytest.approx(total, rel=1e-4)
    assert (out / "confusion_kind.png").is_file()  # the output of class labels
    assert "curves.png, confusion_kind.png, spec.yaml" in run.stdout
    assert not (out / "confusion_age.png").exists() and not (out / "confusion.png").exists()
    page = (out / "report.html").read_text()
    assert "Confusion matrix of output kind (test)" in page and "output age" not in page
    # The saved model imports back with the loss, weights and metrics by output name.
    imported = tmp_path / "imported.yaml"
    run = specc("import", str(out / "model.keras"), "-o", str(imported))
    assert run.exit_code == 0, run.stderr
    back = compile_text(imported.read_text(), str(imported)).spec.compile
    assert back.loss == {"age": "mse", "kind": "categorical_crossentropy"}
    assert back.loss_weights == {"age": 0.5, "kind": 1.0}
    assert back.metrics == {"age": ["mae"], "kind": ["accuracy"]}


def test_the_emitted_two_output_script_trains(tmp_path):
    """generated/two_outputs.py, as users run it: labels per output, weights by name."""
    from tests.helpers import ROOT

    script = ROOT / "generated" / "two_outputs.py"
    code = script.read_text()
    assert 'loss_weights={"age": 0.5, "kind": 1.0}' in code
    out = tmp_path / "run"
    proc = run_script(script, "--data", str(_data(tmp_path)), "--epochs", "1",
                      "--output-dir", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1
    total = 0.5 * metrics["test_age_loss"] + metrics["test_kind_loss"]
    assert metrics["test_loss"] == pytest.approx(total, rel=1e-4)
    assert 0.0 <= metrics["test_kind_accuracy"] <= 1.0


def test_emitted_script_is_the_spec_built(tmp_path):
    """The script's build and compile equal specc's: same model, loss weights by name."""
    from specc.backends import keras_build
    from tests.helpers import assert_same_as_specc_build

    compiled = compile_file(TWO_OUTPUTS)
    module = load_module(emit(compiled, tmp_path))
    assert_same_as_specc_build(compiled, module)
    theirs = module.build_model()
    module.compile_model(theirs)
    ours = keras_build.build(compiled.spec, compiled.graph)
    for model in (theirs, ours):
        assert model.get_compile_config()["loss_weights"] == {"age": 0.5, "kind": 1.0}


def test_a_list_of_weights_is_still_taken_in_the_outputs_order():
    """Keras takes either form; a list keeps its meaning (one per output, in order)."""
    text = TWO_OUTPUTS.read_text().replace(
        "loss_weights: {age: 0.5, kind: 1.0}", "loss_weights: [0.5, 1.0]"
    )
    assert compile_text(text, "two_outputs.yaml").spec.compile.loss_weights == [0.5, 1.0]

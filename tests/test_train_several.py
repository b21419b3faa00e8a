"""Training a model of several inputs (or outputs): `specc train` and the emitted script.

The data file holds an array per input, ``x_train_<input>``/``x_test_<input>`` (and per
output ``y_train_<output>``/``y_test_<output>``); ``fit`` gets dicts by name. The example
is ``specs/two_inputs.yaml`` on tiny synthetic arrays: one epoch, seconds. The two-output
case trains in ``tests/test_emitted_graphs.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from specc.analysis.arrays import DataArrays
from specc.analysis.pipeline import compile_file
from specc.training import data as data_mod
from tests.emitted import load_module
from tests.helpers import EXAMPLE, ROOT, SPECS, run_script, two_input_arrays, write_two_inputs

SCRIPT = ROOT / "generated" / "two_inputs.py"


def test_specc_train_trains_the_two_input_example(tmp_path, specc):
    data = write_two_inputs(tmp_path / "two.npz")
    out = tmp_path / "run"
    run = specc("train", str(EXAMPLE), "--data", str(data), "--epochs", "1",
                "--batch-size", "16", "--output-dir", str(out))  # fmt: skip
    assert run.exit_code == 0, run.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics["train_samples"] == 48
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert (out / "confusion.png").is_file()  # one output of class labels: drawn
    from tests.keras_helpers import keras

    model = keras().saving.load_model(out / "model.keras", compile=False)
    assert [t.name for t in model.inputs] == ["image", "side"]


def test_the_emitted_two_input_script_trains(tmp_path):
    """generated/two_inputs.py, run as users run it, on the synthetic file."""
    data = write_two_inputs(tmp_path / "two.npz")
    proc = run_script(SCRIPT, "--data", str(data), "--epochs", "1", "--batch-size", "16",
                      "--subset", "40", "--output-dir", str(tmp_path / "run"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_accuracy"] <= 1.0


def test_the_emitted_script_preprocesses_each_input_as_specc_does():
    module = load_module(SCRIPT)
    arrays = two_input_arrays(n_train=4, n_test=2)
    x = {"image": arrays["x_train_image"], "side": arrays["x_train_side"]}
    theirs = module.preprocess_x(x)
    spec = compile_file(EXAMPLE).spec
    raw = data_mod.Arrays(x, arrays["y_train"], x, arrays["y_train"], "synthetic")
    ours = data_mod.preprocess(raw, spec.data).x_train
    assert set(theirs) == set(ours) == {"image", "side"}
    for name in theirs:
        assert theirs[name].dtype == ours[name].dtype
        np.testing.assert_array_equal(theirs[name], ours[name])
    assert theirs["image"].shape == (4, 28, 28, 1)


BAD = {
    "missing_key": (
        {"x_test_side": None},
        "missing key(s) x_test_side; found x_train_image, x_train_side, y_train, x_test_image, "
        "y_test (this model takes x_train_<input> and x_test_<input> for each input "
        "(image, side))",
    ),
    "one_array_for_two_inputs": (
        {k: None for k in ("x_train_image", "x_train_side", "x_test_image", "x_test_side")}
        | {"x_train": np.zeros((48, 28, 28), np.uint8), "x_test": np.zeros((16, 28, 28), np.uint8)},
        "missing key(s) x_train_image, x_train_side, x_test_image, x_test_side; found",
    ),
    "counts_disagree_across_inputs": (
        {"x_train_side": np.zeros((40, 4), np.float32)},
        "x_train_image has 48 samples but x_train_side has 40",
    ),
    "counts_disagree_with_labels": (
        {"y_test": np.zeros(15, np.uint8)},
        "x_test_image has 16 samples but y_test has 15",
    ),
    "labels_out_of_range": ({"y_train": np.full(48, 10, np.uint8)}, "y_train labels range 10..10"),
}


@pytest.mark.parametrize("case", BAD)
def test_specc_train_refuses_a_bad_file_in_one_line(case, tmp_path, specc):
    overrides, message = BAD[case]
    data = write_two_inputs(tmp_path / "bad.npz", **overrides)
    out = tmp_path / "run"
    run = specc("train", str(EXAMPLE), "--data", str(data), "--output-dir", str(out))
    assert run.exit_code == 1
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(f"error: {data}: ") and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("case", ["missing_key", "counts_disagree_across_inputs"])
def test_the_emitted_script_refuses_a_bad_file_in_one_line(case, tmp_path):
    """Refused by load_data, before Keras is imported: SystemExit with the file and keys."""
    overrides, message = BAD[case]
    data = write_two_inputs(tmp_path / "bad.npz", **overrides)
    module = load_module(SCRIPT)
    with pytest.raises(SystemExit) as refused:
        module.main(["--data", str(data), "--output-dir", str(tmp_path / "run")])
    text = str(refused.value)
    assert text.startswith(f"{data}: ") and "\n" not in text
    assert message.split(" (this model")[0] in text
    assert not (tmp_path / "run").exists()


def test_the_file_layout_follows_the_model():
    """x_train_<input> per input, y_train_<output> per output; one array where one."""
    two_in = DataArrays.of(compile_file(EXAMPLE).graph)
    assert two_in.keys() == (
        "x_train_image", "x_train_side", "y_train", "x_test_image", "x_test_side", "y_test",
    )  # fmt: skip
    assert DataArrays.of(compile_file(SPECS / "mnist_cnn.yaml").graph).keys() == data_mod.KEYS
    assert DataArrays(outputs=("a", "b")).keys() == (
        "x_train", "y_train_a", "y_train_b", "x_test", "y_test_a", "y_test_b",
    )  # fmt: skip

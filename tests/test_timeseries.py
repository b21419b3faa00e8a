"""A CSV time series cut into windows (``keras.utils.timeseries_dataset_from_array``):
checked before training in one line each (exit 1), and the weather LSTM of the Keras Jena
example trained by `specc train` and the emitted script to the same test metrics for the
same seed."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file
from specc.language.schema import Data
from specc.training import timeseries
from specc.training.data import DataError
from tests.emitted import emit
from tests.helpers import run_script

JENA = ["Date Time", "p (mbar)", "T (degC)", "VPmax (mbar)", "VPdef (mbar)", "sh (g/kg)",
        "rho (g/m**3)", "wv (m/s)"]  # fmt: skip
FEATURES = JENA[1:]

SPEC = """\
name: weather
data:
  dataset: timeseries
  path: {path}
  features: {features}
  targets: [T (degC)]
  sequence_length: {length}
  sampling_rate: 2
  offset: 3
{extra}model:
  input: {{shape: [{length}, {width}]}}
  layers:
    - {{type: LSTM, units: 32}}
    - {{type: Dense, units: 1}}
compile: {{optimizer: {{type: Adam, learning_rate: 0.001}}, loss: mse, metrics: [mae]}}
training: {{epochs: 1, batch_size: 32, validation_split: 0.2, seed: 3}}
"""


def write_series(path, rows=400, seed=0, edit=None):
    """A Jena-like CSV, one row every 10 minutes: a daily temperature cycle and weather
    that follows it, with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    temp = 10 + 8 * np.sin(2 * np.pi * t / 144) + rng.normal(0, 0.5, rows)
    lines = [JENA]
    for i in range(rows):
        day, minute = divmod(i * 10, 1440)
        lines.append([
            f"{1 + day:02d}.01.2009 {minute // 60:02d}:{minute % 60:02d}:00",
            f"{996 + rng.normal(0, 2):.2f}", f"{temp[i]:.2f}", f"{12 + temp[i] / 2:.2f}",
            f"{3 + rng.normal(0, 1):.2f}", f"{5 + temp[i] / 10:.2f}",
            f"{1300 - temp[i] * 4:.2f}", f"{abs(rng.normal(2, 1)):.2f}",
        ])  # fmt: skip
    if edit:
        edit(lines)
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(lines)
    return path


def spec(tmp_path, data, *, length=12, width=7, features=None, extra=""):
    path = tmp_path / "weather.yaml"
    listed = json.dumps(features if features is not None else FEATURES)
    path.write_text(SPEC.format(path=data, features=listed, length=length, width=width,
                                extra=extra))  # fmt: skip
    return path


@pytest.mark.slow  # two trainings and a script start: 35-65 s on the shared CPU
@pytest.mark.keras
def test_specc_train_and_the_emitted_script_agree_on_a_time_series(tmp_path, specc):
    """400 rows: 320 train+validation (256 train, 64 validation), 80 test; windows of 12
    rows every 2nd, target 3 rows after the last: a window spans 26 rows."""
    path = spec(tmp_path, write_series(tmp_path / "jena.csv"))
    run = specc("train", str(path), "--output-dir", str(tmp_path / "specc"))
    assert run.exit_code == 0, run.stderr
    assert "231 training, 39 validation, 55 test windows" in run.stdout, run.stdout
    ours = json.loads((tmp_path / "specc" / "metrics.json").read_text())
    assert ours["train_samples"] == 256 - 25
    assert set(ours["regression"]) == {"mae", "rmse", "r2"}
    assert (tmp_path / "specc" / "predicted.png").is_file()
    raw = np.loadtxt(path.parent / "jena.csv", delimiter=",", skiprows=1, usecols=[2])[:256]
    assert ours["normalization"]["T (degC)"] == pytest.approx([raw.mean(), raw.std(ddof=1)])
    script = emit(compile_file(path), tmp_path / "gen")
    proc = run_script(script, "--output-dir", str(tmp_path / "script"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((tmp_path / "script" / "metrics.json").read_text())
    for key in ("test_loss", "test_mae"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-5), (key, ours[key], theirs[key])


def _windows(series: timeseries.Series, part: str):
    stream = timeseries.open_streams(series, 1000, 0)
    got = getattr(stream, part)
    xs, ys = zip(*got.as_numpy_iterator(), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.keras
def test_windows_and_targets_are_where_the_spec_says(tmp_path):
    """By hand: window i of a part is rows i, i+2, .., i+22 of its features, its target
    the T row 3 after the last (i + 25); normalised by the training rows only; the test
    windows start at the test part's first row (none crosses the boundary)."""
    data_path = write_series(tmp_path / "jena.csv")
    compiled = compile_file(spec(tmp_path, data_path))
    assert compiled.spec.data is not None
    series = timeseries.check(compiled.spec.data, data_path, (12, 7), (1,), None, 0.2, False)
    raw = np.loadtxt(data_path, delimiter=",", skiprows=1, usecols=range(1, 8))
    mean, std = raw[:256].mean(axis=0), raw[:256].std(axis=0, ddof=1)
    normal = ((raw - mean) / std).astype(np.float32)
    assert series.statistics["T (degC)"] == pytest.approx([mean[1], std[1]])
    x, y = _windows(series, "test")
    assert x.shape == (55, 12, 7) and y.shape == (55, 1)
    test = normal[320:]
    for i in (0, 17, 54):
        np.testing.assert_allclose(x[i], test[i : i + 24 : 2], rtol=1e-6)
        np.testing.assert_allclose(y[i], test[i + 25, [1]], rtol=1e-6)
    x, y = _windows(series, "validation")
    np.testing.assert_allclose(x[0], normal[256:280:2], rtol=1e-6)


def _error(tmp_path, specc, spec_path):
    run = specc("train", str(spec_path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: "), run.stderr
    return run.stderr.removeprefix("error: ").strip()


def test_a_missing_column(tmp_path, specc):
    data = write_series(tmp_path / "j.csv")
    features = [*FEATURES[:-1], "wind"]
    message = _error(tmp_path, specc, spec(tmp_path, data, features=features))
    assert message.startswith(f"{data}:1:1: no column 'wind' in the header; it has Date Time, ")


def test_a_value_that_is_not_a_number(tmp_path, specc):
    def edit(lines):
        lines[9][2] = "n/a"

    data = write_series(tmp_path / "j.csv", edit=edit)
    message = _error(tmp_path, specc, spec(tmp_path, data))
    assert message == (
        f"{data}:10:3: column 'T (degC)' holds 'n/a', not a number; fix the value or name "
        "the numeric columns under data.features"
    )
    data = write_series(tmp_path / "j.csv")  # no features: every column, Date Time too
    path = spec(tmp_path, data, width=8)
    path.write_text(path.read_text().replace("  features: ", "  # features: "))
    assert _error(tmp_path, specc, path).startswith(
        f"{data}:2:1: column 'Date Time' holds '01.01.2009 00:00:00', not a number"
    )


def test_a_window_longer_than_a_split(tmp_path, specc):
    """120 rows: 76 train, 20 validation, 24 test; a window of 12 every 2 with its target 3
    rows later spans 26 rows."""
    data = write_series(tmp_path / "j.csv", rows=120)
    message = _error(tmp_path, specc, spec(tmp_path, data))
    assert message == (
        f"{data}: the validation split has 20 row(s) (of 120), but a window of 12 rows every "
        "2 with its target 3 row(s) later spans 26; use more rows, a shorter window or other "
        "split fractions"
    )


def test_an_empty_split(tmp_path, specc):
    data = write_series(tmp_path / "j.csv")
    message = _error(tmp_path, specc, spec(tmp_path, data, extra="  test_split: 0\n"))
    assert message.startswith(f"{data}: the test split has 0 row(s) (of 400), but a window")


def test_the_model_must_take_the_windows(tmp_path, specc):
    data = write_series(tmp_path / "j.csv")
    message = _error(tmp_path, specc, spec(tmp_path, data, width=6))
    assert message == (
        f"{data}: a window is 12 rows of 7 feature(s) but model.input.shape is [12, 6]; "
        "make it [12, 7]"
    )


def test_a_constant_column_cannot_be_standardised(tmp_path, specc):
    def edit(lines):
        for row in lines[1:]:
            row[7] = "2.00"

    data = write_series(tmp_path / "j.csv", edit=edit)
    message = _error(tmp_path, specc, spec(tmp_path, data))
    assert message.startswith(f"{data}: column 'wv (m/s)' is constant over the 256 training")


def test_timeseries_keys_are_validated(tmp_path, specc):
    data = write_series(tmp_path / "j.csv")
    path = spec(tmp_path, data)
    path.write_text(path.read_text().replace("  targets: [T (degC)]\n", ""))
    run = specc("validate", str(path))
    assert run.exit_code == 1 and "needs 'targets'" in run.stdout + run.stderr
    with pytest.raises(ValueError, match="sequence_length, offset apply to timeseries, not csv"):
        Data.model_validate(
            {"dataset": "csv", "path": "t.csv", "label": "y", "sequence_length": 3, "offset": 1}
        )


def test_settings_default_to_the_model_input():
    data = Data.model_validate({"dataset": "timeseries", "path": "t.csv", "targets": ["y"]})
    assert timeseries.settings(data, (24, 19)) == (24, 1, 1)
    with pytest.raises(DataError, match=r"set data\.sequence_length"):
        timeseries.settings(data, (None, 19))


@pytest.mark.slow  # a training run: ~30 s on the shared CPU
@pytest.mark.keras
def test_raw_values_and_a_normalization_layer_adapted_on_the_training_windows(tmp_path, specc):
    """normalize: none feeds the raw values; an un-adapted Normalization first in the model
    learns each feature's mean and variance from the training windows (every row of every
    window, as Keras adapts on the windows it is given)."""
    from specc.backends.kerasenv import keras

    data_path = write_series(tmp_path / "jena.csv")
    path = spec(tmp_path, data_path, extra="  normalize: none\n")
    path.write_text(path.read_text().replace(
        "    - {type: LSTM, units: 32}", "    - {type: Normalization}\n    - {type: LSTM, units: 4}"
    ))  # fmt: skip
    run = specc("train", str(path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 0, run.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "normalization" not in metrics
    raw = np.loadtxt(data_path, delimiter=",", skiprows=1, usecols=range(1, 8))
    windows = np.stack([raw[i : i + 24 : 2] for i in range(231)])  # the 231 training windows
    model = keras().models.load_model(tmp_path / "run" / "model.keras")
    layer = model.layers[0]
    assert type(layer).__name__ == "Normalization"
    expected_mean = windows.reshape(-1, 7).mean(axis=0)
    expected_var = windows.reshape(-1, 7).var(axis=0)
    np.testing.assert_allclose(np.ravel(layer.mean), expected_mean, rtol=1e-4)
    np.testing.assert_allclose(np.ravel(layer.variance), expected_var, rtol=1e-3)
    # the test targets are raw temperatures: the MAE is in degrees, not standard units
    assert metrics["regression"]["mae"] == pytest.approx(metrics["test_mae"], rel=1e-4)


MULTI = """\
name: multi
data:
  dataset: timeseries
  path: {path}
  features: {features}
  targets: {features}
  sequence_length: 12
  offset: 1
  target_steps: 4
  test_split: 0.25
model:
  input: {{shape: [12, 7]}}
  layers:
    - {{type: LSTM, units: 32, return_sequences: false}}
    - {{type: Dense, units: 28, kernel_initializer: zeros}}
    - {{type: Reshape, target_shape: [4, 7]}}
compile: {{optimizer: adam, loss: {{type: MeanSquaredError}}, metrics: [{{type: MeanAbsoluteError}}]}}
training: {{epochs: 1, batch_size: 32, validation_split: 0.2, seed: 4}}
"""


def multi_spec(tmp_path, data):
    """The TensorFlow tutorial's multi-step LSTM (tests/corpus/tf_timeseries_multi_lstm.py)
    on 12 rows of the 7 features, predicting all 7 over the 4 rows that follow."""
    path = tmp_path / "multi.yaml"
    path.write_text(MULTI.format(path=data, features=json.dumps(FEATURES)))
    return path


@pytest.mark.keras
def test_several_target_steps_are_the_rows_after_the_window(tmp_path):
    """400 rows: 240 train, 60 validation, 100 test; a window of 12 rows with its 4 target
    rows right after spans 16 rows: 85 test windows, targets rows i+12 .. i+15."""
    data_path = write_series(tmp_path / "jena.csv")
    compiled = compile_file(multi_spec(tmp_path, data_path))
    assert compiled.spec.data is not None
    series = timeseries.check(compiled.spec.data, data_path, (12, 7), (4, 7), None, 0.2, True)
    assert [series.windows(p) for p in ("train", "validation", "test")] == [225, 45, 85]
    raw = np.loadtxt(data_path, delimiter=",", skiprows=1, usecols=range(1, 8))
    mean, std = raw[:240].mean(axis=0), raw[:240].std(axis=0, ddof=1)
    normal = ((raw - mean) / std).astype(np.float32)
    x, y = _windows(series, "test")
    assert x.shape == (85, 12, 7) and y.shape == (85, 4, 7)
    test = normal[300:]
    for i in (0, 40, 84):
        np.testing.assert_allclose(x[i], test[i : i + 12], rtol=1e-6)
        np.testing.assert_allclose(y[i], test[i + 12 : i + 16], rtol=1e-6)
    x, y = _windows(series, "train")  # shuffled: each window still with its own targets
    starts = [int(np.argmin(np.abs(normal[:240] - row[0]).sum(axis=1))) for row in x[:20]]
    assert starts != sorted(starts)  # shuffled
    for window, targets, i in zip(x[:20], y[:20], starts, strict=True):
        np.testing.assert_allclose(window, normal[i : i + 12], rtol=1e-6)
        np.testing.assert_allclose(targets, normal[i + 12 : i + 16], rtol=1e-6)
    with pytest.raises(DataError, match=r"over 4 step\(s\) but the model's output shape is \[28\]"):
        timeseries.check(compiled.spec.data, data_path, (12, 7), (28,), None, 0.2, True)


@pytest.mark.slow  # two trainings and a script start: ~40 s on the shared CPU
@pytest.mark.keras
def test_specc_train_and_the_emitted_script_agree_on_several_target_steps(tmp_path, specc):
    path = multi_spec(tmp_path, write_series(tmp_path / "jena.csv"))
    run = specc("train", str(path), "--output-dir", str(tmp_path / "specc"))
    assert run.exit_code == 0, run.stderr
    ours = json.loads((tmp_path / "specc" / "metrics.json").read_text())
    assert ours["train_samples"] == 225
    assert (tmp_path / "specc" / "predicted.png").is_file()  # one panel per target column
    script = emit(compile_file(path), tmp_path / "gen")
    proc = run_script(script, "--output-dir", str(tmp_path / "script"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((tmp_path / "script" / "metrics.json").read_text())
    for key in ("test_loss", "test_mean_absolute_error"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-5), (key, ours[key], theirs[key])

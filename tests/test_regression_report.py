"""A regression run's folder and report: predicted against true test values
(``predicted.png``, and drawn in report.html) and MAE, RMSE and R² in metrics.json, where
a classifier gets its confusion matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest

from specc.training import report

SPEC = """\
name: housing
data: {{dataset: npz, path: {path}}}
model:
  input: {{shape: [13]}}
  layers:
    - {{type: Normalization}}
    - {{type: Dense, units: 16, activation: relu}}
    - {{type: Dense, units: 1}}
compile: {{optimizer: {{type: RMSprop, learning_rate: 0.01}}, loss: mse, metrics: [mae]}}
training: {{epochs: {epochs}, batch_size: 16, validation_split: 0.2, seed: 1}}
"""


def housing(path, train=320, test=80, seed=0):
    """Boston-like: 13 features on different scales, a price linear in a few, plus noise."""
    rng = np.random.default_rng(seed)
    scale = np.array([5, 20, 10, 1, 0.1, 1, 30, 2, 8, 150, 2, 90, 7], dtype=np.float64)
    x = rng.normal(1.0, 1.0, (train + test, 13)) * scale
    price = 22 + 3 * x[:, 5] - 0.5 * x[:, 12] + 0.02 * x[:, 9] + rng.normal(0, 1, train + test)
    np.savez(path, x_train=x[:train].astype("float32"), y_train=price[:train].astype("float32"),
             x_test=x[train:].astype("float32"), y_test=price[train:].astype("float32"))  # fmt: skip
    return path


@pytest.mark.keras
def test_a_regression_run_shows_predicted_against_true_values(tmp_path, specc):
    from specc.backends.kerasenv import keras

    data = housing(tmp_path / "housing.npz")
    spec = tmp_path / "housing.yaml"
    spec.write_text(SPEC.format(path=data, epochs=1))
    run = specc("train", str(spec), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 0, run.stderr
    folder = tmp_path / "run"
    metrics = json.loads((folder / "metrics.json").read_text())
    with np.load(data) as arrays:
        x_test, y_test = arrays["x_test"], arrays["y_test"]
    predicted = keras().models.load_model(folder / "model.keras").predict(x_test, verbose=0)
    error = predicted[:, 0].astype(np.float64) - y_test
    expected = {
        "mae": np.abs(error).mean(),
        "rmse": np.sqrt((error**2).mean()),
        "r2": 1 - (error**2).sum() / ((y_test - y_test.mean()) ** 2).sum(),
    }
    assert metrics["regression"] == pytest.approx(expected, rel=1e-4)
    assert metrics["regression"]["mae"] == pytest.approx(metrics["test_mae"], rel=1e-4)
    assert (folder / "predicted.png").read_bytes().startswith(b"\x89PNG")
    assert not (folder / "confusion.png").exists()
    page = (folder / "report.html").read_text()
    assert "Predicted against true values (test)" in page
    assert f"<th>R²</th><td>{metrics['regression']['r2']:.4f}</td>" in page
    with np.load(folder / "report.npz") as saved:
        np.testing.assert_allclose(saved["true_values"][:, 0], y_test)
        np.testing.assert_allclose(saved["predicted_values"], predicted, rtol=1e-5)


def test_regression_metrics_by_hand():
    truth = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 40.0]])
    predicted = np.array([[1.0, 12.0], [2.5, 20.0], [3.0, 37.0]])
    scores = report.regression_metrics(truth, predicted)
    assert scores["mae"] == pytest.approx((0 + 2 + 0.5 + 0 + 0 + 3) / 6)
    assert scores["rmse"] == pytest.approx(np.sqrt((4 + 0.25 + 9) / 6))
    r2_a = 1 - 0.25 / 2.0
    r2_b = 1 - 13 / (((np.array([10, 20, 40]) - 70 / 3) ** 2).sum())
    assert scores["r2"] == pytest.approx((r2_a + r2_b) / 2)
    assert report.regression_metrics(np.ones(3), np.arange(3.0))["r2"] is None
    with pytest.raises(ValueError, match="differ"):
        report.paired(np.ones((3, 2)), np.ones((3, 1)))


def test_the_picture_has_a_panel_per_target(tmp_path):
    fig = report.predicted_figure(np.ones((5, 2)) * [[1, 2]], np.zeros((5, 2)), "t", ["a", "b"])
    assert [ax.get_title() for ax in fig.axes] == ["t: a", "t: b"]
    report.predicted_vs_true(np.arange(4.0), np.arange(4.0), tmp_path / "p.png", "t")
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")

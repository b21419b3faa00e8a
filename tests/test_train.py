"""specc train and the data loaders, on the shared MNIST and on small synthetic arrays."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from specc import data as data_mod
from specc.pipeline import compile_file
from specc.schema import Data
from specc.train import Options, train
from tests.conftest import MNIST, SPECS

BLOG = SPECS / "mnist_cnn.yaml"
pytestmark = pytest.mark.skipif(not MNIST.exists(), reason="needs ../shared/data/mnist.npz")
RUN_FILES = [
    "confusion.png",
    "curves.png",
    "history.json",
    "metrics.json",
    "model.keras",
    "spec.yaml",
]


def _npz(path, **overrides):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 255, (64, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 64, dtype=np.uint8),
        "x_test": rng.integers(0, 255, (16, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 16, dtype=np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_one_epoch_on_full_mnist_beats_97_percent(tmp_path, specc):
    """The default suite's real end-to-end run: full data, one epoch, the blog spec."""
    # One epoch at the spec's batch 128 measured 96.4-97.1 % (seeds 1, 2, 3, 42): too close
    # to 97 %. At batch 64 (twice the steps) it measured 97.5, 97.7, 97.2 and 97.8 % for
    # seeds 1, 2, 3 and 42; seeded CPU runs are deterministic, so seed 42 is used here.
    out = tmp_path / "run"
    run = specc("train", str(BLOG), "--data", str(MNIST), "--epochs", "1", "--batch-size", "64",
                "--seed", "42", "--output-dir", str(out))  # fmt: skip
    assert run.exit_code == 0, run.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.97, metrics
    assert metrics["train_samples"] == 60000 and metrics["epochs"] == 1
    for key in ("test_loss", "seconds_per_epoch", "first_epoch_seconds", "total_wall_seconds",
                "samples_per_second", "backend", "device", "runtime"):  # fmt: skip
        assert key in metrics
    assert metrics["backend"] == "tensorflow" and metrics["runtime"]["jit_compile"] is False
    history = json.loads((out / "history.json").read_text())
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert "test_accuracy" in run.stdout and f"wrote {out}/" in run.stdout
    assert "training:\n  epochs: 1\n  batch_size: 64\n" in (out / "spec.yaml").read_text()


def test_seeded_runs_repeat_exactly(tmp_path):
    compiled = compile_file(BLOG)
    results = [
        train(
            compiled,
            Options(
                data=str(MNIST),
                epochs=2,
                subset=600,
                seed=5,
                output_dir=str(tmp_path / f"r{i}"),
                verbose=0,
            ),
        )
        for i in range(2)
    ]
    assert results[0].history == results[1].history
    assert results[0].metrics["test_loss"] == results[1].metrics["test_loss"]


def test_ctrl_c_keeps_completed_epochs(tmp_path, monkeypatch):
    from specc import keras_build
    from specc.kerasenv import keras

    class Interrupt(keras().callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    real = keras_build.make_callbacks
    monkeypatch.setattr(keras_build, "make_callbacks", lambda spec: [*real(spec), Interrupt()])
    out = tmp_path / "run"
    result = train(
        compile_file(BLOG),
        Options(data=str(MNIST), epochs=5, subset=300, output_dir=str(out), verbose=0),
    )
    assert result.interrupted
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 2
    assert keras().saving.load_model(out / "model.keras", compile=False).count_params() == 43290
    assert not (out / "metrics.json").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp files


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"y_test": None}, "missing key(s) y_test"),
        ({"y_train": np.full(64, 12, dtype=np.uint8)}, "labels range 12..12, outside 0..9"),
        ({"x_train": np.zeros((64, 32, 32), dtype=np.uint8)}, "images should be (28, 28)"),
        ({"y_train": np.zeros(10, dtype=np.uint8)}, "x_train has 64 samples but y_train has 10"),
        ({"x_test": np.array(["a"] * 16)}, "must be numeric"),
    ],
)
def test_bad_data_files(tmp_path, specc, overrides, message):
    path = _npz(tmp_path / "bad.npz", **overrides)
    run = specc("train", str(BLOG), "--data", str(path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1
    assert run.stderr.startswith(f"error: {path}: ") and message in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "run").exists()


def test_missing_and_corrupt_files(tmp_path, specc):
    run = specc("train", str(BLOG), "--data", str(tmp_path / "nope.npz"))
    assert run.exit_code == 1 and "nope.npz: no such file" in run.stderr
    good = _npz(tmp_path / "good.npz").read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good[: len(good) // 2])
    run = specc("train", str(BLOG), "--data", str(truncated))
    assert run.exit_code == 1 and "truncated or corrupt" in run.stderr
    pickled = tmp_path / "pickled.npz"
    np.savez(
        pickled, x_train=np.array([{"a": 1}], dtype=object), y_train=[1], x_test=[1], y_test=[1]
    )
    run = specc("train", str(BLOG), "--data", str(pickled))
    assert run.exit_code == 1 and "cannot be read safely" in run.stderr


def test_data_sources(tmp_path, monkeypatch):
    spec = Data(dataset="mnist")
    assert data_mod.locate(spec, "x.npz").name == "x.npz"
    monkeypatch.setenv("SPECC_DATA_DIR", str(tmp_path))
    assert data_mod.locate(spec) == tmp_path / "mnist.npz"
    assert (
        str(data_mod.locate(Data(dataset="mnist", path="p.npz"))) == "p.npz"
    )  # the spec's path wins
    monkeypatch.delenv("SPECC_DATA_DIR")
    assert data_mod.locate(spec) is None  # online: keras.datasets
    with pytest.raises(data_mod.DataError, match="needs a file"):
        data_mod.locate(Data.model_construct(dataset="npz", path=None))


def test_preprocessing_is_the_specs(tmp_path):
    compiled = compile_file(BLOG)
    raw = data_mod.read_npz(_npz(tmp_path / "d.npz"))
    out = data_mod.preprocess(raw, compiled.spec.data)
    assert out.x_train.shape == (64, 28, 28, 1) and out.x_train.dtype == np.float32
    assert math.isclose(float(out.x_train.max()), float(raw.x_train.max()) / 255, rel_tol=1e-6)
    assert out.y_train.shape == (64, 10) and (out.y_train.argmax(1) == raw.y_train).all()


@pytest.mark.slow
def test_full_training_reaches_the_blog_accuracy(tmp_path, specc):
    """The whole spec (15 epochs) on the shared MNIST: the blog's 99.1 %."""
    out = tmp_path / "run"
    run = specc("train", str(BLOG), "--data", str(MNIST), "--output-dir", str(out))
    assert run.exit_code == 0, run.stderr[-3000:]
    assert json.loads((out / "metrics.json").read_text())["test_accuracy"] >= 0.991


def test_fused_loop_needs_jax(tmp_path, specc):
    run = specc("train", str(BLOG), "--data", str(MNIST), "--subset", "100", "--backend", "tensorflow",
                "--loop", "fused", "--output-dir", str(tmp_path / "run"))  # fmt: skip
    assert run.exit_code == 1
    assert "error: runtime.loop 'fused' needs the jax backend" in run.stderr


def test_training_needs_data_and_compile(tmp_path, specc):
    from tests.conftest import CASES

    run = specc(
        "train", str(CASES / "ok_dense_on_sequence" / "spec.yaml"), "--output-dir", str(tmp_path)
    )
    assert run.exit_code == 1
    assert "training needs 'data' and 'compile'" in run.stderr

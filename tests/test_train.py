"""specc train and the data loaders: small synthetic arrays everywhere, the real MNIST
only where a test is about MNIST (found by ``tests.helpers.find_mnist``, else skipped)."""

from __future__ import annotations

import json
import math
import struct
import zipfile

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file
from specc.language.schema import Data
from specc.training import data as data_mod
from specc.training import keras_datasets
from specc.training.train import Options, train
from tests.helpers import RUN_FILES, SPECS, epoch_ticks, find_mnist, synthetic_mnist, write_npz

BLOG = SPECS / "mnist_cnn.yaml"


def tiny_spec(tmp_path, data, *, loss="categorical_crossentropy", activation="softmax",
              training="epochs: 1\n  batch_size: 16\n  validation_split: 0.25\n  seed: 1",
              x_steps="[{reshape: [784]}, {cast: float32}, {divide: 255}]"):  # fmt: skip
    """A one-layer model on a synthetic .npz: trains in a second."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        f"name: tiny\ndata:\n  dataset: npz\n  path: {data}\n  preprocessing:\n"
        f"    x: {x_steps}\n    y: [{{one_hot: 10}}]\n"
        f"model:\n  input: {{shape: [784]}}\n  layers:\n"
        f"    - {{type: Dense, units: 10, activation: {activation}}}\n"
        f"compile: {{optimizer: adam, loss: {loss}, metrics: [accuracy]}}\n"
        f"training:\n  {training}\n"
    )
    return spec


def strict_json(path):
    """Parse as strict JSON: NaN/Infinity (Python's extension) are refused."""

    def refuse(name):
        raise ValueError(f"{path.name} holds bare {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


# -- the real MNIST --------------------------------------------------------------------
def test_one_epoch_on_full_mnist_beats_97_percent(tmp_path, specc, mnist):
    """The default suite's real end-to-end run: full data, one epoch, the blog spec."""
    # One epoch at the spec's batch 128 measured 96.4-97.1 % (seeds 1, 2, 3, 42): too close
    # to 97 %. At batch 64 (twice the steps) it measured 97.5, 97.7, 97.2 and 97.8 % for
    # seeds 1, 2, 3 and 42; seeded CPU runs are deterministic, so seed 42 is used here.
    out = tmp_path / "run"
    run = specc("train", str(BLOG), "--data", str(mnist), "--epochs", "1", "--batch-size", "64",
                "--seed", "42", "--output-dir", str(out))  # fmt: skip
    assert run.exit_code == 0, run.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES
    metrics = strict_json(out / "metrics.json")
    assert metrics["test_accuracy"] > 0.97, metrics
    assert metrics["train_samples"] == 60000 and metrics["epochs"] == 1
    for key in ("test_loss", "seconds_per_epoch", "first_epoch_seconds", "total_wall_seconds",
                "samples_per_second", "backend", "device", "runtime"):  # fmt: skip
        assert key in metrics
    assert metrics["backend"] == "tensorflow" and metrics["runtime"]["jit_compile"] is False
    history = strict_json(out / "history.json")
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert "test_accuracy" in run.stdout and f"wrote {out}/" in run.stdout
    assert "training:\n  epochs: 1\n  batch_size: 64\n" in (out / "spec.yaml").read_text()


@pytest.mark.slow
def test_full_training_reaches_the_blog_accuracy(tmp_path, specc, mnist):
    """The whole spec (15 epochs) on the real MNIST: the blog's 99.1 %."""
    out = tmp_path / "run"
    run = specc("train", str(BLOG), "--data", str(mnist), "--output-dir", str(out))
    assert run.exit_code == 0, run.stderr[-3000:]
    assert json.loads((out / "metrics.json").read_text())["test_accuracy"] >= 0.991


def test_find_mnist_looks_in_specc_data_dir_then_keras_cache(tmp_path, monkeypatch):
    from tests import helpers

    monkeypatch.setattr(helpers, "SHARED_MNIST", tmp_path / "shared" / "mnist.npz")
    monkeypatch.delenv("SPECC_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(helpers, "KERAS_FALLBACK_CACHE", tmp_path / "tmp-keras")
    found, why = find_mnist()
    assert found is None
    assert why.startswith("needs the real MNIST: no mnist.npz in ")
    assert str(tmp_path / "kh" / "datasets" / "mnist.npz") in why
    (tmp_path / "kh" / "datasets").mkdir(parents=True)
    write_npz(tmp_path / "kh" / "datasets" / "mnist.npz")
    assert find_mnist() == (tmp_path / "kh" / "datasets" / "mnist.npz", "")
    monkeypatch.setenv("SPECC_DATA_DIR", str(tmp_path))
    write_npz(tmp_path / "mnist.npz")
    assert find_mnist() == (tmp_path / "mnist.npz", "")


# -- training on synthetic data ---------------------------------------------------------
def test_seeded_runs_repeat_exactly(tmp_path):
    compiled = compile_file(BLOG)
    data = write_npz(tmp_path / "d.npz")

    def options(i: int) -> Options:
        return Options(
            data=str(data), epochs=2, seed=5, output_dir=str(tmp_path / f"r{i}"), verbose=0
        )

    results = [train(compiled, options(i)) for i in range(2)]
    assert results[0].history == results[1].history
    assert results[0].metrics["test_loss"] == results[1].metrics["test_loss"]


def test_ctrl_c_keeps_completed_epochs(tmp_path, monkeypatch, capsys):
    from specc.backends import keras_build
    from specc.backends.kerasenv import keras

    class Interrupt(keras().callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    real = keras_build.make_callbacks
    monkeypatch.setattr(keras_build, "make_callbacks", lambda spec: [*real(spec), Interrupt()])
    out = tmp_path / "run"
    result = train(
        compile_file(BLOG),
        Options(data=str(write_npz(tmp_path / "d.npz")), epochs=5, output_dir=str(out), verbose=0),
    )
    assert result.interrupted
    assert len(strict_json(out / "history.json")["loss"]) == 2
    assert keras().saving.load_model(out / "model.keras", compile=False).count_params() == 43290
    assert not (out / "metrics.json").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp files
    err = capsys.readouterr().err
    assert f"interrupted after 2 complete epochs; {out}/ holds history.json (2 epochs), " in err
    assert "model.keras (the best so far: epoch " in err
    assert err.rstrip().endswith(", spec.yaml and tensorboard/")


def test_ctrl_c_in_the_first_epoch_claims_nothing(tmp_path, monkeypatch, capsys):
    """No epoch completed: no history.json, no model.keras, and the message says so."""
    from specc.backends import keras_build
    from specc.backends.kerasenv import keras

    class Interrupt(keras().callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise KeyboardInterrupt

    real = keras_build.make_callbacks
    monkeypatch.setattr(keras_build, "make_callbacks", lambda spec: [*real(spec), Interrupt()])
    out = tmp_path / "run"
    spec = tiny_spec(tmp_path, write_npz(tmp_path / "d.npz"))
    assert train(compile_file(spec), Options(output_dir=str(out), verbose=0)).interrupted
    assert sorted(p.name for p in out.iterdir()) == ["spec.yaml", "tensorboard"]
    err = capsys.readouterr().err
    assert err.strip() == (
        f"interrupted after 0 complete epochs; {out}/ holds spec.yaml and tensorboard/"
    )


def test_nan_loss_stops_training_with_a_clear_error(tmp_path, specc):
    """Finite but huge inputs overflow the loss: stop at once, exit 1, strict-JSON history."""
    x = np.full((64, 28, 28), 3e19, dtype=np.float32)
    data = write_npz(tmp_path / "d.npz", x_train=x, x_test=x[:16])
    spec = tiny_spec(tmp_path, data, loss="mean_squared_error", activation="linear",
                     training="epochs: 3\n  batch_size: 16", x_steps="[{reshape: [784]}]")  # fmt: skip
    out = tmp_path / "run"
    run = specc("train", str(spec), "--output-dir", str(out))
    assert run.exit_code == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert lines[0].startswith(
        "error: training diverged: the loss became nan in epoch 1, step 4, so training stopped; "
    )
    assert f"{out}/ holds history.json (1 epoch), spec.yaml and tensorboard/;" in lines[0]
    assert "try a lower learning rate" in lines[0]
    assert strict_json(out / "history.json")["loss"] == [None]  # NaN is written as null
    assert not (out / "metrics.json").exists()


def test_finite_json_writes_null_for_nan_and_inf():
    from specc.training.train import finite_json

    text = finite_json({"loss": [1.5, math.nan], "val": math.inf, "n": 3, "s": "x"})
    assert json.loads(text) == {"loss": [1.5, None], "val": None, "n": 3, "s": "x"}
    assert "NaN" not in text and "Infinity" not in text


def test_progress_bar_never_passes_its_target(tmp_path, monkeypatch):
    """72 samples at batch 2 is 36 steps; at 8 steps per execution Keras reported 40/36."""
    from keras.src.utils import progbar

    shown = []
    real = progbar.Progbar.update

    def spy(self, current, values=None, finalize=None):
        shown.append((current, self.target))
        return real(self, current, values, finalize)

    monkeypatch.setattr(progbar.Progbar, "update", spy)
    spec = tiny_spec(tmp_path, write_npz(tmp_path / "d.npz", **synthetic_mnist(n_train=80)),
                     training="epochs: 1\n  batch_size: 2\n  validation_split: 0.1")  # fmt: skip
    train(compile_file(spec), Options(output_dir=str(tmp_path / "run"), verbose=1,
                                      runtime={"steps_per_execution": 8}))  # fmt: skip
    assert shown and {target for _, target in shown} == {36}
    assert max(current for current, _ in shown) == 36
    assert [current for current, _ in shown][-2:] == [36, 36]  # last execution, then final


def test_curves_have_whole_epochs_on_the_x_axis(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from specc.training import report

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    report.curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, tmp_path / "c.png")
    (ax,) = figures[0].axes
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 2]
    assert ticks == [1.0, 2.0]


@pytest.mark.parametrize("epochs", [1, 2, 3, 15, 40])
def test_curves_tick_whole_epochs_only(tmp_path, monkeypatch, epochs):
    """One epoch drew 0.945..1.055 with ticks 0.96, 0.975, ... (MaxNLocator falls back to
    fractions when fewer than two integers fit)."""
    import matplotlib.pyplot as plt

    from specc.training import report

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    values = [1.0 / (e + 1) for e in range(epochs)]
    report.curves({"loss": values, "val_loss": values, "accuracy": values}, tmp_path / "c.png")
    for ticks in epoch_ticks(figures[0]):
        assert ticks and all(t == int(t) for t in ticks), ticks
        if epochs <= 3:
            assert ticks == list(range(1, epochs + 1))


# -- refusing before training -----------------------------------------------------------
def test_subset_too_small_for_the_validation_split(tmp_path, specc):
    data = write_npz(tmp_path / "d.npz")
    out = tmp_path / "run"
    run = specc("train", str(BLOG), "--data", str(data), "--subset", "1", "--output-dir", str(out))
    assert run.exit_code == 1
    assert run.stderr == (
        "error: --subset 1 leaves 1 training sample(s): validation_split 0.1 would leave 0 for "
        "training and 1 for validation, and each needs at least one; use at least 2 samples "
        "or change training.validation_split\n"
    )
    assert not out.exists()


def test_validation_split_too_small_to_hold_out_a_sample(tmp_path, specc):
    spec = tiny_spec(tmp_path, write_npz(tmp_path / "d.npz"),
                     training="validation_split: 1.0e-17")  # fmt: skip
    run = specc("train", str(spec), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1
    assert run.stderr == (
        "error: validation_split 1e-17 is too small to hold out a single sample; use 0 for none\n"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"y_test": None}, "missing key(s) y_test"),
        ({"y_train": np.full(64, 12, dtype=np.uint8)}, "labels range 12..12, outside 0..9"),
        ({"x_train": np.zeros((64, 32, 32), dtype=np.uint8)}, "images should be (28, 28)"),
        ({"y_train": np.zeros(10, dtype=np.uint8)}, "x_train has 64 samples but y_train has 10"),
        ({"x_test": np.array(["a"] * 16)}, "must be numeric"),
        ({"y_train": np.array(3, dtype=np.uint8)}, "y_train must be an array with one label per sample (got a single value)"),
        ({"x_train": np.where(np.arange(64)[:, None, None] == 5, np.nan, np.ones((64, 28, 28), "float32"))},
         "x_train has 784 non-finite value(s) (NaN or inf), the first in sample 5; clean the data"),
        ({"x_test": np.full((16, 28, 28), np.inf, dtype=np.float64)}, "x_test has 12,544 non-finite value(s)"),
        ({"x_train": np.full((64, 28, 28), 1e39)}, "x_train has 50,176 non-finite value(s) (NaN or inf) "
         "after preprocessing (a cast or divide overflowed), the first in sample 0"),
    ],
)  # fmt: skip
def test_bad_data_files(tmp_path, specc, overrides, message):
    path = write_npz(tmp_path / "bad.npz", **overrides)
    run = specc("train", str(BLOG), "--data", str(path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1
    assert run.stderr.startswith(f"error: {path}: ") and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert not (tmp_path / "run").exists()


def _npy_member(shape, dtype="|u1", data=b"\0" * 64):
    """A .npy whose header declares ``shape`` but whose data is only ``data``."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue() + data


def test_header_declaring_a_huge_array_is_refused_before_loading(tmp_path, specc):
    """10**12 x 28 x 28 bytes: numpy would try to allocate 713 TiB (MemoryError)."""
    import io

    path = tmp_path / "huge.npz"
    members = {}
    for key, array in synthetic_mnist().items():
        buf = io.BytesIO()
        np.save(buf, array)
        members[key] = buf.getvalue()
    members["x_train"] = _npy_member((10**12, 28, 28))
    with zipfile.ZipFile(path, "w") as zf:
        for key, member in members.items():
            zf.writestr(f"{key}.npy", member)
    run = specc("train", str(BLOG), "--data", str(path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1
    assert run.stderr == (
        f"error: {path}: x_train: header declares shape (1000000000000, 28, 28) uint8 "
        "(713.0 TiB) but the file holds 64 bytes of data (truncated or corrupt?)\n"
    )


def test_arrays_beyond_the_machines_memory_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(data_mod, "_memory_bytes", lambda: 4096)
    with pytest.raises(data_mod.DataError, match=r"the arrays need 61\.3 KiB in memory; this machine has 4\.0 KiB"):  # fmt: skip
        data_mod.read_npz(write_npz(tmp_path / "d.npz"))


def test_forged_zip_sizes_are_refused(tmp_path):
    """A member claiming ~3.75 GiB unpacked from a few KiB: a bomb, refused from the index."""
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, **synthetic_mnist())
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at != -1:  # every central-directory entry: uncompressed size at offset 24
        name_len = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + name_len] == b"x_train.npy":
            struct.pack_into("<I", raw, at + 24, 0xF0000000)
        at = raw.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(raw))
    with pytest.raises(data_mod.DataError, match=r"x_train: declares 3\.8 GiB from .* stored, more than compression can produce"):  # fmt: skip
        data_mod.read_npz(path)


def test_missing_and_corrupt_files(tmp_path, specc):
    run = specc("train", str(BLOG), "--data", str(tmp_path / "nope.npz"))
    assert run.exit_code == 1 and "nope.npz: no such file" in run.stderr
    good = write_npz(tmp_path / "good.npz").read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good[: len(good) // 2])
    run = specc("train", str(BLOG), "--data", str(truncated))
    assert run.exit_code == 1 and "truncated or corrupt" in run.stderr
    pickled = tmp_path / "pickled.npz"
    np.savez(
        pickled, x_train=np.array([{"a": 1}], dtype=object), y_train=[1], x_test=[1], y_test=[1]
    )
    run = specc("train", str(BLOG), "--data", str(pickled))
    assert run.exit_code == 1
    assert "x_train: holds Python objects (reading them would need pickle)" in run.stderr


def test_a_file_that_is_not_a_zip_is_called_so(tmp_path, specc):
    text = tmp_path / "notes.npz"
    text.write_text("just some text, not numpy at all\n")
    run = specc("train", str(BLOG), "--data", str(text))
    assert (run.exit_code, run.stderr) == (1, f"error: {text}: not a .npz (zip) file\n")
    npy = tmp_path / "x.npz"
    with open(npy, "wb") as fh:
        np.save(fh, np.zeros(3))
    run = specc("train", str(BLOG), "--data", str(npy))
    assert run.exit_code == 1
    assert run.stderr == (
        f"error: {npy}: not a .npz (zip) file; it is a single .npy array: save all four "
        "with numpy.savez\n"
    )


# -- where data comes from ---------------------------------------------------------------
def test_data_sources(tmp_path, monkeypatch):
    monkeypatch.setattr(data_mod, "keras_cache_dirs", lambda: [tmp_path / "nocache"])
    spec = Data(dataset="mnist")
    assert data_mod.locate(spec, "x.npz").name == "x.npz"
    monkeypatch.setenv("SPECC_DATA_DIR", str(tmp_path))
    assert data_mod.locate(spec) is None  # no $SPECC_DATA_DIR/mnist.npz: Keras' cache next
    write_npz(tmp_path / "mnist.npz")
    assert data_mod.locate(spec) == tmp_path / "mnist.npz"
    assert (
        str(data_mod.locate(Data(dataset="mnist", path="p.npz"))) == "p.npz"
    )  # the spec's path wins
    monkeypatch.delenv("SPECC_DATA_DIR")
    assert data_mod.locate(spec) is None  # online: keras.datasets
    with pytest.raises(data_mod.DataError, match="needs a file"):
        data_mod.locate(Data.model_construct(dataset="npz", path=None))


def _offline(monkeypatch):
    def no_network(data):
        raise AssertionError(f"tried to download {data.dataset}")

    monkeypatch.setattr(keras_datasets, "download", no_network)


def test_offline_from_specc_data_dir(tmp_path, monkeypatch):
    _offline(monkeypatch)
    monkeypatch.setenv("SPECC_DATA_DIR", str(tmp_path))
    write_npz(tmp_path / "mnist.npz")
    arrays = data_mod.load(Data(dataset="mnist"), 10)
    assert arrays.source == str(tmp_path / "mnist.npz") and arrays.x_train.shape == (64, 28, 28)


def test_offline_from_the_keras_dataset_cache(tmp_path, monkeypatch):
    """``keras.datasets.mnist`` downloads to $KERAS_HOME/datasets/mnist.npz: use it offline."""
    _offline(monkeypatch)
    monkeypatch.delenv("SPECC_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert data_mod.keras_cache_dirs()[0] == tmp_path / "kh" / "datasets"
    (tmp_path / "kh" / "datasets").mkdir(parents=True)
    cached = write_npz(tmp_path / "kh" / "datasets" / "mnist.npz")
    arrays = data_mod.load(Data(dataset="mnist"), 10)
    assert arrays.source == str(cached) and len(arrays.y_test) == 16
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_mod.keras_cache_dirs()[0] == tmp_path / "home" / ".keras" / "datasets"


def test_preprocessing_is_the_specs(tmp_path):
    compiled = compile_file(BLOG)
    raw = data_mod.read_npz(write_npz(tmp_path / "d.npz"))
    out = data_mod.preprocess(raw, compiled.spec.data)
    assert out.x_train.shape == (64, 28, 28, 1) and out.x_train.dtype == np.float32
    assert math.isclose(float(out.x_train.max()), float(raw.x_train.max()) / 255, rel_tol=1e-6)
    assert out.y_train.shape == (64, 10) and (out.y_train.argmax(1) == raw.y_train).all()


def test_fused_loop_needs_jax(tmp_path, specc):
    run = specc("train", str(BLOG), "--data", str(write_npz(tmp_path / "d.npz")), "--backend",
                "tensorflow", "--loop", "fused", "--output-dir", str(tmp_path / "run"))  # fmt: skip
    assert run.exit_code == 1
    assert "error: runtime.loop 'fused' needs the jax backend" in run.stderr


def test_training_needs_data_and_compile(tmp_path, specc):
    from tests.helpers import CASES

    run = specc(
        "train", str(CASES / "ok_dense_on_sequence" / "spec.yaml"), "--output-dir", str(tmp_path)
    )
    assert run.exit_code == 1
    assert "training needs 'data' and 'compile'" in run.stderr

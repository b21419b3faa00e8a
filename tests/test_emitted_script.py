"""The emitted script: same model as `specc build`, and it trains end to end without specc."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from specc import keras_build
from specc.pipeline import compile_file
from tests.conftest import MNIST, ROOT, SPECS
from tests.keras_helpers import keras

SCRIPT = ROOT / "generated" / "mnist_cnn.py"


def _emitted_module():
    spec = importlib.util.spec_from_file_location("emitted_mnist_cnn", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_emitted_build_model_equals_specc_build():
    k = keras()
    compiled = compile_file(SPECS / "mnist_cnn.yaml")
    emitted = _emitted_module()

    k.utils.set_random_seed(1234)
    ours = keras_build.build(compiled.spec, compiled.graph)
    k.utils.set_random_seed(1234)
    theirs = emitted.build_model()
    emitted.compile_model(theirs)

    assert theirs.get_config() == ours.get_config()
    assert theirs.count_params() == ours.count_params() == 43290
    assert theirs.optimizer.get_config() | {"name": None} == ours.optimizer.get_config() | {
        "name": None
    }
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    batch = np.random.default_rng(0).random((16, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(ours.predict(batch, verbose=0), theirs.predict(batch, verbose=0))


def test_emitted_preprocessing_matches_spec():
    emitted = _emitted_module()
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    out = emitted.preprocess_x(x)
    assert out.shape == (2, 28, 28, 1) and out.dtype == np.float32
    assert out.max() <= 1.0
    y = emitted.preprocess_y(np.array([3, 9]))
    assert y.shape == (2, 10) and y[0, 3] == 1 and y[1, 9] == 1


@pytest.mark.skipif(not MNIST.exists(), reason="needs ../shared/data/mnist.npz")
def test_emitted_script_trains_without_specc(tmp_path):
    """Smoke: the checked-in script runs end to end on the shared MNIST, with specc unimportable."""
    out = tmp_path / "run"
    runner = (
        "import runpy, sys\n"
        "sys.modules['specc'] = None  # any `import specc` would now fail\n"
        f"sys.argv = [{str(SCRIPT)!r}, '--data', {str(MNIST)!r}, '--subset', '2000', '--epochs', '1',"
        f" '--output-dir', {str(out)!r}]\n"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", runner], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == [
        "curves.png",
        "history.json",
        "metrics.json",
        "model.keras",
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1
    # 2,000 samples, one epoch, seed 42: measured 0.44 test accuracy; chance is 0.10.
    assert 0.25 < metrics["test_accuracy"] <= 1.0
    history = json.loads((out / "history.json").read_text())
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert keras().saving.load_model(out / "model.keras", compile=False).count_params() == 43290
